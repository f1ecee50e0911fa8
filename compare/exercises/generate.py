"""`compare exercises new`: write a student's copy of scratchnet with the exercises emptied.

The copy is made from the real source every time, by removing the bodies of
the functions the exercise table names (source.replace_bodies), so exercises
never drift from the code they come from. The folder gets:

    scratchnet/             the whole package, importable, exercise bodies emptied
    problem1_optimizers.py  the homework's three Rosenbrock optimizers, emptied
    training_loop.py        the homework's training loop to write
    README.md               the exercises in order, and how to check them
    .exercises.json         what was generated, with checksums

A folder is only written into when it is new, empty, or an untouched earlier
copy; anything else (a copy with work in it included) needs force=True.
"""
from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from . import readme
from .source import function_text, locate, replace_bodies, stub
from .table import (AUTOGRAD_RTOL, EXERCISES, LOCKSTEP_BOUND, LOOP_FILE, MARKER, PROBLEM1_FILE,
                    TARGETS, student_file)

ROOT = Path(__file__).resolve().parents[2]     # the project: scratchnet/, torchnet/, compare/
PACKAGES = {"scratchnet": ROOT / "scratchnet", "problem1": ROOT / "compare",
            "loop": ROOT / "compare"}
PROBLEM1_HELPERS = ("homework_grad",)          # kept whole in the student's Problem 1 file

PROBLEM1_HEADER = '''\
"""Exercise 9: Problem 1's three optimizers, as the homework gives them.

Write the bodies of homework_gd, homework_gd_with_mom and homework_adams (the
homework calls them gd, gd_with_mom and adams). Each takes grad, a function
from a 2-vector to its gradient, and returns the whole trajectory. Try them on
the Rosenbrock function f(x, y) = (1 − x)² + 100 (y − x²)², whose gradient is
homework_grad below:

    trajectory = homework_gd(homework_grad, [-4.0, -2.0], n_epochs=1000, eta=1e-4)
"""
import numpy as np
'''


class CopyError(Exception):
    """The folder cannot be written into (the message says why and what to do)."""


def real_file(target) -> Path:
    """The real source file that defines a target today."""
    return locate(PACKAGES[target.source], target.qualname, target.module)


def _stub(exercise, target):
    return stub(exercise.number, target.qualname, exercise.title, target.task)


def where_students_write() -> dict[str, str]:
    """qualname -> the file of the copy it is written in (following moved functions)."""
    where = {}
    for _, target in TARGETS:
        if target.source == "scratchnet":
            rel = real_file(target).relative_to(PACKAGES["scratchnet"]).as_posix()
            where[target.qualname] = f"scratchnet/{rel}"
        else:
            where[target.qualname] = student_file(target)
    return where


def scratchnet_files() -> dict[str, bytes]:
    """Every file of the scratchnet package, exercise bodies emptied."""
    package = PACKAGES["scratchnet"]
    by_file: dict[Path, dict] = {}
    for exercise, target in TARGETS:
        if target.source == "scratchnet":
            by_file.setdefault(real_file(target), {})[target.qualname] = _stub(exercise, target)
    files = {}
    for path in sorted(package.rglob("*")):
        if not path.is_file() or "__pycache__" in path.parts or path.suffix == ".pyc":
            continue
        rel = "scratchnet/" + path.relative_to(package).as_posix()
        if path in by_file:
            text, _ = replace_bodies(path.read_text(encoding="utf-8"), by_file[path], rel)
            files[rel] = text.encode("utf-8")
        else:
            files[rel] = path.read_bytes()
    return files


def problem1_file() -> str:
    """The homework's three optimizers, emptied, and the Rosenbrock gradient to try them on."""
    parts = []
    for exercise, target in TARGETS:
        if target.source == "problem1":
            text = function_text(real_file(target).read_text(encoding="utf-8"), target.qualname)
            parts.append(replace_bodies(text, {target.qualname: _stub(exercise, target)},
                                        PROBLEM1_FILE)[0])
    source_path = real_file(next(t for _, t in TARGETS if t.source == "problem1"))
    for name in PROBLEM1_HELPERS:
        parts.append(function_text(source_path.read_text(encoding="utf-8"), name))
    return PROBLEM1_HEADER + "\n\n" + "\n\n".join(parts)


def loop_file() -> str:
    """The reference training loop with `train` emptied."""
    bodies = {t.qualname: _stub(e, t) for e, t in TARGETS if t.source == "loop"}
    path = real_file(next(t for _, t in TARGETS if t.source == "loop"))
    return replace_bodies(path.read_text(encoding="utf-8"), bodies, LOOP_FILE)[0]


def build(folder_name: str = "exercises") -> dict[str, bytes]:
    """Every file of a fresh copy, by path relative to the folder."""
    files = scratchnet_files()
    files[PROBLEM1_FILE] = problem1_file().encode("utf-8")
    files[LOOP_FILE] = loop_file().encode("utf-8")
    text = readme.render(folder_name, where_students_write(), AUTOGRAD_RTOL, LOCKSTEP_BOUND)
    files["README.md"] = text.encode("utf-8")
    return files


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def changed_files(folder: Path) -> list[str]:
    """Files of an earlier copy that differ from what was generated (or were added)."""
    recorded = json.loads((folder / MARKER).read_text(encoding="utf-8"))["files"]
    changed = [rel for rel, digest in recorded.items()
               if not (folder / rel).is_file() or _digest((folder / rel).read_bytes()) != digest]
    added = [p.relative_to(folder).as_posix() for p in (folder / "scratchnet").rglob("*")
             if p.is_file() and "__pycache__" not in p.parts
             and p.relative_to(folder).as_posix() not in recorded]
    return sorted(changed + added)


def check_folder(folder: Path, force: bool) -> None:
    """Raise CopyError unless `folder` may be written into."""
    resolved = folder.resolve()
    for protected in (ROOT, *(ROOT / name for name in ("scratchnet", "torchnet", "compare"))):
        if resolved == protected or protected in resolved.parents and protected != ROOT:
            raise CopyError(f"{folder} is part of the project itself; give a folder of its own, "
                            "such as exercises/")
    if not resolved.exists() or force:
        return
    if not resolved.is_dir():
        raise CopyError(f"{folder} exists and is not a folder")
    if not any(resolved.iterdir()):
        return
    if not (resolved / MARKER).is_file():
        raise CopyError(f"{folder} is not empty and is not an exercise copy; give a new or empty "
                        "folder, or --force to write the copy into it anyway")
    changed = changed_files(resolved)
    if changed:
        shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
        raise CopyError(f"{folder} holds work: {shown} changed since the copy was made. Writing a "
                        "new copy would overwrite it; give another folder, or --force to start over")


def write(folder: Path | str, force: bool = False) -> dict[str, bytes]:
    """Generate the copy into `folder` (see check_folder); returns the files written."""
    folder = Path(folder)
    check_folder(folder, force)
    files = build(folder.as_posix())
    shutil.rmtree(folder / "scratchnet", ignore_errors=True)   # files the source no longer has
    for rel, data in files.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    marker = {"generator": "compare exercises new",
              "exercises": [e.title for e in EXERCISES],
              "files": {rel: _digest(data) for rel, data in sorted(files.items())}}
    (folder / MARKER).write_text(json.dumps(marker, indent=1) + "\n", encoding="utf-8")
    return files
