"""Find functions by qualified name in source text, and empty their bodies.

Everything works on line ranges of the original text, found with `ast` and
`tokenize`, so every line outside an emptied body (comments included) stays
byte-identical, and nothing of a removed body survives: not a statement, not
a comment between them, not a comment trailing the last one. A docstring is
kept; a function without one gets the exercise's task as its docstring.
"""
from __future__ import annotations

import ast
import io
import tokenize
from dataclasses import dataclass
from pathlib import Path


class SourceError(LookupError):
    """An exercise names a function the source no longer defines (or defines twice)."""


def functions(tree: ast.AST) -> dict[str, list[ast.FunctionDef]]:
    """Every function and method by qualified name ("Class.method", "outer.inner")."""
    found: dict[str, list] = {}

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found.setdefault(prefix + child.name, []).append(child)
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif not isinstance(child, ast.Lambda):
                visit(child, prefix)           # defs inside if/try blocks keep their prefix

    visit(tree, "")
    return found


def find(tree: ast.AST, qualname: str, where: str = "source") -> ast.FunctionDef:
    """The one definition of `qualname`, or a SourceError naming it."""
    nodes = functions(tree).get(qualname, [])
    if len(nodes) != 1:
        problem = "is not defined" if not nodes else f"is defined {len(nodes)} times"
        raise SourceError(f"{qualname} {problem} in {where}")
    return nodes[0]


def locate(package_dir: Path, qualname: str, preferred: str | None = None) -> Path:
    """The file of a package that defines `qualname`: `preferred` first, then every .py file.

    Exercises name functions, not places, so a function that moves to another
    module of the package is still found; one that is gone is a SourceError.
    """
    package_dir = Path(package_dir)
    candidates = sorted(p for p in package_dir.rglob("*.py") if "__pycache__" not in p.parts)
    if preferred and (package_dir / preferred).is_file():
        candidates.insert(0, package_dir / preferred)
    for path in dict.fromkeys(candidates):
        if qualname in functions(ast.parse(path.read_text(encoding="utf-8"))):
            return path
    raise SourceError(f"no module of {package_dir.name}/ defines {qualname}")


@dataclass(frozen=True)
class Span:
    """Lines [start, stop) (0-based) to replace, and what of line `start` to keep first."""
    start: int
    stop: int
    keep: str               # text of line `start` that stays (a one-line def's header)
    indent: str             # the body's indentation
    has_docstring: bool


def _header_colon(lines: list[str], node: ast.FunctionDef) -> tuple[int, int]:
    """(line, column), 0-based, of the ':' that ends the def's header."""
    text = "".join(lines[node.lineno - 1:])
    depth, seen_def = 0, False
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.NAME and tok.string == "def":
            seen_def = True
        elif tok.type == tokenize.OP and seen_def:
            if tok.string in "([{":
                depth += 1
            elif tok.string in ")]}":
                depth -= 1
            elif tok.string == ":" and depth == 0:
                return node.lineno - 1 + tok.start[0] - 1, tok.start[1]
    raise SourceError(f"no header found for {node.name}")   # unreachable for parsed code


def _trailing_comments(lines: list[str], stop: int, def_indent: int) -> int:
    """Extend `stop` over comment lines indented deeper than the def (part of its body)."""
    end, j = stop, stop
    while j < len(lines):
        stripped = lines[j].strip()
        if stripped.startswith("#") and len(lines[j]) - len(lines[j].lstrip()) > def_indent:
            end = j = j + 1
        elif not stripped:
            j += 1
        else:
            break
    return end


def body_span(lines: list[str], node: ast.FunctionDef) -> Span:
    """The part of a function to replace: all of its body but a leading docstring."""
    body = node.body
    doc = body[0] if (isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant)
                      and isinstance(body[0].value.value, str)) else None
    stop = _trailing_comments(lines, node.end_lineno, node.col_offset)
    if doc is not None:
        line = doc.end_lineno - 1                          # drop anything after the docstring
        keep = lines[line].encode("utf-8")[:doc.end_col_offset].decode("utf-8")  # ast counts bytes
        return Span(line, stop, keep, " " * doc.col_offset, True)
    line, col = _header_colon(lines, node)
    if body[0].lineno - 1 == line:                         # def f(x): return x
        return Span(line, stop, lines[line][:col + 1], " " * (node.col_offset + 4), False)
    return Span(line + 1, stop, "", " " * body[0].col_offset, False)


def replace_bodies(source: str, bodies: dict[str, str], where: str = "source"):
    """(new source, removed): each named function's body replaced by bodies[name].

    bodies[name] is the new body without indentation (a docstring is added
    by the caller's text only if the function has none: see stub()).
    `removed` maps each name to the exact text taken out.
    """
    lines = source.splitlines(keepends=True)
    tree = ast.parse(source)
    spans = {name: body_span(lines, find(tree, name, where)) for name in bodies}
    removed = {}
    for name, span in sorted(spans.items(), key=lambda item: -item[1].start):
        old = "".join(lines[span.start:span.stop])
        removed[name] = old[len(span.keep):]
        new = bodies[name](span) if callable(bodies[name]) else bodies[name]
        text = span.keep + ("\n" if span.keep else "") + _indent(new, span.indent)
        lines[span.start:span.stop] = [text]
    return "".join(lines), removed


def _indent(text: str, indent: str) -> str:
    return "".join(indent + line if line.strip() else line
                   for line in text.splitlines(keepends=True))


def stub(number: int, qualname: str, title: str, task: str):
    """The body of an emptied exercise function: the task, then NotImplementedError."""
    message = f"Exercise {number}: {qualname} is not written yet ({title})"

    def body(span: Span) -> str:
        if span.has_docstring:
            intro = "".join(f"# {line}\n" if line else "#\n" for line in
                            [f"Exercise {number}: write this body.", *task.splitlines()])
        else:
            intro = f'"""Exercise {number}: {task.strip()}\n"""\n'
        return intro + f"raise NotImplementedError({message!r})\n"
    return body


def function_text(source: str, qualname: str, where: str = "source") -> str:
    """A function's full text, decorators included, as the source spells it."""
    lines = source.splitlines(keepends=True)
    node = find(ast.parse(source), qualname, where)
    first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
    stop = _trailing_comments(lines, node.end_lineno, node.col_offset)
    return "".join(lines[first:stop])
