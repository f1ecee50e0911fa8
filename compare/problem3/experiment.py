"""`compare problem3`: Problem 3's runs (compare.table), then its figures and the homework's
gradient ratio per epoch."""
from __future__ import annotations

import math

import click

from .. import problem_cli, runs, table
from . import figures


def finish(quick: bool, results: dict, labels: dict, impl: str) -> None:
    """After training: the figures (from the seed-0 results, beside Problem 2's baseline if it
    is stored: same rate and batch) and the gradient-ratio table."""
    results = {k: r for k, r in results.items() if r["run"]["seed"] == 0}
    shallow = next((hit for run in table.plan(2, quick, impl) if run.part == "a"
                    and (hit := runs.stored(run, quick))), None)
    paths = figures.make_figures(results, labels, quick, shallow)
    click.echo("\ngradient ratio per epoch (first/last layer), and log10 of the last:")
    for name, r in figures.variants(results).items():
        ratios = figures.grad_ratios(r)
        click.echo("  ".join((name, " ".join(f"{x:.2e}" for x in ratios),
                              f"{math.log10(ratios[-1]):+.1f}" if ratios else "—")))
    click.echo(f"figures: {', '.join(str(p) for p in paths)}")


command = problem_cli.problem_command(
    3, help="Problem 3: deep nets and vanishing gradients -> figures/problem3, results/problem3.",
    impl_help="Implementation for the best-network runs (auto: torchnet); the variants "
              "always run in both.",
    study_help="Also run the study of dense architectures on the validation split, and "
               "seeds 1 and 2 of each best net and of each candidate that is a close call "
               "(the report's error bars).")
