"""Facts about training runs that several sections share, read from their result files."""
from __future__ import annotations

from scratchnet.train import History

from ..runs import IMPL_NAMES
from . import anchors, stats
from .sources import Entry, Sources, compare_command

# At or below this a run "fails": chance is 10%, and a net that always answers the most
# common digit ("1": 1,135 of the 10,000 test images) scores 11.35%.
FAIL_ACCURACY = 0.50
def of_part(entries: dict, *parts: str) -> dict:
    """The entries whose runs answer the given homework parts ("a", "b", ...)."""
    return {k: e for k, e in entries.items() if e.run.part in parts}


def config_of(result: dict) -> dict:
    return (result.get("run") or {}).get("config") or result.get("config") or {}


def augment_dict(result: dict) -> dict:
    """The augmentation a run trained with, as {argument: value} ({} for none)."""
    return (result.get("run") or {}).get("augment") or {}


def accuracies(result: dict) -> list[float]:
    return [a for a in result["history"]["test_accuracy"] if a is not None]


def failed(result: dict) -> bool:
    final = result.get("final_accuracy")
    return bool(result.get("diverged_at")) or final is None or final <= FAIL_ACCURACY


def run_facts(e: Entry, seeds: dict | None = None) -> dict:
    """What the templates say about one run ({"entry"} alone if it has no result).

    spread: its final accuracy over seed 0 and the seed siblings found in seeds
    ({name: [sibling Entries]}), a stats.Spread; siblings: those Entries.
    """
    if not e.ok:
        return {"entry": e}
    r = e.result
    acc = accuracies(r)
    best = max(acc) if acc else None
    sibs = [x for x in (seeds or {}).get(e.name, []) if x.ok]
    return {"entry": e, "name": e.name, "impl": IMPL_NAMES[e.run.impl], "lr": e.run.config.lr,
            "config": config_of(r), "augment": augment_dict(r),
            "augmented": bool(augment_dict(r)), "final": r.get("final_accuracy"),
            "accuracies": acc, "ratios": History.from_dict(r["history"]).grad_ratio,
            "best": best, "best_epoch": acc.index(best) + 1 if acc else None,
            "wall": r.get("wall_seconds"), "device": r.get("device", "cpu"),
            "diverged": r.get("diverged_at"), "failed": failed(r), "fail_at": FAIL_ACCURACY,
            "siblings": sibs, "planned": len((seeds or {}).get(e.name, [])),
            "spread": stats.spread([r.get("final_accuracy")]
                                   + [x.result.get("final_accuracy") for x in sibs])}


def at_epoch(facts: dict, epoch: int) -> stats.Spread | None:
    """A run's test accuracy after `epoch` (1-based) over its seeds."""
    results = [facts["entry"].result] + [x.result for x in facts["siblings"]]
    return stats.spread([accuracies(r)[epoch - 1] for r in results
                         if len(accuracies(r)) >= epoch])


def anchored(facts: dict) -> dict:
    """A run's facts with the closest published result (anchors.closest)."""
    if not facts["entry"].ok or facts["spread"] is None:
        return facts
    return {**facts, "anchor": anchors.closest(facts["config"], facts["augment"])}


def versus_words(verdict: str) -> str:
    """A verdict of stats.order in a table cell."""
    return {"higher": "above", "lower": "below", "tie": "tie",
            "close": "too close (one seed)"}[verdict]


def top(rows: list) -> tuple[dict | None, dict | None]:
    """The run with the highest mean final accuracy among those that did not fail, and the
    runner-up (None where there is none)."""
    ok = sorted((r for r in rows if r["entry"].ok and not r["failed"]),
                key=lambda r: -r["spread"].mean)
    return (ok[0] if ok else None), (ok[1] if len(ok) > 1 else None)


def best_shallow(src: Sources, augmented: bool) -> dict | None:
    """Problem 2's test-scored run with the highest mean, trained with or without augmentation."""
    rows = [run_facts(e, src.problem2_seeds) for e in src.problem2.values() if e.ok
            and e.result.get("evaluated_on") == "test"
            and bool(augment_dict(e.result)) == augmented]
    return top(rows)[0]


def study(entries: dict, seeds: dict, chosen: list, problem: str, quick: bool) -> dict:
    """The study table (validation accuracies over seeds) and each chosen recipe's verdict.

    A candidate is compared with the best of its own kind (augmented or not): the
    highest mean over the seeds found, by stats.order. A recipe is the best's
    configuration, a tied candidate's, or neither.
    """
    rows = [run_facts(e, seeds) for e in entries.values()]
    winners = {}
    for r in rows:
        if r["entry"].ok and r["spread"] is not None:
            w = winners.get(r["augmented"])
            winners[r["augmented"]] = r if w is None or r["spread"].mean > w["spread"].mean else w
    for r in rows:
        w = winners.get(r.get("augmented"))
        r["winner"] = r is w
        r["versus"] = ("highest mean" if r is w else versus_words(
            stats.order(r["spread"], w["spread"])) if w and r.get("spread") else "—")
    verdicts = [verdict(result, winners, rows) for result in chosen
                if bool(augment_dict(result)) in winners]
    missing = [e for e in entries.values() if not e.ok] + [
        x for name in entries for x in seeds.get(name, []) if not x.ok]
    return {"ran": any(e.ok for e in entries.values()), "rows": rows, "verdicts": verdicts,
            "missing": len(missing), "command": next(
                (e.command for e in missing), compare_command(problem, quick, "--study"))}


def verdict(result: dict, winners: dict, rows: list) -> dict:
    """Whether a chosen recipe is the study's best of its kind, a tied candidate, or neither."""
    kind = bool(augment_dict(result))
    w = winners[kind]
    mine = ({**config_of(result), "validation": False, "seed": 0}, augment_dict(result))

    def key(r):
        return {**r["config"], "validation": False, "seed": 0}, r["augment"]
    twin = next((r for r in rows if r.get("augmented") == kind and r is not w
                 and r.get("spread") and key(r) == mine), None)
    return {"augmented": kind, "same": key(w) == mine, "twin": twin and twin["name"],
            "twin_versus": twin and TWIN_WORDS[twin["versus"]]}


TWIN_WORDS = {"tie": "a tie within noise with the highest",
              "too close (one seed)": "too close to call with the highest, with one seed",
              "below": "below the highest, beyond noise", "above": "above the highest"}


def machine(m: dict) -> dict:
    """A machine record as the `machine` macro words it, without host names or paths."""
    keys = ("processor", "cpus", "cuda", "python", "numpy", "torch", "torch_threads")
    return {"system": (m.get("platform") or "unknown").split("-")[0],
            **{k: m.get(k, "" if k == "processor" else None) for k in keys}}
