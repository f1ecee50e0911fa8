"""Saving a Network to an .npz file and loading it back, refusing damaged files.

A saved network is an .npz archive (a zip of .npy members): `__options__`, the
JSON of Network.options(), and one member per array of Network.state(). load()
trusts nothing in the file before it has checked it, in the order that keeps a
hostile or damaged file from costing anything: the path must be a regular file
(a named pipe would block the open), the options must be small and describe a
network that fits in memory, and each member's size, read from the zip's
directory, and its .npy header must match the shape the options declare before
its data are read. Unknown members are never read. No pickle is ever loaded.
"""
from __future__ import annotations

import json
import os
import stat
import zipfile
from pathlib import Path

import numpy as np

from . import limits
from .network import Network

OPTIONS_LIMIT = 1 << 16      # bytes: the options member is a short JSON text
HEADER_LIMIT = 1 << 12       # bytes an .npy member may hold beyond its data (its header)


class NetworkFileError(ValueError):
    """A saved network (.npz) that is missing, damaged or not what its options say."""


def save(net: Network, path) -> None:
    """Write the network as .npz: to a path atomically (scratchnet.atomic), or to a
    binary file object (so it can be staged with other files: atomic.AtomicFiles)."""
    def write(f):
        np.savez(f, __options__=np.array(json.dumps(net.options())), **net.state())

    if hasattr(path, "write"):
        write(path)
        return
    from .atomic import write_atomic

    write_atomic(path, write)             # a file object: np.savez appends no ".npz"


def load(path: Path | str) -> Network:
    """The network saved at path; NetworkFileError naming the file if it is not a regular
    file, not an .npz, too large for memory, or has options or arrays missing, shapes
    that do not match, or NaN or inf values."""
    def damaged(why):
        return NetworkFileError(f"{path}: {why}")

    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise damaged("no such file") from None
    except OSError as err:
        raise damaged(f"cannot be read ({err.strerror or err})") from None
    if not stat.S_ISREG(mode):
        raise damaged("not a regular file")
    try:
        with open(path, "rb") as f, zipfile.ZipFile(f) as archive:
            members = {info.filename: info for info in archive.infolist()}
            net = _network(archive, members, damaged)
            arrays = {name: _array(archive, members, name, target, damaged)
                      for name, target in net.state().items()}
    except (OSError, EOFError, zipfile.BadZipFile, zipfile.LargeZipFile) as err:
        raise damaged(f"not a saved network (damaged, truncated or not an .npz archive: "
                      f"{type(err).__name__})") from None
    return net.load_state(arrays)


def _network(archive, members, damaged) -> Network:
    """The Network its options describe, after checking that it fits in memory."""
    info = members.get("__options__.npy")
    if info is None:
        raise damaged("no '__options__' entry: not saved by saving.save")
    if info.file_size > OPTIONS_LIMIT:
        raise damaged(f"its options take {info.file_size:,} bytes, more than a network's")
    try:
        with archive.open(info) as f:
            options = json.loads(str(np.lib.format.read_array(f, allow_pickle=False)))
        sizes = [int(s) for s in options["sizes"]]
        dtype = np.dtype(options.get("dtype", "float64"))
        need = limits.parameter_count(sizes, bool(options.get("batchnorm"))) * dtype.itemsize
        available = min(limits.MEMORY_CAP, limits.available_memory() or limits.MEMORY_CAP)
        if need > available:
            raise damaged(f"its options declare a {'-'.join(map(str, sizes))} network of "
                          f"{limits.format_bytes(need)}, more than the memory available "
                          f"({limits.format_bytes(available)})")
        return Network(**options)
    except NetworkFileError:
        raise
    except (ValueError, TypeError, KeyError, OverflowError) as err:
        raise damaged(f"its options are damaged ({err})") from None


def _array(archive, members, name: str, target: np.ndarray, damaged) -> np.ndarray:
    """Member `name`, read only once its size and header match the target's shape."""
    info = members.get(f"{name}.npy")
    if info is None:
        raise damaged(f"array {name} missing for this network")
    if info.file_size > target.nbytes + HEADER_LIMIT:
        raise damaged(f"{name} takes {info.file_size:,} bytes, its shape {target.shape} "
                      f"needs {target.nbytes:,}")
    with archive.open(info) as f:
        try:
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
        except ValueError as err:
            raise damaged(f"{name} is not an array ({err})") from None
        if shape != target.shape:
            raise damaged(f"{name} has shape {shape}, this network needs {target.shape}")
        if not np.issubdtype(dtype, np.floating):
            raise damaged(f"{name} holds {dtype} values, not floats")
        data = f.read(target.size * dtype.itemsize)
    if len(data) != target.size * dtype.itemsize:
        raise damaged(f"{name} is truncated")
    value = np.frombuffer(data, dtype).reshape(shape, order="F" if fortran else "C")
    if not np.isfinite(value).all():
        raise damaged(f"{name} holds NaN or infinite values (was it saved after the "
                      "training diverged?)")
    return value
