"""Problem 2's figures, drawn from the results of its runs."""
from __future__ import annotations

from .. import plots, runs
from . import PROBLEM, best_of

# The student's reported accuracies for SGD at lr 0.001 (Problem 2 solution), for reference.
STUDENT_SGD_1E3 = (0.8258, 0.8739, 0.8919, 0.9014, 0.9071, 0.9117, 0.9145, 0.9181, 0.9200,
                   0.9229, 0.9235, 0.9257, 0.9289, 0.9289, 0.9307, 0.9321, 0.9329, 0.9345,
                   0.9350, 0.9367, 0.9376, 0.9392, 0.9386, 0.9405, 0.9394, 0.9404, 0.9418,
                   0.9427, 0.9430, 0.9445)
SWEEPS = (("b", "(b) SGD (Nesterov 0.8, wd 1e-4)", "b_sgd_sweep.png"),
          ("c", "(c) Adam (betas 0.9/0.999, wd 1e-4)", "c_adam_sweep.png"))


def _subset(results, part):
    return {k: v for k, v in results.items() if v["run"]["part"] == part and not v["run"]["study"]}


def make_figures(results: dict, labels: dict, quick: bool) -> list:
    """The figures of seed 0; the best rates of figure (d) are chosen over every seed given."""
    best = (best_of(results, "b"), best_of(results, "c"))
    results = {k: r for k, r in results.items() if r["run"]["seed"] == 0}
    folder = runs.figures_dir(PROBLEM, quick)
    fig, (ax,) = plots.figure()
    plots.accuracy_curves(ax, _subset(results, "a"), labels,   # identical curves: draw both
                          styles={"a-baseline-torch": {"lw": 4, "alpha": 0.45},
                                  "a-baseline-scratch": {"ls": "--", "color": "k", "lw": 1.2}})
    ax.plot(range(1, 31), STUDENT_SGD_1E3, ":", color="grey", label="student's solution (reported)")
    ax.axhline(0.95, color="k", lw=0.8, ls="--", label="homework: 'just below 0.95'")
    plots.style(ax, title="(a) Baseline 784-30-10 sigmoid, SGD lr=1e-3 Nesterov 0.8, wd 1e-4, "
                "batch 10\nboth implementations from the same initial weights and batch order")
    paths = [plots.save(fig, folder / "a_baseline.png")]
    for part, title, name in SWEEPS:
        fig, (ax, close) = plots.figure(ncols=2, width=6)
        sweep = _subset(results, part)
        plots.accuracy_curves(ax, sweep, labels, ylim=(0.0, 1.0))
        ax.set_title(f"{title}: learning-rate sweep, 784-30-10 sigmoid, batch 10\ntrained by "
                     + runs.trained_by(sweep.values()), fontsize=9)
        plots.accuracy_curves(close, sweep, labels, ylim=plots.zoom(sweep))
        close.get_legend().remove()             # the colours of the left panel's legend
        close.set_title("the same, zoomed on the rates within 5 points of the best", fontsize=9)
        paths.append(plots.save(fig, folder / name))
    fig, (ax,) = plots.figure()
    rates = {k: v for k, v in results.items() if k in best}
    recipes = _subset(results, "d")
    plots.accuracy_curves(ax, {**rates, **recipes}, labels, ylim=(0.9, 1.0))
    ax.set_title("(d) Best SGD and Adam rates of the sweeps against the chosen recipes\n"
                 + "; ".join(f"{what} trained by {runs.trained_by(part.values())}"
                             for what, part in (("sweeps", rates), ("recipes", recipes)) if part))
    return paths + [plots.save(fig, folder / "d_best.png")]
