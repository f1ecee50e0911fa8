"""What a check needs: the student's code, the reference code, and the data.

The student's scratchnet is imported as `scratchnet` from the exercise folder
when the checker runs in its own process (compare.exercises.child puts the
folder first on sys.path and asserts the import came from there), or under
another package name when a test checks a copy in its own process. The real
scratchnet, the reference every derivative is patched from when exercises are
checked one at a time, is always loaded under another name, so the two never
mix. Functions are found by name (source.locate), wherever they live.
"""
from __future__ import annotations

import importlib
import importlib.util
import itertools
import sys
from functools import cached_property
from pathlib import Path

from .source import locate
from .table import LOOP_FILE, PROBLEM1_FILE, TARGETS

ROOT = Path(__file__).resolve().parents[2]
REFERENCE_NAME = "_scratchnet_reference"
_aliases = itertools.count()


def load_package(path: Path, name: str):
    """Import the package at `path` under `name` (its relative imports follow)."""
    if name in sys.modules:
        return sys.modules[name]
    return _execute(importlib.util.spec_from_file_location(
        name, Path(path) / "__init__.py", submodule_search_locations=[str(path)]))


def load_file(path: Path, name: str):
    """Import one .py file as a module named `name`."""
    return _execute(importlib.util.spec_from_file_location(name, path))


def _execute(spec):
    """Run the module a spec describes, registered in sys.modules only if it imports."""
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


def _preferred(qualname: str) -> str | None:
    return next((t.module for _, t in TARGETS if t.qualname == qualname), None)


class Context:
    """The student's folder and the reference code, loaded on first use."""

    def __init__(self, folder: Path | str, data_root: Path | str = "data",
                 student_name: str | None = None):
        self.folder = Path(folder).resolve()
        self.data_root = Path(data_root).resolve()
        self.student_name = student_name         # None: `import scratchnet` from the folder
        self.tag = next(_aliases)
        self._modules: dict = {}

    # ------------------------------------------------------------ scratchnet
    @cached_property
    def scratchnet(self):
        """The student's scratchnet package."""
        if self.student_name is not None:
            return load_package(self.folder / "scratchnet", self.student_name)
        import scratchnet
        origin = Path(scratchnet.__file__).resolve()
        if self.folder not in origin.parents:
            raise ImportError(f"`import scratchnet` found {origin}, not the copy in {self.folder}")
        return scratchnet

    @cached_property
    def reference(self):
        """The real scratchnet, under a name of its own."""
        return load_package(ROOT / "scratchnet", REFERENCE_NAME)

    def module(self, package, qualname: str):
        """The module of `package` that defines `qualname` (looked up once)."""
        key = (package.__name__, qualname)
        if key not in self._modules:
            path = locate(Path(package.__file__).parent, qualname, _preferred(qualname))
            rel = path.relative_to(Path(package.__file__).parent).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            self._modules[key] = importlib.import_module(".".join([package.__name__, *parts]))
        return self._modules[key]

    def student(self, qualname: str):
        """The student's top-level object for `qualname` (the class of a method)."""
        return getattr(self.module(self.scratchnet, qualname), qualname.split(".")[0])

    def real(self, qualname: str):
        """The reference's top-level object for `qualname`."""
        return getattr(self.module(self.reference, qualname), qualname.split(".")[0])

    # ------------------------------------------------------------ the two files
    @cached_property
    def problem1(self):
        return load_file(self.folder / PROBLEM1_FILE, f"_student_problem1_{self.tag}")

    @cached_property
    def problem1_reference(self):
        from .generate import real_file
        target = next(t for _, t in TARGETS if t.source == "problem1")
        return load_file(real_file(target), "_problem1_reference")

    @cached_property
    def loop(self):
        return load_file(self.folder / LOOP_FILE, f"_student_training_loop_{self.tag}")

    @cached_property
    def loop_reference(self):
        from . import training_loop
        return training_loop
