"""Grade one exercise: the student's answers against the truth, case by case, then a diagnosis.

A Case calls the student's code once and knows the true answer (from torch
autograd or torch.optim, in float64). An answer passes when every output has
the true type, shape and dtype, is finite, and is within the bound in
relative error |s − t| / (|s| + |t|), over the entries that rise above
round-off (|s| + |t| > 64 ε max|t|, so a gradient that is zero to round-off,
such as a bias before batch norm, is not divided by itself).

When a case fails, the diagnosis is, in this order: a catalogued mistake whose
answer equals the student's to round-off on every failing case; else what is
wrong with the first failing output (an exception and where it was raised, a
shape, a dtype, NaN), or where its worst entry is and its ratio to the truth.
"""
from __future__ import annotations

import contextlib
import math
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .mistakes import MISTAKES
from .table import AUTOGRAD_RTOL

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
ROUND_OFF = 64 * EPS    # entries below this × the largest true one are round-off


class Malformed(Exception):
    """The student's function returned something of the wrong form (the message says what)."""


@dataclass
class Case:
    label: str                          # "sigmoid, cross_entropy, depth 3"
    function: str                       # the student's function it calls
    run: Callable[[], list]             # the student's outputs, in the order of truth()
    truth: Callable[[], list]           # [(name, float or ndarray)]
    variants: dict = field(default_factory=dict)   # mistake key -> predicate(got, truth)
    bound: float = AUTOGRAD_RTOL
    leading: str | None = None          # what axis 0 of each output counts ("step"), if anything


@dataclass
class Failure:
    case: Case
    name: str                           # the output ("" when the call itself failed)
    message: str
    got: object = None
    want: object = None
    outputs: list | None = None         # all the student's outputs, for the variants
    truth: list | None = None


@contextlib.contextmanager
def quiet():
    """Student code runs without NumPy floating-point warnings or any other warning."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def raised(err: BaseException, folder: Path | None) -> str:
    """'raised ValueError: ... (at scratchnet/network.py:117: the line)'."""
    text = f"raised {type(err).__name__}: {err}"
    text = text if len(text) <= 240 else text[:237] + "..."
    frames = [(f.filename, f.lineno, f.line) for f in traceback.extract_tb(err.__traceback__)]
    if isinstance(err, SyntaxError) and err.filename:
        frames.append((err.filename, err.lineno, (err.text or "").strip()))
    frames = [f for f in frames if folder is not None and Path(f[0]).resolve().is_relative_to(folder)]
    if frames:
        filename, line, code = frames[-1]
        text += f" (at {Path(filename).resolve().relative_to(folder).as_posix()}:{line}: {code})"
    return text


def relative_error(got, want, floor: float) -> np.ndarray:
    """|s − t| / (|s| + |t|) elementwise, 0 where |s| + |t| ≤ floor."""
    a, b = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    size = np.abs(a) + np.abs(b)
    return np.where(size > floor, np.abs(a - b) / np.maximum(size, TINY), 0.0)


def scale_of(values) -> float:
    return max((float(np.max(np.abs(v), initial=0.0)) for v in values), default=0.0)


def form_problem(value, want) -> str | None:
    """What is wrong with an output's type, shape, dtype or finiteness (None: nothing)."""
    if isinstance(want, float):
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            return f"is a {type(value).__name__}, expected a number"
        return None if math.isfinite(float(value)) else f"is {float(value)}"
    if not isinstance(value, np.ndarray):
        return f"is a {type(value).__name__}, expected a NumPy array of shape {want.shape}"
    if value.shape != want.shape:
        hint = " (the transpose of the right shape)" if value.shape == want.shape[::-1] else ""
        return f"has shape {value.shape}, expected {want.shape}{hint}"
    if value.dtype != want.dtype:
        return f"has dtype {value.dtype}, expected {want.dtype}"
    if not np.isfinite(value).all():
        return f"contains NaN or infinity ({int((~np.isfinite(value)).sum())} entries)"
    return None


def compare(got: list, truth: list, bound: float):
    """(first failing (name, message) or None, worst relative error over comparable outputs)."""
    floor = ROUND_OFF * scale_of(v for _, v in truth)
    worst, first = 0.0, None
    for (name, want), value in zip(truth, got):
        problem = form_problem(value, want)
        if problem is None:
            error = float(relative_error(value, want, floor).max(initial=0.0))
            worst = max(worst, error)
            problem = None if error <= bound else ""
        if problem is not None and first is None:
            first = (name, problem, value, want)
    return first, worst


def same(got: list, expected: list, bound: float = AUTOGRAD_RTOL) -> bool:
    """Whether outputs equal `expected` to round-off (NaN where it has NaN, shapes included)."""
    if len(got) != len(expected):
        return False
    floor = ROUND_OFF * scale_of(np.nan_to_num(np.asarray(v, dtype=np.float64)) for v in expected)
    for value, want in zip(got, expected):
        try:
            a, b = np.asarray(value, dtype=np.float64), np.asarray(want, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        if a.shape != b.shape or not np.array_equal(np.isfinite(a), np.isfinite(b)):
            return False
        finite = np.isfinite(b)
        if relative_error(a[finite], b[finite], floor).max(initial=0.0) > bound:
            return False
    return True


def run_cases(cases, folder: Path | None):
    """(failures, worst error or None, functions not written, functions that passed)."""
    failures, unwritten, passed, worst = [], set(), set(), None
    for case in cases:
        truth = case.truth()
        try:
            with quiet():
                got = case.run()
        except NotImplementedError:
            unwritten.add(case.function)
            continue
        except Malformed as err:
            failures.append(Failure(case, "", str(err)))
            continue
        except (Exception, SystemExit) as err:
            failures.append(Failure(case, "", raised(err, folder)))
            continue
        first, error = compare(got, truth, case.bound)
        worst = error if worst is None else max(worst, error)
        if first is None:
            passed.add(case.function)
        else:
            name, message, value, want = first
            failures.append(Failure(case, name, message, value, want, got, truth))
    return failures, worst, unwritten, passed - unwritten


def ratio_note(name: str, got, want, case: Case) -> str:
    """Where the worst entry is and its ratio to the truth, or the constant factor if any.

    With case.leading ("step"), the first step that is wrong is the one described.
    """
    a, b = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    if a.ndim == 0:
        return f"{name} is {float(a):.6g}, the true value is {float(b):.6g}" + _ratio(a, b)
    errors = relative_error(a, b, ROUND_OFF * scale_of([b]))
    prefix = name
    if case.leading and a.ndim >= 1:
        k = int(np.argmax(errors.reshape(len(a), -1).max(axis=1) > case.bound))
        a, b, errors, prefix = a[k], b[k], errors[k], f"{name} after {case.leading} {k}"
        if a.ndim == 0:
            return f"{prefix} is {float(a):.6g}, the true value is {float(b):.6g}" + _ratio(a, b)
    bb = float((b * b).sum())
    c = float((a * b).sum()) / bb if bb else 0.0
    if bb and np.abs(a - c * b).max() <= 1e-8 * np.abs(a).max():
        return f"{prefix} is {c:.6g} × the true one, every entry"
    index = np.unravel_index(int(np.argmax(errors)), a.shape)
    where = "[" + ", ".join(map(str, index)) + "]"
    where = f", entry {where}," if case.leading else where
    return (f"{prefix}{where} is {a[index]:.6g}, the true value is {b[index]:.6g}"
            + _ratio(a[index], b[index]))


def _ratio(a, b) -> str:
    return f" (ratio {float(a) / float(b):.4g})" if float(b) != 0.0 else ""


def _explains(key: str, failure: Failure) -> bool:
    """Whether the mistake `key` gives exactly the student's outputs in this failing case."""
    if failure.outputs is None or key not in failure.case.variants:
        return False
    try:
        with quiet():
            return bool(failure.case.variants[key](failure.outputs, failure.truth))
    except (ArithmeticError, LookupError, TypeError, ValueError):   # outputs too odd to compare
        return False


def diagnose(failures: list[Failure]) -> str:
    """A catalogued mistake that explains every failure, else what the first one shows."""
    for mistake in MISTAKES:
        if all(_explains(mistake.key, f) for f in failures):
            return mistake.diagnosis
    first = failures[0]
    if first.outputs is None:
        return first.message
    if first.message:
        return f"{first.name} {first.message}"
    return ratio_note(first.name, first.got, first.want, first.case)


def grade(cases, folder: Path | None = None) -> dict:
    """One exercise's row: status, worst relative error, first failing case, diagnosis."""
    failures, worst, unwritten, passed = run_cases(cases, folder)
    row = {"status": "passed", "error": worst, "case": None, "diagnosis": None, "detail": None}
    if failures:
        first = failures[0]
        where = f"{first.case.label} — {first.name}" if first.name else first.case.label
        row.update(status="wrong", case=where, diagnosis=diagnose(failures),
                   detail=f"{len(failures)} of {len(cases)} cases fail")
    elif unwritten:
        done = f"; {', '.join(sorted(passed))} pass" if passed else ""
        row.update(status="not written yet",
                   detail=f"{', '.join(sorted(unwritten))} not written yet{done}")
    return row
