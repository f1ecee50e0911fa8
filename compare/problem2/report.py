"""REPORT.md's Problem 2 sections as facts (words: report/templates/problem2.md.j2)."""
from __future__ import annotations

from ..report import stats
from ..report.facts import FAIL_ACCURACY, at_epoch, run_facts, study, top
from ..report.render import Figures, Section, make_section
from ..report.sources import Sources

HOMEWORK_BASELINE = 0.95  # Problem 2: the homework's baseline ends "just below 0.95"
JUST_BELOW = 0.02         # "just below" = less than 2 percentage points under 0.95
# The student's final (30th-epoch) test accuracies, quoted from the homework's Problem 2
# solution, by (optimizer, learning rate). lr 0.001 SGD is the baseline.
STUDENT_P2 = {("sgd", 1e-4): 0.8965, ("sgd", 1e-3): 0.9445, ("sgd", 1e-2): 0.9667,
              ("sgd", 0.05): 0.9662, ("adam", 1e-4): 0.9566, ("adam", 1e-3): 0.9624,
              ("adam", 1e-2): 0.9522, ("adam", 0.05): 0.8696}
# What may differ between a sweep's runs and the baseline for the configuration to read
# "the baseline's, with Adam, at the rate of each row".
SWEPT = {"lr", "seed", "dtype", "optimizer", "momentum", "nesterov"}


def placed(facts: dict, student: float | None, quick: bool) -> float | None:
    """How many standard deviations of our seeds the student's number lies from our mean."""
    return None if quick or not facts["entry"].ok else stats.z_score(student, facts["spread"])


def sweep(entries: dict, optimizer: str, quick: bool, baseline: dict | None) -> dict:
    """A learning-rate sweep: its rows, the highest and the next, the rates that fail, and
    whether it trains the baseline's configuration but for the rate and optimizer."""
    rows = [{**r, "lr": r["entry"].run.config.lr} for r in map(run_facts, entries.values())]
    for r in rows:
        r["student"] = STUDENT_P2.get((optimizer, r["lr"]))
        r["student_z"] = placed(r, r["student"], quick)
    ok = [r for r in rows if r["entry"].ok]
    first, runner = top(rows)
    slowest = min(ok, key=lambda r: r["lr"])
    config = ok[0]["config"]
    like = baseline is not None and all(config.get(k) == baseline.get(k)
                                        for k in set(config) | set(baseline) if k not in SWEPT)
    failed = [r for r in ok if r["failed"] and first]
    return {"config": config, "impl": ok[0]["impl"], "rows": rows, "quick": quick,
            "like_baseline": like, "optimizer": optimizer, "top": first, "runner": runner,
            "fail_at": FAIL_ACCURACY, "above": [r for r in failed if r["lr"] > first["lr"]],
            "below": [r for r in failed if r["lr"] < first["lr"]],
            "slowest": None if slowest in (first, runner) or slowest["failed"] else slowest}


def adam_vs_sgd(adam: dict, sgd: dict, lr: float | None) -> dict | None:
    """Adam's best rate against SGD's, and their learning curves at one rate (the
    baseline's) after the first and the last epoch, over their seeds."""
    (a, _), (s, _) = (top(list(map(run_facts, part.values()))) for part in (adam, sgd))
    if not (a and s):
        return None
    same = [next((run_facts(e) for e in part.values() if e.ok and e.run.config.lr == lr), None)
            for part in (adam, sgd)]
    last = min(len(x["accuracies"]) for x in same) if all(same) else None
    return {"adam": a, "sgd": s, "lr": lr, "epochs": [
        {"epoch": k, "adam": at_epoch(same[0], k), "sgd": at_epoch(same[1], k)}
        for k in sorted({1, last})] if last else []}


def baseline(runs: list, quick: bool) -> dict:
    """Part (a): the baseline in both implementations, against the homework and the student."""
    seeded = next((r for r in runs if r["spread"].n > 1), None)
    mean, student = (seeded or runs[0])["spread"].mean, STUDENT_P2[("sgd", 1e-3)]
    gap = max((abs(x - y) for x, y in zip(*(r["accuracies"] for r in runs))), default=0.0) \
        if len(runs) == 2 else None
    return {"runs": runs, "config": runs[0]["config"], "gap": gap, "seeded": seeded,
            "verdict": "above" if mean >= HOMEWORK_BASELINE else "just below"
            if mean >= HOMEWORK_BASELINE - JUST_BELOW else "well below",
            "homework": HOMEWORK_BASELINE, "student": student,
            "student_z": placed(seeded, student, quick) if seeded else None}


def p2_sections(src: Sources, fig: Figures) -> list[Section]:
    quick, part = src.quick, {p: src.of(2, p) for p in "abcd"}
    base = next((e.run for e in part["a"].values()), None)
    config = base and base.config.to_dict()
    facts = {
        "p2a": lambda: {**baseline([run_facts(e) for e in part["a"].values() if e.ok], quick),
                        "figure": fig("problem2/a_baseline.png", part["a"].values())},
        "p2b": lambda: {**sweep(part["b"], "sgd", quick, config),
                        "figure": fig("problem2/b_sgd_sweep.png", part["b"].values())},
        "p2c": lambda: {**sweep(part["c"], "adam", quick, config),
                        "figure": fig("problem2/c_adam_sweep.png", part["c"].values()),
                        "versus": adam_vs_sgd(part["c"], part["b"], base and base.config.lr)},
        "p2d": lambda: {"runs": [run_facts(e) for e in part["d"].values()],
                        "figure": fig("problem2/d_best.png", part["d"].values()),
                        "study": study(src.of(2, study=True), part["d"].values(), "problem2",
                                       quick)}}
    return [make_section(key, "problem2", part[key[-1]].values(), f) for key, f in facts.items()]
