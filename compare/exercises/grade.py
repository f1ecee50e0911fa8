"""`compare exercises grade SUBMISSION...`: a class's copies, each graded on its own.

Each submission (a student's exercises/ folder) is checked as `compare
exercises check` checks it, in child processes of its own with the same time
limits, `jobs` submissions at a time; a submission that breaks, hangs or tries
to forge its grade changes only its own rows. The truths are computed once for
the whole class. Results are written when every submission is done:

    csv:        OUT/grades.csv (student × exercise: status, worst error) and
                OUT/feedback/STUDENT.txt (the rows the student sees)
    gradescope: OUT/results.json for one submission, OUT/STUDENT/results.json for
                several: Gradescope's autograder format, one test per exercise
                (score 1 of 1 when it passes) and the last check (0 of 0)
"""
from __future__ import annotations

import csv
import io
import json
import os
import queue
import textwrap
import threading
import time
from pathlib import Path

from .check import FINAL_TITLE, NotACopy, Row, check
from .table import EXERCISES

WIDTH = 100


def format_rows(rows) -> str:
    """The table: one row per exercise, with the failing case and diagnosis beneath it."""
    width = max(len(r.title) for r in rows)
    lines = [f"{'#':>2}  {'exercise':<{width}}  {'status':<15}  worst error"]
    for r in rows:
        number = r.number if isinstance(r.number, int) else "—"
        lines.append(f"{number:>2}  {r.title:<{width}}  {r.status:<15}  {_cell(r.error)}")
        lines += _notes(r, indent=6)
    return "\n".join(lines)


def _notes(r: Row, indent: int) -> list[str]:
    lines = []
    for label, text in (("first failing case", r.case), ("diagnosis", r.diagnosis), ("", r.detail)):
        if text:
            lines += textwrap.wrap((f"{label}: " if label else "") + text, WIDTH,
                                   initial_indent=" " * indent, subsequent_indent=" " * (indent + 2))
    return lines


def _cell(error) -> str:
    return "—" if error is None else f"{error:.1e}"


def summary(rows, folder) -> str:
    exercises = [r for r in rows if isinstance(r.number, int)]
    text = f"{sum(r.passed for r in exercises)} of {len(exercises)} exercises pass."
    final = next((r for r in rows if not isinstance(r.number, int)), None)
    if final is not None and final.status == "wrong":
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


def grade_one(folder: Path, data_root, time_limit: float) -> list[Row]:
    """One submission's rows; whatever goes wrong with it stays in them."""
    try:
        return check(folder, None, data_root, time_limit)
    except (NotACopy, Exception) as err:
        why = str(err) if isinstance(err, NotACopy) else f"the grader failed on it: {err!r:.200}"
        return [Row(e.number, e.title, "wrong", diagnosis=why) for e in EXERCISES] + \
            [Row("final", FINAL_TITLE, "not run")]


def grade_all(folders, data_root, time_limit: float, jobs: int = 2, on_done=None) -> dict:
    """{name: rows} for every submission, graded `jobs` at a time (daemon threads, so an
    interrupted run exits at once; the children die with this process)."""
    folders = [Path(f).resolve() for f in folders]
    todo: queue.Queue = queue.Queue()
    for item in zip(names_of(folders), folders):
        todo.put(item)
    results, lock, finished = {}, threading.Lock(), threading.Semaphore(0)

    def worker():
        while True:
            try:
                name, folder = todo.get_nowait()
            except queue.Empty:
                return
            start = time.monotonic()
            rows = grade_one(folder, data_root, time_limit)
            with lock:
                results[name] = (folder, rows, time.monotonic() - start)
                if on_done:
                    on_done(name, rows)
            finished.release()

    for _ in range(min(jobs, len(folders))):
        threading.Thread(target=worker, daemon=True).start()
    for _ in folders:
        finished.acquire()
    return {name: results[name] for name in names_of(folders)}


def _write(path: Path, text: str) -> None:
    """Write whole or not at all."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, path)


def write_csv(results: dict, out: Path) -> list[Path]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["student", *(f"{e.number} {k}" for e in EXERCISES for k in ("status", "worst error")),
                     "last check", "exercises passed"])
    written = []
    for name, (folder, rows, _) in results.items():
        by_number = {r.number: r for r in rows}
        cells = [c for e in EXERCISES for c in (by_number[e.number].status,
                                                _cell(by_number[e.number].error))]
        writer.writerow([name, *cells, rows[-1].status, sum(r.passed for r in rows[:-1])])
        written.append(out / "feedback" / f"{name}.txt")
        _write(written[-1], format_rows(rows) + "\n" + summary(rows, folder) + "\n")
    _write(out / "grades.csv", buffer.getvalue())
    return [out / "grades.csv", *written]


def gradescope(rows, seconds: float, folder) -> dict:
    """Gradescope's results.json: one test per exercise, and the last check for information."""
    tests = [{"name": f"{r.number}. {r.title}" if isinstance(r.number, int) else r.title,
              "score": float(r.passed) if isinstance(r.number, int) else 0.0,
              "max_score": 1.0 if isinstance(r.number, int) else 0.0,
              "status": "passed" if r.passed else "failed",
              "output": "\n".join([f"{r.status}, worst error {_cell(r.error)}",
                                   *(line.strip() for line in _notes(r, 0))])}
             for r in rows]
    return {"score": sum(t["score"] for t in tests), "execution_time": round(seconds),
            "output": summary(rows, folder), "tests": tests}


def write_gradescope(results: dict, out: Path) -> list[Path]:
    written = []
    for name, (folder, rows, seconds) in results.items():
        path = out / "results.json" if len(results) == 1 else out / name / "results.json"
        _write(path, json.dumps(gradescope(rows, seconds, folder.name), indent=1) + "\n")
        written.append(path)
    return written
