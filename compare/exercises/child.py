"""The process that runs a student's code and sends back values only, never a verdict.

It runs in a process group of its own, with a watchdog that kills the group (the student's
code's processes included) once the pipe only the grader holds open closes, as it does however
the grader exits, and SIGKILL on its parent's death. On stdin: JSON lists of check keys; on
stdout, JSON lines: "ready", then per key a "case" per case (outputs, or what it raised) and an
"end". The student's prints go to stderr. Nothing imports scratchnet before the copy is on
sys.path.
"""
from __future__ import annotations

import json
import os
import signal
import sys


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
    folder, root, data_root, fd = sys.argv[1:5]
    watchdog(int(fd))
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
    out.write(json.dumps({"event": "ready"}) + "\n")
    for line in commands:
        for key in json.loads(line):
            for case in cases_of(key, data_root):
                result = attempt(case, code, code.folder)
                result = {k: encode(v) if k == "outputs" else str(v) for k, v in result.items()}
                out.write(json.dumps({"event": "case", "key": key, **result}) + "\n")
            out.write(json.dumps({"event": "end", "key": key}) + "\n")
