"""Problem 1's learning-rate sweeps: every rate of a method at once, and where it diverges.

sweep runs a grid of rates side by side, then more rates around the onset of divergence;
scan looks closely above the onset for isolated stable rates; thresholds sets the measured
onsets beside the Hessian's predictions.
"""
from __future__ import annotations

import math

import numpy as np

from . import rosenbrock as R


def sweep_table(rates, traj, tol) -> dict:
    """Per rate: final squared error, first step below tol, divergence step."""
    err = R.squared_error(traj)                            # (n + 1, k)
    return {"rates": [float(r) for r in rates],
            "final_sq_error": [None if np.isnan(e) else float(e) for e in err[-1]],
            "steps_to_tol": [int(b.argmax()) if b.any() else None for b in (err < tol).T],
            "diverged_at": R.diverged_at(traj)}


def bracket(table: dict):
    """(largest stable rate below the first diverging one, first diverging rate)."""
    div = [d is not None for d in table["diverged_at"]]
    if not any(div):
        return table["rates"][-1], None
    i = div.index(True)
    return (table["rates"][i - 1] if i else None), table["rates"][i]


def best_stable(table: dict):
    """The rate below the first diverging one that first gets below tol, else the one ending
    closest (ties: the smaller final error); None if the smallest rate diverges. Stable rates
    above the onset (see scan) are too narrow to count."""
    hi = bracket(table)[1]
    rows = [(math.inf if s is None else s, e, r) for r, s, e in
            zip(table["rates"], table["steps_to_tol"], table["final_sq_error"])
            if e is not None and (hi is None or r < hi)]
    return min(rows)[2] if rows else None


def sweep(method: str, config):
    """The grid, and config.refine rates strictly inside its divergence bracket:
    (table, {rate: trajectory (n + 1, 2)})."""
    def part(rates):
        traj = R.run(method, rates, config.n_steps, config.start, **config.hyper())
        columns.update(zip(map(float, rates), np.moveaxis(traj, 1, 0)))
        return sweep_table(rates, traj, config.tol)

    columns = {}
    table = part(config.grid())
    lo, hi = bracket(table)
    if lo is not None and hi is not None and config.refine >= 1:
        fine = part(np.geomspace(lo, hi, config.refine + 2)[1:-1])
        order = np.argsort(table["rates"] + fine["rates"], kind="stable")
        table = {k: [(table[k] + fine[k])[i] for i in order] for k in table}
    return table, columns


def scan(method: str, table: dict, config) -> dict | None:
    """Is divergence monotone in η? config.scan rates over the decade above the last stable
    one, config.scan_steps steps each (divergence comes within a few dozen); the largest still
    finite, if above the onset, is run again for all n steps."""
    lo, hi = bracket(table)
    if lo is None or hi is None or config.scan < 2:
        return None
    rates = np.geomspace(lo, 10 * lo, config.scan)
    steps = min(config.n_steps, config.scan_steps)
    traj = R.run(method, rates, steps, config.start, **config.hyper())     # (steps + 1, k, 2)
    stable = np.array([d is None for d in R.diverged_at(traj)])
    onset = float(rates[~stable].min()) if (~stable).any() else None
    islands = rates[stable & (rates > (onset or np.inf))]
    out = {"from": float(lo), "to": float(10 * lo), "count": config.scan,
           "steps": steps, "onset": onset,
           "stable_above_onset": len(islands), "islands": [float(r) for r in islands],
           "largest_stable": float(rates[stable].max()) if stable.any() else None}
    if out["largest_stable"] is not None and out["stable_above_onset"]:
        full = R.run(method, out["largest_stable"], config.n_steps, config.start, **config.hyper())
        out["largest_stable_full_run"] = R.summarize(full, config.tol)
    return out


def thresholds(config, tables: dict, scans: dict) -> dict:
    """Observed divergence thresholds against 2/L and 2(1 + γ)/L at the start and minimum."""
    L0 = float(R.largest_curvature(np.array(config.start, dtype=float)))
    L1 = float(R.largest_curvature(R.MINIMUM))
    out = {"curvature": {"start": L0, "minimum": L1}}
    for method, table in tables.items():
        lo, hi = bracket(table)
        out[method] = {"largest_stable": lo, "smallest_diverging": hi,
                       "predicted_at_start": R.predicted_threshold(method, L0, config.gamma),
                       "predicted_at_minimum": R.predicted_threshold(method, L1, config.gamma),
                       "scan": scans[method], "latest_divergence": max(
                           (d for d in table["diverged_at"] if d is not None), default=None)}
    return out
