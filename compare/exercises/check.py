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


def _run_child(job, time_limit, rows, on_start, on_row):
    """Run one child until it finishes, dies or overruns; record the rows it produced."""
    with tempfile.NamedTemporaryFile("w+b", suffix=".log", delete=False) as log:
        log_path = Path(log.name)
        process = subprocess.Popen(_child_command(job), stdout=subprocess.PIPE, stderr=log,
                                   stdin=subprocess.DEVNULL, start_new_session=True,
                                   env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    events: queue.Queue = queue.Queue()
    reader = threading.Thread(target=_reader, args=(process.stdout, events), daemon=True)
    reader.start()
    current, started = None, time.monotonic()
    try:
        while True:
            try:
                event = events.get(timeout=max(0.0, started + time_limit - time.monotonic()))
            except queue.Empty:
                if current is not None:
                    _record(rows, on_row, Row(current, _title(current), "wrong", seconds=time_limit,
                                              diagnosis=f"still running after {time_limit:g} s: "
                                                        "an endless loop? (stopped)"))
                return current is not None
            if event is None or event.get("event") == "done":
                if current is not None:                  # it died during an exercise
                    process.wait()
                    _record(rows, on_row, Row(current, _title(current), "wrong",
                                              diagnosis=f"the checker's process died (exit "
                                                        f"{process.returncode}): {_tail(log_path)}"))
                return current is not None
            if event["event"] == "start":
                current, started = event["number"], time.monotonic()
                if on_start:
                    on_start(current, _title(current))
            elif event["event"] == "row":
                fields = {k: event.get(k) for k in ("status", "error", "case", "diagnosis", "detail")}
                _record(rows, on_row, Row(current, _title(current), **fields,
                                          seconds=time.monotonic() - started))
                current, started = None, time.monotonic()
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
        restart = _run_child(job, time_limit, rows, on_start, on_row)
        done = {r.number for r in rows}
        pending = [n for n in numbers if n not in done]
        if not restart and pending:                  # finished without them: should not happen
            for number in pending:
                _record(rows, on_row, Row(number, _title(number), "wrong",
                                          diagnosis="the checker stopped before this exercise"))
            pending = []
    if not only and not any(r.number == FINAL for r in rows):
        rows.append(Row(FINAL, FINAL_TITLE, "not run",
                        detail="runs when exercises 1–8 all pass"))
    return rows
