"""Judge one exercise in the grader's own process: outputs against the truth, then a diagnosis.

A Case runs a function under check once (`run(code)`: in the child for the
student's code, here for a catalogued mistake) and knows the true answer
(`truth()`: torch autograd, torch.optim or the homework's own code, computed
here, never in the child). An output passes when it has the true type, shape
and dtype, is finite, and is within the case's bound in relative error
|s − t| / (|s| + |t|), where a difference of round-off, |s − t| ≤ 64 ε max|t|,
counts as none: a gradient that is zero to round-off is not divided by itself,
and σ′(30) ≈ 9.4e-14 may come from 1 − a or from e^−30 alike. That is all the
freedom a correct answer has.

The diagnosis is, in this order: the catalogued mistake whose own outputs
equal the student's to round-off on every failing case; else what is wrong
with the first failing output (an exception and where, a shape, a dtype, NaN),
or where its worst entry is and its ratio to the truth. Positions count from 1:
layers as in the equations, steps and calls as "after step k" (row 0 of a
trajectory is the start).
"""
from __future__ import annotations

import contextlib
import math
import threading
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .table import AUTOGRAD_RTOL

EPS = np.finfo(np.float64).eps
TINY = np.finfo(np.float64).tiny
ROUND_OFF = 64 * EPS    # entries below this × the largest true one are round-off


class Malformed(Exception):
    """The function under check returned something of the wrong form (the message says what)."""


@dataclass(eq=False)
class Case:
    label: str                          # "sigmoid, cross_entropy, depth 3"
    function: str                       # the qualified name of the function it checks
    run: Callable                       # run(code) -> outputs, in the order of truth()
    truth: Callable                     # () -> [(name, value)], from an independent oracle
    bound: float = AUTOGRAD_RTOL
    leading: str | None = None          # "step": row k of each output is the value after step k
    mistakes: dict = field(default_factory=dict)   # mistake key -> its outputs (a cache)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def expected(self):
        """truth(), computed once (the grader may compute it ahead, in another thread)."""
        with self._lock:
            if "_expected" not in self.__dict__:
                self.__dict__["_expected"] = self.truth()
            return self.__dict__["_expected"]


@dataclass
class Failure:
    case: Case
    name: str                           # the output ("" when the call itself failed)
    message: str                        # what is wrong with its form ("" when only its numbers)
    outputs: list | None = None         # all outputs, for comparing with the mistakes
    error: float | None = None          # its relative error, when its numbers were compared


@contextlib.contextmanager
def quiet():
    """Code under check runs without NumPy floating-point warnings or any other warning."""
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


def attempt(case: Case, code, folder: Path | None = None) -> dict:
    """{"outputs": [...]} or what stopped them: {"unwritten" | "malformed" | "raised": text}."""
    try:
        with quiet():
            return {"outputs": list(case.run(code))}
    except NotImplementedError as err:
        return {"unwritten": str(err)}
    except Malformed as err:
        return {"malformed": str(err)}
    except (Exception, SystemExit) as err:
        return {"raised": raised(err, folder)}


def relative_error(got, want, floor: float) -> np.ndarray:
    """|s − t| / (|s| + |t|) elementwise, 0 where |s − t| ≤ floor (a difference of round-off)."""
    a, b = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    diff = np.abs(a - b)
    return np.where(diff > floor, diff / np.maximum(np.abs(a) + np.abs(b), TINY), 0.0)


def scale_of(values) -> float:
    return max((float(np.max(np.abs(v), initial=0.0)) for v in values), default=0.0)


def form_problem(value, want) -> str | None:
    """What is wrong with an output's type, shape, dtype or finiteness (None: nothing)."""
    if isinstance(want, float):
        if isinstance(value, np.ndarray) and value.shape == ():
            value = value[()]
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            return f"is {_what(value)}, expected a number"
        return None if math.isfinite(float(value)) else f"is {float(value)}"
    if not isinstance(value, np.ndarray):
        return f"is {_what(value)}, expected a NumPy array of shape {want.shape}"
    if value.shape != want.shape:
        hint = " (the transpose of the right shape)" if value.shape == want.shape[::-1] else ""
        return f"has shape {value.shape}, expected {want.shape}{hint}"
    if value.dtype != want.dtype:
        return f"has dtype {value.dtype}, expected {want.dtype}"
    if not np.isfinite(value).all():
        return f"contains NaN or infinity ({int((~np.isfinite(value)).sum())} entries)"
    return None


def _what(value) -> str:
    return "None" if value is None else f"a {getattr(value, 'type_name', type(value).__name__)}"


def compare(case: Case, got: list) -> tuple[Failure | None, float]:
    """(the first failing output or None, the worst relative error over the outputs compared)."""
    truth = case.expected
    if not isinstance(got, list) or len(got) != len(truth):
        return Failure(case, "", f"gave {len(got) if isinstance(got, list) else 'no'} outputs, "
                                 f"expected {len(truth)}"), 0.0
    floor = ROUND_OFF * scale_of(v for _, v in truth)
    worst, first = 0.0, None
    for (name, want), value in zip(truth, got):
        problem, error = form_problem(value, want), None
        if problem is None:
            error = float(relative_error(value, want, floor).max(initial=0.0))
            worst = max(worst, error)
            problem = None if error <= case.bound else ""
        if problem is not None and first is None:
            first = Failure(case, name, problem, got, error)
    return first, worst


def same(got, expected, bound: float) -> bool:
    """Whether outputs equal `expected` to round-off (non-finite exactly where it is, shapes too)."""
    if not isinstance(got, list) or not isinstance(expected, list) or len(got) != len(expected):
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


def _step_of(values, case: Case, name: str):
    """(row k where the output first leaves the truth, its text 'θ after step k'), or (None, name)."""
    a, b = values
    if not case.leading or a.ndim == 0:
        return a, b, name
    errors = relative_error(a, b, ROUND_OFF * scale_of([b])).reshape(len(a), -1).max(axis=1)
    k = int(np.argmax(errors > case.bound))
    return a[k], b[k], f"{name} after {case.leading} {k}"


def ratio_note(failure: Failure) -> str:
    """Where the worst entry is and its ratio to the truth, or the constant factor if any."""
    want = dict(failure.case.expected)[failure.name]
    got = failure.outputs[[n for n, _ in failure.case.expected].index(failure.name)]
    a, b, prefix = _step_of((np.asarray(got, np.float64), np.asarray(want, np.float64)),
                            failure.case, failure.name)
    if a.ndim == 0:
        return f"{prefix} is {float(a):.6g}, the true value is {float(b):.6g}" + _ratio(a, b)
    bb = float((b * b).sum())
    c = float((a * b).sum()) / bb if bb else 0.0
    if bb and np.abs(a - c * b).max() <= 1e-8 * np.abs(a).max():
        return f"{prefix} is {c:.6g} × the true one, every entry"
    errors = relative_error(a, b, ROUND_OFF * scale_of([b]))
    index = np.unravel_index(int(np.argmax(errors)), a.shape)
    where = "[" + ", ".join(map(str, index)) + "]"
    where = f", entry {where}," if failure.case.leading else where
    return (f"{prefix}{where} is {a[index]:.6g}, the true value is {b[index]:.6g}"
            + _ratio(a[index], b[index]))


def _ratio(a, b) -> str:
    return f" (ratio {float(a) / float(b):.4g})" if float(b) != 0.0 else ""
