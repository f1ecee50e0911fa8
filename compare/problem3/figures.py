"""Problem 3's figures, drawn from the results of its runs."""
from __future__ import annotations

from .. import plots, runs
from . import PROBLEM

def variants(results):
    return {k: v for k, v in results.items() if k.startswith("deep-")}


def _style(name):
    return {"ls": "--" if name.endswith("-scratch") else "-",
            "marker": "o" if name.endswith("-torch") else "s", "ms": 4}


def make_figures(results: dict, labels: dict, quick: bool, shallow_best=None) -> list:
    folder = runs.figures_dir(PROBLEM, quick)
    paths = []
    deep = variants(results)

    fig, (ax,) = plots.figure()
    for name, r in deep.items():
        ratios = [n[0] / n[-1] for n in r["history"]["grad_norms"]]
        ax.semilogy(range(1, len(ratios) + 1), ratios, label=labels[name], **_style(name))
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(plots.MaxNLocator(integer=True))
    ax.set_ylabel("mean ‖∇W_first‖ / mean ‖∇W_last‖")
    ax.set_title("Gradient ratio, first layer / last layer, 784-30×8-10 (log scale)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    paths.append(runs.save_figure(fig, folder / "grad_ratio.png"))
    plots.close(fig)

    fig, axes = plots.figure(ncols=2, width=6.5)
    for ax, which, title in ((axes[0], 0, "first epoch"), (axes[1], -1, "last epoch")):
        for name, r in deep.items():
            norms = r["history"]["grad_norms"]
            if norms:
                layer_norms = norms[which]
                ax.semilogy(range(1, len(layer_norms) + 1), layer_norms, label=labels[name],
                            **_style(name))
        ax.set_xlabel("layer (1 = next to the input)")
        ax.set_ylabel("mean ‖∂C/∂W_l‖ over the epoch's batches")
        ax.set_title(f"Speed of learning per layer, {title}")
        ax.grid(True, which="both", alpha=0.3)
    axes[1].legend(fontsize=7)
    paths.append(runs.save_figure(fig, folder / "layer_norms.png"))
    plots.close(fig)

    fig, (ax,) = plots.figure()
    plots.accuracy_curves(ax, deep, labels, ylim=(0.0, 1.0),
                          styles={k: _style(k) for k in deep})
    if shallow_best is not None:
        ax.axhline(shallow_best, color="k", ls=":", lw=1,
                   label=f"best shallow net, Problem 2 ({shallow_best:.4f})")
        ax.legend(fontsize=8)
    ax.set_title("Test accuracy, 784-30×8-10, plain SGD lr 1e-3, batch 10")
    paths.append(runs.save_figure(fig, folder / "accuracy.png"))
    plots.close(fig)

    best = {k: v for k, v in results.items() if k.startswith("best")}
    if best:
        fig, (ax,) = plots.figure()
        plots.accuracy_curves(ax, best, labels, ylim=(0.97, 1.0))
        ax.set_title("The best dense networks (test accuracy)")
        paths.append(runs.save_figure(fig, folder / "best.png"))
        plots.close(fig)
    return paths
