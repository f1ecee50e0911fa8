"""What the child sends back: the student's outputs as JSON, never as pickles.

The child only returns values; the grader judges them. Numeric arrays travel
as base64 bytes with their dtype and shape, numbers and strings as JSON,
lists, tuples and string-keyed dicts element by element; anything else
(a torch tensor, None, an object) arrives as Other(type name), so the grader
can say what was returned without ever running code the student wrote.
"""
from __future__ import annotations

import base64
import math
from dataclasses import dataclass

import numpy as np

KINDS = "biuf"                      # bool, int, unsigned, float arrays travel; others do not


@dataclass(frozen=True)
class Other:
    """A value the child could not send: its type's name stands for it."""
    type_name: str

    def __repr__(self) -> str:
        return f"a {self.type_name}"


def encode(value, depth: int = 0):
    if isinstance(value, (bool, int, str)) or value is None:
        return value if not isinstance(value, int) or abs(value) < 2 ** 53 else float(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, np.generic) and value.dtype.kind in KINDS:
        return {"scalar": value.dtype.str, "value": encode(value.item(), depth)}
    if isinstance(value, np.ndarray) and value.dtype.kind in KINDS:
        data = np.ascontiguousarray(value)
        return {"array": data.dtype.str, "shape": list(data.shape),
                "data": base64.b64encode(data.tobytes()).decode("ascii")}
    if isinstance(value, (list, tuple)) and depth < 8:
        return {"list" if isinstance(value, list) else "tuple":
                [encode(v, depth + 1) for v in value]}
    if isinstance(value, dict) and depth < 8 and all(isinstance(k, str) for k in value):
        return {"dict": {k: encode(v, depth + 1) for k, v in value.items()}}
    return {"other": type(value).__name__}


def decode(data):
    if not isinstance(data, dict):
        return data
    if "float" in data:
        return float(data["float"])
    if "scalar" in data:
        return np.dtype(_dtype(data["scalar"])).type(decode(data["value"]))
    if "array" in data:
        dtype = _dtype(data["array"])
        flat = np.frombuffer(base64.b64decode(data["data"]), dtype=dtype)
        return flat.reshape([int(n) for n in data["shape"]]).copy()
    if "list" in data or "tuple" in data:
        items = [decode(v) for v in data.get("list", data.get("tuple"))]
        return items if "list" in data else tuple(items)
    if "dict" in data:
        return {str(k): decode(v) for k, v in data["dict"].items()}
    return Other(str(data.get("other", "value")))


def _dtype(text: str) -> np.dtype:
    dtype = np.dtype(str(text))
    if dtype.kind not in KINDS:
        raise ValueError(f"dtype {text!r} is not sent")
    return dtype
