"""Read MNIST's IDX files with NumPy alone (no torchvision).

The files live in data/MNIST/raw/ (`make data` fills it). Images come back as
float arrays of shape (N, 784) scaled to [0, 1] (pixel / 255, as torchvision's
ToTensor), labels as int64 arrays of shape (N,).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
VALIDATION_SIZE = 10_000  # the last 10,000 training images, when asked for


class IDXError(ValueError):
    """An IDX file is missing, truncated or not what its header says."""


def read_idx(path: Path | str, ndim: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes with `ndim` dimensions."""
    path = Path(path)
    if not path.is_file():
        raise IDXError(f"{path}: no such file (run `make data` or `compare data`)")
    blob = path.read_bytes()
    header = 4 + 4 * ndim
    if len(blob) < header:
        raise IDXError(f"{path}: {len(blob)} bytes, too short for an IDX header")
    zero, dtype_code, dims = blob[:2], blob[2], blob[3]
    if zero != b"\x00\x00" or dtype_code != 0x08 or dims != ndim:
        raise IDXError(f"{path}: bad magic number {blob[:4].hex()}, expected "
                       f"0000080{ndim} (unsigned bytes, {ndim} dimensions)")
    shape = tuple(int(d) for d in np.frombuffer(blob, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape))
    if len(blob) != expected:
        raise IDXError(f"{path}: {len(blob)} bytes, but its header {shape} "
                       f"needs {expected} (truncated or corrupted)")
    return np.frombuffer(blob, np.uint8, offset=header).reshape(shape)


def load_raw(split: str, root: Path | str = "data") -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and uint8 labels (N,) of 'train' or 'test'."""
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    folder = Path(root) / "MNIST" / "raw"
    images = read_idx(folder / FILES[split][0], 3)
    labels = read_idx(folder / FILES[split][1], 1)
    if len(images) != len(labels):
        raise IDXError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")
    if labels.max(initial=0) > 9:
        raise IDXError(f"{folder / FILES[split][1]}: label {labels.max()} is not a digit")
    return images, labels


def load(split: str = "train", root: Path | str = "data", dtype=np.float64,
         validation: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(X, y) with X of shape (N, 784) in [0, 1] and y int64 of shape (N,).

    split: 'train', 'test', or with validation=True the training set is split
    as the homework's tips suggest: 'train' gives the first 50,000 images and
    'validation' the last 10,000.
    """
    if split == "validation" and not validation:
        validation = True
    source = "train" if split in ("train", "validation") else split
    images, labels = load_raw(source, root)
    X = images.reshape(len(images), -1).astype(dtype) / 255.0  # (N, 784)
    y = labels.astype(np.int64)
    if validation and source == "train":
        cut = len(X) - VALIDATION_SIZE
        X, y = (X[cut:], y[cut:]) if split == "validation" else (X[:cut], y[:cut])
    return X, y
