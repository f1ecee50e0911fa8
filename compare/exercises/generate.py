"""`compare exercises new`: a student's copy of scratchnet with the exercises emptied, and its
README. It is made from the real source every time, so it never drifts from the code, and is
written only into a folder that is new, empty or an untouched earlier copy, unless forced.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import textwrap
from pathlib import Path
from string import Template

from .source import ROOT, function_text, locate, replace_bodies, stub
from .table import (AUTOGRAD_RTOL, EXERCISES, LOCKSTEP_BOUND, LOOP_FILE, MARKER, PROBLEM1_FILE,
                    TARGETS)

PACKAGES = {"scratchnet": ROOT / "scratchnet", "problem1": ROOT / "compare",
            "loop": ROOT / "compare"}
FILES = {"problem1": PROBLEM1_FILE, "loop": LOOP_FILE}

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

README = Template("""\
# Exercises: scratchnet's derivatives and optimizers, by your hand

A copy of `scratchnet` (an MNIST network with every derivative written by hand in NumPy) in
which $count functions raise `NotImplementedError("Exercise k: ...")`; a comment or docstring
in each states what to compute, with the shapes. The homework's Problem 1 optimizers and its
training loop are to complete in `$problem1` and `$loop`. Write the exercises in order: each is
checked on its own, with the reference pieces around it, so a mistake shows in the exercise
that made it. The guide, with how to read a row and the catalogue of mistakes, is
docs/exercises.md in the project. From the project's root folder:

    compare exercises check $folder             # every exercise
    compare exercises check $folder --only 3    # just exercise 3

Derivatives are checked against torch autograd in float64 (relative error $rtol), optimizers
step for step against `torch.optim` ($bound); a known mistake is named when your answer equals
it to round-off. An exception or an endless loop marks only its own exercise `wrong`. When
exercises 1–8 pass, a last check trains your whole network in lock-step with PyTorch.

## The exercises
$sections""")

SECTION = Template("""
### $number. $title

Write $what.

*What it teaches:* $teaches

$tasks
Check it: `compare exercises check $folder --only $number`
""")


class CopyError(Exception):
    """The folder cannot be written into (the message says why and what to do)."""


def real_file(target) -> Path:
    """The real source file that defines a target today."""
    return locate(PACKAGES[target.source], target.qualname, target.module)


def where_students_write() -> dict[str, str]:
    """qualname -> the file of the copy it is written in (following moved functions)."""
    return {t.qualname: FILES.get(t.source) or
            "scratchnet/" + real_file(t).relative_to(PACKAGES["scratchnet"]).as_posix()
            for _, t in TARGETS}


def readme(folder: str) -> str:
    """The copy's README.md: the exercises in order, what to write where, and how to check it."""
    where, sections = where_students_write(), ""
    for e in EXERCISES:
        files: dict[str, list[str]] = {}
        for t in e.targets:
            files.setdefault(where[t.qualname], []).append(f"`{t.qualname}`")
        tasks = "".join(f"`{t.qualname}`:\n\n" + textwrap.indent(t.task, "    ") + "\n\n"
                        for t in e.targets)
        sections += SECTION.substitute(
            number=e.number, title=e.title[:1].upper() + e.title[1:], tasks=tasks, folder=folder,
            what="; ".join(f"{', '.join(names)} in `{path}`" for path, names in files.items()),
            teaches=e.teaches)
    return README.substitute(
        count=sum(len(e.targets) for e in EXERCISES if e.in_scratchnet), problem1=PROBLEM1_FILE,
        loop=LOOP_FILE, folder=folder, sections=sections,
        rtol=f"{AUTOGRAD_RTOL:.0e}".replace("e-0", "e-"),       # 1e-9, not 1e-09
        bound=f"{LOCKSTEP_BOUND:.0e}".replace("e-0", "e-"))


def build(folder: str = "exercises") -> dict[str, bytes]:
    """Every file of a fresh copy, by path relative to the folder."""
    stubs: dict[Path, dict] = {}
    for e, t in TARGETS:
        stubs.setdefault(real_file(t), {})[t.qualname] = stub(e.number, t.qualname, e.title, t.task)
    emptied = {path: replace_bodies(path.read_text(encoding="utf-8"), bodies, path.name)[0]
               for path, bodies in stubs.items()}
    package = PACKAGES["scratchnet"]
    files = {"scratchnet/" + p.relative_to(package).as_posix():
             emptied[p].encode("utf-8") if p in emptied else p.read_bytes()
             for p in sorted(package.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}
    problem1, loop = (real_file(next(t for _, t in TARGETS if t.source == s)) for s in FILES)
    parts = [function_text(emptied[problem1], name) for name in [*stubs[problem1], "homework_grad"]]
    files[PROBLEM1_FILE] = (PROBLEM1_HEADER + "\n\n" + "\n\n".join(parts)).encode("utf-8")
    files[LOOP_FILE] = emptied[loop].encode("utf-8")
    files["README.md"] = readme(folder).encode("utf-8")
    return files


def check_folder(folder: Path, force: bool) -> None:
    """Raise CopyError unless `folder` may be written into."""
    resolved = folder.resolve()
    if resolved == ROOT or any(p == resolved or p in resolved.parents
                               for p in (ROOT / "scratchnet", ROOT / "torchnet", ROOT / "compare")):
        raise CopyError(f"{folder} is part of the project itself; give a folder of its own, "
                        "such as exercises/")
    if force or not resolved.exists() or resolved.is_dir() and not any(resolved.iterdir()):
        return
    if not (resolved / MARKER).is_file():
        raise CopyError(f"{folder} is not an exercise copy, nor an empty folder; give a new or "
                        "empty folder, or --force to write the copy into it anyway")
    recorded = json.loads((resolved / MARKER).read_text(encoding="utf-8"))["files"]
    present = {p.relative_to(resolved).as_posix() for p in (resolved / "scratchnet").rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    changed = sorted(present - set(recorded) | {
        rel for rel, digest in recorded.items() if not (resolved / rel).is_file()
        or hashlib.sha256((resolved / rel).read_bytes()).hexdigest() != digest})
    if changed:
        more = f" and {len(changed) - 5} more" if len(changed) > 5 else ""
        raise CopyError(f"{folder} holds work: {', '.join(changed[:5])}{more} changed since the "
                        "copy was made. Writing a new copy would overwrite it; give another "
                        "folder, or --force to start over")


def write(folder: Path | str, force: bool = False) -> dict[str, bytes]:
    """Generate the copy into `folder` (see check_folder); returns the files written."""
    folder = Path(folder)
    check_folder(folder, force)
    files = build(folder.as_posix())
    marker = {"files": {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}}
    shutil.rmtree(folder / "scratchnet", ignore_errors=True)   # files the source no longer has
    for rel, data in {**files, MARKER: (json.dumps(marker, indent=1) + "\n").encode()}.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    return files
