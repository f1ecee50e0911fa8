"""The results the report reads, each ok, missing, damaged (fails compare.schema) or stale
(a file of the same run from another configuration)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .. import runs, schema, table
from ..runs import read_result


@dataclass
class Entry:
    """One result the report needs: its data (status "ok"), or why there is none (note)."""
    name: str
    shown: str                   # the file the current code expects, as the report names it
    command: str                 # what produces it
    status: str = "missing"      # ok, missing, damaged or stale
    result: dict | None = None
    run: object = None           # the runs.Run, for problems 2 and 3
    mtime: float | None = None
    note: str = ""
    siblings: list = field(default_factory=list)   # its seed siblings' Entries, seed 1 first

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def why(self) -> str:
        """Why its numbers are not used, and the command that would give them."""
        note, run = f" ({self.note})" if self.note else "", f"run `{self.command}`"
        return {"missing": f"not run yet: {run}{note}", "stale": f"stale: {self.note}; {run}"
                }.get(self.status, f"{self.status}{note}: {run}")


@dataclass
class Sources:
    """Every result the report reads, found under one results folder."""
    quick: bool
    problem1: Entry
    lockstep: Entry
    gradcheck: Entry
    runs: dict                   # {runs.Run: Entry} of every run in the table

    def of(self, problem: int, parts: str = "abcd", study: bool = False) -> dict:
        """{name: Entry} of the seed-0 runs that answer these parts of a problem."""
        return {r.name: e for r, e in self.runs.items() if r.problem == problem
                and r.part in parts and r.study == study and not r.seed}

    def entries(self) -> list[Entry]:
        return [self.problem1, *self.runs.values(), self.lockstep, self.gradcheck]


def make_command(target: str, quick: bool) -> str:
    return f"make {target}" + (" QUICK=1" if quick else "")


def compare_command(sub: str, quick: bool, *options: str) -> str:
    return " ".join(["compare", sub, *options] + (["--quick"] if quick else []))


def stale(entry: Entry, file: str, old: dict, new: dict) -> Entry:
    """entry made stale by file, whose run dict ({"config", "impl", "augment"}) was old."""
    changes = [f"{k}: {old['config'].get(k, '—')} → {new['config'].get(k, '—')}"
               for k in sorted(set(old["config"]) | set(new["config"]))
               if old["config"].get(k) != new["config"].get(k)]
    changes += [f"{k}: {old.get(k) or '—'} → {new.get(k) or '—'}" for k in ("impl", "augment")
                if (old.get(k) or None) != (new.get(k) or None)]
    entry.status, entry.result = "stale", None
    entry.note = f"`{file}` was produced by an older configuration" + (
        f" ({', '.join(changes)})" if changes else "")
    return entry


def find_file(path: Path, shown: str, command: str, problem=None, **fields) -> Entry:
    """The result at path, checked by problem(result): ok, damaged (note: why) or missing."""
    entry = Entry(fields.pop("name", path.stem), shown, command, **fields)
    entry.result, why = read_result(path, problem)
    if entry.result is not None:
        entry.status, entry.mtime = "ok", path.stat().st_mtime
    elif why is not None:
        entry.status, entry.note = "damaged", why
    return entry


def find_run(folder: Path, shown: str, run, command: str) -> Entry:
    """run's result in folder, or the newest file of the same run from another config."""
    expected = runs.result_path(run).name
    entry = find_file(folder / expected, f"{shown}/{expected}", command, lambda r: (
        schema.run_result_problem(r, run.to_dict(), run.name)), name=run.name, run=run)
    if entry.status != "missing":
        return entry
    found = []
    for path in sorted(folder.glob(f"{run.name}-*.json")):
        stored, _ = read_result(path, schema.run_result_problem)
        if stored is not None and stored["name"] == run.name:
            found.append((path, stored["run"]))
    # The same run from the other implementation is not an older result of this run.
    mine = [(p, stored) for p, stored in found if stored.get("impl") == run.impl]
    if mine:
        path, stored = max(mine, key=lambda item: item[0].stat().st_mtime)
        return stale(entry, f"{shown}/{path.name}", stored, run.to_dict())
    if found:
        entry.note = "only the other implementation's result exists"
    return entry


def run_command(run, quick: bool, impl: str) -> str:
    """The command that produces run's result, as the report names it."""
    option = () if impl == "auto" else ("--impl", impl)
    if run.seed:
        return compare_command("problems", quick, *option, "--study") if option \
            else make_command("study", quick)
    if not run.study and not option:
        return make_command(run.folder, quick)
    return compare_command(run.folder, quick, *option, *(("--study",) if run.study else ()))


def collect(results: Path = runs.RESULTS, quick: bool = False, impl: str = "auto") -> Sources:
    """Find every result the report needs under `results` (its quick/ subfolder when quick)."""
    from ..problem1 import experiment as problem1

    folder = Path(results) / ("quick" if quick else "")
    shown = "results/quick" if quick else "results"
    found = {r: find_run(folder / r.folder, f"{shown}/{r.folder}", r, run_command(r, quick, impl))
             for r in table.table(quick, impl)}
    zero = {(r.problem, r.name): e for r, e in found.items() if not r.seed}
    for r, e in found.items():
        if r.seed:
            zero[r.problem, r.with_seed(0).name].siblings.append(e)
    config = problem1.QUICK if quick else problem1.Problem1Config()
    p1 = find_file(folder / "problem1.json", f"{shown}/problem1.json",
                   make_command("problem1", quick))
    if p1.ok and p1.result.get("hash") != config.short_hash():
        p1 = stale(p1, p1.shown, {"config": p1.result.get("config") or {}},
                   {"config": config.to_dict()})
    check = {name: find_file(folder / "compare" / f"{name}.json", f"{shown}/compare/{name}.json",
                             compare_command(name, quick)) for name in ("lockstep", "gradcheck")}
    return Sources(quick, p1, runs=found, **check)
