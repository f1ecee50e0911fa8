"""Problem 2: shallow nets (784-h-10) on MNIST.

(a) the homework's baseline in both implementations from the same weights;
(b) an SGD learning-rate sweep, (c) the same with Adam, both up to rates at
which training fails; (d) the best one-hidden-layer recipe, chosen on the
validation split by the study (`--study`), trained once on all 60,000 images.
Results: results/problem2/<name>-<hash>.json; figures: figures/problem2/.
"""
from __future__ import annotations

import click

from scratchnet.config import TrainConfig

from .. import problem_cli
from . import PROBLEM, figures
from ..runs import Run

BASELINE = TrainConfig()  # 784-30-10 sigmoid, Xavier, SGD 1e-3 Nesterov 0.8 wd 1e-4, batch 10, 30 epochs
SGD_RATES = (1e-4, 1e-3, 1e-2, 0.05, 0.5, 5.0)
ADAM_RATES = (1e-4, 1e-3, 1e-2, 0.05, 0.1, 0.5)

# (d) The chosen one-hidden-layer recipe (see STUDY and the report for how it was chosen).
RECIPE = TrainConfig(sizes=(784, 1024, 10), activation="relu", init="kaiming_normal",
                     dropout=0.5, optimizer="sgd", lr=0.05, momentum=0.9, nesterov=True,
                     weight_decay=0.0, step_size=10, gamma=0.3, batch_size=128, epochs=30,
                     dtype="float32")


def study_configs() -> dict[str, TrainConfig]:
    """(d)'s candidates, each trained on 50,000 images and scored on the other 10,000."""
    base = RECIPE.replace(validation=True)
    return {
        "study-sigmoid100-sgd": TrainConfig(sizes=(784, 100, 10), lr=0.1, momentum=0.9,
                                            batch_size=10, epochs=30, dtype="float32",
                                            weight_decay=1e-4, validation=True),
        "study-relu1024-nodrop": base.replace(dropout=0.0),
        "study-relu1024-drop0.5": base,
        "study-relu1024-drop0.5-adam": base.replace(optimizer="adam", lr=1e-3),
    }


def plan(quick: bool, impl: str) -> list[Run]:
    """Every run of (a)-(d), shrunk to smoke size when quick."""
    def shrink(config: TrainConfig) -> TrainConfig:
        return config.replace(train_subset=2000, epochs=1) if quick else config

    todo = [Run("a-baseline-torch", shrink(BASELINE), "torch", label="torchnet (float64)"),
            Run("a-baseline-scratch", shrink(BASELINE), "scratch", label="scratchnet (float64)")]
    sweep_dtype = "float64" if impl == "scratch" else "float32"
    for lr in SGD_RATES:
        config = shrink(BASELINE.replace(lr=lr, dtype=sweep_dtype))
        todo.append(Run(f"b-sgd-lr{lr:g}", config, impl, label=f"SGD lr={lr:g}"))
    for lr in ADAM_RATES:
        config = shrink(BASELINE.replace(optimizer="adam", lr=lr, dtype=sweep_dtype))
        todo.append(Run(f"c-adam-lr{lr:g}", config, impl, label=f"Adam lr={lr:g}"))
    todo.append(Run("d-recipe", shrink(RECIPE), impl,
                    label="chosen recipe: 784-1024-10 ReLU, dropout 0.5, batch 128"))
    return todo


def study_plan(quick: bool, impl: str) -> list[Run]:
    return [Run(name, config.replace(train_subset=2000, epochs=1) if quick else config, impl)
            for name, config in study_configs().items()]


# ---------------------------------------------------------------- CLI
@click.command()
@problem_cli.problem_options(
    impl_help="Implementation for the sweeps and the recipe; (a) always runs both.",
    study_help="Also run (d)'s study of one-hidden-layer recipes on the validation split "
               "(about 5 minutes more).")
def command(quick, impl, study, jobs, device, force, quiet):
    """Problem 2: shallow nets on MNIST -> figures/problem2, results/problem2."""
    quick, results, labels = problem_cli.run_and_tabulate(
        PROBLEM, plan, study_plan, quick, impl, study, jobs, device, force, quiet)
    paths = figures.make_figures(results, labels, quick)
    click.echo(f"figures: {', '.join(str(p) for p in paths)}")
