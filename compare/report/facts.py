"""Facts about training runs that several sections share, read from their result files."""
from __future__ import annotations

from scratchnet.train import History

from ..runs import IMPL_NAMES
from . import anchors, stats
from .sources import Entry, compare_command

# At or below this a run "fails": chance is 10%, and a net that always answers the most
# common digit ("1": 1,135 of the 10,000 test images) scores 11.35%.
FAIL_ACCURACY = 0.50
# A study candidate against the highest mean of its kind, by stats.order: in its table cell,
# and in the sentence about a recipe that is that candidate's configuration.
VERSUS_WORDS = {"higher": ("above", "above the highest"),
                "lower": ("below", "below the highest, beyond noise"),
                "tie": ("tie", "a tie within noise with the highest"),
                "close": ("too close (one seed)", "too close to call with the highest, "
                          "with one seed")}


def accuracies(result: dict) -> list[float]:
    return [a for a in result["history"]["test_accuracy"] if a is not None]


def run_facts(e: Entry) -> dict:
    """What the templates say about one run ({"entry"} alone if it has no result); spread: its
    final accuracy over seed 0 and the seed siblings found; anchor: the closest published."""
    if not e.ok:
        return {"entry": e}
    r, augment = e.result, e.result["run"]["augment"]
    final = r["final_accuracy"]
    return {"entry": e, "name": e.name, "impl": IMPL_NAMES[e.run.impl], "lr": e.run.config.lr,
            "config": r["run"]["config"], "augment": augment, "augmented": bool(augment),
            "final": final, "accuracies": accuracies(r), "wall": r["wall_seconds"],
            "ratios": History.from_dict(r["history"]).grad_ratio, "device": r["device"],
            "diverged": r["diverged_at"], "fail_at": FAIL_ACCURACY,
            "anchor": anchors.closest(r["run"]["config"], augment),
            "failed": bool(r["diverged_at"]) or final is None or final <= FAIL_ACCURACY,
            "spread": stats.spread([final] + [x.result["final_accuracy"]
                                              for x in e.siblings if x.ok])}


def at_epoch(facts: dict, epoch: int) -> stats.Spread | None:
    """A run's test accuracy after `epoch` (1-based) over its seeds."""
    results = [facts["entry"].result] + [x.result for x in facts["entry"].siblings if x.ok]
    return stats.spread([accuracies(r)[epoch - 1] for r in results
                         if len(accuracies(r)) >= epoch])


def top(rows: list) -> tuple[dict | None, dict | None]:
    """The run with the highest mean final accuracy of those that did not fail, and the next."""
    ok = sorted((r for r in rows if r["entry"].ok and not r["failed"]),
                key=lambda r: -r["spread"].mean) + [None, None]
    return ok[0], ok[1]


def study(entries: dict, chosen: list, problem: str, quick: bool) -> dict:
    """The study table (validation accuracies over seeds) and each chosen recipe's verdict: a
    candidate is set against the highest mean of its kind (augmented or not) by stats.order;
    a recipe is that one's configuration, a tied candidate's, or neither."""
    rows, winners = [run_facts(e) for e in entries.values()], {}
    for r in (r for r in rows if r.get("spread")):
        w = winners.get(r["augmented"])
        winners[r["augmented"]] = r if w is None or r["spread"].mean > w["spread"].mean else w
    for r in rows:
        w = winners.get(r.get("augmented"))
        r["winner"] = r is w
        r["order"] = w and r.get("spread") and not r["winner"] and stats.order(r["spread"],
                                                                                w["spread"])
        r["versus"] = "highest mean" if r["winner"] else VERSUS_WORDS[r["order"]][0] \
            if r["order"] else "—"

    def key(r):
        return {**r["config"], "validation": False, "seed": 0}, r["augment"]
    verdicts = []
    for mine in (run_facts(e) for e in chosen if e.ok and bool(e.run.augment) in winners):
        twin = next((r for r in rows if r.get("spread") and not r["winner"]
                     and r["augmented"] == mine["augmented"] and key(r) == key(mine)), None)
        verdicts.append({"augmented": mine["augmented"], "twin": twin and twin["name"],
                         "same": key(winners[mine["augmented"]]) == key(mine),
                         "twin_versus": twin and VERSUS_WORDS[twin["order"]][1]})
    missing = [e for e in entries.values() if not e.ok] + [
        x for e in entries.values() for x in e.siblings if not x.ok]
    return {"ran": any(e.ok for e in entries.values()), "rows": rows, "verdicts": verdicts,
            "missing": len(missing), "command": next(
                (e.command for e in missing), compare_command(problem, quick, "--study"))}
