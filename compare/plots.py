"""Plot helpers shared by the problems: learning curves that show divergence as such."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402


def figure(ncols=1, width=7.0, height=4.5):
    fig, axes = plt.subplots(1, ncols, figsize=(width * ncols, height), squeeze=False)
    return fig, axes[0]


def close(fig) -> None:
    plt.close(fig)


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
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(ylabel)
    if ylim:
        ax.set_ylim(*ylim)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
