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
