"""`compare problem2`: Problem 2's runs (compare.table), then its figures."""
from __future__ import annotations

import click

from .. import problem_cli
from . import figures


def finish(quick: bool, results: dict, labels: dict, impl: str) -> None:
    """After training: the figures, drawn from the seed-0 results."""
    paths = figures.make_figures(results, labels, quick)
    click.echo(f"figures: {', '.join(str(p) for p in paths)}")


command = problem_cli.problem_command(
    2, help="Problem 2: shallow nets on MNIST -> figures/problem2, results/problem2.",
    impl_help="Implementation for the sweeps and the recipes; auto: the batch-10 sweeps in "
              "scratchnet (float64), the batch-128 recipes in torchnet. (a) always runs both.",
    study_help="Also run (d)'s study of one-hidden-layer recipes on the validation split, and "
               "the seeds behind the report's error bars (seeds 1-4 of the baseline and of "
               "each sweep rate, seeds 1 and 2 of each recipe and candidate).")
