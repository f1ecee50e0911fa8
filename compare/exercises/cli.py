"""`compare exercises new | check | grade`: the exercises' command line, and a class's grading:
each submission checked as `check` does, `jobs` at a time, so one that breaks, hangs or forges
changes only its own rows; the results are written, each file whole, once all are graded.
"""
from __future__ import annotations

import contextlib
import csv
import io
import json
import queue
import sys
import textwrap
import threading
import time
from pathlib import Path

import click

from scratchnet.atomic import NotWritable, check_writable, write_text_atomic
from scratchnet.cli_options import FiniteFloatRange

from .check import DEFAULT_TIME_LIMIT, FINAL_TITLE, NotACopy, Row, check as check_copy
from .table import EXERCISES

FOLDER = click.argument("folder", default="exercises", required=False,
                        type=click.Path(file_okay=False, path_type=Path))
DATA = click.option("--data", "data_root", default="data", show_default=True,
                    type=click.Path(file_okay=False, path_type=Path),
                    help="folder holding MNIST/raw (exercise 10 and the last check read it)")
TIME_LIMIT = click.option("--time-limit", type=FiniteFloatRange(1, 600), show_default=True,
                          default=DEFAULT_TIME_LIMIT,
                          help="seconds each exercise may run before it is stopped")


@click.group(name="exercises")
def command():
    """Exercises: a student's copy of scratchnet, and its grader."""


@command.command()
@FOLDER
@click.option("--force", is_flag=True,
              help="write into FOLDER even if it holds other files or work (work is overwritten)")
@click.option("--quiet", is_flag=True, help="print nothing unless something is wrong")
def new(folder, force, quiet):
    """Write a student's copy of scratchnet, the exercises emptied, into FOLDER (default
    exercises/): a new or empty folder, or an untouched earlier copy."""
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
    """Grade a student's copy FOLDER (default exercises/): one row per exercise, with a
    diagnosis. Exit status 0 only if all pass."""
    def progress(text):
        if not quiet:
            click.echo(text, err=True)

    try:
        rows = check_copy(folder, only, data_root, time_limit,
                          on_start=lambda n, title: progress(f"checking {n}: {title} ..."),
                          on_row=lambda row: progress(f"    {row.status} ({row.seconds:.1f} s)"))
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
    """Grade a class: each SUBMISSION (a student's exercises/ folder) on its own."""
    try:
        check_writable(out / ("grades.csv" if fmt == "csv" else "results.json"))
    except NotWritable as err:
        raise click.UsageError(str(err)) from None
    with click.progressbar(length=len(submissions), label="grading", show_pos=True,
                           hidden=quiet) as bar:
        results = grade_all(submissions, data_root, time_limit, jobs,
                            on_done=lambda: bar.update(1))
    for path in (write_gradescope if fmt == "gradescope" else write_csv)(results, out):
        click.echo(path)


def _cell(error) -> str:
    return "—" if error is None else f"{error:.1e}"


def _notes(r: Row, indent: int) -> list[str]:
    """The first failing case, the diagnosis and the detail beneath a row, wrapped."""
    texts = [r.case and f"first failing case: {r.case}",
             r.diagnosis and f"diagnosis: {r.diagnosis}", r.detail]
    return [line for text in texts if text for line in textwrap.wrap(
        text, 100, initial_indent=" " * indent, subsequent_indent=" " * (indent + 2))]


def format_rows(rows) -> str:
    """The table: one row per exercise, with the failing case and diagnosis beneath it."""
    width = max(len(r.title) for r in rows)
    lines = [f"{'#':>2}  {'exercise':<{width}}  {'status':<15}  worst error"]
    for r in rows:
        number = r.number if isinstance(r.number, int) else "—"
        lines.append(f"{number:>2}  {r.title:<{width}}  {r.status:<15}  {_cell(r.error)}")
        lines += _notes(r, 6)
    return "\n".join(lines)


def summary(rows, folder) -> str:
    exercises = [r for r in rows if isinstance(r.number, int)]
    text = f"{sum(r.passed for r in exercises)} of {len(exercises)} exercises pass."
    if any(r.status == "wrong" for r in rows if not isinstance(r.number, int)):
        text += " The last check fails: see its diagnosis."
    todo = next((r for r in exercises if not r.passed), None)
    if todo is not None:
        text += (f" Next: exercise {todo.number}, {todo.title}: "
                 f"compare exercises check {folder} --only {todo.number}")
    return text


def names_of(folders: list[Path]) -> list[str]:
    """A distinct name per submission: its folder's name, with its parent's when names repeat."""
    names = [f.name for f in folders]
    names = [f"{f.parent.name}-{f.name}" if names.count(f.name) > 1 else f.name for f in folders]
    return [n if names.count(n) == 1 else f"{n}-{k + 1}" for k, n in enumerate(names)]


def grade_all(folders, data_root, time_limit: float, jobs: int = 2, on_done=None) -> dict:
    """{name: (folder, rows, seconds)} for every submission, `jobs` at a time on daemon threads
    (so an interrupted run exits at once; the children die with this process)."""
    folders = [Path(f).resolve() for f in folders]
    names, todo, done = names_of(folders), queue.SimpleQueue(), queue.SimpleQueue()
    for item in zip(names, folders):
        todo.put(item)

    def worker():
        with contextlib.suppress(queue.Empty):
            while True:
                name, folder = todo.get_nowait()
                start = time.monotonic()
                try:
                    rows = check_copy(folder, None, data_root, time_limit)
                except Exception as err:       # whatever goes wrong with it stays in its rows
                    why = str(err) if isinstance(err, NotACopy) else \
                        f"the grader failed on it: {err!r:.200}"
                    rows = [Row(e.number, e.title, "wrong", diagnosis=why) for e in EXERCISES]
                    rows.append(Row("final", FINAL_TITLE, "not run"))
                done.put((name, (folder, rows, time.monotonic() - start)))

    for _ in range(min(jobs, len(folders))):
        threading.Thread(target=worker, daemon=True).start()
    results = {}
    for _ in folders:
        name, result = done.get()
        results[name] = result
        if on_done:
            on_done()
    return {name: results[name] for name in names}


def write_csv(results: dict, out: Path) -> list[Path]:
    """grades.csv (student × exercise: status, worst error) and feedback/STUDENT.txt."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = [f"{e.number} {k}" for e in EXERCISES for k in ("status", "worst error")]
    writer.writerow(["student", *columns, "last check", "exercises passed"])
    for name, (folder, rows, _) in results.items():
        writer.writerow([name, *(c for r in rows[:-1] for c in (r.status, _cell(r.error))),
                         rows[-1].status, sum(r.passed for r in rows[:-1])])
        write_text_atomic(out / "feedback" / f"{name}.txt",
                          format_rows(rows) + "\n" + summary(rows, folder) + "\n")
    return [write_text_atomic(out / "grades.csv", buffer.getvalue())]


def gradescope(rows, seconds: float, folder) -> dict:
    """Gradescope's results.json: one test per exercise, and the last check for information."""
    tests = [{"name": f"{r.number}. {r.title}" if isinstance(r.number, int) else r.title,
              "score": float(r.passed and isinstance(r.number, int)),
              "max_score": float(isinstance(r.number, int)),
              "status": "passed" if r.passed else "failed",
              "output": "\n".join([f"{r.status}, worst error {_cell(r.error)}",
                                   *(line.strip() for line in _notes(r, 0))])}
             for r in rows]
    return {"score": sum(t["score"] for t in tests), "execution_time": round(seconds),
            "output": summary(rows, folder), "tests": tests}


def write_gradescope(results: dict, out: Path) -> list[Path]:
    """OUT/results.json for one submission, OUT/STUDENT/results.json for several."""
    return [write_text_atomic((out / name if len(results) > 1 else out) / "results.json",
                              json.dumps(gradescope(rows, seconds, folder.name), indent=1) + "\n")
            for name, (folder, rows, seconds) in results.items()]
