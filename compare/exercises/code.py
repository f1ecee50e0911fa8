"""The functions a check runs, by qualified name, wherever a student's copy or the reference
defines them, some perhaps overridden (a catalogued mistake, one exercise's functions swapped).
"""
from __future__ import annotations

import functools
import importlib.util
import inspect
import sys
from pathlib import Path

from .source import locate
from .table import LOOP_FILE, PROBLEM1_FILE, TARGETS

ROOT = Path(__file__).resolve().parents[2]
SOURCES = {t.qualname: t for _, t in TARGETS}


def load(name: str, path: Path):
    """Import the file or package folder at `path` as `name`, once (kept only if it imports)."""
    if name not in sys.modules:
        init = path / "__init__.py" if path.is_dir() else path
        spec = importlib.util.spec_from_file_location(
            name, init, submodule_search_locations=[str(path)] if path.is_dir() else None)
        sys.modules[name] = module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    return sys.modules[name]


class Code:
    """Classes and functions by qualified name, from loaders called on first use."""

    def __init__(self, loaders: dict, overrides=None, base=None, folder=None):
        self.loaders, self.overrides, self.base = loaders, dict(overrides or {}), base
        self.folder = folder            # the student's folder, for where an exception was raised

    @property
    def real(self) -> Code:
        """The reference: what the pieces around the function under check come from."""
        return reference()

    def but(self, overrides: dict) -> Code:
        """This code with some functions replaced (qualname -> plain function)."""
        return Code({}, {**self.overrides, **overrides}, self.base or self, self.folder)

    @functools.cache
    def module(self, kind: str):
        return self.base.module(kind) if self.base else self.loaders[kind]()

    @functools.cache
    def top(self, qualname: str):
        """The class or function `qualname` names (the class of a method), without overrides."""
        target, module = SOURCES[qualname], self.module(SOURCES[qualname].source)
        if target.source == "scratchnet":
            package = Path(module.__file__).parent
            rel = locate(package, qualname, target.module).relative_to(package).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            module = importlib.import_module(".".join([module.__name__, *parts]))
        return getattr(module, qualname.split(".")[0])

    def get(self, qualname: str):
        """The class or function, with this code's override of `qualname` or of its methods."""
        obj, head = self.top(qualname), qualname.split(".")[0]
        methods = {q.split(".", 1)[1]: f for q, f in self.overrides.items()
                   if q.startswith(head + ".")}
        if not methods:
            return self.overrides.get(qualname, obj)
        return type(obj.__name__, (obj,), {         # a subclass: nothing shared is patched
            name: staticmethod(f) if isinstance(inspect.getattr_static(obj, name), staticmethod)
            else f for name, f in methods.items()})

    def function(self, qualname: str):
        """The plain function: a method's underlying function, for overrides built from it."""
        obj = self.get(qualname)
        return getattr(obj, qualname.split(".", 1)[1]) if "." in qualname else obj


def student(folder: Path, name: str | None = None) -> Code:
    """The student's copy: `import scratchnet` from the folder (the child puts it first on
    sys.path, and this asserts it), or, with `name`, the package loaded under that name."""
    folder, tag = Path(folder).resolve(), name or "_student"

    def package():
        if name is not None:
            return load(name, folder / "scratchnet")
        import scratchnet
        if folder not in Path(scratchnet.__file__).resolve().parents:
            raise ImportError(f"`import scratchnet` found {scratchnet.__file__}, "
                              f"not the copy in {folder}")
        return scratchnet

    return Code({"scratchnet": package,
                 "problem1": lambda: load(f"{tag}_problem1", folder / PROBLEM1_FILE),
                 "loop": lambda: load(f"{tag}_training_loop", folder / LOOP_FILE)}, folder=folder)


@functools.cache
def reference() -> Code:
    """The project's own code; scratchnet under a name of its own, so it never mixes with a copy."""
    return Code({"scratchnet": lambda: load("_scratchnet_reference", ROOT / "scratchnet"),
                 "problem1": lambda: importlib.import_module("compare.reference"),
                 "loop": lambda: importlib.import_module("compare.exercises.training_loop")})
