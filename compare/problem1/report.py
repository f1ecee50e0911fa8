"""REPORT.md's Problem 1 sections: Rosenbrock's function and three optimizers.

Everything is read from results/problem1.json (see compare.problem1.experiment): the
contour plot (a), the three methods at η = 1e-4 (b), momentum and Adam at
η = 1e-3 (c), Adam at η = 1e-2 against momentum (d), and where each method
diverges (beyond the homework).
"""
from __future__ import annotations

import math

from ..report.base import (Figures, Section, Sources, cap, magnitude, make_command, make_section,
                          num, sci, table, times)
from .rosenbrock import METHODS

P1_FIGURE = "problem1/{}.png"


def _p1_runs(result: dict) -> dict:
    return {r["name"]: r for r in result.get("runs", [])}


def _p1_rank(r: dict) -> tuple:
    """Sort key, best first: not diverged, reached tol soonest, lowest final error."""
    return (r["diverged_at"] is not None, r["steps_to_tol"] is None,
            r["steps_to_tol"] or 0, r["final_sq_error"] if r["final_sq_error"] is not None
            else math.inf)


def _p1_table(rows, tol) -> list[str]:
    out = []
    for r in rows:
        point = ("—" if r["final_point"] is None
                 else f"({r['final_point'][0]:.6f}, {r['final_point'][1]:.6f})")
        out.append((r["label"] + (" (best stable rate)" if r["name"].endswith("_best") else ""),
                    f"{r['lr']:.3g}", point, sci(r["final_sq_error"]), sci(r["min_sq_error"]),
                    num(r["steps_to_tol"]),
                    "—" if r["diverged_at"] is None else f"step {r['diverged_at']:,}"))
    return table(("method", "η", "final point", "final squared error", "smallest squared error",
                  f"first step below {tol:g}", "diverged"), out)


def _p1_how(r: dict, tol: float, n_steps: int) -> str:
    if r["diverged_at"] is not None:
        return f"{r['label']} diverges at step {r['diverged_at']:,} (the iterate overflows)"
    reach = (f"gets below {tol:g} at step {r['steps_to_tol']:,}" if r["steps_to_tol"] is not None
             else f"never gets below {tol:g} in {n_steps:,} steps")
    return f"{r['label']} {reach} and ends at squared error {sci(r['final_sq_error'])}"


def p1_sections(src: Sources, fig: Figures) -> list[Section]:
    entry, quick = src.problem1, src.quick
    command = make_command("problem1", quick)
    res = entry.result or {}
    cfg = res.get("config", {})
    tol, n_steps = cfg.get("tol", 1e-6), cfg.get("n_steps", 0)
    runs_ = _p1_runs(res)
    newer = entry.mtime

    def image(name, alt):
        return fig.image(P1_FIGURE.format(name), alt, command, newer)

    def part_a():
        curv = res.get("thresholds", {}).get("curvature", {})
        lines = [f"The function is {res['function']}. Note: {res['typo']}.", ""]
        if curv:
            lines += [f"The contours are banana-shaped around a long, curved valley with steep "
                      f"walls. The Hessian's largest eigenvalue, the steepest curvature, is "
                      f"L = {curv['start']:,.0f} at the start ({cfg['start'][0]:g}, "
                      f"{cfg['start'][1]:g}) and L = {curv['minimum']:,.0f} at the minimum: "
                      "along the valley floor the function is almost flat, across it very steep, "
                      "so one learning rate cannot suit both directions.", ""]
        return lines + [image("a_contour", "Contour plot of the Rosenbrock function"), ""]

    def part_b():
        rows = [runs_[n] for n in ("b_gd", "b_momentum", "b_adam") if n in runs_]
        lines = [f"All three methods start at ({cfg['start'][0]:g}, {cfg['start'][1]:g}) with "
                 f"η = {cfg['lr_b']:g} and run {n_steps:,} steps in float64.", ""]
        lines += _p1_table(rows, tol)
        ranked = sorted(rows, key=_p1_rank)
        reached = [r for r in ranked if r["diverged_at"] is None and r["steps_to_tol"] is not None]
        speed = []
        if reached:
            first = reached[0]
            speed.append(f"**Convergence speed.** {cap(first['label'])} is the fastest: its "
                         f"squared error drops below {tol:g} at step {first['steps_to_tol']:,}.")
            for r in reached[1:]:
                speed.append(f"{cap(r['label'])} gets there at step {r['steps_to_tol']:,} "
                             f"({times(r['steps_to_tol'], first['steps_to_tol'])} later).")
        speed += [cap(_p1_how(r, tol, n_steps)) + "." for r in ranked if r not in reached]
        lines += [" ".join(speed), ""]
        finite = sorted((r for r in rows if r["final_sq_error"] is not None),
                        key=lambda r: r["final_sq_error"])
        if finite:
            acc = ", ".join(f"{r['label']} {sci(r['final_sq_error'])}" for r in finite)
            text = f"**Ultimate accuracy** (squared error after the last step, best first): {acc}."
            lo, hi = finite[0]["final_sq_error"], finite[-1]["final_sq_error"]
            if len(finite) > 1 and lo > 0:
                text += f" The best and the worst are {magnitude(hi / lo)} apart."
            for r in finite:
                if r["min_sq_error"] is not None and r["min_sq_error"] < r["final_sq_error"] / 100:
                    text += (f" {cap(r['label'])} passed much closer to the minimum (squared "
                             f"error {sci(r['min_sq_error'])}) than where it ends: it does not "
                             "settle at its closest point but keeps moving around the minimum.")
            lines += [text, ""]
        alt = f"Trajectories and log10 squared error at η = {cfg['lr_b']:g}"
        return lines + [image("b_trajectories", alt), ""]

    def part_c():
        rows = [runs_[n] for n in ("c_momentum", "c_adam") if n in runs_]
        lines = [f"Momentum and Adam at η = {cfg['lr_c']:g}, {n_steps:,} steps, plotted on the "
                 "same axes as (b).", ""] + _p1_table(rows, tol)
        lines += [cap("; ".join(_p1_how(r, tol, n_steps) for r in rows)) + ".", ""]
        ranked = sorted(rows, key=_p1_rank)
        if ranked and all(r["diverged_at"] is not None for r in ranked):
            lines += [f"**Neither method converges at η = {cfg['lr_c']:g}.**", ""]
        elif ranked:
            lines += [f"**Better at η = {cfg['lr_c']:g}: {ranked[0]['label']}.**", ""]
        return lines + [image("c_trajectories", f"Momentum and Adam at η = {cfg['lr_c']:g}"), ""]

    def part_d():
        rows = [runs_[n] for n in ("d_adam", "d_momentum", "d_momentum_best") if n in runs_]
        lines = [f"The homework leaves momentum's rate in (d) blank, so momentum runs twice: at "
                 f"η = {cfg['lr_d']:g} like Adam (as the student did) and at its best stable "
                 "rate from the sweep below.", ""] + _p1_table(rows, tol)
        if res.get("tradeoff_d"):
            lines += [f"**Trade-off.** {res['tradeoff_d']}", ""]
        alt = f"Adam at η = {cfg['lr_d']:g} against momentum"
        return lines + [image("d_trajectories", alt), ""]

    def beyond():
        th = res.get("thresholds", {})
        best = res.get("best_stable_rate", {})
        rows = []
        for m, t in th.items():
            if not isinstance(t, dict) or "largest_stable" not in t:
                continue
            def g3(x):
                return "—" if x is None else f"{x:.3g}"
            rows.append((METHODS.get(m, m), g3(t["largest_stable"]),
                         "none up to the sweep's end" if t.get("smallest_diverging") is None
                         else g3(t["smallest_diverging"]),
                         g3(t.get("predicted_at_start")), g3(t.get("predicted_at_minimum")),
                         g3(best.get(m))))
        lines = [f"Every method ran at every rate of a log grid from {cfg['sweep_from']:g} to "
                 f"{cfg['sweep_to']:g} ({cfg['per_decade']} per decade, refined near each "
                 f"threshold), {n_steps:,} steps each. The prediction for a quadratic with "
                 "largest curvature L is η < 2/L for gradient descent and η < 2(1 + γ)/L for "
                 "heavy-ball momentum; Adam has none.", ""]
        lines += table(("method", "largest stable η", "first diverging η", "predicted (start)",
                        "predicted (minimum)", "best stable η"), rows)
        for m, t in th.items():
            if isinstance(t, dict) and t.get("observations"):
                lines += [f"- **{METHODS.get(m, m)}**: {t['observations']}"]
        alt = "Final error against learning rate, thresholds marked"
        return lines + ["", image("sweep", alt), ""]

    entries = [entry]
    return [make_section("p1a", "Problem 1 (a): the contour plot", entries, part_a),
            make_section("p1b", "Problem 1 (b): the three methods at η = 1e-4", entries, part_b),
            make_section("p1c", "Problem 1 (c): momentum and Adam at η = 1e-3", entries, part_c),
            make_section("p1d", "Problem 1 (d): Adam at η = 1e-2 against momentum", entries,
                         part_d),
            make_section("p1x", "Problem 1, beyond the homework: where each method diverges",
                         entries, beyond)]
