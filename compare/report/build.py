"""`compare report`: REPORT.md, answering every question of Homework 7 from results/ and figures/.

Nothing is trained and torch is never imported. The report reads the result
files the problems wrote, checks each against the run the current code would
make (a result stored under the same run name but another config hash is
*stale*; no file at all is *missing*), and writes one section per homework
question. Every number in the text is read from a result file, and every
comparison in the prose (which rate is best, which method is faster, whether a
target was met) is computed from those numbers, so the sentences stay true
whatever the numbers turn out to be. A missing or stale result is named with
the command that produces it, and its section says so instead of guessing.

    compare report                       REPORT.md at the root, figures linked in place
    compare report --out docs/REPORT.md  figures copied to docs/figures/: self-contained
    compare report --quick               from results/quick and figures/quick

The library part (collect, build, write, generate) never prints; the click
command at the bottom prints a one-line summary.

The sections are written by report_problem1, report_problem2, report_problem3
and report_checks, from the building blocks in report_base; this module finds
the results, writes the header and puts the report together.
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import click

from scratchnet.atomic import write_text_atomic

from .. import runs
from ..checks.report import checks_section, timings_section
from ..problem1.report import p1_sections
from ..problem2 import experiment as problem2
from ..problem2.report import p2_sections
from ..problem3 import experiment as problem3
from ..problem3.report import p3_sections
from ..runs import IMPLS
from .base import (Entry, Figures, Section, Sources, compare_command, config_changes,
                          config_of, machine_words, make_command, newest_mtime, plural, table)

_HASHED = re.compile(r"^(?P<name>.+)-(?P<hash>[0-9a-f]{8})\.json$")


# ================================================================ finding the results
def _load(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def find_run(folder: Path, shown: str, run, command: str) -> Entry:
    """The result of `run` in folder: ok, stale (same name, other hash) or missing."""
    expected = folder / f"{run.name}-{run.short_hash()}.json"
    entry = Entry(run.name, f"{shown}/{expected.name}", command, run=run)
    result = _load(expected)
    if result is not None:
        entry.status, entry.result, entry.mtime = "ok", result, expected.stat().st_mtime
        return entry
    others = {}
    for path in folder.glob("*.json"):
        if (m := _HASHED.match(path.name)) and m["name"] == run.name:
            old = _load(path) or {}
            others[path] = old.get("run") or {"config": old.get("config")}
    # The same name from the other implementation is not an older result of this run.
    mine = [p for p, stored in others.items() if stored.get("impl", run.impl) == run.impl]
    if mine:
        newest = max(mine, key=lambda p: p.stat().st_mtime)
        entry.status, entry.stale_file = "stale", f"{shown}/{newest.name}"
        entry.changed = config_changes(others[newest], run.to_dict())
    elif others:
        entry.note = "only the other implementation's result exists"
    return entry


def find_file(path: Path, shown: str, command: str) -> Entry:
    """A result without a config hash: ok if present and readable, else missing."""
    entry = Entry(path.stem, shown, command)
    result = _load(path)
    if result is not None:
        entry.status, entry.result, entry.mtime = "ok", result, path.stat().st_mtime
    return entry


def find_problem1(folder: Path, shown: str, quick: bool) -> Entry:
    """results/problem1.json, stale when its hash is not the current config's."""
    from ..problem1 import experiment as problem1

    config = problem1.QUICK if quick else problem1.Problem1Config()
    entry = find_file(folder / "problem1.json", f"{shown}/problem1.json",
                      make_command("problem1", quick))
    if entry.ok and entry.result.get("hash") != config.short_hash():
        old = entry.result
        entry.status, entry.result, entry.stale_file = "stale", None, entry.shown
        entry.changed = config_changes({"config": old.get("config")},
                                       {"config": config.to_dict()})
    return entry


def collect(results: Path = runs.RESULTS, quick: bool = False, impl: str = "torch") -> Sources:
    """Find every result the report needs under `results` (its quick/ subfolder when quick)."""
    if impl not in IMPLS:
        raise ValueError(f"impl={impl!r} is invalid: choose one of {', '.join(IMPLS)}")
    folder = Path(results) / "quick" if quick else Path(results)
    shown = "results/quick" if quick else "results"
    impl_option = () if impl == "torch" else ("--impl", impl)

    def problem(module, todo, *options):
        plain = not options and not impl_option
        command = (make_command(module.PROBLEM, quick) if plain
                   else compare_command(module.PROBLEM, quick, *impl_option, *options))
        sub = folder / module.PROBLEM
        return {run.name: find_run(sub, f"{shown}/{module.PROBLEM}", run, command)
                for run in todo}

    return Sources(
        quick=quick, impl=impl,
        problem1=find_problem1(folder, shown, quick),
        problem2=problem(problem2, problem2.plan(quick, impl)),
        problem2_study=problem(problem2, problem2.study_plan(quick, impl), "--study"),
        problem3=problem(problem3, problem3.plan(quick, impl)),
        problem3_study=problem(problem3, problem3.study_plan(quick, impl), "--study"),
        lockstep=find_file(folder / "compare" / "lockstep.json", f"{shown}/compare/lockstep.json",
                           compare_command("lockstep", quick)),
        gradcheck=find_file(folder / "compare" / "gradcheck.json",
                            f"{shown}/compare/gradcheck.json",
                            compare_command("gradcheck", quick)),
        bench=find_file(folder / "bench.json", f"{shown}/bench.json",
                        compare_command("bench", quick)),
    )


# ================================================================ the header
def header(src: Sources, sections: list[Section]) -> list[str]:
    used = [e for e in src.entries() if e.ok]
    newest = newest_mtime(used)
    when = (datetime.fromtimestamp(newest, timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
            if newest else None)
    machines: dict[str, int] = {}
    devices = set()
    for e in used:
        m = e.result.get("machine")
        if isinstance(m, dict):
            words = machine_words(m)
            machines[words] = machines.get(words, 0) + 1
        if e.result.get("device"):
            devices.add(str(e.result["device"]))
    lines = ["# Homework 7, reproduced: the report", "",
             "Generated by `compare report` from the files under `results/` and `figures/`. "
             "Every number below is read from a results file; a result that is missing or was "
             "produced by an older configuration is named, with the command that produces it, "
             "and is not used.", ""]
    sizes = {(config_of(e.result).get("train_subset"), config_of(e.result).get("epochs"))
             for e in used if e.run is not None}
    if src.quick and len(sizes) == 1 and None not in next(iter(sizes)):
        subset, epochs = next(iter(sizes))
        scale = f"the first {subset:,} training images, {plural(epochs, 'epoch')}"
    else:
        scale = "a small training subset, short training"
    kind = (f"**quick smoke runs** ({scale}): they test the pipeline, and their numbers are "
            "not comparable with the homework's" if src.quick
            else "**full runs** at the homework's specification")
    lines.append(f"- **What:** {kind}; sweeps and recipes trained by "
                 f"{'torchnet' if src.impl == 'torch' else 'scratchnet'}.")
    lines.append(f"- **When:** {when} (the newest result file)." if when
                 else "- **When:** no results yet.")
    if machines:
        where = "; ".join(f"{w} ({n} result{'s' if n != 1 else ''})"
                          for w, n in sorted(machines.items(), key=lambda x: -x[1]))
        lines.append(f"- **Where:** {where}; devices: {', '.join(sorted(devices)) or 'cpu'}.")
    done = sum(s.status == "complete" for s in sections)
    lines += [f"- **Complete:** {done} of {len(sections)} sections.", ""]
    lines += table(("section", "status"),
                   [(f"[{s.title}](#{s.key})", s.status if s.status == "complete"
                     else f"**{s.status}**") for s in sections])
    return lines


# ================================================================ building and writing
@dataclass
class Report:
    """The report's text, its sections' status, and the figures to copy beside it."""
    text: str
    sections: list
    copies: list

    def summary(self) -> str:
        done = [s for s in self.sections if s.status == "complete"]
        text = f"{len(done)} of {len(self.sections)} sections complete"
        for status in ("partial", "stale", "missing", "unreadable"):
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
                + [checks_section(src, fig), timings_section(src)])
    lines = header(src, sections)
    for s in sections:
        status = "" if s.status == "complete" else f" — *{s.status}*"
        lines += [f'<a id="{s.key}"></a>', "", f"## {s.title}{status}", ""]
        if s.status in ("missing", "stale") and not s.lines:
            lines += ["Not available yet.", ""]
        lines += s.lines
    text = "\n".join(lines).rstrip() + "\n"
    return Report(text, sections, fig.copies)


def write(report: Report, out: Path) -> Path:
    """Write the report atomically and copy its figures beside it."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    for source, destination in report.copies:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, destination)
    return write_text_atomic(out, report.text)     # unique temporary, fsync, rename


def generate(out: Path = Path("REPORT.md"), results: Path = runs.RESULTS,
             figures: Path = runs.FIGURES, quick: bool = False, impl: str = "torch") -> Report:
    """Collect, build and write the report; return it (for its summary)."""
    report = build(collect(results, quick, impl), figures, out)
    write(report, out)
    return report


# ================================================================ command line
@click.command()
@click.option("--quick", is_flag=True, help="Report the quick smoke runs (results/quick, "
              "figures/quick); also QUICK=1. Default: off.")
@click.option("--out", type=click.Path(dir_okay=False), default="REPORT.md", show_default=True,
              help="Where to write the report. Outside the project root (e.g. docs/REPORT.md) "
              "the figures are copied beside it, so the report is self-contained.")
@click.option("--impl", type=click.Choice(IMPLS), default="torch", show_default=True,
              help="Implementation whose sweeps and recipes to report (as given to "
              "`compare problem2/problem3 --impl`).")
@click.option("--results", "results", type=click.Path(file_okay=False), default="results",
              show_default=True, help="Results folder to read.")
@click.option("--figures", "figures", type=click.Path(file_okay=False), default="figures",
              show_default=True, help="Figures folder to link or copy from.")
@click.option("--quiet", is_flag=True, help="Print nothing. Default: off.")
def command(quick, out, impl, results, figures, quiet):
    """REPORT.md from results/ and figures/: every homework question, answered from the data."""
    quick = runs.quick_mode(quick)
    report = generate(Path(out), Path(results), Path(figures), quick, impl)
    if not quiet:
        click.echo(f"wrote {out}: {report.summary()}")
