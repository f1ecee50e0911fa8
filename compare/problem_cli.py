"""What `compare problem2` and `compare problem3` share, and `compare problems` (both at once).

The runs come from compare.table; a problem's experiment module provides finish(quick,
results, labels, impl): figures and tables, after training. Every input is checked before
any work starts; a bad one is one usage error naming it (exit status 2).
"""
from __future__ import annotations

import importlib
import os
import stat
import sys
import tempfile
from pathlib import Path

import click

from . import data, runs, table
from .pool import Interrupted, NoScheduler, execute_many
from .runs import IMPL_CHOICES

MAX_JOBS = 4 * (os.cpu_count() or 1)     # more workers than that only contend for cores


def device_callback(ctx, param, value):
    """torchnet.cli.device_callback, imported only when --device is checked (no torch else)."""
    from torchnet.cli import device_callback as check

    return check(ctx, param, value)


def folder_problem(folder: Path) -> str | None:
    """Why `folder` cannot be made or written in (naming the path at fault), or None."""
    last = Path(".")
    for part in [*reversed(folder.parents), folder]:
        try:
            mode = part.stat().st_mode          # follows symlinks: a loop is an error here
        except FileNotFoundError:
            break                               # it, and what is below it, will be made
        except OSError as err:
            return f"{part}: {err.strerror or err}"
        if not stat.S_ISDIR(mode):
            return f"{part} is not a folder"
        last = part
    try:
        tempfile.TemporaryFile(dir=last).close()   # as the atomic writes will need it
    except OSError as err:
        return f"{last} is not writable ({err.strerror or err})"
    return None


def check_inputs(todo: list, quick: bool, training: bool, root="data") -> None:
    """A usage error naming the first folder of todo's results and figures that cannot be
    written, or (when there is training to do) the first MNIST file that is not verified."""
    for problem in sorted({r.folder for r in todo}):
        for what, base in (("results", runs.RESULTS), ("figures", runs.FIGURES)):
            folder = runs.results_dir(problem, quick, base)
            if why := folder_problem(folder):
                raise click.UsageError(f"cannot write {what} in {folder}: {why}")
    for name, why in (data.damaged_files(root) if training else {}).items():
        raise click.UsageError(f"{data.raw_dir(root) / name} is {why}: `make data` (or "
                               "`compare data`) fetches and verifies MNIST")


def run_many(todo, quick, jobs, device, force, quiet, label="training", scheduler=None):
    """Check the inputs, then train what is missing of todo with a progress bar; {run: result}.
    An interrupt prints one line saying what is kept and exits with 130 or 143."""
    missing = [r for r in todo if force or runs.stored(r, quick) is None]
    check_inputs(todo, quick, bool(missing))
    try:
        with click.progressbar(length=len(missing), label=label, hidden=quiet,
                               show_pos=True) as bar:
            return execute_many(todo, quick, jobs, device=device, force=force,
                                on_done=lambda run, result: bar.update(1), scheduler=scheduler,
                                on_damaged=lambda path, why: click.echo(
                                    f"{path} is damaged ({why}); retraining", err=True))
    except NoScheduler as err:
        raise click.BadParameter(str(err), param_hint="'--scheduler'") from None
    except Interrupted as stop:
        click.echo(f"\n{stop}" if not quiet and sys.stdout.isatty() else str(stop), err=True)
        raise click.exceptions.Exit(stop.exit_code) from None


def show(problem: int, todo: list, results: dict, quick: bool, impl: str) -> None:
    """One problem's summary table, then its experiment module's finish() (the figures)."""
    mine = [r for r in todo if r.problem == problem]
    labels = {r.name: r.label or r.name for r in mine}
    header = ("run", "label", "impl", "scored on", "final acc", "best acc", "diverged", "time")
    rows = [header]
    for r in (results[run] for run in mine):
        acc, best, diverged = r["final_accuracy"], r["best_accuracy"], r["diverged_at"]
        rows.append((r["name"], labels[r["name"]], r["impl"], r["evaluated_on"],
                     "—" if acc is None else f"{acc:.4f}", "—" if best is None else f"{best:.4f}",
                     f"epoch {diverged['epoch']}" if diverged else "", f"{r['wall_seconds']:.0f}s"))
    widths = [max(len(str(x)) for x in col) for col in zip(*rows)]
    for row in rows:
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))
    experiment = importlib.import_module(f"compare.problem{problem}.experiment")
    experiment.finish(quick, {r.name: results[r] for r in mine}, labels, impl)


def problem_command(problem: int | None, help: str, impl_help: str, study_help: str):
    """`compare problem<problem>`, or for None `compare problems` (both, with --part): train
    what is missing (longest first), then each problem's summary table and figures."""
    def command(quick, impl, study, jobs, scheduler, device, force, quiet, part="all"):
        quick = runs.quick_mode(quick)
        todo = table.plan(problem, quick, impl, study, part)
        label = f"problem{problem}: training" if problem else "problems: training"
        results = run_many(todo, quick, jobs, device, force, quiet, label, scheduler)
        for each in (problem,) if problem else (2, 3):
            if problem is None:
                click.echo(f"\nproblem{each}:")
            show(each, todo, results, quick, impl)

    options = [
        click.option("--quick", is_flag=True,
                     help="Smoke run: 2,000 training images, one epoch (also QUICK=1)."),
        click.option("--impl", type=click.Choice(IMPL_CHOICES), default="auto",
                     show_default=True, help=impl_help),
        click.option("--study", is_flag=True, help=study_help),
        click.option("--jobs", type=click.IntRange(0, MAX_JOBS), default=0, show_default=True,
                     help="Worker processes here (0: one per CPU core); not with --scheduler."),
        click.option("--scheduler", envvar="DASK_SCHEDULER_ADDRESS", show_envvar=True,
                     metavar="ADDRESS",
                     help="Train on the Dask cluster whose scheduler is at ADDRESS (e.g. "
                          "tcp://host:8786); results are written here only."),
        click.option("--device", default="cpu", show_default=True, callback=device_callback,
                     help="torch device: cpu, cuda, cuda:<index>, mps or auto."),
        click.option("--force", is_flag=True, help="Retrain even if a cached result exists."),
        click.option("--quiet", is_flag=True, help="No progress bar; only the summary tables."),
    ] + ([] if problem else [click.option(
        "--part", type=click.Choice(("all", "homework")), default="all", show_default=True,
        help="homework: only the runs the homework specifies (Problem 2's baselines and "
             "sweeps, Problem 3's deep variants), not the recipes beyond it.")])
    for option in reversed(options):
        command = option(command)
    return click.command(help=help)(command)


command = problem_command(
    None, help="Problems 2 and 3 at once (longest runs first), then their figures.",
    impl_help="Implementation for the sweeps and the best nets; auto: the batch-10 sweeps in "
              "scratchnet (float64), the batch-128 nets in torchnet. The baselines and the "
              "deep variants always run in both.",
    study_help="Also run both problems' studies (validation split) and the seeds behind the "
               "report's error bars (as `compare problem2 --study` and `problem3 --study`).")
