"""REPORT.md's Problem 3 sections, as facts: its words are in report/templates/problem3.md.j2.

The deep sigmoid net's gradient ratio and the student's frozen numbers (a),
ReLU + Kaiming and batch norm with their per-layer gradient norms (b), and the
best deep dense nets against their targets, Problem 2's best and the published
results, with their spread over seeds where `make study` trained some (c).
"""
from __future__ import annotations

import math

from ..report.anchors import ANCHORS
from ..report.facts import against_target, anchored, best_shallow, n_updates, run_facts, study
from ..report.render import Figures, Section, make_section, newest_mtime
from ..report.sources import Sources, make_command
from ..runs import IMPL_NAMES, IMPLS
from ..table import VARIANT_LABELS

# ---------------------------------------------------------------- what Problem 3 measures against
# Targets for the best deep dense net's mean test accuracy over seeds, (target, stretch) by
# whether it trains on augmented data, set by the published dense nets: the dropout paper's
# (Srivastava et al. 2014) without augmentation, Cireşan et al. 2010's with it.
TARGETS = {False: (0.989, None), True: (0.994, 0.995)}
P3_BUDGET_S = 15 * 60                         # training time per recipe on a 2-core CPU

# The student's Problem 3 printout: the same ratio and accuracy in all five epochs.
STUDENT_P3_RATIO, STUDENT_P3_ACCURACY = 0.000046, 0.1135


def orders(a: float, b: float) -> float | None:
    """log10(a / b), or None when either is zero or not finite."""
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        return None
    return math.log10(a / b)


def layer_table(norms: dict, which: int) -> dict:
    """Per-layer gradient norms of one epoch (first or last), one column per run."""
    depth = max(len(n[which]) for n in norms.values() if n) if norms else 0
    return {"columns": [{"label": VARIANT_LABELS[v], "impl": IMPL_NAMES[i]} for v, i in norms],
            "rows": [[n[which][layer] if n and layer < len(n[which]) else None
                      for n in norms.values()] for layer in range(depth)]}


def ratio_gains(ratios: dict) -> list[dict]:
    """Each fix's gradient ratio against the sigmoid net's, in orders of magnitude."""
    out = []
    for variant in ("relu", "sigmoid-bn"):
        pairs = [(i, ratios[("sigmoid", i)], ratios[(variant, i)]) for i in IMPLS
                 if ("sigmoid", i) in ratios and (variant, i) in ratios]
        if not pairs or not pairs[0][1] or not pairs[0][2]:
            continue
        impl, rs, ro = pairs[0]
        out.append({"label": VARIANT_LABELS[variant], "impl": IMPL_NAMES[impl], "ratios": ro,
                    "first": orders(ro[0], rs[0]), "last": orders(ro[-1], rs[-1]),
                    "others": [{"impl": IMPL_NAMES[i], "first": k} for i, a, b in pairs[1:]
                               if a and b and (k := orders(b[0], a[0])) is not None]})
    return out


def agreement(norms: dict) -> list[dict]:
    """Largest relative difference of per-layer norms between torchnet and scratchnet."""
    return [{"label": label, "epochs": len(a), **{
                k: max(abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(a[w], b[w]))
                for k, w in (("first", 0), ("last", -1))}}
            for v, label in VARIANT_LABELS.items()
            if (a := norms.get((v, "torch"))) and (b := norms.get((v, "scratch")))]


def p3_sections(src: Sources, fig: Figures) -> list[Section]:
    p3, quick = src.problem3, src.quick
    command = make_command("problem3", quick)
    sig = [p3[k] for k in ("deep-sigmoid-torch", "deep-sigmoid-scratch") if k in p3]
    fixes = [e for e in p3.values() if e.run.part in ("a", "b")]
    best = [e for e in p3.values() if e.run.part == "c"]
    shallow = best_shallow(src)

    def figure(name, entries):
        return fig(f"problem3/{name}.png", command, newest_mtime(entries))

    def sigmoid():
        runs = [run_facts(e) for e in sig if e.ok]
        r, acc = runs[0]["ratios"], runs[0]["accuracies"]
        return {"runs": runs, "config": runs[0]["config"], "ratio": r, "final": acc[-1] if acc
                else None, "epochs": max(len(x["ratios"]) for x in runs),
                "vanishes": bool(r) and 0 < r[0] < 1, "trend": r[-1] / r[0] if len(r) > 1 else None,
                "updates": n_updates(runs[0]["config"]), "student_ratio": STUDENT_P3_RATIO,
                "student_accuracy": STUDENT_P3_ACCURACY, "figure": figure("grad_ratio", fixes)}

    def fixed():
        runs = {(e.run.variant, e.run.impl): run_facts(e) for e in fixes}
        done = {k: r for k, r in runs.items() if r["entry"].ok}
        norms = {k: done[k]["entry"].result["history"]["grad_norms"]
                 for k in ((v, i) for v in VARIANT_LABELS for i in IMPLS) if k in done}
        relu = done.get(("relu", "torch")) or done.get(("relu", "scratch"))
        base = src.problem2.get("a-baseline-torch")
        return {"rows": [{**r, "label": VARIANT_LABELS[k[0]]} for k, r in runs.items()],
                "gains": ratio_gains({k: r["ratios"] for k, r in done.items()}),
                "near": sorted({VARIANT_LABELS[k[0]] for k, r in done.items()
                                if r["ratios"] and 0.1 < r["ratios"][-1] < 10}),
                "agree": agreement(norms), "first": layer_table(norms, 0),
                "last": layer_table(norms, -1) if any(len(n) > 1 for n in norms.values())
                else None, "relu": relu, "shallow": shallow and run_facts(shallow),
                "base": run_facts(base) if base and base.ok and base.result["final_accuracy"]
                is not None else None, "problem2": make_command("problem2", quick),
                "norms_figure": figure("layer_norms", fixes), "figure": figure("accuracy", fixes)}

    def deepest():
        runs = [anchored(run_facts(e, src.problem3_seeds)) for e in best]
        for r in runs:
            if r["entry"].ok:
                kind = best_shallow(src, r["augmented"])     # like with like
                r.update(goal=against_target(r, *TARGETS[r["augmented"]]),
                         shallow=kind and run_facts(kind))
        return {"runs": runs, "budget": P3_BUDGET_S, "anchors": ANCHORS,
                "slow": [r["name"] for r in runs if r["entry"].ok
                         and (r["wall"] or 0) > P3_BUDGET_S],
                "study": study(src.problem3_study, src.problem3_seeds,
                               [e.result for e in best if e.ok], "problem3", quick),
                "figure": figure("best", best)}

    return [make_section("p3a", "problem3", sig, sigmoid),
            make_section("p3b", "problem3", fixes, fixed),
            make_section("p3c", "problem3", best, deepest)]
