"""What a stored result of a training run must hold, for the cache and the report alike.

A result that breaks it is damaged, with the reason: the cache trains it again, the report
leaves it out and says why. Every field's type is checked before it is used.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

IMPLS = ("torch", "scratch")
RUN_FIELDS = ("name", "run", "impl", "device", "evaluated_on", "history", "final_accuracy",
              "best_accuracy", "diverged_at", "wall_seconds")
RUN_OBJECT = {"problem": int, "part": str, "variant": str, "seed": int, "homework": bool,
              "study": bool, "config": dict, "impl": str, "augment": dict}
MAX_BYTES = 64 << 20          # a result of 1,000 epochs of a 10-layer net is well under 1 MB


def is_number(x) -> bool:
    """A finite int or float (a JSON true/false is not a number)."""
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def is_accuracy(x) -> bool:
    return is_number(x) and 0.0 <= x <= 1.0


# Each list of a stored History: what each entry must be, and how to say so.
HISTORY = {
    "test_accuracy": (lambda a: a is None or is_accuracy(a), "an accuracy in [0, 1] (or null)"),
    "train_loss": (is_number, "a finite number"),
    "grad_norms": (lambda n: isinstance(n, list) and all(  # inf allowed: a diverging run's
        isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in n),
                   "a list of non-negative numbers"),
    "seconds": (lambda s: is_number(s) and s >= 0, "a finite number"),
    "lr": (lambda r: is_number(r) and r >= 0, "a finite number"),
}


def _missing(data: dict, keys, prefix: str = "") -> str | None:
    """"missing 'a', 'b', 'c' and 2 more" for the keys data lacks, or None."""
    absent = [f"'{prefix}{k}'" for k in keys if k not in data]
    more = f" and {len(absent) - 3} more" if len(absent) > 3 else ""
    return f"missing {', '.join(absent[:3])}{more}" if absent else None


def _divergence_problem(d) -> str | None:
    if d is None:
        return None
    if not isinstance(d, dict) or not all(
            isinstance(d.get(k), int) and not isinstance(d[k], bool) and d[k] >= 1
            for k in ("epoch", "step")):
        return "'diverged_at' is not {epoch, step, reason} with counts from 1"
    return None if isinstance(d.get("reason", ""), str) else "'diverged_at.reason' is not text"


def history_problem(history) -> str | None:
    """What is wrong with a stored History (as a dict), or None."""
    if not isinstance(history, dict):
        return "'history' is not an object"
    why = _missing(history, (*HISTORY, "diverged_at"), "history.")
    why = why or next((f"'history.{k}' is not a list" for k in HISTORY
                       if not isinstance(history[k], list)), None)
    if why or len({len(history[k]) for k in HISTORY}) != 1:
        return why or "the lists of 'history' differ in length"
    for key, (ok, what) in HISTORY.items():
        if not all(ok(x) for x in history[key]):
            return f"'history.{key}' holds an entry that is not {what}"
    if not (history["train_loss"] or history["diverged_at"]):
        return "'history' holds no epoch and no divergence"
    return _divergence_problem(history["diverged_at"])


def run_result_problem(result, run_dict: dict | None = None, name: str | None = None) -> str | None:
    """Why a stored result of a training run cannot be used, or None; run_dict and name,
    when given, are what it must have been trained as."""
    if not isinstance(result, dict):
        return "not a JSON object"
    why = _missing(result, RUN_FIELDS) or history_problem(result["history"])
    if why:
        return why
    checks = [
        (run_dict is None or result["run"] == run_dict, "it holds another run's config"),
        (name is None or result["name"] == name, f"it holds run {result['name']!r}"),
        (result["impl"] in IMPLS, f"'impl' is not one of {', '.join(IMPLS)}"),
        *((isinstance(result[k], str), f"'{k}' is not text")
          for k in ("name", "device", "evaluated_on")),
        (result["evaluated_on"] in ("test", "validation"),
         "'evaluated_on' is neither 'test' nor 'validation'"),
        *((result[k] is None or is_accuracy(result[k]), f"'{k}' is not an accuracy in [0, 1]")
          for k in ("final_accuracy", "best_accuracy")),
        (is_number(result["wall_seconds"]) and result["wall_seconds"] >= 0,
         "'wall_seconds' is not a finite number of seconds"),
    ]
    why = next((why for ok, why in checks if not ok), None)
    return why or run_object_problem(result["run"]) or _divergence_problem(result["diverged_at"])


def run_object_problem(run) -> str | None:
    """What is wrong with a result's "run" object (compare.runs.Run.to_dict), or None."""
    if not isinstance(run, dict):
        return "'run' is not an object"
    why = _missing(run, RUN_OBJECT, "run.")
    for key, kind in RUN_OBJECT.items():
        if not why and (not isinstance(run[key], kind)
                        or (kind is int and isinstance(run[key], bool))):
            why = f"'run.{key}' is not {'an' if kind is int else 'a'} {kind.__name__}"
    return why


def read_json(path: Path) -> tuple[object | None, str | None]:
    """(data, None) if the file at path holds JSON, (None, None) if there is none, (None, why)
    if it is not a regular file, too large, unreadable, not JSON or nested too deeply."""
    path = Path(path)
    try:
        if not path.exists() and not path.is_symlink():
            return None, None
        if not path.is_file():
            return None, "not a regular file"
        if path.stat().st_size > MAX_BYTES:
            return None, f"larger than {MAX_BYTES >> 20} MiB"
        blob = path.read_bytes()
    except OSError as err:                   # a symlink loop, permissions, ...
        return None, f"unreadable: {err.strerror or err}"
    try:
        return json.loads(blob), None
    except RecursionError:
        return None, "nested too deeply"
    except ValueError:                       # UnicodeDecodeError included
        return None, "not valid JSON" if blob.strip() else "empty"
