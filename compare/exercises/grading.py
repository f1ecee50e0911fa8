"""An exercise's row from the outputs the child sent back. An output passes with the truth's
type, shape and dtype, finite, and within the case's bound in relative error |s − t| / (|s| + |t|)
(a difference ≤ 64 ε max|t| counting as none). A catalogued mistake is named only when its
outputs equal the student's on every failing case. Positions count from 1.
"""
from __future__ import annotations

import threading
import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .source import reference
from .mistakes import MISTAKES
from .table import AUTOGRAD_RTOL

ROUND_OFF = 64 * np.finfo(np.float64).eps    # entries below this × the largest true one
_MISTAKES = threading.Lock()                   # mistakes patch the shared reference for a moment


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


def row(status: str, error=None, case=None, diagnosis=None, detail=None, **more) -> dict:
    return {"status": status, "error": error, "case": case, "diagnosis": diagnosis,
            "detail": detail, **more}


def attempt(case: Case, code, folder: Path | None = None) -> dict:
    """{"outputs": [...]} or what stopped them: {"unwritten" | "malformed" | "raised": text}."""
    try:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return {"outputs": list(case.run(code))}
    except NotImplementedError as err:
        return {"unwritten": str(err)}
    except Malformed as err:
        return {"malformed": str(err)}
    except (Exception, SystemExit) as err:
        return {"raised": raised(err, folder)}


def raised(err: BaseException, folder: Path | None) -> str:
    """'raised ValueError: ... (at scratchnet/network.py:117: the line)'."""
    text = f"raised {type(err).__name__}: {err}"
    text = text if len(text) <= 240 else text[:237] + "..."
    frames = [(f.filename, f.lineno, f.line) for f in traceback.extract_tb(err.__traceback__)]
    if isinstance(err, SyntaxError) and err.filename:
        frames.append((err.filename, err.lineno, (err.text or "").strip()))
    frames = [f for f in frames if folder and Path(f[0]).resolve().is_relative_to(folder)]
    if frames:
        filename, line, code = frames[-1]
        text += f" (at {Path(filename).resolve().relative_to(folder).as_posix()}:{line}: {code})"
    return text


def relative_error(got, want, floor: float) -> np.ndarray:
    """|s − t| / (|s| + |t|) elementwise, 0 where |s − t| ≤ floor (a difference of round-off)."""
    a, b = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    diff = np.abs(a - b)
    tiny = np.finfo(np.float64).tiny
    return np.where(diff > floor, diff / np.maximum(np.abs(a) + np.abs(b), tiny), 0.0)


def scale_of(values) -> float:
    return max((float(np.max(np.abs(v), initial=0.0)) for v in values), default=0.0)


def form_problem(value, want) -> str | None:
    """What is wrong with an output's type, shape, dtype or finiteness (None: nothing)."""
    kind = "None" if value is None else f"a {getattr(value, 'type_name', type(value).__name__)}"
    if isinstance(want, float):
        value = value[()] if isinstance(value, np.ndarray) and value.shape == () else value
        if not isinstance(value, (int, float, np.integer, np.floating)) or isinstance(value, bool):
            return f"is {kind}, expected a number"
        return None if np.isfinite(float(value)) else f"is {float(value)}"
    if not isinstance(value, np.ndarray):
        return f"is {kind}, expected a NumPy array of shape {want.shape}"
    if value.shape != want.shape:
        hint = " (the transpose of the right shape)" if value.shape == want.shape[::-1] else ""
        return f"has shape {value.shape}, expected {want.shape}{hint}"
    if value.dtype != want.dtype:
        return f"has dtype {value.dtype}, expected {want.dtype}"
    if not np.isfinite(value).all():
        return f"contains NaN or infinity ({int((~np.isfinite(value)).sum())} entries)"
    return None


def compare(case: Case, got: list) -> tuple[Failure | None, float]:
    """(the first failing output or None, the worst relative error over the outputs compared)."""
    truth = case.expected
    if not isinstance(got, list) or len(got) != len(truth):
        count = len(got) if isinstance(got, list) else "no"
        return Failure(case, "", f"gave {count} outputs, expected {len(truth)}"), 0.0
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
    """Whether outputs equal `expected` to round-off (non-finite where it is, same shapes)."""
    if not isinstance(got, list) or not isinstance(expected, list) or len(got) != len(expected):
        return False
    floor = ROUND_OFF * scale_of(np.nan_to_num(np.asarray(v, dtype=np.float64)) for v in expected)
    for value, want in zip(got, expected):
        try:
            a, b = np.asarray(value, dtype=np.float64), np.asarray(want, dtype=np.float64)
        except (TypeError, ValueError):
            return False
        finite = np.isfinite(b)
        if a.shape != b.shape or not np.array_equal(np.isfinite(a), finite) or \
                relative_error(a[finite], b[finite], floor).max(initial=0.0) > bound:
            return False
    return True


def ratio_note(failure: Failure) -> str:
    """Where the worst entry is (the first step off the truth) and its ratio to the truth,
    or the constant factor if there is one."""
    case, names = failure.case, [n for n, _ in failure.case.expected]
    b = np.asarray(case.expected[names.index(failure.name)][1], np.float64)
    a, prefix = np.asarray(failure.outputs[names.index(failure.name)], np.float64), failure.name
    if case.leading and a.ndim:
        errors = relative_error(a, b, ROUND_OFF * scale_of([b])).reshape(len(a), -1).max(axis=1)
        k = int(np.argmax(errors > case.bound))
        a, b, prefix = a[k], b[k], f"{prefix} after {case.leading} {k}"
    bb = float((b * b).sum())
    c = float((a * b).sum()) / bb if bb else 0.0
    if a.ndim and bb and np.abs(a - c * b).max() <= 1e-8 * np.abs(a).max():
        return f"{prefix} is {c:.6g} × the true one, every entry"
    index = np.unravel_index(int(np.argmax(relative_error(a, b, ROUND_OFF * scale_of([b])))),
                             a.shape)
    where = "[" + ", ".join(map(str, index)) + "]" if a.ndim else ""
    where = f", entry {where}," if case.leading and a.ndim else where
    ratio = f" (ratio {a[index] / b[index]:.4g})" if b[index] != 0.0 else ""
    return f"{prefix}{where} is {a[index]:.6g}, the true value is {b[index]:.6g}{ratio}"


def mistake_outputs(case: Case, mistake):
    """The outputs code with `mistake` gives on `case` (None if it fails), computed once."""
    if mistake.key not in case.mistakes:
        ref = reference()
        with _MISTAKES:
            wrong = ref.but({case.function: mistake.make(ref.function(case.function))})
            case.mistakes[mistake.key] = attempt(case, wrong).get("outputs")
    return case.mistakes[mistake.key]


def diagnose(failures: list[Failure]) -> str:
    """The mistake that gives the student's outputs on every failing case, else what the first
    failing output shows."""
    for m in MISTAKES:
        if m.make and all(f.outputs is not None and f.case.function in m.functions and same(
                f.outputs, mistake_outputs(f.case, m), f.case.bound) for f in failures):
            return f"{m.name}: {m.fix}"
    first = failures[0]
    if first.outputs is None or first.message:
        return f"{first.name} {first.message}".strip()
    return ratio_note(first)


def grade(cases: list[Case], results: list[dict]) -> dict:
    """An exercise's row: status, worst error, first failing case, diagnosis."""
    failures, unwritten, passed, worst = [], set(), set(), 0.0
    for case, result in zip(cases, results):
        if "unwritten" in result:
            unwritten.add(case.function)
        elif "outputs" not in result:
            message = result.get("malformed") or result.get("raised") or "no answer came back"
            failures.append(Failure(case, "", message))
        else:
            failure, error = compare(case, result["outputs"])
            worst = max(worst, error)
            if failure:
                failures.append(failure)
            else:
                passed.add(case.function)
    if failures:
        first, errors = failures[0], [f.error for f in failures if f.error is not None]
        where = f"{first.case.label} — {first.name}" if first.name else first.case.label
        return row("wrong", max(errors) if errors else None, where, diagnose(failures),
                   f"{len(failures)} of {len(cases)} cases fail")
    if unwritten:
        done = f"; {', '.join(sorted(passed - unwritten))} pass" if passed - unwritten else ""
        detail = f"{', '.join(sorted(unwritten))} not written yet{done}"
        return row("not written yet", detail=detail)
    return row("passed", worst)
