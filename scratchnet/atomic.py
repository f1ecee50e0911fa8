"""Atomic file writes: a reader finds the old file or the new one, never a part of either.

Every file this project writes (histories, saved networks, cached results,
figures, the report, the MNIST files) goes through write_atomic():

1. a temporary file with a unique name is created in the target's folder
   (tempfile.mkstemp: two processes writing the same path never share it);
2. the content is written to it and flushed to the disk (fsync);
3. it is renamed over the target (os.replace, atomic within one file system).

If anything fails on the way - a full disk, a bad value, Ctrl-C - the temporary
file is removed and the target is left as it was. AtomicFiles does the same
for several files that belong together (a training history and the network it
describes): every temporary is written first, then all are renamed, so a
failure leaves the old set or the new set, never a mix.

Torch-free and matplotlib-free: anything that can write to a binary file
object can be written atomically (np.savez, fig.savefig(f, format="png")).
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Callable, BinaryIO

__all__ = ["write_atomic", "write_bytes_atomic", "write_text_atomic", "write_json_atomic",
           "AtomicFiles", "NotWritable", "check_writable"]


def _umask() -> int:
    """The process's umask (read from /proc where possible: os.umask changes it)."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temporary(path: Path) -> tuple[int, Path]:
    """A new, empty, uniquely named file beside `path`: (fd, its path)."""
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    return fd, Path(name)


def _remove(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
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
    """Write a temporary file beside path with write(f); return its name (removed on failure)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = _temporary(path)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        # mkstemp makes the file private (0600); give it the mode a new file would have
        os.chmod(tmp, 0o666 & ~_umask())
    except BaseException:               # including KeyboardInterrupt and SystemExit
        _remove(tmp)
        raise
    return tmp


def write_atomic(path: Path | str, write: Callable[[BinaryIO], object]) -> Path:
    """Write `path` atomically: write(f) fills a binary file object; returns the path.

    The folder is created if needed. On any failure the target is untouched and
    no temporary file is left behind.
    """
    path = Path(path)
    tmp = _stage(path, write)
    try:
        os.replace(tmp, path)
    except BaseException:
        _remove(tmp)
        raise
    _fsync_folder(path.parent)
    return path


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
        path = Path(path)
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
                if target in done:                     # put the old content back
                    if old is not None:
                        with contextlib.suppress(OSError):
                            os.replace(old, target)
                    else:
                        _remove(target)
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
        """A hard link to target's current content (None if there is no target)."""
        if not target.exists():
            return None
        fd, name = _temporary(target)
        os.close(fd)
        os.unlink(name)
        try:
            os.link(target, name)
        except OSError:          # no hard links here: without a backup, a failed commit
            return None          # can leave this target new (the renames rarely fail)
        return Path(name)

    def __enter__(self) -> "AtomicFiles":
        return self

    def __exit__(self, kind, value, traceback) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()


class NotWritable(OSError):
    """An output path that cannot be written; the message names it and why."""


def check_writable(path: Path | str) -> Path:
    """Check, before any work, that `path` can be written; create its folder if needed.

    Raises NotWritable (an OSError) with a one-line message naming the path.
    The folder is proven writable by creating and removing a temporary file
    there, as write_atomic will.
    """
    path = Path(path)
    if path.is_dir():
        raise NotWritable(f"{path} is a folder; give a file name")
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
