"""What `compare problem2` and `compare problem3` share: options, progress, the summary table."""
from __future__ import annotations

import sys

import click

from . import runs
from .pool import Interrupted, cached_result, execute_all
from .runs import IMPLS


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


def run_problem(problem, todo, quick, jobs, device, force, quiet):
    """Train what is missing (with a progress bar), return results in plan order.

    An interrupt (Ctrl-C, SIGINT, SIGTERM) stops every worker, prints one line
    saying what is kept and exits with 128 + the signal number (130, 143).
    """
    bar_items = [r for r in todo if force or cached_result(problem, r, quick) is None]
    try:
        with click.progressbar(length=len(bar_items), label=f"{problem}: training",
                               hidden=quiet, show_pos=True) as bar:
            def done(run, result):
                bar.update(1)
            results = execute_all(problem, todo, quick, jobs, device=device, force=force,
                                  on_done=done, on_damaged=report_damaged)
    except Interrupted as stop:
        click.echo(f"\n{stop}" if not quiet and sys.stdout.isatty() else str(stop), err=True)
        raise click.exceptions.Exit(stop.exit_code) from None
    return {r.name: results[r.name] for r in todo}


def run_and_tabulate(problem, plan, study_plan, quick, impl, study, jobs, device, force, quiet):
    """What `compare problemN` does before its figures: plan, train what is missing, print
    the summary table. Returns (quick, results by name, legend labels by name)."""
    quick = runs.quick_mode(quick)
    todo = plan(quick, impl) + (study_plan(quick, impl) if study else [])
    labels = {r.name: r.label or r.name for r in todo}
    results = run_problem(problem, todo, quick, jobs, device, force, quiet)
    print_table(summary_rows(results, labels))
    return quick, results, labels


def problem_options(impl_help: str, study_help: str):
    """The options every `compare problemN` for N = 2, 3 shares, as one decorator."""
    options = [
        click.option("--quick", is_flag=True,
                     help="Smoke run: 2,000 training images, one epoch (also QUICK=1)."),
        click.option("--impl", type=click.Choice(IMPLS), default="torch", show_default=True,
                     help=impl_help),
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
