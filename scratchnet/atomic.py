"""Atomic file writes: a reader finds the old file or the new one, never a part of either.

Every file this project writes goes through write_atomic(): a uniquely named
temporary file in the target's folder (tempfile.mkstemp) is written, flushed to
the disk (fsync) and renamed over the target (os.replace, atomic within one
file system). If anything fails on the way - a full disk, a bad value, Ctrl-C -
the temporary file is removed and the target is left as it was. AtomicFiles does the same
for several files that belong together (a training history and the network it
describes): every temporary is written first, then all are renamed, so a
failure leaves the old set or the new set, never a mix.

A target must be a regular file or not exist: a folder, device, named pipe or
socket is refused before anything is written (check_output_path), since the
rename would replace it. A symbolic link is followed: its target is written
and the link stays. An existing file keeps its permission bits; a new one gets
those the umask gives.
Anything that can write to a binary file object can be written atomically
(np.savez, fig.savefig(f, format="png")).
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Callable, BinaryIO

KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"),
         (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket"))


def check_output_path(path: Path | str) -> None:
    """ValueError, naming the path, unless it is a regular file or does not exist yet.

    A symbolic link is judged by its target. Only os.stat is called: nothing is
    opened, so a device or a named pipe is refused untouched.
    """
    try:
        mode = os.stat(path).st_mode
    except (FileNotFoundError, NotADirectoryError):     # not there yet (check_writable says
        return                                          # whether its folder can be made)
    except OSError as err:
        why = {errno.ENAMETOOLONG: "file name too long for this file system",
               errno.ELOOP: "a loop of symbolic links"}.get(err.errno, err.strerror or str(err))
        raise ValueError(f"{str(path)!r}: {why}") from None
    kind = next((kind for test, kind in KINDS if test(mode)), None)
    if kind is not None:
        raise ValueError(f"{path} is {kind}, not a regular file; give a file name")


def _target(path: Path | str) -> Path:
    """The file a write to `path` replaces: path itself, or the target of a symbolic link."""
    check_output_path(path)
    return Path(os.path.realpath(path))


def _umask() -> int:
    """The process's umask (read from /proc where possible: os.umask changes it)."""
    with contextlib.suppress(OSError, ValueError, StopIteration):
        lines = Path("/proc/self/status").read_text().splitlines()
        return int(next(line for line in lines if line.startswith("Umask:")).split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(path: Path) -> tuple[int, Path]:
    """A new, empty, uniquely named file beside `path`: (fd, its path)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:64]}.", suffix=".tmp")
    return fd, Path(name)


def _remove(path: Path | None) -> None:
    with contextlib.suppress(OSError, TypeError):
        os.unlink(path)


def _fsync_folder(folder: Path) -> None:
    """Make a rename durable (best effort: not every system can open a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _stage(path: Path, write: Callable[[BinaryIO], object]) -> Path:
    """Write a temporary file beside path (a checked _target) with write(f); return
    its name (removed on failure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600): give it the old file's mode, or a new one's
        os.chmod(tmp, stat.S_IMODE(os.stat(path).st_mode) if path.exists() else 0o666 & ~_umask())
    except BaseException:               # including KeyboardInterrupt and SystemExit
        _remove(tmp)
        raise
    return tmp


def write_atomic(path: Path | str, write: Callable[[BinaryIO], object]) -> Path:
    """Write `path` atomically: write(f) fills a binary file object; returns the path.

    The folder is created if needed. On any failure the target is untouched and
    no temporary file is left behind; a target that is not a regular file is a
    ValueError before anything is written.
    """
    target = _target(path)
    tmp = _stage(target, write)
    try:
        os.replace(tmp, target)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_folder(target.parent)
    return Path(path)


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    return write_atomic(path, lambda f: f.write(data))


def write_text_atomic(path: Path | str, text: str, encoding: str = "utf-8") -> Path:
    return write_atomic(path, lambda f: f.write(text.encode(encoding)))


def json_bytes(data) -> bytes:
    """The JSON text this project writes: indented, NaN and Infinity allowed, final newline."""
    return (json.dumps(data, indent=1, allow_nan=True) + "\n").encode()


def write_json_atomic(path: Path | str, data) -> Path:
    """Write data as JSON atomically (serialized first: a bad value writes nothing)."""
    return write_bytes_atomic(path, json_bytes(data))


class AtomicFiles:
    """Several files that belong together, written so that a failure changes none of them.

        with AtomicFiles() as files:
            files.stage("history.json", lambda f: f.write(blob))
            files.stage("net.npz", net.save)
        # all renamed into place here; on an exception none is, and no temporary is left

    commit() renames the staged temporaries one after the other; if a rename
    fails, the targets already replaced get their old content back (kept as a
    hard link until the end), so the set stays the old one.
    """

    def __init__(self):
        self._staged: list[tuple[Path, Path]] = []     # (temporary, target)

    def stage(self, path: Path | str, write: Callable[[BinaryIO], object]) -> None:
        path = _target(path)
        if any(target == path for _, target in self._staged):
            raise ValueError(f"{path} is staged twice")
        self._staged.append((_stage(path, write), path))

    def discard(self) -> None:
        for tmp, _ in self._staged:
            _remove(tmp)
        self._staged = []

    def commit(self) -> list[Path]:
        backups: list[tuple[Path, Path | None]] = []   # (target, hard link to its old content)
        done: list[Path] = []
        try:
            for _, target in self._staged:
                backups.append((target, self._backup(target)))
            for tmp, target in self._staged:
                os.replace(tmp, target)
                done.append(target)
        except BaseException:
            for target, old in backups:
                if target in done and old is None:
                    _remove(target)
                elif target in done:                   # put the old content back
                    with contextlib.suppress(OSError):
                        os.replace(old, target)
            self.discard()
            for _, old in backups:
                _remove(old)
            raise
        for _, old in backups:
            _remove(old)
        for folder in {target.parent for target in done}:
            _fsync_folder(folder)
        self._staged = []
        return done

    @staticmethod
    def _backup(target: Path) -> Path | None:
        """A hard link to target's current content (None if there is no target, or the
        file system has no hard links: then a failed commit can leave this target new)."""
        if not target.exists():
            return None
        fd, name = _temporary(target)
        os.close(fd)
        os.unlink(name)
        with contextlib.suppress(OSError):
            os.link(target, name)
            return Path(name)
        return None

    def __enter__(self) -> "AtomicFiles":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        self.commit() if kind is None else self.discard()


class NotWritable(OSError):
    """An output path that cannot be written; the message names it and why."""


def check_writable(path: Path | str) -> Path:
    """Check, before any work, that `path` can be written; create its folder if needed.

    NotWritable (an OSError) with a one-line message naming the path, if not: as
    check_output_path, or the folder cannot be made, or a temporary file cannot be
    created and removed there, as write_atomic will. Returns the file to be written.
    """
    try:
        path = _target(path)
    except ValueError as err:
        raise NotWritable(str(err)) from None
    folder = path.parent
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise NotWritable(f"cannot create the folder {folder}: a file is in the way") from None
    except OSError as err:
        raise NotWritable(f"cannot create the folder {folder}: {err.strerror or err}") from None
    if not folder.is_dir():
        raise NotWritable(f"cannot write in {folder}: it is not a folder")
    try:
        fd, tmp = _temporary(path)
    except OSError as err:
        raise NotWritable(f"cannot write in {folder}: {err.strerror or err}") from None
    os.close(fd)
    _remove(tmp)
    return path
