"""The one plotting style of compare/: every figure is made, styled and saved here.

    fig, (ax, ax2) = plots.figure(ncols=2, width=7.5, height=6)   # one row of axes
    ...                                                           # draw on them
    plots.style(ax, xlabel="epoch", ylabel="test accuracy", title="...")
    plots.save(fig, folder / "name.png")                          # atomic; frees the figure

Figures are matplotlib Figures made without pyplot (no global state, so pool
workers and tests can draw at the same time), laid out by matplotlib's
constrained layout and written by runs.save_figure (atomically, 110 dpi).
Learning curves that show a divergence as such are drawn by accuracy_curves.
"""
from __future__ import annotations

from pathlib import Path

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

GRID_ALPHA = 0.3
LEGEND_FONTSIZE = 8


def figure(ncols: int = 1, width: float = 7.0, height: float = 4.5):
    """A new figure with one row of `ncols` axes, each about width × height inches:
    (fig, [ax, ...])."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    return fig, list(fig.subplots(1, ncols, squeeze=False)[0])


def style(ax, *, xlabel: str | None = None, ylabel: str | None = None,
          title: str | None = None, log_grid: bool = False, integer_x: bool = False,
          legend: bool = True, **legend_options) -> None:
    """The common look of an axes: labels, a light grid, a small legend.

    log_grid: minor grid lines too (for log axes). integer_x: whole numbers on
    the x axis (epochs). legend_options go to ax.legend (loc, ncol, fontsize, ...).
    """
    if xlabel is not None:
        ax.set_xlabel(xlabel)
    if ylabel is not None:
        ax.set_ylabel(ylabel)
    if title is not None:
        ax.set_title(title)
    if integer_x:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(True, which="both" if log_grid else "major", alpha=GRID_ALPHA)
    if legend:
        legend_options.setdefault("fontsize", LEGEND_FONTSIZE)
        ax.legend(**legend_options)


def save(fig, path) -> Path:
    """Write the figure to path (runs.save_figure: atomically), then close it."""
    from .runs import save_figure

    try:
        return save_figure(fig, Path(path))
    finally:
        close(fig)


def close(fig) -> None:
    """Free what a figure holds (it belongs to no pyplot window, so clearing it is all)."""
    fig.clear()


def accuracy_curves(ax, results: dict, labels: dict, ylabel="test accuracy", ylim=None,
                    styles: dict | None = None) -> None:
    """One curve per run: accuracy against epoch; a diverged run ends in an ×."""
    styles = styles or {}
    for name, result in results.items():
        history = result["history"]
        acc = [a for a in history["test_accuracy"] if a is not None]
        epochs = list(range(1, len(acc) + 1))
        line, = ax.plot(epochs, acc, label=labels.get(name, name), **styles.get(name, {}))
        diverged = history.get("diverged_at")
        if diverged:
            x = diverged["epoch"]
            y = acc[-1] if acc else (ylim[0] if ylim else 0.0)
            ax.plot([x], [y], "x", color=line.get_color(), markersize=10, mew=2)
            line.set_label(f"{line.get_label()} — diverged at epoch {x} (step {diverged['step']})")
    if ylim:
        ax.set_ylim(*ylim)
    style(ax, xlabel="epoch", ylabel=ylabel, integer_x=True)


def zoom(results: dict, within: float = 0.05) -> tuple[float, float] | None:
    """A y-range that shows the differences between the good runs: the accuracies of the
    second half of every run that ends within `within` of the best final accuracy,
    padded by a tenth. None if no run has a final accuracy."""
    finals = {k: r["final_accuracy"] for k, r in results.items()
              if r.get("final_accuracy") is not None and not r.get("diverged_at")}
    if not finals:
        return None
    best = max(finals.values())
    late = [a for k, f in finals.items() if f >= best - within
            for a in results[k]["history"]["test_accuracy"][
                len(results[k]["history"]["test_accuracy"]) // 2:] if a is not None]
    lo, hi = min(late), max(late)
    pad = max(hi - lo, 0.002) / 10
    return lo - pad, min(1.0, hi + pad)
