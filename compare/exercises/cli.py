"""`compare exercises new [DIR]` and `compare exercises check [DIR]`: the exercises' command line.

Thin: parse, call generate.write or check.check, print. Progress lines go to
stderr (not with --quiet); the table of rows goes to stdout. `check` exits
with status 1 unless every exercise checked passes.
"""
from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import click

from .check import DEFAULT_TIME_LIMIT
from .table import EXERCISES

FOLDER = click.argument("folder", default="exercises", required=False,
                        type=click.Path(file_okay=False, path_type=Path))
WIDTH = 100


@click.group(name="exercises")
def command():
    """Exercises: a student's copy of scratchnet, and its grader."""


@command.command()
@FOLDER
@click.option("--force", is_flag=True,
              help="write into FOLDER even if it holds other files or work (work is overwritten)")
@click.option("--quiet", is_flag=True, help="print nothing unless something is wrong")
def new(folder, force, quiet):
    """Write a student's copy of scratchnet, the exercises emptied.

    FOLDER (default exercises/) must be new, empty, or an untouched earlier copy.
    """
    from .generate import CopyError, write
    from .source import SourceError

    try:
        files = write(folder, force)
    except CopyError as err:
        raise click.UsageError(str(err)) from None
    except SourceError as err:
        raise click.ClickException(f"an exercise names a function that is gone: {err}; "
                                   "update compare/exercises/table.py") from None
    if not quiet:
        count = sum(len(e.targets) for e in EXERCISES)
        click.echo(f"wrote {folder}/: {len(files)} files, {len(EXERCISES)} exercises "
                   f"({count} functions to write)")
        click.echo(f"next: read {folder}/README.md, then run `compare exercises check {folder}`")


def _cell(error) -> str:
    return "—" if error is None else f"{error:.1e}"


def format_rows(rows) -> str:
    """The table: one row per exercise, with the failing case and diagnosis beneath it."""
    width = max(len(r.title) for r in rows)
    lines = [f"{'#':>2}  {'exercise':<{width}}  {'status':<15}  worst error"]
    for r in rows:
        number = "—" if not isinstance(r.number, int) else r.number
        lines.append(f"{number:>2}  {r.title:<{width}}  {r.status:<15}  {_cell(r.error)}")
        for label, text in (("first failing case", r.case), ("diagnosis", r.diagnosis),
                            ("", r.detail)):
            if text:
                head = f"{label}: " if label else ""
                lines += textwrap.wrap(head + text, WIDTH, initial_indent=" " * 6,
                                       subsequent_indent=" " * 8)
    return "\n".join(lines)


def summary(rows, folder: Path) -> str:
    exercises = [r for r in rows if isinstance(r.number, int)]
    passed = sum(r.passed for r in exercises)
    text = f"{passed} of {len(exercises)} exercises pass."
    todo = next((r for r in exercises if not r.passed), None)
    if todo is not None:
        text += (f" Next: exercise {todo.number}, {todo.title}: "
                 f"compare exercises check {folder} --only {todo.number}")
    return text


@command.command()
@FOLDER
@click.option("--only", type=click.IntRange(1, len(EXERCISES)), multiple=True, metavar="K",
              help="check exercise K only (repeat for several)")
@click.option("--data", "data_root", default="data", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="folder holding MNIST/raw (exercise 10 and the last check read it)")
@click.option("--time-limit", type=click.FloatRange(1, 600), default=DEFAULT_TIME_LIMIT,
              show_default=True,
              help="seconds each exercise may run before it is stopped")
@click.option("--quiet", is_flag=True, help="no progress lines, only the table")
def check(folder, only, data_root, time_limit, quiet):
    """Grade a student's copy: one row per exercise, with a diagnosis.

    FOLDER is the copy (default exercises/). Exit status 0 only if all pass.
    """
    from .check import NotACopy, check as run

    def on_start(number, title):
        click.echo(f"checking {number}: {title} ...", err=True)

    def on_row(row):
        click.echo(f"    {row.status} ({row.seconds:.1f} s)", err=True)

    try:
        rows = run(folder, only, data_root, time_limit,
                   on_start=None if quiet else on_start, on_row=None if quiet else on_row)
    except NotACopy as err:
        raise click.UsageError(str(err)) from None
    click.echo(format_rows(rows))
    click.echo(summary(rows, folder))
    sys.exit(0 if all(r.passed for r in rows) else 1)
