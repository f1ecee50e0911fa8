"""`compare exercises check`: grade a student's copy, its code in a child process, with time limits.

The child (compare.exercises.child) imports the student's copy and sends back
the outputs of every case; the rows are computed here (checks.judge), so the
student's code cannot touch them. Each check gets `time_limit` seconds from
its start: past that the child and everything it started are killed, the
exercise is marked wrong ("endless loop?"), and a new child goes on with the
exercises left. A child that dies marks its exercise wrong the same way. No
file is written: the child's stderr is kept in memory for the messages. Rows
come back in exercise order; the library never prints: pass on_start /
on_row to follow progress.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .checks import FINAL, judge, warm
from .child import Child
from .table import BY_NUMBER, EXERCISES, MARKER

DEFAULT_TIME_LIMIT = 30.0      # seconds per exercise; a complete copy needs a few
STARTUP = 60.0                 # seconds the child may take to import torch and begin
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


def _title(key: str) -> str:
    return FINAL_TITLE if key == FINAL else next(e.title for e in EXERCISES if e.key == key)


class Session:
    """Checks run in one child for as long as it lives; a new one after an overrun or a death."""

    def __init__(self, folder: Path, data_root: Path, on_start=None):
        self.folder, self.data_root, self.on_start, self.child = folder, data_root, on_start, None

    def __enter__(self):
        self.child = Child(self.folder, self.data_root)     # it starts while the grader does
        return self

    def __exit__(self, *exc):
        self._drop()

    def _drop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None

    def run(self, keys, time_limit: float):
        """Yield (key, row dict, seconds) for each check key, in order."""
        pending = list(keys)
        while pending:
            if self.child is None or not self.child.ready:
                self.child = self.child or Child(self.folder, self.data_root)
                event = self.child.next(time.monotonic() + STARTUP)
                self.child.ready = event["event"] == "ready"
                if event["event"] != "ready":
                    why = (f"did not start within {STARTUP:g} s" if event["event"] == "overran"
                           else "died")
                    tail = self.child.tail()
                    self._drop()
                    for key in pending:
                        yield key, {"status": "wrong", "diagnosis": f"the checker's process "
                                                                    f"{why}: {tail}"}, 0.0
                    return
            self.child.send(pending)
            for key, result, seconds in _follow(self.child, pending, self.data_root, time_limit,
                                                self.on_start):
                if result.get("stopped"):
                    self._drop()
                yield key, result, seconds


def _follow(child, pending, data_root, time_limit, on_start):
    """The rows of the keys the child runs, in order; stops at the first that overruns or kills it."""
    while pending:
        key, started, results = pending[0], time.monotonic(), []
        if on_start:
            on_start(key)
        while True:
            event = child.next(started + time_limit)
            kind = event.get("event")
            if kind in ("overran", "died"):
                why = (f"still running after {time_limit:g} s: an endless loop? (stopped)"
                       if kind == "overran" else f"the checker's process died (exit "
                       f"{child.process.poll()}): {child.tail()}")
                pending.pop(0)
                yield key, {"status": "wrong", "diagnosis": why, "stopped": True}, \
                    time.monotonic() - started
                return
            if kind == "case" and event.get("key") == key:
                results.append({k: v for k, v in event.items() if k not in ("event", "key", "index")})
            elif kind == "end" and event.get("key") == key:
                break
        pending.pop(0)
        yield key, judge(key, _decoded(results), str(data_root)), time.monotonic() - started


def _decoded(results):
    from .values import decode

    out = []
    for result in results:
        try:
            out.append({k: decode(v) if k == "outputs" else str(v) for k, v in result.items()})
        except (ValueError, TypeError, KeyError, AttributeError):
            out.append({"malformed": "the checker's process sent back an unreadable value"})
    return out


def _row(number, key: str, result: dict, seconds: float = 0.0) -> Row:
    fields = {k: result.get(k) for k in ("error", "case", "diagnosis", "detail")}
    return Row(number, _title(key), result["status"], **fields, seconds=seconds)


def check(folder: Path | str, only=None, data_root: Path | str = "data",
          time_limit: float = DEFAULT_TIME_LIMIT, on_start=None, on_row=None) -> list[Row]:
    """Grade the copy in `folder`: one Row per exercise (those in `only`, or all), then the last check.

    The last, whole-network check runs when all exercises are checked and
    exercises 1–8 pass; otherwise its row says "not run".
    """
    folder, data_root = Path(folder).resolve(), Path(data_root).resolve()
    if not (folder / "scratchnet").is_dir() or not (folder / MARKER).is_file():
        raise NotACopy(f"{folder} is not an exercise copy; make one with "
                       f"`compare exercises new {folder}`")
    numbers = sorted(set(only)) if only else [e.number for e in EXERCISES]
    by_key = {BY_NUMBER[n].key: n for n in numbers}
    by_key[FINAL] = FINAL
    rows: list[Row] = []

    def record(row: Row) -> None:
        rows.append(row)
        if on_row:
            on_row(row)

    def starting(key):
        if on_start and key in by_key:
            on_start(by_key[key], _title(key))

    ahead = [*list(by_key)[:-1], *([] if only else [FINAL])]
    with Session(folder, data_root, starting) as session:
        threading.Thread(target=warm, args=(ahead, str(data_root)), daemon=True).start()
        for key, result, seconds in session.run(list(by_key)[:-1], time_limit):
            record(_row(by_key[key], key, result, seconds))
        if not only:
            record(_final(session, time_limit, rows))
    return rows


def _final(session: Session, time_limit: float, rows) -> Row:
    """The last check's row, naming the exercise that makes it drift apart."""
    if not all(r.passed for r in rows if BY_NUMBER[r.number].in_scratchnet):
        return Row(FINAL, FINAL_TITLE, "not run", detail="runs when exercises 1–8 all pass")
    [(_, result, seconds)] = session.run([FINAL], time_limit)
    if result.get("drifted") is not None:
        [(_, why, more)] = session.run([f"culprit {result['drifted']}"], 3 * time_limit)
        result["diagnosis"] += "; " + why["diagnosis"]
        seconds += more
    return _row(FINAL, FINAL, result, seconds)
