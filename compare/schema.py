"""What a stored result of a training run must hold: one schema, for the cache and the report.

A result that breaks it is *damaged*, with the reason: the cache trains it
again and the report leaves it out and says why. Nothing here trusts the file:
every field's type is checked before it is used, numbers must be finite,
accuracies lie in [0, 1], the history's lists have one entry per epoch.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

IMPLS = ("torch", "scratch")
HISTORY_LISTS = ("test_accuracy", "train_loss", "grad_norms", "seconds", "lr")
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


def _missing(data: dict, keys, prefix: str = "") -> str | None:
    """'missing 'a', 'b'' for the keys data lacks (the first three, and how many more)."""
    absent = [f"'{prefix}{k}'" for k in keys if k not in data]
    if not absent:
        return None
    more = f" and {len(absent) - 3} more" if len(absent) > 3 else ""
    return f"missing {', '.join(absent[:3])}{more}"


def _divergence_problem(d) -> str | None:
    if d is None:
        return None
    if not isinstance(d, dict) or not all(isinstance(d.get(k), int) and not
                                          isinstance(d.get(k), bool) and d[k] >= 1
                                          for k in ("epoch", "step")):
        return "'diverged_at' is not {epoch, step, reason} with counts from 1"
    if not isinstance(d.get("reason", ""), str):
        return "'diverged_at.reason' is not text"
    return None


def history_problem(history) -> str | None:
    """What is wrong with a stored History (as a dict), or None."""
    if not isinstance(history, dict):
        return "'history' is not an object"
    why = _missing(history, HISTORY_LISTS + ("diverged_at",), "history.")
    if why:
        return why
    for key in HISTORY_LISTS:
        if not isinstance(history[key], list):
            return f"'history.{key}' is not a list"
    if len({len(history[key]) for key in HISTORY_LISTS}) != 1:
        return "the lists of 'history' differ in length"
    checks = {
        "test_accuracy": lambda a: a is None or is_accuracy(a),
        "train_loss": is_number,
        "seconds": lambda s: is_number(s) and s >= 0,
        "lr": lambda r: is_number(r) and r >= 0,
        "grad_norms": lambda n: isinstance(n, list) and all(
            isinstance(x, (int, float)) and not isinstance(x, bool) and x >= 0 for x in n),
    }
    what = {"test_accuracy": "an accuracy in [0, 1] (or null)",
            "grad_norms": "a list of non-negative numbers"}
    for key, ok in checks.items():
        if not all(ok(x) for x in history[key]):
            return f"'history.{key}' holds an entry that is not {what.get(key, 'a finite number')}"
    if not (history["train_loss"] or history["diverged_at"]):
        return "'history' holds no epoch and no divergence"
    return _divergence_problem(history["diverged_at"])


def run_result_problem(result, run_dict: dict | None = None, name: str | None = None) -> str | None:
    """Why a stored result of a training run cannot be used, or None. run_dict and name,
    when given, are what the result must have been trained with."""
    if not isinstance(result, dict):
        return "not a JSON object"
    why = _missing(result, RUN_FIELDS) or history_problem(result["history"])
    if why:
        return why
    if run_dict is not None and result["run"] != run_dict:
        return "it holds another run's config"
    if name is not None and result["name"] != name:
        return f"it holds run {result['name']!r}"
    if result["impl"] not in IMPLS:
        return f"'impl' is not one of {', '.join(IMPLS)}"
    for key in ("name", "device", "evaluated_on"):
        if not isinstance(result[key], str):
            return f"'{key}' is not text"
    if result["evaluated_on"] not in ("test", "validation"):
        return "'evaluated_on' is neither 'test' nor 'validation'"
    for key in ("final_accuracy", "best_accuracy"):
        if result[key] is not None and not is_accuracy(result[key]):
            return f"'{key}' is not an accuracy in [0, 1]"
    if not (is_number(result["wall_seconds"]) and result["wall_seconds"] >= 0):
        return "'wall_seconds' is not a finite number of seconds"
    return run_object_problem(result["run"]) or _divergence_problem(result["diverged_at"])


def run_object_problem(run) -> str | None:
    """What is wrong with a result's "run" object (compare.runs.Run.to_dict), or None."""
    if not isinstance(run, dict):
        return "'run' is not an object"
    why = _missing(run, RUN_OBJECT, "run.")
    if why:
        return why
    for key, kind in RUN_OBJECT.items():
        if not isinstance(run[key], kind) or (kind is int and isinstance(run[key], bool)):
            return f"'run.{key}' is not {'an' if kind is int else 'a'} {kind.__name__}"
    return None


def read_json(path: Path) -> tuple[object | None, str | None]:
    """(data, None) if the file at path holds JSON, (None, None) if there is no file,
    (None, why) if it cannot be read: not a regular file, too large, not JSON, or
    nested too deeply for the parser."""
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
