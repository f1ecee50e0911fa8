"""Problem 3's figures, drawn from the results of its runs."""
from __future__ import annotations

from scratchnet.train import History

from .. import plots, runs
from . import PROBLEM


def variants(results):
    return {k: v for k, v in results.items() if v["run"]["part"] in ("a", "b")}


def grad_ratios(result: dict) -> list[float]:
    """The homework's gradient ratio per epoch of a stored run (History.grad_ratio)."""
    return History.from_dict(result["history"]).grad_ratio


def _style(result):
    torch = result["impl"] == "torch"
    return {"ls": "--" if result["impl"] == "scratch" else "-", "marker": "o" if torch else "s",
            "ms": 4}


def norms_figure(deep: dict, labels: dict, path):
    fig, axes = plots.figure(ncols=2, width=6.5)
    for ax, which, title in ((axes[0], 0, "first epoch"), (axes[1], -1, "last epoch")):
        for name, r in deep.items():
            if norms := r["history"]["grad_norms"]:
                ax.semilogy(range(1, len(norms[which]) + 1), norms[which], label=labels[name],
                            **_style(r))
        plots.style(ax, xlabel="layer (1 = next to the input)",
                    ylabel="mean ‖∂C/∂W_l‖ over the epoch's batches",
                    title=f"Speed of learning per layer, {title}", log_grid=True,
                    legend=ax is axes[1], fontsize=7)
    return plots.save(fig, path)


def make_figures(results: dict, labels: dict, quick: bool, shallow=None) -> list:
    """The gradient ratio, the per-layer norms, the deep variants' accuracy beside the
    shallow baseline's (Problem 2's, if run), and the best dense nets."""
    folder, deep = runs.figures_dir(PROBLEM, quick), variants(results)
    fig, (ax,) = plots.figure()
    for name, r in deep.items():
        ratios = grad_ratios(r)
        ax.semilogy(range(1, len(ratios) + 1), ratios, label=labels[name], **_style(r))
    plots.style(ax, xlabel="epoch", ylabel="mean ‖∇W_first‖ / mean ‖∇W_last‖",
                title="Gradient ratio, first layer / last layer, 784-30×8-10 (log scale)",
                log_grid=True, integer_x=True)
    paths = [plots.save(fig, folder / "grad_ratio.png")]
    paths.append(norms_figure(deep, labels, folder / "layer_norms.png"))
    fig, (ax,) = plots.figure()
    plots.accuracy_curves(ax, deep, labels, ylim=(0.0, 1.0),
                          styles={k: _style(r) for k, r in deep.items()})
    if shallow is not None:
        epochs = max((len(r["history"]["test_accuracy"]) for r in deep.values()), default=0)
        acc = shallow["history"]["test_accuracy"][:epochs]
        ax.plot(range(1, len(acc) + 1), acc, "k:", marker="^",
                label="shallow baseline 784-30-10 (Problem 2), same epochs")
        ax.legend(fontsize=plots.LEGEND_FONTSIZE)
    ax.set_title("Test accuracy, 784-30×8-10, plain SGD lr 1e-3, batch 10")
    paths.append(plots.save(fig, folder / "accuracy.png"))
    best = {k: v for k, v in results.items() if v["run"]["part"] == "c" and not v["run"]["study"]}
    if best:
        fig, (ax,) = plots.figure()
        plots.accuracy_curves(ax, best, labels, ylim=(0.97, 1.0))
        ax.set_title("The best dense networks (test accuracy), trained by "
                     + runs.trained_by(best.values()))
        paths.append(plots.save(fig, folder / "best.png"))
    return paths
