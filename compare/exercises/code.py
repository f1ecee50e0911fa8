"""The functions a check runs, by qualified name: a student's copy or the reference.

A check never names a module: it asks a Code for "Network.backprop" or
"homework_gd" and gets the class or function, wherever the copy defines it
(source.locate). The same check runs on three kinds of Code: the student's
copy (in the child process), the reference (scratchnet, compare.reference and
training_loop from the project), and the reference with some functions
overridden (a catalogued mistake, or one exercise's functions taken from the
student to find which exercise breaks the whole network). An override of a
method comes back as a subclass holding it, so nothing shared is patched.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import sys
from pathlib import Path

from .source import locate
from .table import LOOP_FILE, PROBLEM1_FILE, TARGETS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {t.qualname: t for _, t in TARGETS}


def load_package(path: Path, name: str):
    """Import the package at `path` under `name` (its relative imports follow)."""
    if name in sys.modules:
        return sys.modules[name]
    return load(importlib.util.spec_from_file_location(
        name, Path(path) / "__init__.py", submodule_search_locations=[str(path)]))


def load(spec):
    """Run the module a spec describes, registered in sys.modules only if it imports."""
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[spec.name]
        raise
    return module


class Code:
    """Classes and functions by qualified name, from three loaders (each called on first use)."""

    def __init__(self, package, problem1, loop, overrides=None, base=None, folder=None):
        self._loaders = {"scratchnet": package, "problem1": problem1, "loop": loop}
        self.overrides, self.base = dict(overrides or {}), base   # base: the code overridden
        self.folder = folder            # the student's folder, for where an exception was raised

    @property
    def real(self) -> Code:
        """The reference: what the pieces around the function under check come from."""
        return reference()

    def but(self, overrides: dict) -> Code:
        """This code with some functions replaced (qualname -> plain function)."""
        return Code(None, None, None, {**self.overrides, **overrides}, self.base or self, self.folder)

    @functools.cache
    def module(self, kind: str):
        return self.base.module(kind) if self.base else self._loaders[kind]()

    @functools.cache
    def top(self, qualname: str):
        """The class or function `qualname` names (the class of a method), without overrides."""
        if self.base is not None:
            return self.base.top(qualname)
        kind = SOURCES[qualname].source if qualname in SOURCES else "scratchnet"
        module = self.module(kind)
        if kind == "scratchnet":
            where = locate(Path(module.__file__).parent, qualname,
                           SOURCES[qualname].module if qualname in SOURCES else None)
            rel = where.relative_to(Path(module.__file__).parent).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            module = importlib.import_module(".".join([module.__name__, *parts]))
        return getattr(module, qualname.split(".")[0])

    def get(self, qualname: str):
        """The class or function, with this code's override of `qualname` or its methods."""
        obj = self.top(qualname)
        head = qualname.split(".")[0]
        methods = {q.split(".", 1)[1]: f for q, f in self.overrides.items()
                   if q.startswith(head + ".")}
        if methods:
            return type(obj.__name__, (obj,), {
                name: staticmethod(f) if isinstance(inspect.getattr_static(obj, name), staticmethod)
                else f for name, f in methods.items()})
        return self.overrides.get(qualname, obj)

    def function(self, qualname: str):
        """The plain function: a method's underlying function, for overrides built from it."""
        obj = self.get(qualname)
        return getattr(obj, qualname.split(".", 1)[1]) if "." in qualname else obj


def student(folder: Path, name: str | None = None) -> Code:
    """The student's copy: `import scratchnet` from the folder (the child puts it first on
    sys.path, and this asserts it), or, with `name`, the package loaded under that name."""
    folder = Path(folder).resolve()

    def package():
        if name is not None:
            return load_package(folder / "scratchnet", name)
        import scratchnet
        origin = Path(scratchnet.__file__).resolve()
        if folder not in origin.parents:
            raise ImportError(f"`import scratchnet` found {origin}, not the copy in {folder}")
        return scratchnet

    tag = name or "student"
    return Code(package,
                lambda: load(importlib.util.spec_from_file_location(
                    f"_{tag}_problem1", folder / PROBLEM1_FILE)),
                lambda: load(importlib.util.spec_from_file_location(
                    f"_{tag}_training_loop", folder / LOOP_FILE)), folder=folder)


@functools.cache
def reference() -> Code:
    """The project's own code; scratchnet under a name of its own, so it never mixes with a copy."""
    return Code(lambda: load_package(ROOT / "scratchnet", "_scratchnet_reference"),
                lambda: importlib.import_module("compare.reference"),
                lambda: importlib.import_module("compare.exercises.training_loop"))
