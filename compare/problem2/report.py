"""REPORT.md's Problem 2 sections, as facts: its words are in report/templates/problem2.md.j2.

The baseline against the homework (a), the SGD and Adam learning-rate sweeps
(b, c, with Adam against SGD at their best rates and at the same rate), the
chosen recipes beside the closest published result and the study behind them
(d). Where `make study` trained seed siblings, each run's accuracy is its mean
over the seeds, and the student's printed numbers are placed in that spread.
"""
from __future__ import annotations

from ..report import stats
from ..report.facts import (FAIL_ACCURACY, anchored, at_epoch, of_part, run_facts, study,
                            top)
from ..report.render import Figures, Section, make_section, newest_mtime
from ..report.sources import Sources, make_command

HOMEWORK_BASELINE = 0.95  # Problem 2: the homework's baseline ends "just below 0.95"
JUST_BELOW = 0.02         # "just below" = less than 2 percentage points under 0.95

# The student's reported final (30th-epoch) test accuracies, quoted from the homework's
# Problem 2 solution, keyed by (optimizer, learning rate). lr 0.001 SGD is the baseline.
STUDENT_P2 = {("sgd", 1e-4): 0.8965, ("sgd", 1e-3): 0.9445, ("sgd", 1e-2): 0.9667,
              ("sgd", 0.05): 0.9662, ("adam", 1e-4): 0.9566, ("adam", 1e-3): 0.9624,
              ("adam", 1e-2): 0.9522, ("adam", 0.05): 0.8696}


def placed(facts: dict, student: float | None, quick: bool) -> float | None:
    """How many standard deviations of our seeds the student's number lies from our mean."""
    return None if quick or not facts["entry"].ok else stats.z_score(student, facts["spread"])


# What may differ between a sweep's runs and the baseline, the configuration saying
# "the baseline's, with Adam, at the rate of each row" for the rest.
SWEPT = {"lr", "seed", "dtype", "optimizer", "momentum", "nesterov"}


def sweep(entries: dict, optimizer: str, quick: bool, seeds: dict,
          baseline: dict | None = None) -> dict:
    """A learning-rate sweep: its rows, the highest rate and the next, the rates that fail,
    and whether it trains the baseline's configuration but for the rate and optimizer."""
    rows = []
    for e in entries.values():
        r = {**run_facts(e, seeds), "lr": e.run.config.lr,
             "student": STUDENT_P2.get((optimizer, e.run.config.lr))}
        rows.append({**r, "student_z": placed(r, r["student"], quick)})
    ok = [r for r in rows if r["entry"].ok]
    first, runner = top(rows)
    slowest = min(ok, key=lambda r: r["lr"], default=None)
    config = ok[0]["config"]
    like = baseline is not None and all(config.get(k) == baseline.get(k)
                                        for k in set(config) | set(baseline) if k not in SWEPT)
    return {"config": config, "impl": ok[0]["impl"], "rows": rows, "quick": quick,
            "like_baseline": like, "optimizer": optimizer,
            "top": first, "runner": runner, "fail_at": FAIL_ACCURACY,
            "above": [r for r in ok if r["failed"] and first and r["lr"] > first["lr"]],
            "below": [r for r in ok if r["failed"] and first and r["lr"] < first["lr"]],
            "slowest": None if slowest in (first, runner) or slowest["failed"] else slowest}


def adam_vs_sgd(adam: dict, sgd: dict, seeds: dict, lr: float | None) -> dict | None:
    """Adam's best rate against SGD's, and the two learning curves at the same rate (the
    baseline's) after the first and the last epoch, over their seeds."""
    a, s = (top([run_facts(e, seeds) for e in part.values()])[0] for part in (adam, sgd))
    if not (a and s):
        return None
    same = [next((run_facts(e, seeds) for e in part.values() if e.ok
                  and e.run.config.lr == lr), None) for part in (adam, sgd)]
    epochs = []
    if all(same):
        last = min(len(x["accuracies"]) for x in same)
        epochs = [{"epoch": k, "adam": at_epoch(same[0], k), "sgd": at_epoch(same[1], k)}
                  for k in sorted({1, last})]
    return {"adam": a, "sgd": s, "lr": lr, "epochs": epochs}


def baseline(runs: list, quick: bool) -> dict:
    """Part (a): the baseline in both implementations, against the homework and the student."""
    seeded = next((r for r in runs if r["spread"].n > 1), None)
    mean = (seeded or runs[0])["spread"].mean
    gap = (max((abs(x - y) for x, y in zip(*(r["accuracies"] for r in runs))), default=0.0)
           if len(runs) == 2 else None)
    student = STUDENT_P2[("sgd", 1e-3)]
    return {"runs": runs, "config": runs[0]["config"], "gap": gap, "seeded": seeded,
            "verdict": "above" if mean >= HOMEWORK_BASELINE else "just below"
            if mean >= HOMEWORK_BASELINE - JUST_BELOW else "well below",
            "homework": HOMEWORK_BASELINE, "student": student,
            "student_z": placed(seeded, student, quick) if seeded else None}


def p2_sections(src: Sources, fig: Figures) -> list[Section]:
    p2, quick, seeds = src.problem2, src.quick, src.problem2_seeds
    command = next(iter(p2.values())).command if p2 else make_command("problem2", quick)
    part = {p: of_part(p2, p) for p in "abcd"}

    def figure(name, p):
        return fig(f"problem2/{name}.png", command, newest_mtime(part[p].values()))

    def chosen():
        return {"runs": [anchored(run_facts(e, seeds)) for e in part["d"].values()],
                "study": study(src.problem2_study, seeds,
                               [e.result for e in part["d"].values() if e.ok], "problem2",
                               quick), "figure": figure("d_best", "d")}

    start = next((e.run.config.lr for e in part["a"].values()), None)   # the baseline's rate
    base = next((e.run.config.to_dict() for e in part["a"].values()), None)
    return [
        make_section("p2a", "problem2", part["a"].values(), lambda: {
            **baseline([run_facts(e, seeds) for e in part["a"].values() if e.ok], quick),
            "figure": figure("a_baseline", "a")}),
        make_section("p2b", "problem2", part["b"].values(), lambda: {
            **sweep(part["b"], "sgd", quick, seeds, base), "figure": figure("b_sgd_sweep", "b")}),
        make_section("p2c", "problem2", part["c"].values(), lambda: {
            **sweep(part["c"], "adam", quick, seeds, base), "figure": figure("c_adam_sweep", "c"),
            "versus": adam_vs_sgd(part["c"], part["b"], seeds, start)}),
        make_section("p2d", "problem2", part["d"].values(), chosen)]
