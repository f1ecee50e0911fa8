"""The results the report reads: each one found, stale (an older configuration's file) or missing.

Nothing here writes or words anything: an Entry says what was found and the
command that produces it; the templates say it to the reader.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .. import runs
from ..problem2 import experiment as problem2
from ..problem3 import experiment as problem3
from ..runs import IMPL_CHOICES, load_result, split_seed

_HASHED = re.compile(r"^(?P<name>.+)-(?P<hash>[0-9a-f]{8})\.json$")


@dataclass
class Entry:
    """One result the report needs: its data, or why there is none.

    status: "ok", "missing" or "stale" (a file for the same name from another
    configuration; its numbers are not used). `shown` is the file the current
    code expects, as the report names it; `command` produces it.
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


def find_run(folder: Path, shown: str, run, command: str) -> Entry:
    """The result of `run` in folder: ok, stale (same name, other hash) or missing."""
    expected = folder / f"{run.name}-{run.short_hash()}.json"
    entry = Entry(run.name, f"{shown}/{expected.name}", command, run=run)
    result = load_result(expected)
    if result is not None:
        entry.status, entry.result, entry.mtime = "ok", result, expected.stat().st_mtime
        return entry
    others = {}
    for path in folder.glob("*.json"):
        if (m := _HASHED.match(path.name)) and m["name"] == run.name:
            old = load_result(path) or {}
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
    result = load_result(path)
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


def collect(results: Path = runs.RESULTS, quick: bool = False, impl: str = "auto") -> Sources:
    """Find every result the report needs under `results` (its quick/ subfolder when quick)."""
    if impl not in IMPL_CHOICES:
        raise ValueError(f"impl={impl!r} is invalid: choose one of {', '.join(IMPL_CHOICES)}")
    folder = Path(results) / "quick" if quick else Path(results)
    shown = "results/quick" if quick else "results"
    impl_option = () if impl == "auto" else ("--impl", impl)

    def problem(module, todo, *options):
        plain = not options and not impl_option
        command = (make_command(module.PROBLEM, quick) if plain
                   else compare_command(module.PROBLEM, quick, *impl_option, *options))
        sub = folder / module.PROBLEM
        return {run.name: find_run(sub, f"{shown}/{module.PROBLEM}", run, command)
                for run in todo}

    def seeds(module):
        """The seed siblings `make study` adds, grouped by the run they repeat."""
        command = (make_command("study", quick) if not impl_option
                   else compare_command("problems", quick, *impl_option, "--study"))
        sub, grouped = folder / module.PROBLEM, {}
        for run in module.seed_plan(quick, impl):
            grouped.setdefault(split_seed(run.name)[0], []).append(
                find_run(sub, f"{shown}/{module.PROBLEM}", run, command))
        return grouped

    def check(name):
        return find_file(folder / "compare" / f"{name}.json", f"{shown}/compare/{name}.json",
                         compare_command(name, quick))

    return Sources(
        quick=quick, impl=impl,
        problem1=find_problem1(folder, shown, quick),
        problem2=problem(problem2, problem2.plan(quick, impl)),
        problem2_study=problem(problem2, problem2.study_plan(quick, impl), "--study"),
        problem3=problem(problem3, problem3.plan(quick, impl)),
        problem3_study=problem(problem3, problem3.study_plan(quick, impl), "--study"),
        lockstep=check("lockstep"), gradcheck=check("gradcheck"),
        bench=find_file(folder / "bench.json", f"{shown}/bench.json",
                        compare_command("bench", quick)),
        problem2_seeds=seeds(problem2), problem3_seeds=seeds(problem3),
    )
