"""What the child sends back: the student's outputs as JSON, never as pickles.

Numeric arrays and NumPy scalars travel as base64 bytes with dtype and shape; anything else
that is not JSON, a list, a tuple or a string-keyed dict arrives as Other(type name), so the
grader can say what was returned without running code the student wrote.
"""
from __future__ import annotations

import base64
import math
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
