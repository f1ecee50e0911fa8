"""docs/side-by-side.md stays honest: every code excerpt it quotes is still in its file.

Each fenced block of the tour is one of:
- a quote, preceded by `<!-- from: path/in/the/repo.py -->` (or, without a marker,
  by a Markdown link to the file, the nearest one above it): its lines must
  appear in that file as consecutive lines, equal up to leading and trailing
  spaces (an excerpt from inside a method loses its indentation);
- shell commands or an illustration, marked `<!-- shell -->` or
  `<!-- illustrative -->` just above it: not checked.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "side-by-side.md"
MARKER = re.compile(r"<!--\s*(from:\s*(?P<path>\S+)|shell|illustrative)\s*-->")
LINK = re.compile(r"\]\((\.\./[^)#\s]+)\)")


def blocks(text: str):
    """(line number, source path or None to skip, [lines]) for each fenced block."""
    lines = text.splitlines()
    found, i, link = [], 0, None
    while i < len(lines):
        line = lines[i]
        for target in LINK.findall(line):
            link = (DOC.parent / target).resolve().relative_to(ROOT).as_posix()
        if not line.startswith("```"):
            i += 1
            continue
        end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
        above = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        marker = MARKER.search(above)
        if marker:
            source = marker.group("path")
        else:
            source = link
        found.append((i + 1, source, marker is not None and source is None, lines[i + 1:end]))
        i = end + 1
    return found


def appears_in(excerpt: list[str], source: list[str]) -> bool:
    """Whether the excerpt's lines are consecutive lines of source, ignoring edge spaces."""
    want = [line.strip() for line in excerpt]
    have = [line.strip() for line in source]
    return any(have[k:k + len(want)] == want for k in range(len(have) - len(want) + 1))


BLOCKS = blocks(DOC.read_text(encoding="utf-8"))


def test_the_tour_has_quotes_and_every_block_is_accounted_for():
    quoted = [b for b in BLOCKS if not b[2]]
    assert len(quoted) >= 20
    for line, source, skipped, _ in BLOCKS:
        assert skipped or source is not None, f"line {line}: a block with no source or marker"


@pytest.mark.parametrize("line, source, skipped, excerpt",
                         [b for b in BLOCKS if not b[2]], ids=lambda v: str(v)
                         if isinstance(v, int) else None)
def test_every_quote_is_still_in_its_file(line, source, skipped, excerpt):
    path = ROOT / source
    assert path.is_file(), f"docs/side-by-side.md line {line}: {source} does not exist"
    assert appears_in(excerpt, path.read_text(encoding="utf-8").splitlines()), (
        f"docs/side-by-side.md line {line}: this excerpt is no longer in {source}:\n"
        + "\n".join(excerpt))


def test_the_check_itself():
    source = ["def f():", "    a = 1", "", "    return a"]
    assert appears_in(["a = 1", "", "return a"], source)
    assert not appears_in(["a = 1", "return a"], source)
    text = ("see [x](../scratchnet/train.py)\n\n```python\nx\n```\n\n<!-- shell -->\n```\nls\n```\n"
            "<!-- from: torchnet/train.py -->\n```python\ny\n```\n")
    assert [(s, skip) for _, s, skip, _ in blocks(text)] == [
        ("scratchnet/train.py", False), (None, True), ("torchnet/train.py", False)]
