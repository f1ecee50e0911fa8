"""Facts about training runs that several sections share, read from their result files."""
from __future__ import annotations

import math

from scratchnet.train import History

from ..problem2 import best_of
from ..runs import IMPL_NAMES
from . import anchors, stats
from .sources import Entry, Sources, compare_command, config_changes

# At or below this a run "fails": chance is 10%, and a net that always answers the most
# common digit ("1": 1,135 of the 10,000 test images) scores 11.35%.
FAIL_ACCURACY = 0.50


def config_of(result: dict) -> dict:
    return (result.get("run") or {}).get("config") or result.get("config") or {}


def augment_dict(result: dict) -> dict:
    """The augmentation a run trained with, as {argument: value} ({} for none)."""
    return (result.get("run") or {}).get("augment") or {}


def accuracies(result: dict) -> list[float]:
    return [a for a in result["history"]["test_accuracy"] if a is not None]


def ratios(result: dict) -> list[float]:
    """The homework's gradient ratio per epoch, as History.grad_ratio computes it."""
    return History.from_dict(result["history"]).grad_ratio


def failed(result: dict) -> bool:
    final = result.get("final_accuracy")
    return bool(result.get("diverged_at")) or final is None or final <= FAIL_ACCURACY


def n_updates(config: dict) -> int:
    """Optimizer steps a run takes: epochs × batches per epoch."""
    n = config.get("train_subset") or (50_000 if config.get("validation") else 60_000)
    return config["epochs"] * math.ceil(n / config["batch_size"])


def run_facts(e: Entry, seeds: dict | None = None) -> dict:
    """What the templates say about one run: its numbers and how it ended ({"entry"} if none).

    seeds: {name: [the Entries of its seed siblings]}, for the runs that have some planned;
    given, the facts hold "seeds": seed_facts(...) (None for a run without siblings).
    """
    if not e.ok:
        return {"entry": e}
    r = e.result
    acc = accuracies(r)
    best = max(acc) if acc else None
    facts = {"entry": e, "name": e.name, "impl": IMPL_NAMES[e.run.impl], "lr": e.run.config.lr,
             "config": config_of(r), "augment": augment_dict(r),
             "augmented": bool(augment_dict(r)), "final": r.get("final_accuracy"),
             "accuracies": acc, "ratios": ratios(r), "best": best,
             "best_epoch": acc.index(best) + 1 if acc else None, "wall": r.get("wall_seconds"),
             "device": r.get("device", "cpu"), "diverged": r.get("diverged_at"),
             "failed": failed(r), "fail_at": FAIL_ACCURACY}
    if seeds is not None:
        facts["seeds"] = seed_facts(e, seeds.get(e.name, []))
    return facts


def seed_facts(e: Entry, siblings: list) -> dict | None:
    """The final accuracy of run e (seed 0) over every seed found: spread (stats.Spread: n,
    mean, sd), the seeds planned and found besides 0, and the command that trains the rest.
    None when no sibling is planned for e."""
    if not siblings:
        return None
    found = [x for x in siblings if x.ok and x.result.get("final_accuracy") is not None]
    return {"spread": stats.spread([e.result.get("final_accuracy")]
                                   + [x.result["final_accuracy"] for x in found]),
            "planned": [x.run.seed for x in siblings],
            "found": [x.run.seed for x in found],
            "missing": sum(not x.ok for x in siblings), "command": siblings[0].command}


def spread_of(facts: dict) -> stats.Spread | None:
    """The Spread over seeds of a run's facts (one value when it has no siblings found)."""
    seeds = facts.get("seeds")
    if seeds is not None:
        return seeds["spread"]
    return stats.spread([facts.get("final")])


def headline(facts: dict) -> tuple[float | None, int]:
    """(accuracy, n): the run's number to set beside others, the mean over its n seeds when
    there are several, else seed 0's (n = 1)."""
    s = spread_of(facts)
    return (s.mean, s.n) if s is not None and s.n > 1 else (facts["final"], 1)


def anchored(facts: dict) -> dict:
    """A run's facts with the closest published result and the gap to it, from the mean
    over seeds when there are several, else from seed 0."""
    if not facts["entry"].ok or facts["final"] is None:
        return facts
    ours, n = headline(facts)
    anchor = anchors.closest(facts["config"], facts["augment"])
    return {**facts, "anchor": anchor, "gap": ours - anchor.accuracy, "gap_of_mean": n > 1}


def against_target(facts: dict, target: float, stretch: float | None = None) -> dict:
    """A run's accuracy measured against its target (and stretch goal): the mean over seeds
    when there are several, else seed 0's, as the targets are stated for the mean."""
    value, n = headline(facts)
    return {"target": target, "stretch": stretch, "value": value, "of_mean": n > 1, "n": n,
            "met": value is not None and value >= target,
            "stretch_met": stretch is not None and value is not None and value >= stretch}


def best_run(entries: dict, part: str | None = None) -> Entry | None:
    """The entry with the highest final accuracy among those that did not diverge."""
    name = best_of({k: e.result for k, e in entries.items() if e.ok}, part)
    return None if name is None else entries[name]


def best_shallow(src: Sources, augmented: bool = False) -> Entry | None:
    """Problem 2's best test-scored run (sweeps, baseline and recipes alike), among those
    trained without augmentation, or (augmented=True) among those trained with it."""
    return best_run({k: e for k, e in src.problem2.items()
                     if e.ok and e.result.get("evaluated_on") == "test"
                     and bool(augment_dict(e.result)) == augmented})


def study(entries: dict, seeds: dict, chosen: list, problem: str, quick: bool) -> dict:
    """The study table (validation accuracies over seeds) and each chosen recipe's verdict.

    A candidate is compared with the best of its own kind (augmented candidates with
    augmented ones, the others with the others): the best is the highest mean over the
    seeds found, and a candidate whose mean is within noise of the best's
    (stats.tie) is a tie, not a loser. A recipe is compared with the best candidate
    of its kind: the same configuration, a configuration that ties with it, or neither.
    """
    rows = [run_facts(e, seeds) for e in entries.values()]
    scored = [r for r in rows if r["entry"].ok and r["final"] is not None]
    for r in scored:
        r["spread"] = spread_of(r)
    winners = {}
    for r in scored:
        kind = r["augmented"]
        if kind not in winners or r["spread"].mean > winners[kind]["spread"].mean:
            winners[kind] = r
    for r in rows:
        w = winners.get(r.get("augmented"))
        if "spread" not in r or w is None:
            r["versus"] = None
        elif r is w:
            r["versus"] = "best"
        else:
            r["versus"] = {True: "tie", False: "below", None: "unknown"}[
                stats.tie(r["spread"], w["spread"])]
        r["winner"] = r.get("versus") == "best"

    verdicts = []
    for result in chosen:
        kind = bool(augment_dict(result))
        w = winners.get(kind)
        if w is None:
            continue
        mine = ({**config_of(result), "validation": False}, augment_dict(result))
        theirs = ({**w["config"], "validation": False}, w["augment"])
        ties = [r for r in scored if r.get("augmented") == kind and r["versus"] == "tie"]
        twin = next((r["name"] for r in ties
                     if ({**r["config"], "validation": False}, r["augment"]) == mine), None)
        verdicts.append({"augmented": kind, "winner": w["name"], "spread": w["spread"],
                         "final": w["final"], "same": mine == theirs, "twin": twin,
                         "ties": [r["name"] for r in ties],
                         "changes": config_changes({"config": theirs[0], "augment": theirs[1]},
                                                   {"config": mine[0], "augment": mine[1]})})
    planned = [x for name, sibs in seeds.items() if name in entries for x in sibs]
    return {"ran": any(e.ok for e in entries.values()), "rows": rows, "verdicts": verdicts,
            "missing": sum(not e.ok for e in entries.values()),
            "missing_seeds": sum(not x.ok for x in planned), "seeds_planned": bool(planned),
            "command": next((e.command for e in entries.values()),
                            compare_command(problem, quick, "--study"))}


def machine(m: dict) -> dict:
    """A machine record as the `machine` macro words it, without host names or paths."""
    keys = ("processor", "cpus", "cuda", "python", "numpy", "torch", "torch_threads")
    return {"system": (m.get("platform") or "unknown").split("-")[0],
            **{k: m.get(k, "" if k == "processor" else None) for k in keys}}
