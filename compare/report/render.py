"""The report's words: Jinja templates (templates/*.md.j2), the filters they format numbers
with, and the two things every section has, its status and its figures.

A section is a key, the template ("room") whose macro of that name writes it,
the results it needs and the facts its Python computed from them. The
templates only choose and word sentences; a fact they ask for that is not
there is an error (StrictUndefined), never an empty string.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from . import stats

FIGURE_SLACK_S = 60   # a figure drawn just before its results were saved is not outdated


# ================================================================ filters
def fmt(x, spec: str = "") -> str:
    """format(x, spec), or '—' for a number that is not there."""
    return "—" if x is None else format(x, spec)


def para(text: str) -> str:
    """A paragraph written over several template lines, as one line (with its newline)."""
    return re.sub(r"[ \t\n]+", " ", text).strip() + "\n"


def spread_words(s) -> str:
    """A stats.Spread of accuracies: "96.83 ± 0.11% (5 seeds)", or one seed's "96.71%"."""
    if s is None:
        return "—"
    if s.n < 2:
        return f"{100 * s.mean:.2f}%"
    return f"{100 * s.mean:.2f} ± {100 * s.sd:.2f}% ({s.n} seeds)"


def inline(s) -> str:
    """A Spread inside parentheses: "96.83 ± 0.11%, 5 seeds", or "96.71%, one seed"."""
    return f"{100 * s.mean:.2f}%, one seed" if s.n < 2 else \
        f"{100 * s.mean:.2f} ± {100 * s.sd:.2f}%, {s.n} seeds"


def versus(a_name: str, a, b_name: str, b, numbers: bool = True) -> str:
    """The one wording of an order between two accuracies (stats.order decides it):
    a clause naming both, with a's number unless numbers=False (said just before).
    b: a Spread, or a published number."""
    b_words = inline(b) if isinstance(b, stats.Spread) else f"{100 * b:.4g}%"
    a_text = f"{a_name} ({inline(a)})" if numbers else a_name
    b_text = f"{b_name} ({b_words})"
    verdict = stats.order(a, b)
    if verdict == "tie":
        return f"{a_text} and {b_text} are a tie within noise"
    if verdict == "close":
        return f"{a_text} and {b_text} are too close to call with one seed"
    side = "above" if verdict == "higher" else "below"
    how = "beyond noise" if stats.seeded(a, b) else "by more than the one-seed margin"
    return f"{a_text} is {side} {b_text}, {how}"


AUGMENT_WORDS = {"max_shift": "shifts ±{:g} px", "max_rotation": "rotations ±{:g}°",
                 "max_scale": "scaling ±{:.0%}", "elastic_alpha": "elastic α = {:g}"}


def augment_words(augment: dict) -> str:
    """On-the-fly augmentation in a few words: "augmented (shifts ±2 px, elastic α = 24)"."""
    words = [AUGMENT_WORDS[k].format(v) for k, v in sorted(augment.items())
             if v and k in AUGMENT_WORDS]
    return f"augmented ({', '.join(words)})"


FILTERS = {
    "fmt": fmt, "para": para,
    "sci": lambda x: fmt(x, ".1e"),
    "num": lambda n: fmt(n, ","),                                        # 1,234
    "pct": lambda x, digits=2: "—" if x is None else f"{100 * x:.{digits}f}%",
    "pts": lambda d: f"{100 * abs(d):.2f} percentage points",            # |a − b| of accuracies
    "minutes": lambda s: "—" if s is None else f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min",
    "plural": lambda n, word: f"{n:,} {word}{'' if n == 1 else 's'}",
    "cap": lambda text: text[:1].upper() + text[1:],                     # first letter only
    "magnitude": lambda x: f"{abs(math.log10(x)):.1f} orders of magnitude",
    "spread": spread_words, "augment_words": augment_words,
}
ENV = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).with_name("templates")),
    undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False,
    trim_blocks=True, lstrip_blocks=True)
ENV.filters.update(FILTERS)
ENV.globals.update(versus=versus, one_seed_margin=stats.ONE_SEED_MARGIN)


def render(template: str, **facts) -> str:
    """A template rendered, with blank lines as Markdown wants them: one between blocks."""
    text = ENV.get_template(template).render(**facts)
    return re.sub(r"\n{3,}", "\n\n", re.sub(r"[ \t]+\n", "\n", text)).strip() + "\n"


# ================================================================ figures
class Figures:
    """Facts about figures/<problem>/<name>.png for the report's image links.

    The links always read figures/<problem>/<name>.png: either the figures
    folder sits beside the report (REPORT.md at the project root), or, with
    copy=True, the linked figures are to be copied into <report folder>/figures/
    so a report elsewhere (docs/REPORT.md) is self-contained. `copies` lists
    (source, destination) pairs for write() to copy.
    """

    def __init__(self, root: Path, quick: bool, report_dir: Path, copy: bool):
        self.root, self.report_dir = Path(root), Path(report_dir)
        self.quick, self.copy = quick, copy
        self.copies: list[tuple[Path, Path]] = []

    def __call__(self, rel: str, command: str, newer_than: float | None = None) -> dict:
        """Whether the figure is drawn, and older than the results it shows."""
        rel = ("quick/" if self.quick else "") + rel
        source = self.root / rel
        drawn = source.exists()
        if drawn and self.copy:
            self.copies.append((source, self.report_dir / "figures" / rel))
        outdated = (drawn and newer_than is not None
                    and source.stat().st_mtime < newer_than - FIGURE_SLACK_S)
        return {"path": f"figures/{rel}", "drawn": drawn, "outdated": outdated,
                "command": command}


# ================================================================ sections
@dataclass
class Section:
    """One section: its status, the results it lacks and the facts its template words."""
    key: str
    room: str                      # the template: problem1, problem2, problem3, checks
    entries: list
    status: str = "complete"       # complete | partial | missing | stale | unreadable
    facts: dict = field(default_factory=dict)
    error: str = ""                # unreadable: the exception, as "KeyError: 'history'"

    @property
    def lacking(self) -> list:
        return [e for e in self.entries if not e.ok]

    @property
    def one_command(self) -> bool:
        """Every result it lacks is simply not run yet, by one command."""
        bad = self.lacking
        return (all(e.status == "missing" and not e.note for e in bad)
                and len({e.command for e in bad}) == 1)


def status_of(entries) -> str:
    if all(e.ok for e in entries):
        return "complete"
    if any(e.ok for e in entries):
        return "partial"
    bad = {e.status for e in entries}
    return next((s for s in ("stale", "damaged") if s in bad), "missing")


def newest_mtime(entries) -> float | None:
    found = [e.mtime for e in entries if e.ok and e.mtime is not None]
    return max(found) if found else None


def make_section(key: str, room: str, entries, facts) -> Section:
    """A section whose facts() runs if any result it needs is there."""
    section = Section(key, room, list(entries))
    section.status = status_of(section.entries)
    if section.status in ("complete", "partial"):
        try:
            section.facts = facts()
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as err:
            # A producer changed its format: say so here rather than fail the whole report.
            section.status, section.error = "unreadable", f"{type(err).__name__}: {err}"
    return section
