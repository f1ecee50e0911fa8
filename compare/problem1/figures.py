"""Problem 1's figures, drawn from what experiment.py computes or loads from its cache.

    plot_all(results, trajectories, folder) -> [a_contour.png, b_ c_ d_trajectories.png, sweep.png]
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from . import rosenbrock as R
from .. import plots

FLOOR = 1e-32        # squared errors of exactly 0 (the iterate hit (1, 1)) are drawn here
COLORS = {"gd": "C0", "momentum": "C1", "adam": "C2", "adam_torch": "C3", "d_momentum_best": "C4"}
PART_TITLES = {"b": "(b) GD, momentum and Adam", "c": "(c) momentum and Adam",
               "d": "(d) Adam against momentum"}


def _contour(ax, box, levels=None):
    """Log-spaced contours of f over box = (x0, x1, y0, y1), the minimum starred; given levels
    are labelled, else two a decade from 10^-1 up to max f are drawn faintly under paths."""
    x0, x1, y0, y1 = box
    X, Y = np.meshgrid(np.linspace(x0, x1, 400), np.linspace(y0, y1, 400))
    Z = R.f(X, Y)
    faint = levels is None
    levels = 10 ** np.arange(-1, np.log10(Z.max()), 0.5) if faint else levels
    cs = ax.contour(X, Y, Z, levels=levels, cmap="viridis", linewidths=0.8,
                    alpha=0.5 if faint else 1.0)
    if not faint:
        ax.clabel(cs, inline=True, fontsize=7, fmt="%.3g")
    ax.plot(*R.MINIMUM, "r*", markersize=12, label="minimum (1, 1)", zorder=5)
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y")


def plot_contour(path):
    fig, (ax,) = plots.figure(width=7, height=6)
    _contour(ax, (-4, 4, -2, 6), levels=np.logspace(-1, 3.5, 20))
    ax.plot(*R.START, "ko", label="start (−4, −2)", clip_on=False, zorder=5)
    ax.set_title("(a) f(x, y) = (1 − x)² + 100 (y − x²)²: contours at 20 log-spaced levels\n"
                 "(10^−1 … 10^3.5); the minimum lies in a long curved valley")
    plots.style(ax, loc="upper center")
    return plots.save(fig, path)


def trajectory_box(results, trajectories):
    """A window holding every stable path of (b)–(d) and the homework's [−4.5, 4.5]×[−3, 3]."""
    stable = [trajectories[r["name"]] for r in results["runs"] if r["diverged_at"] is None]
    pts = np.concatenate(stable + [np.array([[-4.5, -3.0], [4.5, 3.0]])])
    (x0, y0), (x1, y1) = pts.min(axis=0), pts.max(axis=0)
    pad = 0.05 * max(x1 - x0, y1 - y0)
    return x0 - pad, x1 + pad, y0 - pad, y1 + pad


def _label(r):
    best = " (best stable)" if r["name"].endswith("_best") else ""
    text = f"{r['label']}, η = {r['lr']:.3g}{best}"
    return text + (f": diverged at step {r['diverged_at']}" if r["diverged_at"] is not None else "")


def plot_part(part, results, trajectories, box, path):
    """Trajectories on the contours (left) and log10 squared error against step (right)."""
    runs = [r for r in results["runs"] if r["part"] == part]
    fig, (ax, ax_err) = plots.figure(ncols=2, width=7.5, height=6)
    _contour(ax, box)
    ax.plot(*R.START, "ko", label="start (−4, −2)")
    top = 1.0
    for r in runs:
        traj, color = trajectories[r["name"]], COLORS.get(r["name"], COLORS[r["method"]])
        style = "o--" if r["diverged_at"] is not None else "-"   # diverged: iterates marked
        far = np.abs(traj).max(axis=1) > 1e6                  # beyond this only overflow follows
        shown = traj[: far.argmax() if far.any() else len(traj)]
        ax.plot(shown[:, 0], shown[:, 1], style, color=color, lw=1, ms=3, label=_label(r))
        with np.errstate(divide="ignore"):
            log_err = np.log10(np.maximum(R.squared_error(shown), FLOOR))
        ax_err.plot(log_err, style, color=color, lw=1, ms=3, label=_label(r))
        if r["diverged_at"] is None:
            top = max(top, float(np.nanmax(log_err)) + 1)
    for r in (r for r in runs if r["diverged_at"] is not None):
        k, color = r["diverged_at"], COLORS[r["method"]]
        ax_err.annotate(f"{r['label']}, η = {r['lr']:.3g}:\ndiverged at step {k}", xy=(k, top),
                        xytext=(0.25, 0.97), textcoords="axes fraction", va="top", color=color,
                        arrowprops=dict(arrowstyle="->", color=color))
    ax_err.set_ylim(top=top)
    ax.set_title("trajectories on the contours of f")
    ax.legend(loc="upper left", fontsize=plots.LEGEND_FONTSIZE)      # over contours: no grid
    plots.style(ax_err, xlabel="step", ylabel="log10 squared error ‖p − (1, 1)‖²",
                title="log10 squared error against step", loc="lower left")
    fig.suptitle(part_title(part, runs))
    return plots.save(fig, path)


def part_title(part, runs) -> str:
    rates = sorted({r["lr"] for r in runs if r["name"] != "d_momentum_best"})
    title = f"{PART_TITLES[part]} at η = {', '.join(f'{lr:g}' for lr in rates)}, from (−4, −2)"
    for r in runs:
        if r["name"] == "d_momentum_best":
            title += f", and momentum at its best stable rate η = {r['lr']:.3g}"
    lines = [title]
    for r in runs:
        reach = (f"below 1e-6 at step {r['steps_to_tol']}" if r["steps_to_tol"]
                 else "never below 1e-6")
        lines.append(f"{r['label']} at η = {r['lr']:.3g}: " + (
            f"diverged at step {r['diverged_at']}" if r["diverged_at"] is not None
            else f"{reach}, final error {r['final_sq_error']:.1e}"))
    return "\n".join(lines)


def plot_sweep(results, path):
    """Final squared error and steps to 1e-6 against η, thresholds marked."""
    config, th = results["config"], results["thresholds"]
    fig, (ax, ax_steps) = plots.figure(ncols=2, width=7.5, height=6.5)
    for i, (method, table) in enumerate(results["sweep"].items()):
        ceiling = 1e4 * 4 ** i                                 # diverged rates, one row per method
        color, rates = COLORS[method], np.array(table["rates"])
        err = np.array([np.nan if e is None else max(e, FLOOR) for e in table["final_sq_error"]])
        steps = np.array([np.nan if s is None else s for s in table["steps_to_tol"]], float)
        diverged = np.array([d is not None for d in table["diverged_at"]])
        ax.plot(rates[~diverged], err[~diverged], ".-", color=color, label=R.METHODS[method])
        ax_steps.plot(rates, steps, ".-", color=color, label=R.METHODS[method])
        if diverged.any():
            ax.plot(rates[diverged], np.full(diverged.sum(), ceiling), "x", color=color)
        if islands := (th[method]["scan"] or {}).get("islands"):
            ax.plot(islands, np.full(len(islands), ceiling / 300), "|", ms=12, mew=1.5, color=color,
                    label=f"{R.METHODS[method]}: stable rates above the onset (scan)")
        lo, hi = th[method]["largest_stable"], th[method]["smallest_diverging"]
        for ax_ in (ax, ax_steps):
            if lo is not None and hi is not None:
                ax_.axvline(np.sqrt(lo * hi), color=color, lw=1.5)
            for key, style in (("predicted_at_start", "--"), ("predicted_at_minimum", ":")):
                if th[method][key] is not None:
                    ax_.axvline(th[method][key], color=color, ls=style, lw=1)
    ax.set(xscale="log", yscale="log", xlabel="learning rate η",
           ylabel=f"squared error after {config['n_steps']} steps",
           title="final squared error (× at the top: diverged; | below: isolated stable rates)")
    reached = any(s is not None for t in results["sweep"].values() for s in t["steps_to_tol"])
    if not reached:
        ax_steps.text(0.5, 0.5, "no rate reached the tolerance", transform=ax_steps.transAxes,
                      ha="center")
    ax_steps.set(xscale="log", yscale="log" if reached else "linear", xlabel="learning rate η",
                 ylabel=f"first step with squared error < {config['tol']:g}",
                 title=f"steps to reach {config['tol']:g} (missing: never, or diverged)")
    plots.style(ax, loc="upper left", bbox_to_anchor=(0, -0.12), ncol=2)
    plots.style(ax_steps, loc="upper right")
    fig.suptitle("Learning-rate sweep from (−4, −2). Divergence threshold observed (solid line) "
                 "against the Hessian's prediction\n2/L (GD), 2(1 + γ)/L (momentum) with L at the "
                 "start (dashed) and at the minimum (dotted); Adam has none")
    return plots.save(fig, path)


def plot_all(results, trajectories, folder: Path) -> list[Path]:
    """Every figure of Problem 1 into folder (figures/problem1, or figures/quick/problem1)."""
    box = trajectory_box(results, trajectories)
    return [plot_contour(Path(folder) / "a_contour.png"),
            *(plot_part(part, results, trajectories, box, Path(folder) / f"{part}_trajectories.png")
              for part in "bcd"),
            plot_sweep(results, Path(folder) / "sweep.png")]
