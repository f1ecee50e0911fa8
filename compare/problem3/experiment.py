"""`compare problem3`: Problem 3's runs (compare.table), then its figures and the homework's
gradient ratio per epoch.

The homework's own solution called optimizer.step() once per epoch (the step sits
outside the batch loop, so each epoch made one update from the last batch's gradient)
and so reported a frozen 0.1135; here every batch takes a step.
"""
from __future__ import annotations

import math

import click

from .. import problem_cli, runs, table
from . import figures


def shallow_baseline(quick: bool, impl: str = "auto"):
    """Problem 2's baseline result (784-30-10, the same rate and batch), if it has been run:
    the accuracy figure sets it beside the deep variants over the same epochs."""
    for run in table.plan(2, quick, impl):
        if run.part == "a" and run.seed == 0 and (hit := runs.stored(run, quick)):
            return hit
    return None


def ratio_table(results: dict) -> list[tuple]:
    rows = []
    for name, r in figures.variants(results).items():
        ratios = figures.grad_ratios(r)
        rows.append((name, " ".join(f"{x:.2e}" for x in ratios),
                     f"{math.log10(ratios[-1]):+.1f}" if ratios else "—"))
    return rows


def finish(quick: bool, results: dict, labels: dict, impl: str) -> None:
    """After training: the figures (from the seed-0 results) and the gradient-ratio table."""
    results = {k: r for k, r in results.items() if r["run"]["seed"] == 0}
    paths = figures.make_figures(results, labels, quick, shallow_baseline(quick, impl))
    click.echo("\ngradient ratio per epoch (first/last layer), and log10 of the last:")
    for row in ratio_table(results):
        click.echo("  ".join(row))
    click.echo(f"figures: {', '.join(str(p) for p in paths)}")


command = problem_cli.problem_command(
    3, finish,
    help="Problem 3: deep nets and vanishing gradients -> figures/problem3, results/problem3.",
    impl_help="Implementation for the best-network runs (auto: torchnet); the variants "
              "always run in both.",
    study_help="Also run the study of dense architectures on the validation split, and "
               "seeds 1 and 2 of each best net and of each candidate that is a close call "
               "(the report's error bars).")
