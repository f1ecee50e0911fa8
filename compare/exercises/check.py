"""`compare exercises check`: grade a student's copy in a process of its own, with time limits.

The checks run in a fresh Python process (compare.exercises.child) whose
sys.path starts with the exercise folder, so the student's scratchnet is the
one imported, and whose crashes cannot touch this one. Each exercise gets
`time_limit` seconds from its start: past that the process is killed, the
exercise is marked wrong ("endless loop?"), and a new process goes on with
the exercises left. A process that dies marks its exercise wrong the same
way. Rows come back in exercise order; the library never prints: pass
on_start / on_row to follow progress.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .child import FINAL
from .table import BY_NUMBER, EXERCISES, MARKER

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TIME_LIMIT = 30.0      # seconds per exercise; a complete copy needs a few
STARTUP = 60.0                 # seconds the process may take to import torch and begin
FINAL_TITLE = "whole network vs torchnet, lock-step"


class NotACopy(Exception):
    """The folder is not an exercise copy (the message says how to make one)."""


@dataclass
class Row:
    number: object              # an exercise number, or FINAL
    title: str
    status: str                 # "passed" | "wrong" | "not written yet" | "not run"
    error: float | None = None  # worst relative error (the largest weight difference for FINAL)
    case: str | None = None     # the first failing case
    diagnosis: str | None = None
    detail: str | None = None
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return self.status == "passed"


def _title(number) -> str:
    return FINAL_TITLE if number == FINAL else BY_NUMBER[number].title


def _child_command(job: dict) -> list[str]:
    boot = ("import sys; sys.path[:0] = [sys.argv[2], sys.argv[3]]; "
            "from compare.exercises.child import main; main()")
    return [sys.executable, "-B", "-c", boot, json.dumps(job), job["folder"], job["root"]]


def _reader(stream, events: queue.Queue) -> None:
    for line in stream:
        try:
            events.put(json.loads(line))
        except ValueError:
            continue
    events.put(None)                                 # the process closed its output


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)   # the child and anything it started
        except (ProcessLookupError, PermissionError, AttributeError):   # (no killpg: Windows)
            process.kill()
    process.wait()


def _tail(path: Path, chars: int = 400) -> str:
    text = path.read_text(encoding="utf-8", errors="replace").strip()
    return text[-chars:]


def _run_child(job, time_limit, rows, on_start, on_row) -> str | None:
    """Run one child until it finishes, dies or overruns, recording the rows it produced.

    Returns None when it may go on with the exercises left (it finished, or
    one exercise overran or crashed it), else why it could not (its log).
    """
    with tempfile.NamedTemporaryFile("w+b", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = subprocess.Popen(_child_command(job), stdout=subprocess.PIPE, stderr=log,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    events: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_reader, args=(process.stdout, events), daemon=True)
    reader.start()
    current, started, limit, produced = None, time.monotonic(), max(time_limit, STARTUP), False
    try:
        while True:
            try:
                event = events.get(timeout=max(0.0, started + limit - time.monotonic()))
            except queue.Empty:
                event = {"event": "overran"}
            kind = "died" if event is None else event["event"]
            if kind in ("overran", "died", "done"):
                if current is None:
                    if produced or kind == "done":
                        return None
                    late = f" within {limit:g} s" if kind == "overran" else ""
                    return f"the checker's process did not start{late}: {_tail(log_path)}"
                if kind == "died":
                    process.wait()
                reason = (f"still running after {time_limit:g} s: an endless loop? (stopped)"
                          if kind == "overran" else f"the checker's process died (exit "
                          f"{process.returncode}): {_tail(log_path)}")
                _record(rows, on_row, Row(current, _title(current), "wrong", diagnosis=reason,
                                          seconds=time.monotonic() - started))
                return None
            if kind == "start":
                current, started, limit = event["number"], time.monotonic(), time_limit
                if on_start:
                    on_start(current, _title(current))
            elif kind == "row":
                fields = {k: event.get(k) for k in ("status", "error", "case", "diagnosis", "detail")}
                _record(rows, on_row, Row(current, _title(current), **fields,
                                          seconds=time.monotonic() - started))
                current, started, produced = None, time.monotonic(), True
    finally:
        _stop(process)
        reader.join(timeout=10)
        process.stdout.close()
        log_path.unlink(missing_ok=True)


def _record(rows, on_row, row: Row) -> None:
    rows.append(row)
    if on_row:
        on_row(row)


def check(folder: Path | str, only=None, data_root: Path | str = "data",
          time_limit: float = DEFAULT_TIME_LIMIT, on_start=None, on_row=None) -> list[Row]:
    """Grade the copy in `folder`: one Row per exercise (those in `only`, or all), then the last check.

    The last, whole-network check runs when all exercises are checked and
    exercises 1–8 pass; otherwise its row says "not run".
    """
    folder = Path(folder).resolve()
    if not (folder / "scratchnet").is_dir() or not (folder / MARKER).is_file():
        raise NotACopy(f"{folder} is not an exercise copy; make one with "
                       f"`compare exercises new {folder}`")
    numbers = sorted(set(only)) if only else [e.number for e in EXERCISES]
    rows: list[Row] = []
    pending = list(numbers)
    while pending:
        final = not only and all(r.passed for r in rows
                                 if r.number != FINAL and BY_NUMBER[r.number].in_scratchnet)
        job = {"folder": str(folder), "root": str(ROOT), "data_root": str(Path(data_root).resolve()),
               "exercises": pending, "final": final}
        before = len(rows)
        failure = _run_child(job, time_limit, rows, on_start, on_row)
        done = {r.number for r in rows}
        pending = [n for n in numbers if n not in done]
        if failure is None and len(rows) == before:
            failure = "the checker stopped before this exercise"
        if failure is not None:                      # a broken installation, not the student
            for number in pending:
                _record(rows, on_row, Row(number, _title(number), "wrong", diagnosis=failure))
            pending = []
    if not only and not any(r.number == FINAL for r in rows):
        rows.append(Row(FINAL, FINAL_TITLE, "not run",
                        detail="runs when exercises 1–8 all pass"))
    return rows
