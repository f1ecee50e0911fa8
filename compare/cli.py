"""`compare`: cross-check scratchnet against torchnet and reproduce Homework 7.

Each subcommand lives in its own module as a click command named `command`;
this group imports a module only when its subcommand runs, so `compare data`
starts fast and never loads torch.
"""
from __future__ import annotations

import importlib

import click

SUBCOMMANDS = {
    "data": ("compare.data", "Fetch and verify MNIST into data/MNIST/raw."),
    "gradcheck": ("compare.checks.gradcheck", "Hand-written backprop vs autograd vs finite differences."),
    "lockstep": ("compare.checks.lockstep", "Train both packages step for step; report weight differences."),
    "problem1": ("compare.problem1.experiment", "Problem 1: optimizers on the Rosenbrock function."),
    "problem2": ("compare.problem2.experiment", "Problem 2: shallow nets on MNIST."),
    "problem3": ("compare.problem3.experiment", "Problem 3: deep nets and vanishing gradients."),
    "problems": ("compare.problem_cli", "Problems 2 and 3 on Dask workers, and figures."),
    "bench": ("compare.bench", "Side-by-side timings -> results/bench.json."),
    "report": ("compare.report.build", "REPORT.md from results/ and figures/."),
    "exercises": ("compare.exercises.cli", "Exercises: a student's copy of scratchnet, and its grader."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name not in SUBCOMMANDS:
            return None
        module = importlib.import_module(SUBCOMMANDS[name][0])
        return module.command

    def invoke(self, ctx):
        """Run the subcommand; a damaged MNIST file or a missing device found deep inside
        it becomes a one-line usage error (exit status 2), not a traceback."""
        try:
            return super().invoke(ctx)
        except ValueError as err:
            if isinstance(err, _input_errors()):
                raise click.UsageError(str(err)) from None
            raise

    def format_commands(self, ctx, formatter):
        rows = [(name, help_text) for name, (_, help_text) in SUBCOMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


def _input_errors() -> tuple:
    """The exception classes that mean a bad input, not a bug (torch's only if loaded)."""
    import sys

    from scratchnet.mnist import IDXError
    from scratchnet.saving import NetworkFileError

    errors = [IDXError, NetworkFileError]
    device = sys.modules.get("torchnet.device")
    if device is not None:
        errors.append(device.DeviceError)
    return tuple(errors)


@click.group(cls=LazyGroup)
def main():
    """Cross-check scratchnet and torchnet, and reproduce Homework 7."""


if __name__ == "__main__":
    main()
