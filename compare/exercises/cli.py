"""`compare exercises new | check | grade`: the exercises' command line.

Thin: parse, call generate.write, check.check or grade.grade_all, print.
Progress goes to stderr (not with --quiet); the table of rows goes to stdout.
`check` exits with status 1 unless every exercise checked passes.
"""
from __future__ import annotations

import io
import sys
from pathlib import Path

import click

from scratchnet.cli_options import FiniteFloatRange

from .check import DEFAULT_TIME_LIMIT
from .table import EXERCISES

FOLDER = click.argument("folder", default="exercises", required=False,
                        type=click.Path(file_okay=False, path_type=Path))
DATA = click.option("--data", "data_root", default="data", show_default=True,
                    type=click.Path(file_okay=False, path_type=Path),
                    help="folder holding MNIST/raw (exercise 10 and the last check read it)")
TIME_LIMIT = click.option("--time-limit", type=FiniteFloatRange(1, 600), default=DEFAULT_TIME_LIMIT,
                          show_default=True, help="seconds each exercise may run before it is stopped")


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
    except OSError as err:
        raise click.UsageError(f"cannot write the copy in {folder}: "
                               f"{err.strerror or err}") from None
    except SourceError as err:
        raise click.ClickException(f"an exercise names a function that is gone: {err}; "
                                   "update compare/exercises/table.py") from None
    if not quiet:
        count = sum(len(e.targets) for e in EXERCISES)
        click.echo(f"wrote {folder}/: {len(files)} files, {len(EXERCISES)} exercises "
                   f"({count} functions to write)")
        click.echo(f"next: read {folder}/README.md, then run `compare exercises check {folder}`")


@command.command()
@FOLDER
@click.option("--only", type=click.IntRange(1, len(EXERCISES)), multiple=True, metavar="K",
              help="check exercise K only (repeat for several)")
@DATA
@TIME_LIMIT
@click.option("--quiet", is_flag=True, help="no progress lines, only the table")
def check(folder, only, data_root, time_limit, quiet):
    """Grade a student's copy: one row per exercise, with a diagnosis.

    FOLDER is the copy (default exercises/). Exit status 0 only if all pass.
    """
    from .check import NotACopy, check as run
    from .grade import format_rows, summary

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


@command.command()
@click.argument("submissions", nargs=-1, required=True,
                type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", default="grades", show_default=True,
              type=click.Path(file_okay=False, path_type=Path), help="folder the results go to")
@click.option("--format", "fmt", type=click.Choice(["csv", "gradescope"]), default="csv",
              show_default=True, help="csv: grades.csv and feedback/STUDENT.txt; gradescope: "
                                      "results.json per submission")
@DATA
@TIME_LIMIT
@click.option("--jobs", type=click.IntRange(1, 32), default=2, show_default=True,
              help="submissions graded at a time")
@click.option("--quiet", is_flag=True, help="no progress bar, only the paths written")
def grade(submissions, out, fmt, data_root, time_limit, jobs, quiet):
    """Grade a class: each SUBMISSION (a student's exercises/ folder) on its own.

    Writes, under --out, a CSV of student × exercise (status, worst error) and one
    feedback file per student, or with --format gradescope Gradescope's results.json.
    """
    from .grade import grade_all, write_csv, write_gradescope

    with click.progressbar(length=len(submissions), label="grading", show_pos=True,
                           file=io.StringIO() if quiet else None) as bar:
        results = grade_all(submissions, data_root, time_limit, jobs,
                            on_done=lambda name, rows: bar.update(1))
    written = (write_gradescope if fmt == "gradescope" else write_csv)(results, out)
    for path in written[:1] if fmt == "csv" else written:
        click.echo(path)
