"""An exercise's row, computed in the grader's process from the outputs the child sent back.

`grade` compares each case's outputs with its truth (grading.compare) and
names a catalogued mistake only when that mistake's own outputs, computed here
by running its function (mistakes.py) on the same case, equal the student's
on every failing case. The worst error is shown only where it means
something: over every case when all pass, and over the failing outputs whose
numbers were compared when some fail (a shape, a NaN or an exception has none).
"""
from __future__ import annotations

import threading

from .code import reference
from .grading import Case, Failure, attempt, compare, ratio_note, same
from .mistakes import MISTAKES

_LOCK = threading.Lock()        # mistakes patch the shared reference for a moment


def row(status: str, error=None, case=None, diagnosis=None, detail=None, **more) -> dict:
    return {"status": status, "error": error, "case": case, "diagnosis": diagnosis,
            "detail": detail, **more}


def mistake_outputs(case: Case, mistake):
    """The outputs code with `mistake` gives on `case` (None if it fails), computed once."""
    if mistake.key not in case.mistakes:
        ref = reference()
        with _LOCK:
            result = attempt(case, ref.but({case.function: mistake.make(ref.function(case.function))}))
        case.mistakes[mistake.key] = result.get("outputs")
    return case.mistakes[mistake.key]


def _explains(mistake, failure: Failure) -> bool:
    if mistake.make is None or failure.outputs is None or failure.case.function not in mistake.functions:
        return False
    expected = mistake_outputs(failure.case, mistake)
    return expected is not None and same(failure.outputs, expected, failure.case.bound)


def diagnose(failures: list[Failure]) -> str:
    """The catalogued mistake that gives the student's outputs on every failing case, else
    what the first failing output shows."""
    for mistake in MISTAKES:
        if all(_explains(mistake, f) for f in failures):
            return f"{mistake.name}: {mistake.fix}"
    first = failures[0]
    if first.outputs is None or first.message:
        return f"{first.name} {first.message}".strip()
    return ratio_note(first)


def grade(cases: list[Case], results: list[dict]) -> dict:
    """The row of an exercise checked by cases: status, worst error, first failing case, diagnosis."""
    failures, unwritten, passed, worst = [], set(), set(), 0.0
    for case, result in zip(cases, results):
        if "unwritten" in result:
            unwritten.add(case.function)
            continue
        message = result.get("malformed") or result.get("raised")
        if "outputs" not in result:
            failures.append(Failure(case, "", message or "no answer came back"))
            continue
        failure, error = compare(case, result["outputs"])
        worst = max(worst, error)
        if failure is None:
            passed.add(case.function)
        else:
            failures.append(failure)
    if failures:
        first = failures[0]
        errors = [f.error for f in failures if f.error is not None]
        where = f"{first.case.label} — {first.name}" if first.name else first.case.label
        return row("wrong", max(errors) if errors else None, where, diagnose(failures),
                   f"{len(failures)} of {len(cases)} cases fail")
    if unwritten:
        done = f"; {', '.join(sorted(passed - unwritten))} pass" if passed - unwritten else ""
        return row("not written yet", detail=f"{', '.join(sorted(unwritten))} not written yet{done}")
    return row("passed", worst)
