"""Functions by qualified name: found in source text, where a copy empties their bodies (every
other line stays byte-identical, and nothing of a body survives, not even a comment after its
end), and loaded from a student's copy or the reference for a check to run, some perhaps
overridden (a catalogued mistake, one exercise's functions put back)."""
from __future__ import annotations

import ast
import functools
import importlib.util
import inspect
import io
import sys
import tokenize
from pathlib import Path
from typing import NamedTuple

from .table import LOOP_FILE, PROBLEM1_FILE, TARGETS

ROOT = Path(__file__).resolve().parents[2]     # the project: scratchnet/, torchnet/, compare/
SOURCES = {t.qualname: t for _, t in TARGETS}


class SourceError(LookupError):
    """An exercise names a function the source no longer defines (or defines twice)."""


class Span(NamedTuple):
    """Lines [start, stop), 0-based, to replace; `keep` is the part of line `start` that stays."""
    start: int
    stop: int
    keep: str
    indent: str             # the new body's indentation
    has_docstring: bool


def functions(tree: ast.AST) -> dict[str, list]:
    """Every function and method by qualified name ("Class.method", "outer.inner")."""
    found: dict[str, list] = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            named = isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(prefix + child.name, []).append(child)
            visit(child, f"{prefix}{child.name}." if named else prefix)

    visit(tree, "")
    return found


def find(tree: ast.AST, qualname: str, where: str = "source"):
    """The one definition of `qualname`, or a SourceError naming it."""
    nodes = functions(tree).get(qualname, [])
    if len(nodes) != 1:
        problem = f"is defined {len(nodes)} times" if nodes else "is not defined"
        raise SourceError(f"{qualname} {problem} in {where}")
    return nodes[0]


def locate(package: Path, qualname: str, preferred: str) -> Path:
    """The file of a package that defines `qualname`, `preferred` first: functions may move."""
    paths = sorted(p for p in Path(package).rglob("*.py") if "__pycache__" not in p.parts)
    for path in dict.fromkeys([Path(package) / preferred, *paths]):
        if path.is_file() and qualname in functions(ast.parse(path.read_text(encoding="utf-8"))):
            return path
    raise SourceError(f"no module of {Path(package).name}/ defines {qualname}")


def _header_colon(lines: list[str], node) -> tuple[int, int]:
    """(line, column), 0-based, of the ':' that ends the def's header."""
    depth = 0
    for tok in tokenize.generate_tokens(io.StringIO("".join(lines[node.lineno - 1:])).readline):
        if tok.type == tokenize.OP:
            depth += (tok.string in "([{") - (tok.string in ")]}")
            if tok.string == ":" and depth == 0:
                return node.lineno - 2 + tok.start[0], tok.start[1]
    raise SourceError(f"no header found for {node.name}")


def _end(lines: list[str], node) -> int:
    """The line after a function, past the comments indented deeper than its def (its body's)."""
    end = node.end_lineno
    for j in range(end, len(lines)):
        text = lines[j].strip()
        if text.startswith("#") and len(lines[j]) - len(lines[j].lstrip()) > node.col_offset:
            end = j + 1
        elif text:
            break
    return end


def body_span(lines: list[str], node) -> Span:
    """The part of a function to replace: its body, less a leading docstring."""
    line, col = _header_colon(lines, node)
    first = node.body[0]
    indent = " " * (first.col_offset if first.lineno - 1 > line else node.col_offset + 4)
    doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
        and isinstance(first.value.value, str)
    if doc:                             # ast counts columns in bytes
        line = first.end_lineno - 1
        keep = lines[line].encode("utf-8")[:first.end_col_offset].decode("utf-8")
    else:                               # the header's last line, with its comment if it has one
        rest = lines[line][col + 1:].strip()
        keep = lines[line].rstrip("\n") if rest[:1] in ("", "#") else lines[line][:col + 1]
    return Span(line, _end(lines, node), keep, indent, doc)


def replace_bodies(source: str, bodies: dict, where: str = "source") -> tuple[str, dict]:
    """(new source, {name: the text taken out}): each function's body replaced by bodies[name],
    a text without indentation or a function of the Span that gives one."""
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    spans = {name: body_span(lines, find(tree, name, where)) for name in bodies}
    removed = {}
    for name, span in sorted(spans.items(), key=lambda item: -item[1].start):
        removed[name] = "".join(lines[span.start:span.stop])[len(span.keep):]
        new = bodies[name](span) if callable(bodies[name]) else bodies[name]
        lines[span.start:span.stop] = [span.keep + "\n" + "".join(
            span.indent + line if line.strip() else line for line in new.splitlines(True))]
    return "".join(lines), removed


def stub(number: int, qualname: str, title: str, task: str):
    """The body of an emptied exercise function: the task, then NotImplementedError."""
    def body(span: Span) -> str:
        if span.has_docstring:
            lines = [f"Exercise {number}: write this body.", *task.splitlines()]
            intro = "".join(f"# {line}\n" if line else "#\n" for line in lines)
        else:
            intro = f'"""Exercise {number}: {task.strip()}\n"""\n'
        message = f"Exercise {number}: {qualname} is not written yet ({title})"
        return intro + f"raise NotImplementedError({message!r})\n"
    return body


def function_text(source: str, qualname: str, where: str = "source") -> str:
    """A function's full text, decorators included, as the source spells it."""
    lines = source.splitlines(keepends=True)
    node = find(ast.parse(source), qualname, where)
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    return "".join(lines[first:_end(lines, node)])


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
