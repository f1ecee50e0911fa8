"""`compare report`: REPORT.md, answering every question of Homework 7 from results/ and figures/.

Nothing is trained and torch is never imported. Every number in the text is read
from a result file (sources.py finds them; a missing, stale or damaged one is
named with the command that produces it), every order between two results is
decided by stats.order, and the words are in templates/ (see report.md.j2).

    compare report                       REPORT.md at the root, figures linked in place
    compare report --out docs/REPORT.md  figures copied to docs/figures/: self-contained
    compare report --quick               REPORT.quick.md from results/quick, figures/quick

The library part (build, write, generate) never prints; the click command at the
bottom prints a one-line summary.
"""
from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from scratchnet.atomic import NotWritable, check_writable, write_text_atomic

from .. import runs
from ..checks.report import checks_section
from ..problem1.report import p1_sections
from ..problem2.report import p2_sections
from ..problem3.report import p3_sections
from ..runs import IMPL_CHOICES, IMPL_NAMES
from .anchors import ANCHORS, closest
from .facts import machine, of_part
from .render import Figures, Section, newest_mtime, render
from .sources import Sources, collect, make_command


def trained(src: Sources) -> list[dict]:
    """Which implementation trains each part of the plan (in which precision): the plan's
    runs say so, whether or not they have been trained yet."""
    parts = (("baselines", of_part(src.problem2, "a")),
             ("sweeps", of_part(src.problem2, "b", "c")),
             ("deep", of_part(src.problem3, "a", "b")),
             ("recipes", {**of_part(src.problem2, "d"), **of_part(src.problem3, "c"),
                          **src.problem2_study, **src.problem3_study}))
    out = []
    for part, entries in parts:
        kinds = sorted({(IMPL_NAMES[e.run.impl], e.run.config.dtype) for e in entries.values()})
        if kinds:
            out.append({"part": part, "impls": [{"impl": i, "dtype": d} for i, d in kinds]})
    return out


def used_anchors(src: Sources) -> list:
    """The published results the report sets its recipes beside (anchors.closest of each)."""
    runs = [e for p in ((src.problem2, "d"), (src.problem3, "c"))
            for e in of_part(*p).values()]
    used = {closest(e.run.config.to_dict(), dict(e.run.augment)).key for e in runs}
    return [a for a in ANCHORS if a.key in used]


def about(src: Sources, sections: list[Section]) -> dict:
    """The facts of "About these numbers": what was run, when, where, how long it took."""
    used = [e for e in src.entries() if e.ok]
    newest = newest_mtime(used)
    machines: dict[tuple, list] = {}
    for e in used:
        if isinstance(m := e.result.get("machine"), dict):
            facts = machine(m)
            machines.setdefault(tuple(facts.values()), [facts, 0])[1] += 1
    seeds = [x for d in (src.problem2_seeds, src.problem3_seeds) for s in d.values() for x in s]
    walls = [e.result.get("wall_seconds", e.result.get("seconds")) for e in used
             if e.run is not None or e is src.problem1]
    walls = [w for w in walls if isinstance(w, (int, float))]
    return {"quick": src.quick, "trained": trained(src), "anchors": used_anchors(src),
            "seeds": {"planned": len(seeds), "found": sum(x.ok for x in seeds),
                      "command": seeds[0].command if seeds else make_command("study", src.quick)},
            "when": datetime.fromtimestamp(newest, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            if newest else None,
            "machines": sorted(machines.values(), key=lambda x: -x[1]),
            "devices": sorted({str(e.result["device"]) for e in used if e.result.get("device")}),
            "wall": {"runs": len(walls), "seconds": sum(walls)} if walls else None,
            "done": sum(s.status == "complete" for s in sections),
            "total": len(sections)}


@dataclass
class Report:
    """The report's text, its sections' status, and the figures to copy beside it."""
    text: str
    sections: list
    copies: list

    def summary(self) -> str:
        """'all sections complete', or how many are, and which are not, by status.

        An optional section that was not run (the timings) does not count against it.
        """
        counted = [s for s in self.sections if s.status != "optional"]
        done = sum(s.status == "complete" for s in counted)
        text = ("all sections complete" if done == len(counted)
                else f"{done} of {len(counted)} sections complete")
        for status in ("partial", "stale", "missing", "unreadable", "optional"):
            names = [s.key for s in self.sections if s.status == status]
            if names:
                text += f"; {status}: {', '.join(names)}"
        return text


def build(src: Sources, figures: Path = runs.FIGURES, out: Path = Path("REPORT.md")) -> Report:
    """The report as markdown, for a file at `out` (figure links are relative to it).

    Figures are linked where they are when `figures` sits beside the report
    (REPORT.md at the project root); otherwise they are to be copied into
    <out's folder>/figures/ so the report is self-contained.
    """
    out = Path(out)
    copy = Path(figures).resolve() != (out.parent / "figures").resolve()
    fig = Figures(figures, src.quick, out.parent, copy)
    sections = (p1_sections(src, fig) + p2_sections(src, fig) + p3_sections(src, fig)
                + [checks_section(src, fig)])
    text = render("report.md.j2", sections=sections, **about(src, sections))
    return Report(text, sections, fig.copies)


def write(report: Report, out: Path) -> Path:
    """Copy the report's figures beside it, then write it atomically (a unique temporary
    file in out's folder, renamed over out; removed if anything fails)."""
    for source, destination in report.copies:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    return write_text_atomic(out, report.text)


def generate(out: Path = Path("REPORT.md"), results: Path = runs.RESULTS,
             figures: Path = runs.FIGURES, quick: bool = False, impl: str = "auto") -> Report:
    """Collect, build and write the report; return it (for its summary)."""
    report = build(collect(results, quick, impl), figures, out)
    write(report, out)
    return report


# ================================================================ command line

@click.command()
@click.option("--quick", is_flag=True, help="Report the quick smoke runs (results/quick, "
              "figures/quick); also QUICK=1. Default: off.")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="Where to write the report. Default: REPORT.md, or REPORT.quick.md with "
              "--quick (a smoke run never overwrites the real report). Outside the project "
              "root (e.g. docs/REPORT.md) the figures are copied beside it, so the report is "
              "self-contained.")
@click.option("--impl", type=click.Choice(IMPL_CHOICES), default="auto", show_default=True,
              help="Implementation whose sweeps and recipes to report (as given to "
              "`compare problems/problem2/problem3 --impl`).")
@click.option("--results", "results", type=click.Path(exists=True, file_okay=False),
              default="results", show_default=True, help="Results folder to read (it must "
              "exist: a report of nothing would replace a good one).")
@click.option("--figures", "figures", type=click.Path(file_okay=False), default="figures",
              show_default=True, help="Figures folder to link or copy from.")
@click.option("--quiet", is_flag=True, help="Print nothing. Default: off.")
def command(quick, out, impl, results, figures, quiet):
    """REPORT.md from results/ and figures/: every homework question, answered from the data."""
    quick = runs.quick_mode(quick)
    out = Path(out or ("REPORT.quick.md" if quick else "REPORT.md"))
    try:
        check_writable(out)                 # before any work: say so now, not after it
    except NotWritable as err:
        raise click.BadParameter(f"{out}: {err}", param_hint="'--out'") from None
    report = generate(out, Path(results), Path(figures), quick, impl)
    if not quiet:
        click.echo(f"wrote {out}: {report.summary()}")
