"""REPORT.md's Problem 3 sections as facts (words: report/templates/problem3.md.j2)."""
from __future__ import annotations

import math

from ..report.facts import at_epoch, run_facts, study, top
from ..report.render import Figures, Section, make_section
from ..report.sources import Sources, make_command
from ..runs import IMPL_NAMES
from ..table import VARIANT_LABELS

# The student's Problem 3 printout: the same ratio and accuracy after each of its five epochs.
STUDENT_P3_RATIO, STUDENT_P3_ACCURACY = 0.000046, 0.1135


def orders(a: float, b: float) -> float | None:
    """log10(a / b), or None when either is zero or not finite."""
    ok = a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)
    return math.log10(a / b) if ok else None


def sigmoid(r: dict) -> dict:
    """Part (a): the sigmoid net's ratio per epoch, and the student's numbers beside ours."""
    config, ratio = r["config"], r["ratios"]
    images = config.get("train_subset") or (50_000 if config.get("validation") else 60_000)
    return {"r": r, "ratio": ratio, "vanishes": bool(ratio) and 0 < ratio[0] < 1,
            "updates": config["epochs"] * math.ceil(images / config["batch_size"]),
            "student_ratio": STUDENT_P3_RATIO, "student_accuracy": STUDENT_P3_ACCURACY,
            "reproduced": r["final"] is not None
            and abs(r["final"] - STUDENT_P3_ACCURACY) < 5e-5,
            "same_order": bool(ratio) and abs(orders(ratio[-1], STUDENT_P3_RATIO) or 9) < 1}


def gains(done: dict) -> list[dict]:
    """Each fix's first-epoch gradient ratio against the sigmoid net's, in orders of magnitude."""
    out = []
    for variant in ("relu", "sigmoid-bn"):
        pair = next(((done[("sigmoid", i)], done[(variant, i)]) for i in IMPL_NAMES
                     if ("sigmoid", i) in done and (variant, i) in done), None)
        if pair and pair[0]["ratios"] and pair[1]["ratios"]:
            out.append({"label": VARIANT_LABELS[variant], "ratios": pair[1]["ratios"],
                        "final": pair[1]["final"],
                        "first": orders(pair[1]["ratios"][0], pair[0]["ratios"][0])})
    return out


def agreement(done: dict) -> dict | None:
    """How far torchnet's and scratchnet's runs of each variant are apart: the largest relative
    difference of any per-layer gradient norm, and of any epoch's accuracy."""
    pairs = [(done[(v, "torch")], done[(v, "scratch")]) for v in VARIANT_LABELS
             if (v, "torch") in done and (v, "scratch") in done]
    if not pairs:
        return None
    norms = [abs(x - y) / max(abs(x), abs(y), 1e-300) for a, b in pairs
             for na, nb in zip(*(r["entry"].result["history"]["grad_norms"] for r in (a, b)))
             for x, y in zip(na, nb)]
    accuracy = [abs(x - y) for a, b in pairs for x, y in zip(a["accuracies"], b["accuracies"])]
    return {"norms": max(norms, default=0.0), "accuracy": max(accuracy, default=0.0)}


def fixes(deep: dict, baselines: list) -> dict:
    """Part (b): a row per variant (one implementation's), the fixes' gains, the two packages'
    agreement, and the deep ReLU net against the shallow baseline after the same epoch."""
    rows = {(e.run.variant, e.run.impl): run_facts(e) for e in deep.values()}
    done = {k: r for k, r in rows.items() if r["entry"].ok}
    shown = {}
    for (variant, _), r in rows.items():
        if variant not in shown or (r["entry"].ok and not shown[variant]["entry"].ok):
            shown[variant] = {**r, "label": VARIANT_LABELS[variant]}
    relu = done.get(("relu", "torch")) or done.get(("relu", "scratch"))
    base = max(map(run_facts, baselines), key=lambda r: r["spread"].n, default=None)
    epoch = relu and base and len(relu["accuracies"])
    return {"rows": list(shown.values()), "gains": gains(done), "agree": agreement(done),
            "shallow": epoch and {"epoch": epoch, "deep": at_epoch(relu, epoch),
                                  "base": at_epoch(base, epoch)}}


def p3_sections(src: Sources, fig: Figures) -> list[Section]:
    deep, best, sig = src.of(3, "ab"), src.of(3, "c"), src.of(3, "a").values()
    command = make_command("problem3", src.quick)

    def deepest():
        runs = [run_facts(e) for e in best.values()]
        shallow = [run_facts(e) for e in src.of(2).values()
                   if e.ok and e.result["evaluated_on"] == "test"]
        for r in (r for r in runs if r["entry"].ok):      # like with like: Problem 2's best
            r["shallow"] = top([s for s in shallow if s["augmented"] == r["augmented"]])[0]
        return {"runs": runs, "figure": fig("problem3/best.png", best.values(), command),
                "study": study(src.of(3, study=True), best.values(), "problem3", src.quick)}

    return [make_section("p3a", "problem3", sig, lambda: {
                **sigmoid(next(run_facts(e) for e in sig if e.ok)),
                "figure": fig("problem3/grad_ratio.png", deep.values(), command)}),
            make_section("p3b", "problem3", deep.values(), lambda: {
                **fixes(deep, [e for e in src.of(2, "a").values() if e.ok]),
                "norms_figure": fig("problem3/layer_norms.png", deep.values(), command),
                "figure": fig("problem3/accuracy.png", deep.values(), command)}),
            make_section("p3c", "problem3", best.values(), deepest)]
