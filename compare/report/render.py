"""The report's words: the Jinja templates (templates/*.md.j2), the filters they format numbers
with, `versus` (the one wording of an order), and each section's status and figures. A fact a
template asks for that is not there is an error (StrictUndefined), never an empty string."""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from . import stats

FIGURE_SLACK_S = 60   # a figure drawn just before its results were saved is not outdated
AUGMENT_WORDS = {"max_shift": "shifts ±{:g} px", "max_rotation": "rotations ±{:g}°",
                 "max_scale": "scaling ±{:.0%}", "elastic_alpha": "elastic α = {:g}"}


def fmt(x, spec: str = "") -> str:
    """format(x, spec), or '—' for a number that is not there."""
    return "—" if x is None else format(x, spec)


def spread_words(s, inline: bool = False) -> str:
    """A Spread of accuracies: "96.83 ± 0.11% (5 seeds)" or "96.71%"; inline (in parentheses):
    "96.83 ± 0.11%, 5 seeds" or "96.71%, one seed"."""
    if s is None:
        return "—"
    if s.n < 2:
        return f"{100 * s.mean:.2f}%" + (", one seed" if inline else "")
    seeds = f", {s.n} seeds" if inline else f" ({s.n} seeds)"
    return f"{100 * s.mean:.2f} ± {100 * s.sd:.2f}%{seeds}"


def versus(a_name: str, a, b_name: str, b, numbers: bool = True) -> str:
    """An order between two accuracies as stats.order decides it: a clause naming both, with
    a's number unless numbers=False. b: a Spread, or a published number."""
    b_words = spread_words(b, True) if isinstance(b, stats.Spread) else f"{100 * b:.4g}%"
    a_text = f"{a_name} ({spread_words(a, True)})" if numbers else a_name
    b_text, verdict = f"{b_name} ({b_words})", stats.order(a, b)
    if verdict == "tie":
        return f"{a_text} and {b_text} are a tie within noise"
    if verdict == "close":
        return f"{a_text} and {b_text} are too close to call with one seed"
    how = "beyond noise" if stats.seeded(a, b) else "by more than the one-seed margin"
    return f"{a_text} is {'above' if verdict == 'higher' else 'below'} {b_text}, {how}"


FILTERS = {
    "fmt": fmt, "spread": spread_words,
    "para": lambda text: re.sub(r"[ \t\n]+", " ", text).strip() + "\n",   # one line
    "sci": lambda x: fmt(x, ".1e"),
    "num": lambda n: fmt(n, ","),                                        # 1,234
    "pct": lambda x, digits=2: "—" if x is None else f"{100 * x:.{digits}f}%",
    "pts": lambda d: f"{100 * abs(d):.2f} percentage points",            # |a − b| of accuracies
    "minutes": lambda s: "—" if s is None else f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min",
    "plural": lambda n, word: f"{n:,} {word}{'' if n == 1 else 's'}",
    "cap": lambda text: text[:1].upper() + text[1:],                     # first letter only
    "magnitude": lambda x: f"{abs(math.log10(x)):.1f} orders of magnitude",
    "augment_words": lambda augment: "augmented ({})".format(", ".join(
        AUGMENT_WORDS[k].format(v) for k, v in sorted(augment.items())
        if v and k in AUGMENT_WORDS)),
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


@dataclass
class Figures:
    """figures/[quick/]<problem>/<name>.png for the report's links: with copy_to (the folder
    figures/ beside the report), each drawn one is listed in copies, to be copied there."""
    root: Path
    quick: bool
    copy_to: Path | None
    copies: list = field(default_factory=list)

    def __call__(self, rel: str, entries, command: str | None = None) -> dict:
        """Whether the figure is drawn, and whether it is older than the results (entries) it
        shows; command (default: the first entry's) draws it."""
        rel, entries = ("quick/" if self.quick else "") + rel, list(entries)
        source, newest = Path(self.root) / rel, newest_mtime(entries)
        drawn = source.exists()
        if drawn and self.copy_to:
            self.copies.append((source, self.copy_to / rel))
        outdated = drawn and newest is not None and source.stat().st_mtime < newest - FIGURE_SLACK_S
        return {"path": f"figures/{rel}", "drawn": drawn, "outdated": outdated,
                "command": command or entries[0].command}


@dataclass
class Section:
    """One section: its key (its macro's name), template, results, status and facts."""
    key: str
    room: str                      # its template: problem1, problem2, problem3; checks: macros
    entries: list
    status: str = "complete"       # complete, partial, missing, stale, damaged or unreadable
    facts: dict = field(default_factory=dict)
    error: str = ""                # unreadable: the exception, as "KeyError: 'history'"

    @property
    def lacking(self) -> list:
        return [e for e in self.entries if not e.ok]


def newest_mtime(entries) -> float | None:
    return max((e.mtime for e in entries if e.ok and e.mtime is not None), default=None)


def make_section(key: str, room: str, entries, facts) -> Section:
    """A section whose facts() are computed if any result it needs is there."""
    s = Section(key, room, list(entries))
    ok, bad = [e.ok for e in s.entries], {e.status for e in s.lacking}
    s.status = ("complete" if all(ok) else "partial" if any(ok)
                else next((x for x in ("stale", "damaged") if x in bad), "missing"))
    if s.status in ("complete", "partial"):
        try:
            s.facts = facts()
        except (KeyError, TypeError, ValueError, IndexError, ZeroDivisionError) as err:
            # A producer changed its format: say so here rather than fail the whole report.
            s.status, s.error = "unreadable", f"{type(err).__name__}: {err}"
    return s
