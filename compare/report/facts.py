"""Facts about training runs that several sections share, read from their result files."""
from __future__ import annotations

import math

from scratchnet.train import History

from ..problem2 import best_of
from .sources import Entry, Sources, compare_command, config_changes

# At or below this a run "fails": chance is 10%, and a net that always answers the most
# common digit ("1": 1,135 of the 10,000 test images) scores 11.35%.
FAIL_ACCURACY = 0.50
IMPL_NAMES = {"torch": "torchnet", "scratch": "scratchnet"}


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


def run_facts(e: Entry) -> dict:
    """What the templates say about one run: its numbers and how it ended ({"entry"} if none)."""
    if not e.ok:
        return {"entry": e}
    r = e.result
    acc = accuracies(r)
    best = max(acc) if acc else None
    return {"entry": e, "name": e.name, "impl": IMPL_NAMES[e.run.impl], "lr": e.run.config.lr,
            "config": config_of(r), "augment": augment_dict(r), "augmented": bool(augment_dict(r)),
            "final": r.get("final_accuracy"), "accuracies": acc, "ratios": ratios(r),
            "best": best, "best_epoch": acc.index(best) + 1 if acc else None,
            "wall": r.get("wall_seconds"), "device": r.get("device", "cpu"),
            "diverged": r.get("diverged_at"), "failed": failed(r), "fail_at": FAIL_ACCURACY}


def best_run(entries: dict, prefix: str = "") -> Entry | None:
    """The entry with the highest final accuracy among those that did not diverge."""
    name = best_of({k: e.result for k, e in entries.items() if e.ok}, prefix)
    return None if name is None else entries[name]


def best_shallow(src: Sources) -> Entry | None:
    """Problem 2's best test-scored run (sweeps, baseline and recipe alike)."""
    return best_run({k: e for k, e in src.problem2.items()
                     if e.ok and e.result.get("evaluated_on") == "test"})


def study(entries: dict, chosen: list, problem: str, quick: bool) -> dict:
    """The study table (validation accuracies) and whether each chosen recipe is its winner.

    A recipe is compared with the best candidate of its own kind: augmented
    recipes with augmented candidates, the others with the others.
    """
    winners = {}
    for e in entries.values():
        if e.ok and e.result.get("final_accuracy") is not None:
            kind = bool(augment_dict(e.result))
            if kind not in winners or (e.result["final_accuracy"]
                                       > winners[kind].result["final_accuracy"]):
                winners[kind] = e
    rows = [{**run_facts(e), "winner": any(e is w for w in winners.values())}
            for e in entries.values()]
    verdicts = []
    for result in chosen:
        winner = winners.get(bool(augment_dict(result)))
        if winner is not None:
            mine = ({**config_of(result), "validation": False}, augment_dict(result))
            theirs = ({**config_of(winner.result), "validation": False},
                      augment_dict(winner.result))
            verdicts.append({"augmented": bool(mine[1]), "winner": winner.name,
                             "final": winner.result["final_accuracy"], "same": mine == theirs,
                             "changes": config_changes({"config": theirs[0], "augment": theirs[1]},
                                                       {"config": mine[0], "augment": mine[1]})})
    return {"ran": any(e.ok for e in entries.values()), "rows": rows, "verdicts": verdicts,
            "missing": sum(not e.ok for e in entries.values()),
            "command": compare_command(problem, quick, "--study")}


def machine(m: dict) -> dict:
    """A machine record as the `machine` macro words it, without host names or paths."""
    keys = ("processor", "cpus", "cuda", "python", "numpy", "torch", "torch_threads")
    return {"system": (m.get("platform") or "unknown").split("-")[0],
            **{k: m.get(k, "" if k == "processor" else None) for k in keys}}
