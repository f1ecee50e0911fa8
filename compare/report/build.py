"""`compare report`: REPORT.md from results/ and figures/ (with --quick, REPORT.quick.md from
their quick/). Nothing is trained and torch is never imported."""
from __future__ import annotations

import shutil
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from scratchnet.atomic import NotWritable, check_writable, write_text_atomic

from .. import runs
from ..problem1.report import p1_sections
from ..problem2.report import p2_sections
from ..problem3.report import p3_sections
from ..runs import IMPL_CHOICES, IMPL_NAMES
from .anchors import ANCHORS, closest
from .render import Figures, Section, make_section, newest_mtime, render
from .sources import Sources, collect, make_command

# Which part of the plan a run belongs to in "About these numbers", by (problem, part).
PLAN_PARTS = {(2, "a"): "baselines", (2, "b"): "sweeps", (2, "c"): "sweeps", (3, "a"): "deep",
              (3, "b"): "deep", (2, "d"): "recipes", (3, "c"): "recipes"}


def checks_section(src: Sources, fig: Figures) -> Section:
    """The cross-checks of scratchnet against torchnet: lock-step training and gradients."""
    lock, grad = src.lockstep, src.gradcheck

    def facts():
        out = {"lock": lock.result, "grad": grad.result, "lockstep_command": lock.command,
               "gradcheck_command": grad.command}
        if lock.ok:
            out["worst"] = max(s["max"] for s in lock.result["settings"].values())
            out["figure"] = fig("compare/lockstep.png", [lock])
        if grad.ok:
            rows = grad.result["rows"]
            out.update({k: max(x[k] for x in rows) for k in ("autograd", "finite_differences")},
                       failed=[x["case"] for x in rows if not x["ok"]])
        return out
    return make_section("checks", "checks", [lock, grad], facts)


def machine_words(m: dict) -> str:
    """A machine record in words, without host names or paths."""
    words = [f"{(m.get('platform') or 'unknown').split('-')[0]} {m.get('processor', '')}".strip()]
    words += [form.format(m[k]) for k, form in (
        ("cpus", "{} CPUs"), ("cuda", "GPU {}"), ("python", "Python {}"), ("numpy", "NumPy {}"),
        ("torch", "torch {}")) if m.get(k)]
    if threads := m.get("torch_threads"):
        words.append(f"{threads:,} torch thread" + ("" if threads == 1 else "s"))
    return ", ".join(words)


def about(src: Sources, sections: list[Section]) -> dict:
    """The facts of "About these numbers": what was run, when, where, how long it took."""
    used = [e for e in src.entries() if e.ok]
    newest, kinds = newest_mtime(used), {}
    for r in src.runs:
        kinds.setdefault(PLAN_PARTS[r.problem, r.part], set()).add(
            (IMPL_NAMES[r.impl], r.config.dtype))
    chosen = [e.run for e in (*src.of(2, "d").values(), *src.of(3, "c").values())]
    seeds = [e for e in src.runs.values() if e.run.seed]
    walls = [e.result.get("wall_seconds", e.result.get("seconds")) for e in used
             if e.run is not None or e is src.problem1]
    walls = [w for w in walls if isinstance(w, (int, float))]
    return {"quick": src.quick, "sections": sections,
            "trained": [(p, sorted(kinds[p])) for p in dict.fromkeys(PLAN_PARTS.values())
                        if p in kinds],
            "anchors": [a for a in ANCHORS if a.key in {
                closest(r.config.to_dict(), dict(r.augment)).key for r in chosen}],
            "seeds": {"planned": len(seeds), "found": sum(x.ok for x in seeds),
                      "command": seeds[0].command if seeds else make_command("study", src.quick)},
            "when": newest and datetime.fromtimestamp(newest, timezone.utc).strftime(
                "%Y-%m-%d %H:%M UTC"),
            "machines": Counter(machine_words(e.result["machine"]) for e in used
                                if isinstance(e.result.get("machine"), dict)).most_common(),
            "devices": sorted({str(e.result["device"]) for e in used if e.result.get("device")}),
            "wall": {"runs": len(walls), "seconds": sum(walls)} if walls else None}


@dataclass
class Report:
    """The report's text, its sections' status, and the figures to copy beside it."""
    text: str
    sections: list
    copies: list

    def summary(self) -> str:
        """'all sections complete', or how many are, and which are not, by status."""
        done = sum(s.status == "complete" for s in self.sections)
        text = "all sections complete" if done == len(self.sections) \
            else f"{done} of {len(self.sections)} sections complete"
        for status in ("partial", "stale", "missing", "damaged", "unreadable"):
            if names := [s.key for s in self.sections if s.status == status]:
                text += f"; {status}: {', '.join(names)}"
        return text


def build(src: Sources, figures: Path = runs.FIGURES, out: Path = Path("REPORT.md")) -> Report:
    """The report for a file at `out`: figures linked in place when `figures` sits beside it,
    else copied to <out's folder>/figures/."""
    beside = Path(out).parent / "figures"
    in_place = Path(figures).resolve() == beside.resolve()
    fig = Figures(figures, src.quick, None if in_place else beside)
    sections = (p1_sections(src, fig) + p2_sections(src, fig) + p3_sections(src, fig)
                + [checks_section(src, fig)])
    return Report(render("report.md.j2", **about(src, sections)), sections, fig.copies)


def write(report: Report, out: Path) -> Path:
    """Copy the report's figures beside it, then write it atomically."""
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
