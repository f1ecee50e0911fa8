"""The one plotting style of compare/: every figure is made, styled and saved here.

Figures are made without pyplot (no global state, so workers and tests can draw at once),
laid out by matplotlib's constrained layout and written atomically by runs.save_figure.
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

LEGEND_FONTSIZE = 8


def figure(ncols: int = 1, width: float = 7.0, height: float = 4.5):
    """(fig, [ax, ...]): one row of `ncols` axes, each about width × height inches."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def style(ax, *, xlabel=None, ylabel=None, title=None, log_grid=False, integer_x=False,
          legend=True, **legend_options) -> None:
    """Labels, a light grid (minor lines too with log_grid), whole numbers on x (integer_x),
    a small legend (legend_options go to ax.legend)."""
    for text, setter in ((xlabel, ax.set_xlabel), (ylabel, ax.set_ylabel), (title, ax.set_title)):
        if text is not None:
            setter(text)
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="both" if log_grid else "major", alpha=0.3)
    if legend:
        ax.legend(**{"fontsize": LEGEND_FONTSIZE, **legend_options})


def save(fig, path) -> Path:
    """Write the figure to path atomically, then free what it holds."""
    from .runs import save_figure

    try:
        return save_figure(fig, Path(path))
    finally:
        fig.clear()


def accuracy_curves(ax, results: dict, labels: dict, ylim=None, styles=None) -> None:
    """One curve per run: accuracy against epoch; a diverged run ends in an ×."""
    for name, result in results.items():
        history = result["history"]
        acc = [a for a in history["test_accuracy"] if a is not None]
        line, = ax.plot(range(1, len(acc) + 1), acc, label=labels.get(name, name),
                        **(styles or {}).get(name, {}))
        if diverged := history.get("diverged_at"):
            x = diverged["epoch"]
            y = acc[-1] if acc else (ylim[0] if ylim else 0.0)
            ax.plot([x], [y], "x", color=line.get_color(), markersize=10, mew=2)
            line.set_label(f"{line.get_label()} — diverged at epoch {x} (step {diverged['step']})")
    if ylim:
        ax.set_ylim(*ylim)
    style(ax, xlabel="epoch", ylabel="test accuracy", integer_x=True)


def zoom(results: dict) -> tuple[float, float] | None:
    """A y-range showing the differences between the runs that end within 5 points of the
    best (the second half of each), padded by a tenth; None if no run has an accuracy."""
    finals = {k: r["final_accuracy"] for k, r in results.items()
              if r.get("final_accuracy") is not None and not r.get("diverged_at")}
    if not finals:
        return None
    best = max(finals.values())
    late = [a for k, f in finals.items() if f >= best - 0.05
            for a in results[k]["history"]["test_accuracy"][
                len(results[k]["history"]["test_accuracy"]) // 2:] if a is not None]
    lo, hi = min(late), max(late)
    pad = max(hi - lo, 0.002) / 10
    return lo - pad, min(1.0, hi + pad)
