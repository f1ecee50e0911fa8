"""`compare exercises check`: the student's code runs in a child process (child.py) that sends
back outputs; the rows are judged here, out of its reach. A check that overruns its time limit,
or kills the child, is marked wrong, and a new child goes on. Nothing is written to disk.
"""
from __future__ import annotations

import collections
import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from .checks import FINAL, judge, warm
from .table import BY_NUMBER, EXERCISES, MARKER
from .values import decode

ROOT = Path(__file__).resolve().parents[2]
BOOT = ("import sys; sys.path.insert(0, sys.argv[2]); "
        "from compare.exercises.child import main; main()")
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


class Child:
    """The child process: keys in on stdin, events out on stdout, the end of stderr kept."""

    def __init__(self, folder: Path, data_root: Path):
        read, self.alive = os.pipe()            # the child's watchdog waits for this to close
        self.process = subprocess.Popen(
            [sys.executable, "-B", "-c", BOOT, str(folder), str(ROOT), str(data_root), str(read)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(read,), start_new_session=True)
        os.close(read)
        self.events, self.log = queue.Queue(), collections.deque(maxlen=100)
        self.threads = [threading.Thread(target=self._read, daemon=True), threading.Thread(
            target=self.log.extend, args=(self.process.stderr,), daemon=True)]
        for thread in self.threads:
            thread.start()

    def _read(self):
        for line in self.process.stdout:
            with contextlib.suppress(ValueError):
                self.events.put(json.loads(line))
        self.events.put({"event": "died"})          # its output closed

    def tail(self) -> str:
        return b"".join(self.log).decode("utf-8", errors="replace").strip()[-400:]

    def next(self, deadline: float) -> dict:
        try:
            return self.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return {"event": "overran"}

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)   # the child and anything it started
        except OSError:
            self.process.kill()
        self.process.wait()
        os.close(self.alive)
        for thread in self.threads:
            thread.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            with contextlib.suppress(OSError):
                stream.close()


class Session:
    """Checks run in one child for as long as it lives; a new one after an overrun or a death."""

    def __init__(self, folder: Path, data_root: Path, time_limit: float, on_start):
        self.folder, self.data_root, self.time_limit = folder, data_root, time_limit
        self.on_start, self.child = on_start, None

    def stop(self):
        if self.child is not None:
            self.child.stop()
            self.child = None

    def run(self, keys, time_limit: float | None = None):
        """Yield (key, result, seconds) for each check key, in order."""
        pending = list(keys)
        while pending:
            if self.child is None:
                self.child = Child(self.folder, self.data_root)
                event = self.child.next(time.monotonic() + STARTUP)["event"]
                if event != "ready":
                    why = f"did not start within {STARTUP:g} s" if event == "overran" else "died"
                    result = {"status": "wrong", "diagnosis": f"the checker's process {why}: "
                                                              f"{self.child.tail()}"}
                    self.stop()
                    yield from ((key, result, 0.0) for key in pending)
                    return
            with contextlib.suppress(OSError):      # if it died, its events say so
                self.child.process.stdin.write((json.dumps(pending) + "\n").encode())
                self.child.process.stdin.flush()
            while pending:
                key, started = pending.pop(0), time.monotonic()
                self.on_start(key)
                result = self._result(key, started, time_limit or self.time_limit)
                yield key, result, time.monotonic() - started
                if result.get("stopped"):
                    self.stop()
                    break

    def _result(self, key: str, started: float, limit: float) -> dict:
        """The row of one check from the child's events, or why the child was stopped."""
        cases = []
        while True:
            event = self.child.next(started + limit)
            kind = event.get("event")
            if kind in ("overran", "died"):
                why = (f"still running after {limit:g} s: an endless loop? (stopped)"
                       if kind == "overran" else f"the checker's process died (exit "
                       f"{self.child.process.poll()}): {self.child.tail()}")
                return {"status": "wrong", "diagnosis": why, "stopped": True}
            if kind == "case" and event.get("key") == key:
                cases.append(_decoded(event))
            elif kind == "end" and event.get("key") == key:
                return judge(key, cases, str(self.data_root))


def _decoded(event: dict) -> dict:
    """A case's result as the child sent it, its outputs decoded."""
    try:
        return {k: decode(v) if k == "outputs" else str(v) for k, v in event.items()
                if k not in ("event", "key")}
    except (ValueError, TypeError, KeyError, AttributeError):
        return {"malformed": "the checker's process sent back an unreadable value"}


def _row(number, title: str, result: dict, seconds: float) -> Row:
    fields = {k: result.get(k) for k in ("error", "case", "diagnosis", "detail")}
    return Row(number, title, result["status"], **fields, seconds=seconds)


def check(folder: Path | str, only=None, data_root: Path | str = "data",
          time_limit: float = DEFAULT_TIME_LIMIT, on_start=None, on_row=None) -> list[Row]:
    """One Row per exercise (those in `only`, or all), then the last check's, which runs only
    when all are checked and exercises 1–8 pass. on_start(number, title) and on_row(row)
    follow the progress."""
    folder, data_root = Path(folder).resolve(), Path(data_root).resolve()
    if not (folder / "scratchnet").is_dir() or not (folder / MARKER).is_file():
        raise NotACopy(f"{folder} is not an exercise copy; make one with "
                       f"`compare exercises new {folder}`")
    exercises = [BY_NUMBER[n] for n in sorted(set(only))] if only else list(EXERCISES)
    titles = {e.key: (e.number, e.title) for e in exercises} | {FINAL: (FINAL, FINAL_TITLE)}
    keys, rows = [e.key for e in exercises], []

    def starting(key):
        if on_start and key in titles:
            on_start(*titles[key])

    def record(row: Row):
        rows.append(row)
        if on_row:
            on_row(row)

    session = Session(folder, data_root, time_limit, starting)
    threading.Thread(target=warm, args=(keys + [FINAL] * (not only), str(data_root)),
                     daemon=True).start()
    try:
        for key, result, seconds in session.run(keys):
            record(_row(*titles[key], result, seconds))
        if not only:
            record(_final(session, rows))
    finally:
        session.stop()
    return rows


def _final(session: Session, rows) -> Row:
    """The last check's row, naming the exercise that makes it drift apart."""
    if not all(r.passed for r in rows if BY_NUMBER[r.number].in_scratchnet):
        return Row(FINAL, FINAL_TITLE, "not run", detail="runs when exercises 1–8 all pass")
    [(_, result, seconds)] = session.run([FINAL])
    if result.get("drifted") is not None:
        [(_, why, more)] = session.run([f"culprit {result['drifted']}"], 3 * session.time_limit)
        result["diagnosis"] += "; " + why["diagnosis"]
        seconds += more
    return _row(FINAL, FINAL_TITLE, result, seconds)
