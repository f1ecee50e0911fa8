"""REPORT.md's Problem 1 sections, as facts: its words are in report/templates/problem1.md.j2.

Everything is read from results/problem1.json (see compare.problem1.experiment): the
contour plot (a), the three methods at η = 1e-4 (b), momentum and Adam at
η = 1e-3 (c), Adam at η = 1e-2 against momentum (d), and where each method
diverges, with why the observed threshold differs from the quadratic's (x).
"""
from __future__ import annotations

import math

from ..report.render import Figures, Section, make_section
from ..report.sources import Sources, make_command
from .rosenbrock import METHODS, MINIMUM


def _rank(r: dict) -> tuple:
    """Sort key, best first: not diverged, reached tol soonest, lowest final error."""
    return (r["diverged_at"] is not None, r["steps_to_tol"] is None, r["steps_to_tol"] or 0,
            math.inf if r["final_sq_error"] is None else r["final_sq_error"])


def _relation(lo, hi, predicted) -> str:
    """Where the observed threshold, between lo and hi, lies against a prediction."""
    if hi is not None and hi <= predicted:
        return "below"
    return "above" if lo is not None and lo >= predicted else "near"


def observation(method: str, th: dict, cfg: dict) -> dict:
    """The facts behind "why the observed threshold differs from the prediction"."""
    e, L0, L1 = th[method], th["curvature"]["start"], th["curvature"]["minimum"]
    lo, hi, path = e["largest_stable"], e["smallest_diverging"], e["edge_path"]
    ps, pm = e["predicted_at_start"], e["predicted_at_minimum"]
    f = {"method": method, "label": METHODS.get(method, method), "lo": lo, "hi": hi,
         "gamma": cfg["gamma"], "tol": cfg["tol"], "n_steps": cfg["n_steps"]}
    if ps is None:                     # Adam: its steps do not grow with the curvature
        c = path["max_step_over_lr"]
        distance = abs(MINIMUM[0] - cfg["start"][0])
        return {**f, "kind": "adam", "step": c, "distance": distance,
                "slowest": distance / (c * cfg["n_steps"]), "errors": e["final_error_range"]}
    if hi is None or lo is None:
        return {**f, "kind": "never" if hi is None else "always"}
    gd, sc = th.get("gd", {}), e["scan"]
    f.update(kind=method, L0=L0, L1=L1, ps=ps, pm=pm, vs_start=_relation(lo, hi, ps),
             vs_minimum=_relation(lo, hi, pm), latest=e["latest_divergence"],
             scan=None if sc is None or sc["onset"] is None else sc)
    if method == "gd":
        rule = e["first_step_rule"]
        return {**f, "rule": rule, "rule_gap": abs(math.sqrt(lo * hi) / rule - 1)}
    return {**f, "max_abs_x": path["max_abs_x"], "max_curvature": path["max_curvature"],
            "along": path["predicted_along_path"],
            "gd_max_abs_x": gd["edge_path"]["max_abs_x"] if gd.get("edge_path") else None,
            "gd_hi": gd.get("smallest_diverging"),
            "below_gd": bool(gd.get("smallest_diverging")) and hi <= gd["largest_stable"]}


def tradeoff(runs: dict, th: dict) -> dict | None:
    """Part (d): Adam at its rate against momentum at the same and at its best stable rate."""
    adam, mom, best = (runs.get(n) for n in ("d_adam", "d_momentum", "d_momentum_best"))
    if not (adam and mom and best):
        return None
    onset = th["momentum"]["smallest_diverging"]
    floor = adam["final_sq_error"]
    return {"adam": adam, "momentum": mom, "best": best, "onset": onset,
            "ratio": adam["lr"] / onset, "below_adam": floor is not None
            and best["final_sq_error"] is not None and best["final_sq_error"] < 1e-3 * floor}


def p1_sections(src: Sources, fig: Figures) -> list[Section]:
    entry = src.problem1
    command = make_command("problem1", src.quick)
    res = entry.result or {}
    cfg = res.get("config", {})
    runs = {r["name"]: r for r in res.get("runs", [])}

    def facts(part: str, names=(), **more):
        rows = [runs[n] for n in names if n in runs]
        return {"cfg": cfg, "tol": cfg.get("tol", 1e-6), "n_steps": cfg.get("n_steps", 0),
                "rows": rows, "ranked": sorted(rows, key=_rank),
                "figure": fig(f"problem1/{part}.png", command, entry.mtime), **more}

    def part_b():
        f = facts("b_trajectories", ("b_gd", "b_momentum", "b_adam"))
        f["reached"] = [r for r in f["ranked"]
                        if r["diverged_at"] is None and r["steps_to_tol"] is not None]
        f["finite"] = sorted((r for r in f["rows"] if r["final_sq_error"] is not None),
                             key=lambda r: r["final_sq_error"])
        lo, hi = (f["finite"][0]["final_sq_error"], f["finite"][-1]["final_sq_error"]) \
            if f["finite"] else (0, 0)
        f["spread"] = hi / lo if len(f["finite"]) > 1 and lo > 0 else None
        f["wanderers"] = [r for r in f["finite"] if r["min_sq_error"] is not None
                          and r["min_sq_error"] < r["final_sq_error"] / 100]
        return f

    def beyond():
        th, best = res.get("thresholds", {}), res.get("best_stable_rate", {})
        methods = [m for m, t in th.items() if isinstance(t, dict) and "largest_stable" in t]
        rows = [{"label": METHODS.get(m, m), "lo": th[m]["largest_stable"],
                 "hi": th[m].get("smallest_diverging"), "ps": th[m].get("predicted_at_start"),
                 "pm": th[m].get("predicted_at_minimum"), "best": best.get(m)} for m in methods]
        return facts("sweep", thresholds=rows,
                     observations=[observation(m, th, cfg) for m in methods])

    entries = [entry]
    return [
        make_section("p1a", "problem1", entries, lambda: facts(
            "a_contour", function=res["function"], typo=res["typo"],
            curvature=res.get("thresholds", {}).get("curvature") or None)),
        make_section("p1b", "problem1", entries, part_b),
        make_section("p1c", "problem1", entries,
                     lambda: facts("c_trajectories", ("c_momentum", "c_adam"))),
        make_section("p1d", "problem1", entries, lambda: facts(
            "d_trajectories", ("d_adam", "d_momentum", "d_momentum_best"),
            tradeoff=tradeoff(runs, res.get("thresholds", {})))),
        make_section("p1x", "problem1", entries, beyond)]
