"""Every check by key: its cases (built alike in the child and in the grader) and its judge.

"final" is the whole-network check; "culprit K" reruns its K-th setting with one exercise's
functions at a time from the reference. Cases, with their truths and the catalogued mistakes'
outputs, are built once per process however many copies are graded.
"""
from __future__ import annotations

import functools
import threading
from pathlib import Path

FINAL = "final"
_LOCK = threading.Lock()


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
    """Compute the truths of `keys`' cases ahead, while the child works, on one thread
    (they are tiny computations, and more threads only contend)."""
    import torch

    torch.set_num_threads(1)
    for key in keys:
        for case in cases_of(key, data_root):
            try:
                case.expected
            except Exception:            # the judge will meet it again, and say so
                return
