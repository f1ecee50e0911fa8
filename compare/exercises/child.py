"""The child process that runs the student's code and only returns values.

compare.exercises.check starts it with the exercise folder, the project root,
the MNIST root and the read end of a pipe whose write end only the grader
holds. It runs in a process group of its own, and first forks a watchdog that
kills the whole group (the child and anything the student's code started) as
soon as that pipe closes, which happens when the grader exits for any reason,
SIGKILL included; the child also asks the kernel for SIGKILL when its parent
dies. Then it reads lines from its stdin, each a JSON list of check keys, and
for each check runs every case on the student's code, writing one JSON object
per line to the original stdout:

    {"event": "ready"}
    {"event": "start", "key": "backprop"}
    {"event": "case", "key": "backprop", "index": 0, "outputs": [...]}   (or "raised": ...)
    {"event": "end", "key": "backprop"}

It judges nothing: the grader compares the outputs with the truth in its own
process, so nothing the student's code does here can change a verdict. What
the student's code prints goes to stderr, and it reads an empty stdin.
`Child` is the grader's handle on it.
"""
from __future__ import annotations

import collections
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOOT = "import sys; sys.path.insert(0, sys.argv[2]); from compare.exercises.child import main; main()"


def watchdog(fd: int) -> None:
    """Fork a process that kills this process group when `fd` (the grader's pipe) closes."""
    try:
        import ctypes
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)        # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
    if os.fork() == 0:
        os.closerange(0, fd)
        os.closerange(fd + 1, 4096)
        try:
            while os.read(fd, 1):
                pass
        finally:
            os.killpg(0, signal.SIGKILL)
    os.close(fd)


def main() -> None:
    folder, root, data_root, fd = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    watchdog(fd)
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    commands = os.fdopen(os.dup(0), "r", encoding="utf-8")
    os.dup2(2, 1)                                    # the student's prints go to stderr
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)     # and its input() reads nothing
    sys.stdout, sys.stdin = sys.stderr, open(os.devnull, encoding="utf-8")
    sys.path[:0] = [folder, root]

    import torch
    from threadpoolctl import threadpool_limits

    from compare.exercises.checks import cases_of
    from compare.exercises.code import student
    from compare.exercises.grading import attempt
    from compare.exercises.values import encode

    torch.set_num_threads(1)                        # tiny matrices: threads only cost time
    threadpool_limits(1)
    code = student(folder)

    def emit(**event):
        out.write(json.dumps(event) + "\n")

    emit(event="ready")
    for line in commands:
        for key in json.loads(line):
            emit(event="start", key=key)
            for index, case in enumerate(cases_of(key, data_root)):
                result = attempt(case, code, code.folder)
                emit(event="case", key=key, index=index,
                     **{k: encode(v) if k == "outputs" else str(v) for k, v in result.items()})
            emit(event="end", key=key)


class Child:
    """One child process: commands in on stdin, events out on stdout, stderr kept in memory."""

    def __init__(self, folder: Path, data_root: Path):
        read, self._alive = os.pipe()            # the child's watchdog waits for this to close
        self.process = subprocess.Popen(
            [sys.executable, "-B", "-c", BOOT, str(folder), str(ROOT), str(data_root), str(read)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            pass_fds=(read,), start_new_session=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
        os.close(read)
        self.ready = False
        self.events: queue.Queue = queue.Queue()
        self.log = collections.deque(maxlen=100)
        self.threads = [threading.Thread(target=self._read, daemon=True),
                        threading.Thread(target=self._keep_log, daemon=True)]
        for thread in self.threads:
            thread.start()

    def _read(self):
        for line in self.process.stdout:
            try:
                self.events.put(json.loads(line))
            except ValueError:
                continue
        self.events.put(None)                    # the child closed its output: it died

    def _keep_log(self):
        for line in self.process.stderr:
            self.log.append(line.decode("utf-8", errors="replace"))

    def tail(self, chars: int = 400) -> str:
        self.process.poll()
        return "".join(self.log).strip()[-chars:]

    def send(self, keys: list[str]) -> None:
        try:
            self.process.stdin.write((json.dumps(keys) + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            pass                                 # it died; the events will say so

    def next(self, deadline: float) -> dict:
        try:
            event = self.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return {"event": "overran"}
        return {"event": "died"} if event is None else event

    def stop(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)   # the child and anything it started
        except (ProcessLookupError, PermissionError):
            self.process.kill()
        self.process.wait()
        os.close(self._alive)
        for thread in self.threads:
            thread.join(timeout=5)
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            try:
                stream.close()
            except OSError:
                pass
