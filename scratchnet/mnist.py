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


def _shape(path: Path, head: bytes, size: int, ndim: int) -> tuple[int, ...]:
    """The shape an IDX file's header declares, checked against the file's size."""
    header = 4 + 4 * ndim
    if len(head) < header:
        raise IDXError(f"{path}: {size} bytes, too short for an IDX header "
                       "(damaged; run `make data` to replace it)")
    zero, dtype_code, dims = head[:2], head[2], head[3]
    if zero != b"\x00\x00" or dtype_code != 0x08 or dims != ndim:
        raise IDXError(f"{path}: bad magic number {head[:4].hex()}, expected "
                       f"0000080{ndim} (unsigned bytes, {ndim} dimensions; damaged or not "
                       "an MNIST file: run `make data` to replace it)")
    shape = tuple(int(d) for d in np.frombuffer(head, ">u4", count=ndim, offset=4))
    expected = header + int(np.prod(shape, dtype=object))
    if size != expected:
        raise IDXError(f"{path}: {size} bytes, but its header {shape} "
                       f"needs {expected} (truncated or corrupted; run `make data` to replace it)")
    return shape


def _missing(path: Path) -> IDXError:
    return IDXError(f"{path}: no such file (run `make data` or `compare data`)")


def read_idx(path: Path | str, ndim: int) -> np.ndarray:
    """Parse one IDX file of unsigned bytes with `ndim` dimensions."""
    path = Path(path)
    if not path.is_file():
        raise _missing(path)
    blob = path.read_bytes()
    shape = _shape(path, blob[:4 + 4 * ndim], len(blob), ndim)
    return np.frombuffer(blob, np.uint8, offset=4 + 4 * ndim).reshape(shape)


def check_idx(path: Path | str, ndim: int) -> tuple[int, ...]:
    """The shape of one IDX file, checked against its size without reading it all."""
    path = Path(path)
    if not path.is_file():
        raise _missing(path)
    with open(path, "rb") as f:
        head = f.read(4 + 4 * ndim)
    return _shape(path, head, path.stat().st_size, ndim)


def check_labels(path: Path, labels: np.ndarray) -> None:
    """Every label must be a digit 0-9 (a bad one would fail in the middle of training)."""
    if labels.size and labels.max() > 9:
        where = int(np.argmax(labels > 9))
        raise IDXError(f"{path}: label {labels[where]} at index {where} is not a digit 0-9 "
                       "(damaged; run `make data` to replace it)")


def _check_images(path: Path, shape: tuple) -> None:
    if tuple(shape[1:]) != (28, 28):
        raise IDXError(f"{path}: images of shape {tuple(shape[1:])}, MNIST's are (28, 28) "
                       "(damaged or not MNIST; run `make data` to replace it)")


def verify(split: str, root: Path | str = "data") -> int:
    """Check the split's two files as load_raw() would, cheaply; return the number of images.

    For readers that parse the files themselves (torchnet's, through torchvision):
    the headers and sizes of both files, matching counts, every label a digit.
    """
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    folder = Path(root) / "MNIST" / "raw"
    shape = check_idx(folder / FILES[split][0], 3)
    _check_images(folder / FILES[split][0], shape)
    labels = read_idx(folder / FILES[split][1], 1)       # small: read them all
    if shape[0] != len(labels):
        raise IDXError(f"{folder}: {shape[0]} {split} images but {len(labels)} labels")
    check_labels(folder / FILES[split][1], labels)
    return shape[0]


def load_raw(split: str, root: Path | str = "data") -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (N, 28, 28) and uint8 labels (N,) of 'train' or 'test'."""
    if split not in FILES:
        raise ValueError(f"split must be one of {sorted(FILES)}, got {split!r}")
    folder = Path(root) / "MNIST" / "raw"
    images = read_idx(folder / FILES[split][0], 3)
    _check_images(folder / FILES[split][0], images.shape)
    labels = read_idx(folder / FILES[split][1], 1)
    if len(images) != len(labels):
        raise IDXError(f"{folder}: {len(images)} {split} images but {len(labels)} labels")
    check_labels(folder / FILES[split][1], labels)
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
