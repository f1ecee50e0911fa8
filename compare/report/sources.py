"""The results the report reads: each one found, damaged, stale or missing.

The runs come from the run table (compare.table) and every result file is read
through compare.schema, the cache's own check: a file that fails it is
*damaged* (with the reason) and its numbers are not used; a file for the same
run from another configuration is *stale*. Nothing here writes or words
anything: an Entry says what was found and the command that produces it; the
templates say it to the reader.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import runs, schema, table
from ..runs import IMPL_CHOICES, read_result


@dataclass
class Entry:
    """One result the report needs: its data, or why there is none.

    status: "ok", "missing", "damaged" (the file fails compare.schema; note says why)
    or "stale" (a file of the same run from another configuration). Only an ok
    entry's numbers are used. `shown` is the file the current code expects, as the
    report names it; `command` produces it.
    """
    name: str
    shown: str
    command: str
    status: str = "missing"
    result: dict | None = None
    run: object = None                     # the runs.Run, for problems 2 and 3
    changed: list = field(default_factory=list)   # stale: "field: old → new"
    stale_file: str = ""
    mtime: float | None = None
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def folder(self) -> str:
        return self.shown.rsplit("/", 1)[0]


@dataclass
class Sources:
    """Every result the report reads, found under one results folder."""
    quick: bool
    impl: str
    problem1: Entry
    problem2: dict
    problem2_study: dict
    problem3: dict
    problem3_study: dict
    lockstep: Entry
    gradcheck: Entry
    bench: Entry
    # {run name: [its seed siblings' Entries, seed 1 first]}: what `make study` adds
    problem2_seeds: dict = field(default_factory=dict)
    problem3_seeds: dict = field(default_factory=dict)
    damaged: list = field(default_factory=list)   # [(path, why)] of every damaged result

    def entries(self) -> list[Entry]:
        seeds = [x for d in (self.problem2_seeds, self.problem3_seeds)
                 for sibs in d.values() for x in sibs]
        return [self.problem1, *self.problem2.values(), *self.problem2_study.values(),
                *self.problem3.values(), *self.problem3_study.values(), *seeds,
                self.lockstep, self.gradcheck, self.bench]


def make_command(target: str, quick: bool) -> str:
    return f"make {target}" + (" QUICK=1" if quick else "")


def compare_command(sub: str, quick: bool, *options: str) -> str:
    return " ".join(["compare", sub, *options] + (["--quick"] if quick else []))


def config_changes(old: dict, new: dict) -> list[str]:
    """The fields of two run dicts ({"config", "impl", "augment"}) that differ."""
    changes = []
    old_config, new_config = old.get("config") or {}, new.get("config") or {}
    for key in sorted(set(old_config) | set(new_config)):
        if old_config.get(key) != new_config.get(key):
            changes.append(f"{key}: {old_config.get(key, '—')} → {new_config.get(key, '—')}")
    for key in ("impl", "augment"):
        if (old.get(key) or None) != (new.get(key) or None):
            changes.append(f"{key}: {old.get(key) or '—'} → {new.get(key) or '—'}")
    return changes


def _stored(folder: Path) -> dict:
    """{name: [(path, run object)]} of every result file in folder that passes the schema."""
    out = {}
    for path in sorted(folder.glob("*.json")):
        result, _ = read_result(path, schema.run_result_problem)
        if result is not None:
            out.setdefault(result["name"], []).append((path, result["run"]))
    return out


def find_run(folder: Path, shown: str, run, command: str, index: dict) -> Entry:
    """The result of `run` in folder: ok, damaged, stale (the same run from another
    configuration) or missing. index: _stored(folder), computed once by the caller."""
    expected = runs.result_path(run, False).name
    entry = Entry(run.name, f"{shown}/{expected}", command, run=run)
    path = folder / expected
    result, why = read_result(
        path, lambda r: schema.run_result_problem(r, run.to_dict(), run.name))
    if result is not None:
        entry.status, entry.result, entry.mtime = "ok", result, path.stat().st_mtime
        return entry
    if why is not None:
        entry.status, entry.note = "damaged", why
        return entry
    if folder not in index:
        index[folder] = _stored(folder)
    found = index[folder].get(run.name, [])
    # The same run from the other implementation is not an older result of this run.
    mine = [(p, stored) for p, stored in found if stored.get("impl") == run.impl]
    if mine:
        newest, stored = max(mine, key=lambda item: item[0].stat().st_mtime)
        entry.status, entry.stale_file = "stale", f"{shown}/{newest.name}"
        entry.changed = config_changes(stored, run.to_dict())
    elif found:
        entry.note = "only the other implementation's result exists"
    return entry


def find_file(path: Path, shown: str, command: str) -> Entry:
    """A result without a config hash: ok if present and a JSON object, damaged if it
    cannot be read, else missing."""
    entry = Entry(path.stem, shown, command)
    result, why = read_result(path)
    if result is not None:
        entry.status, entry.result, entry.mtime = "ok", result, path.stat().st_mtime
    elif why is not None:
        entry.status, entry.note = "damaged", why
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


def collect(results: Path = runs.RESULTS, quick: bool = False, impl: str = "auto") -> Sources:
    """Find every result the report needs under `results` (its quick/ subfolder when quick)."""
    if impl not in IMPL_CHOICES:
        raise ValueError(f"impl={impl!r} is invalid: choose one of {', '.join(IMPL_CHOICES)}")
    folder = Path(results) / "quick" if quick else Path(results)
    shown = "results/quick" if quick else "results"
    impl_option = () if impl == "auto" else ("--impl", impl)
    every, index = table.table(quick, impl), {}

    def find(run):
        if run.seed:
            command = (make_command("study", quick) if not impl_option
                       else compare_command("problems", quick, *impl_option, "--study"))
        elif not run.study and not impl_option:
            command = make_command(run.folder, quick)
        else:
            command = compare_command(run.folder, quick, *impl_option,
                                      *(("--study",) if run.study else ()))
        return find_run(folder / run.folder, f"{shown}/{run.folder}", run, command, index)

    def problem(number, study):
        return {r.name: find(r) for r in every
                if r.problem == number and r.study == study and r.seed == 0}

    def seeds(number):
        """The seed siblings `make study` adds, grouped by the run they repeat."""
        grouped, zero = {}, {(r.part, r.variant, r.impl, r.study): r.name
                             for r in every if r.seed == 0}
        for run in (r for r in every if r.problem == number and r.seed):
            key = zero[run.part, run.variant, run.impl, run.study]
            grouped.setdefault(key, []).append(find(run))
        return grouped

    def check(name):
        return find_file(folder / "compare" / f"{name}.json", f"{shown}/compare/{name}.json",
                         compare_command(name, quick))

    src = Sources(
        quick=quick, impl=impl, problem1=find_problem1(folder, shown, quick),
        problem2=problem(2, False), problem2_study=problem(2, True),
        problem3=problem(3, False), problem3_study=problem(3, True),
        lockstep=check("lockstep"), gradcheck=check("gradcheck"),
        bench=find_file(folder / "bench.json", f"{shown}/bench.json",
                        compare_command("bench", quick)),
        problem2_seeds=seeds(2), problem3_seeds=seeds(3))
    src.damaged = [(e.shown, e.note) for e in src.entries() if e.status == "damaged"]
    return src
