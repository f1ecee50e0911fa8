"""The checker's own process: import the student's copy, run the checks, report each as JSON.

compare.exercises.check starts this module with a job (JSON, in argv[1]):
the exercise folder, the project root, the MNIST root, the exercise numbers
to check, and whether to run the last, whole-network check. The folder goes
first on sys.path, so `import scratchnet` is the student's copy (Context
asserts it). One JSON object per line goes to the original stdout:

    {"event": "start", "number": 3}
    {"event": "row", "number": 3, "status": ..., "error": ..., ...}
    {"event": "done"}

Whatever the student's code prints goes to stderr. The parent enforces the
time limits: it kills this process when an exercise takes too long.
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

FINAL = "final"     # the number of the last, whole-network check


def cases_of(key: str):
    from . import derivatives, layers, optimizers
    return {"activations": derivatives.activation_cases, "costs": derivatives.cost_cases,
            "backprop": derivatives.backprop_cases, "dropout": layers.dropout_cases,
            "batchnorm": layers.batch_norm_cases, "sgd": optimizers.sgd_cases,
            "adam": optimizers.adam_cases, "steplr": optimizers.steplr_cases,
            "problem1": optimizers.problem1_cases}.get(key)


CHECKED_BY_HAND = ("loop", FINAL)   # keys checked by watching rather than by cases


def run_check(ctx, key: str) -> dict:
    """The row of one exercise (by table key) or of the last check; never raises."""
    from .grading import grade, raised

    try:
        if key == "loop":
            from .loop import loop_row
            return loop_row(ctx)
        if key == FINAL:
            from .lockstep import lockstep_row
            return lockstep_row(ctx)
        return grade(cases_of(key)(ctx), ctx.folder)
    except NotImplementedError as err:
        return {"status": "not written yet", "error": None, "case": None, "diagnosis": None,
                "detail": str(err)}
    except (Exception, SystemExit) as err:
        return {"status": "wrong", "error": None, "case": None,
                "diagnosis": raised(err, ctx.folder), "detail": None}


def main() -> None:
    job = json.loads(sys.argv[1])
    out = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    os.dup2(2, 1)                                   # student prints go to stderr
    sys.stdout = sys.stderr
    sys.path[:0] = [job["folder"], job["root"]]

    import torch
    from threadpoolctl import threadpool_limits

    from .context import Context
    from .table import BY_NUMBER

    torch.set_num_threads(1)                        # tiny matrices: threads only cost time
    threadpool_limits(1)

    def emit(**event):
        out.write(json.dumps(event) + "\n")

    ctx = Context(Path(job["folder"]), job["data_root"])
    all_passed = True
    for number in job["exercises"]:
        exercise = BY_NUMBER[number]
        emit(event="start", number=number)
        row = run_check(ctx, exercise.key)
        all_passed &= row["status"] == "passed" or not exercise.in_scratchnet
        emit(event="row", number=number, **row)
    if job["final"] and all_passed:
        emit(event="start", number=FINAL)
        emit(event="row", number=FINAL, **run_check(ctx, FINAL))
    emit(event="done")


if __name__ == "__main__":
    main()
