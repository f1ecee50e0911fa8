"""`compare exercises check`: the student's code runs in a child process (child.py) that sends
back outputs, judged here by check key, out of its reach ("final": the whole network in
lock-step; "culprit K": its K-th setting rerun with one exercise at a time from the reference).
A check that overruns its time limit, or kills the child, is marked wrong, and a new child goes
on. Cases, their truths and the mistakes' outputs are built once per process; nothing is written.
"""
from __future__ import annotations

import collections
import contextlib
import functools
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

from .child import decode
from .source import ROOT
from .table import BY_NUMBER, EXERCISES, MARKER

BOOT = ("import sys; sys.path.insert(0, sys.argv[2]); "
        "from compare.exercises.child import main; main()")
DEFAULT_TIME_LIMIT = 30.0      # seconds per exercise; a complete copy needs a few
STARTUP = 60.0                 # seconds the child may take to import torch and begin
FINAL, FINAL_TITLE = "final", "whole network vs torchnet, lock-step"
_LOCK = threading.Lock()


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


def cases_of(key: str, data_root: str) -> list:
    with _LOCK:                     # one list of cases per key, whichever thread asks first
        return _cases_of(key, data_root)


@functools.cache
def _cases_of(key: str, data_root: str) -> list:
    from . import derivatives as d, lockstep, loop, optimizers as o

    root = Path(data_root)
    if key.startswith("culprit "):
        return lockstep.culprit_cases(list(lockstep.SETTINGS)[int(key.split()[1])], root)
    return {"activations": d.activation_cases, "costs": d.cost_cases, "backprop": d.backprop_cases,
            "dropout": d.dropout_cases, "batchnorm": d.batch_norm_cases,
            "sgd": lambda: o.optimizer_cases("SGD", o.SGD, 60, o.SCHEDULE),
            "adam": lambda: o.optimizer_cases("Adam", o.ADAM, 70),
            "steplr": o.steplr_cases, "problem1": o.problem1_cases,
            "loop": lambda: loop.loop_cases(root),
            FINAL: lambda: lockstep.lockstep_cases(root)}[key]()


def judge(key: str, results: list[dict], data_root: str) -> dict:
    """The row of a check from the results the child sent, one per case, in order."""
    from . import grading, lockstep, loop_verdict

    cases = cases_of(key, data_root)
    results = list(results) + [{"raised": "no answer came back"}] * (len(cases) - len(results))
    if key == "loop":
        return loop_verdict.judge(cases, results, Path(data_root))
    if key == FINAL:
        return lockstep.judge(cases, results)
    if key.startswith("culprit "):
        return {"status": "wrong", "diagnosis": lockstep.culprit(cases, results)}
    return grading.grade(cases, results)


def warm(keys, data_root: str) -> None:
    """Compute the truths of `keys`' cases while the child works (tiny: one torch thread)."""
    import torch

    torch.set_num_threads(1)
    for key in keys:
        for case in cases_of(key, data_root):
            try:
                case.expected
            except Exception:            # the judge will meet it again, and say so
                return


class Session:
    """Checks run in one child for as long as it lives, a new one after an overrun or a death:
    keys in on its stdin, events out on its stdout, the end of its stderr kept."""

    def __init__(self, folder: Path, data_root: Path, time_limit: float, on_start):
        self.folder, self.data_root, self.time_limit = folder, data_root, time_limit
        self.on_start, self.process = on_start, None

    def start(self) -> str:
        read, self.alive = os.pipe()            # the child's watchdog waits for this to close
        self.process = subprocess.Popen(
            [sys.executable, "-B", "-c", BOOT, str(self.folder), str(ROOT), str(self.data_root),
             str(read)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(read,), start_new_session=True)
        os.close(read)
        self.events, self.log = queue.Queue(), collections.deque(maxlen=100)
        self.threads = [threading.Thread(target=self._read, daemon=True), threading.Thread(
            target=self.log.extend, args=(self.process.stderr,), daemon=True)]
        for thread in self.threads:
            thread.start()
        return self.next(time.monotonic() + STARTUP)["event"]

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
        if self.process is None:
            return
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
        self.process = None

    def run(self, keys, time_limit: float | None = None):
        """Yield (key, result, seconds) for each check key, in order."""
        pending = list(keys)
        while pending:
            if self.process is None and (event := self.start()) != "ready":
                why = f"did not start within {STARTUP:g} s" if event == "overran" else "died"
                result = {"status": "wrong",
                          "diagnosis": f"the checker's process {why}: {self.tail()}"}
                self.stop()
                yield from ((key, result, 0.0) for key in pending)
                return
            with contextlib.suppress(OSError):      # if it died, its events say so
                self.process.stdin.write((json.dumps(pending) + "\n").encode())
                self.process.stdin.flush()
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
            event = self.next(started + limit)
            kind = event.get("event")
            if kind in ("overran", "died"):
                why = (f"still running after {limit:g} s: an endless loop? (stopped)"
                       if kind == "overran" else f"the checker's process died (exit "
                       f"{self.process.poll()}): {self.tail()}")
                return {"status": "wrong", "diagnosis": why, "stopped": True}
            if kind == "case" and event.get("key") == key:
                try:
                    cases.append({k: decode(v) if k == "outputs" else str(v)
                                  for k, v in event.items() if k not in ("event", "key")})
                except (ValueError, TypeError, KeyError, AttributeError):
                    cases.append({"malformed": "the checker's process sent back an "
                                               "unreadable value"})
            elif kind == "end" and event.get("key") == key:
                return judge(key, cases, str(self.data_root))


def _row(number, title: str, result: dict, seconds: float) -> Row:
    fields = {k: result.get(k) for k in ("error", "case", "diagnosis", "detail")}
    return Row(number, title, result["status"], **fields, seconds=seconds)


def check(folder: Path | str, only=None, data_root: Path | str = "data",
          time_limit: float = DEFAULT_TIME_LIMIT, on_start=None, on_row=None) -> list[Row]:
    """One Row per exercise (those in `only`, or all), then the last check's (if none is left
    out); on_start(number, title) and on_row(row) follow the progress."""
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
