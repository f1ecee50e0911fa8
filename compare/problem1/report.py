"""REPORT.md's Problem 1 sections as facts, from results/problem1.json (words: problem1.md.j2)."""
from __future__ import annotations

import math

from ..report.render import Figures, Section, make_section
from ..report.sources import Sources
from .rosenbrock import METHODS

# How the prose names each method (the tables give rosenbrock.METHODS' full labels).
SHORT = {"gd": "gradient descent", "momentum": "momentum", "adam": "Adam",
         "adam_torch": "torch's Adam"}


def tradeoff(runs: dict, th: dict) -> dict | None:
    """Part (d): Adam at its rate against momentum at the same and at its best stable rate."""
    adam, mom, best = (runs.get(n) for n in ("d_adam", "d_momentum", "d_momentum_best"))
    if not (adam and mom and best):
        return None
    onset, floor = th["momentum"]["smallest_diverging"], adam["final_sq_error"]
    return {"adam": adam, "momentum": mom, "best": best, "onset": onset,
            "ratio": adam["lr"] / onset, "below_adam": floor is not None
            and best["final_sq_error"] is not None and best["final_sq_error"] < 1e-3 * floor}


def thresholds(res: dict) -> dict:
    """Part (x): each method's measured and predicted thresholds, how late any run diverges,
    and the scans above each onset."""
    th, best = res.get("thresholds", {}), res.get("best_stable_rate", {})
    methods = [m for m, t in th.items() if isinstance(t, dict) and "largest_stable" in t]
    rows = [{"label": METHODS.get(m, m), "lo": th[m]["largest_stable"],
             "hi": th[m].get("smallest_diverging"), "ps": th[m].get("predicted_at_start"),
             "pm": th[m].get("predicted_at_minimum"), "best": best.get(m)} for m in methods]
    scans = [{"label": SHORT.get(m, m), "scan": th[m]["scan"]} for m in methods
             if th[m].get("scan") and th[m]["scan"]["onset"] is not None]
    latest = [th[m]["latest_divergence"] for m in methods if th[m].get("latest_divergence")]
    return {"thresholds": rows, "observations": scans, "latest": max(latest, default=None),
            "adam_never": all(th[m].get("smallest_diverging") is None for m in methods
                              if m.startswith("adam"))}


def p1_sections(src: Sources, fig: Figures) -> list[Section]:
    entry = src.problem1
    res = entry.result or {}
    cfg = res.get("config", {})
    runs = {r["name"]: {**r, "short": SHORT.get(r["method"], r["label"])}
            for r in res.get("runs", [])}

    def facts(figure: str, names=(), **more):
        rows = [runs[n] for n in names if n in runs]
        ranked = sorted(rows, key=lambda r: (   # best first: converged, soonest, lowest error
            r["diverged_at"] is not None, r["steps_to_tol"] is None, r["steps_to_tol"] or 0,
            math.inf if r["final_sq_error"] is None else r["final_sq_error"]))
        wanderers = [r for r in rows if r["final_sq_error"] and r["min_sq_error"] is not None
                     and r["min_sq_error"] < r["final_sq_error"] / 100]
        return {"cfg": cfg, "tol": cfg.get("tol", 1e-6), "n_steps": cfg.get("n_steps", 0),
                "rows": rows, "ranked": ranked, "wanderers": wanderers, **more,
                "figure": fig(f"problem1/{figure}.png", [entry])}

    parts = {
        "p1a": lambda: facts("a_contour", function=res["function"], typo=res["typo"],
                             curvature=res.get("thresholds", {}).get("curvature")),
        "p1b": lambda: facts("b_trajectories", ("b_gd", "b_momentum", "b_adam")),
        "p1c": lambda: facts("c_trajectories", ("c_momentum", "c_adam")),
        "p1d": lambda: facts("d_trajectories", ("d_adam", "d_momentum", "d_momentum_best"),
                             tradeoff=tradeoff(runs, res.get("thresholds", {}))),
        "p1x": lambda: facts("sweep", **thresholds(res))}
    return [make_section(key, "problem1", [entry], f) for key, f in parts.items()]
