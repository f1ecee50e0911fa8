"""The process that runs a student's code and sends back values only, never a verdict, in a
process group of its own that a watchdog kills once the grader's pipe closes, however the grader
exits. On stdin: JSON lists of check keys; on stdout, JSON lines: "ready", then per key a "case"
per case (outputs, or what it raised) and an "end"; the student's prints go to stderr. Outputs
travel as JSON, never as pickles: numeric arrays as base64 bytes with dtype and shape, anything
else that is not JSON as Other(its type's name). Nothing imports scratchnet before the copy is
on sys.path.
"""
from __future__ import annotations

import base64
import json
import math
import os
import signal
import sys
from dataclasses import dataclass

import numpy as np

KINDS = "biuf"                      # bool, int, unsigned and float arrays travel; others do not


@dataclass(frozen=True)
class Other:
    """A value the child could not send: its type's name stands for it."""
    type_name: str

    def __repr__(self) -> str:
        return f"a {self.type_name}"


def encode(value, depth: int = 0):
    if isinstance(value, (bool, str)) or value is None:
        return value
    if isinstance(value, int):
        return value if abs(value) < 2 ** 53 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (np.generic, np.ndarray)) and value.dtype.kind in KINDS:
        return {"array": value.dtype.str, "shape": list(np.shape(value)),
                "scalar": isinstance(value, np.generic),
                "data": base64.b64encode(np.asarray(value).tobytes()).decode("ascii")}
    if isinstance(value, (list, tuple)) and depth < 8:
        items = [encode(v, depth + 1) for v in value]
        return {"list": items} if isinstance(value, list) else {"tuple": items}
    if isinstance(value, dict) and depth < 8 and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, depth + 1) for k, v in value.items()}}
    return {"other": type(value).__name__}


def decode(data):
    if not isinstance(data, dict):
        return data
    if "float" in data:
        return float(data["float"])
    if "array" in data:
        dtype = np.dtype(str(data["array"]))
        if dtype.kind not in KINDS:
            raise ValueError(f"dtype {dtype} is not sent")
        array = np.frombuffer(base64.b64decode(data["data"]), dtype=dtype)
        array = array.reshape([int(n) for n in data["shape"]]).copy()
        return array[()] if data.get("scalar") else array
    if "list" in data or "tuple" in data:
        items = [decode(v) for v in data.get("list", data.get("tuple"))]
        return items if "list" in data else tuple(items)
    if "dict" in data:
        return {str(k): decode(v) for k, v in data["dict"].items()}
    return Other(str(data.get("other", "value")))


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

    from compare.exercises.check import cases_of
    from compare.exercises.source import student
    from compare.exercises.grading import attempt

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
