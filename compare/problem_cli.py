"""What `compare problem2` and `compare problem3` share (options, progress, the summary
table), and `compare problems`: both problems' runs in one pool of workers.

The runs come from the run table (compare.table); a problem's experiment module
provides finish(quick, results, labels, impl): figures and tables, after training.
"""
from __future__ import annotations

import sys

import click

from . import runs, table
from .pool import Interrupted, execute_many
from .runs import IMPL_CHOICES

PARTS = ("all", "homework")


def device_callback(ctx, param, value):
    """torchnet.cli.device_callback, imported when --device is checked: `compare report`
    imports the problems' plans through this module and must not import torch."""
    from torchnet.cli import device_callback as check

    return check(ctx, param, value)


def summary_rows(results: dict, labels: dict) -> list[tuple]:
    rows = []
    for name, r in results.items():
        acc = r["final_accuracy"]
        rows.append((name, labels.get(name, name), r["impl"], r["evaluated_on"],
                     "—" if acc is None else f"{acc:.4f}",
                     "—" if r["best_accuracy"] is None else f"{r['best_accuracy']:.4f}",
                     f"epoch {r['diverged_at']['epoch']}" if r["diverged_at"] else "",
                     f"{r['wall_seconds']:.0f}s"))
    return rows


def print_table(rows) -> None:
    header = ("run", "label", "impl", "scored on", "final acc", "best acc", "diverged", "time")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def report_damaged(path, why) -> None:
    """One line for a cached result that is trained again."""
    click.echo(f"{path} is damaged ({why}); retraining", err=True)


def run_many(todo, quick, jobs, device, force, quiet, label="training"):
    """Train what is missing of todo, [Run], in one pool (with a progress bar); return
    {run: result}.

    An interrupt (Ctrl-C, SIGINT, SIGTERM) stops every worker, prints one line
    saying what is kept and exits with 128 + the signal number (130, 143).
    """
    bar_items = [r for r in todo if force or runs.stored(r, quick) is None]
    try:
        with click.progressbar(length=len(bar_items), label=label, hidden=quiet,
                               show_pos=True) as bar:
            def done(run, result):
                bar.update(1)
            return execute_many(todo, quick, jobs, device=device, force=force, on_done=done,
                                on_damaged=report_damaged)
    except Interrupted as stop:
        click.echo(f"\n{stop}" if not quiet and sys.stdout.isatty() else str(stop), err=True)
        raise click.exceptions.Exit(stop.exit_code) from None


def show(problem: int, todo: list, results: dict, finish, quick: bool, impl: str) -> None:
    """One problem's summary table, then its finish() (figures and the rest)."""
    mine = [r for r in todo if r.problem == problem]
    labels = {r.name: r.label or r.name for r in mine}
    found = {r.name: results[r] for r in mine}
    print_table(summary_rows(found, labels))
    finish(quick, found, labels, impl)


def problem_command(problem: int, finish, help: str, impl_help: str, study_help: str):
    """`compare problem<problem>`: plan, train what is missing, print the summary table, then
    finish(quick, results, labels, impl) (figures and the rest)."""
    @click.command(help=help)
    @problem_options(impl_help, study_help)
    def command(quick, impl, study, jobs, device, force, quiet):
        quick = runs.quick_mode(quick)
        todo = table.plan(problem, quick, impl, study)
        results = run_many(todo, quick, jobs, device, force, quiet,
                           label=f"problem{problem}: training")
        show(problem, todo, results, finish, quick, impl)
    return command


def problem_options(impl_help: str, study_help: str):
    """The options every `compare problemN` for N = 2, 3 shares, as one decorator."""
    options = [
        click.option("--quick", is_flag=True,
                     help="Smoke run: 2,000 training images, one epoch (also QUICK=1)."),
        click.option("--impl", type=click.Choice(IMPL_CHOICES), default="auto",
                     show_default=True, help=impl_help),
        click.option("--study", is_flag=True, help=study_help),
        click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Worker processes (0 = one per CPU core)."),
        click.option("--device", default="cpu", show_default=True, callback=device_callback,
                     help="torch device: cpu, cuda, cuda:<index>, mps or auto; one that this "
                          "machine lacks is refused before any training."),
        click.option("--force", is_flag=True, help="Retrain even if a cached result exists."),
        click.option("--quiet", is_flag=True, help="No progress bar; only the summary tables."),
    ]

    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func
    return decorate


# ---------------------------------------------------------------- compare problems
@click.command()
@problem_options(
    impl_help="Implementation for the sweeps and the best nets; auto: the batch-10 sweeps in "
              "scratchnet (float64), the batch-128 nets in torchnet. The baselines and the "
              "deep variants always run in both.",
    study_help="Also run both problems' studies (validation split) and the seeds behind the "
               "report's error bars (as `compare problem2 --study` and `problem3 --study`).")
@click.option("--part", type=click.Choice(PARTS), default="all", show_default=True,
              help="homework: only the runs the homework specifies (Problem 2's baselines and "
                   "sweeps, Problem 3's deep variants), not the recipes beyond it.")
def command(quick, impl, study, jobs, device, force, quiet, part):
    """Problems 2 and 3 in one pool of workers (longest runs first), then their figures."""
    from .problem2.experiment import finish as finish2
    from .problem3.experiment import finish as finish3

    quick = runs.quick_mode(quick)
    todo = table.plan(None, quick, impl, study, part)
    results = run_many(todo, quick, jobs, device, force, quiet, label="problems: training")
    for problem, finish in ((2, finish2), (3, finish3)):
        click.echo(f"\nproblem{problem}:")
        show(problem, todo, results, finish, quick, impl)
