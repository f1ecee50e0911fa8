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
from .rosenbrock import METHODS


# How the prose names each method (the tables give rosenbrock.METHODS' full labels).
SHORT = {"gd": "gradient descent", "momentum": "momentum", "adam": "Adam",
         "adam_torch": "torch's Adam"}


def _rank(r: dict) -> tuple:
    """Sort key, best first: not diverged, reached tol soonest, lowest final error."""
    return (r["diverged_at"] is not None, r["steps_to_tol"] is None, r["steps_to_tol"] or 0,
            math.inf if r["final_sq_error"] is None else r["final_sq_error"])


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


def thresholds(res: dict) -> dict:
    """Part (x): the measured and predicted thresholds of every method, how late any run
    diverges, and the scans above each onset."""
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
    command = make_command("problem1", src.quick)
    res = entry.result or {}
    cfg = res.get("config", {})
    runs = {r["name"]: {**r, "short": SHORT.get(r["method"], r["label"])}
            for r in res.get("runs", [])}

    def facts(part: str, names=(), **more):
        rows = [runs[n] for n in names if n in runs]
        ranked = sorted(rows, key=_rank)
        return {"cfg": cfg, "tol": cfg.get("tol", 1e-6), "n_steps": cfg.get("n_steps", 0),
                "rows": rows, "ranked": ranked, "wanderers": [
                    r for r in rows if r["final_sq_error"] and r["min_sq_error"] is not None
                    and r["min_sq_error"] < r["final_sq_error"] / 100],
                "figure": fig(f"problem1/{part}.png", command, entry.mtime), **more}

    entries = [entry]
    curvature = res.get("thresholds", {}).get("curvature") or None
    return [
        make_section("p1a", "problem1", entries, lambda: facts(
            "a_contour", function=res["function"], typo=res["typo"], curvature=curvature)),
        make_section("p1b", "problem1", entries,
                     lambda: facts("b_trajectories", ("b_gd", "b_momentum", "b_adam"))),
        make_section("p1c", "problem1", entries,
                     lambda: facts("c_trajectories", ("c_momentum", "c_adam"))),
        make_section("p1d", "problem1", entries, lambda: facts(
            "d_trajectories", ("d_adam", "d_momentum", "d_momentum_best"),
            tradeoff=tradeoff(runs, res.get("thresholds", {})))),
        make_section("p1x", "problem1", entries, lambda: facts("sweep", **thresholds(res)))]
