"""`compare`: each subcommand is a click command named `command` in its own module, imported
only when it runs (so `compare data` starts fast and never loads torch)."""
from __future__ import annotations

import importlib
import sys

import click

SUBCOMMANDS = {
    "data": ("compare.data", "Fetch and verify MNIST into data/MNIST/raw."),
    "gradcheck": ("compare.checks.gradcheck", "Backprop vs autograd vs finite differences."),
    "lockstep": ("compare.checks.lockstep", "Both packages step for step: weight differences."),
    "problem1": ("compare.problem1.experiment", "Problem 1: optimizers on Rosenbrock's function."),
    "problem2": ("compare.problem2.experiment", "Problem 2: shallow nets on MNIST."),
    "problem3": ("compare.problem3.experiment", "Problem 3: deep nets and vanishing gradients."),
    "problems": ("compare.problem_cli", "Problems 2 and 3 on Dask workers, and figures."),
    "bench": ("compare.bench", "Side-by-side timings -> results/bench.json."),
    "report": ("compare.report.build", "REPORT.md from results/ and figures/."),
    "exercises": ("compare.exercises.cli", "A student's copy of scratchnet, and its grader."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx):
        return list(SUBCOMMANDS)

    def get_command(self, ctx, name):
        if name in SUBCOMMANDS:
            return importlib.import_module(SUBCOMMANDS[name][0]).command
        return None

    def invoke(self, ctx):
        """A damaged MNIST or network file or a missing device found deep inside a subcommand
        is a one-line usage error (exit status 2), not a traceback."""
        try:
            return super().invoke(ctx)
        except ValueError as err:
            from scratchnet.mnist import IDXError
            from scratchnet.saving import NetworkFileError

            errors = [IDXError, NetworkFileError]
            if "torchnet.device" in sys.modules:        # torch's errors only if it is loaded
                errors.append(sys.modules["torchnet.device"].DeviceError)
            if isinstance(err, tuple(errors)):
                raise click.UsageError(str(err)) from None
            raise

    def format_commands(self, ctx, formatter):
        with formatter.section("Commands"):
            formatter.write_dl([(name, text) for name, (_, text) in SUBCOMMANDS.items()])


@click.group(cls=LazyGroup)
def main():
    """Cross-check scratchnet and torchnet, and reproduce Homework 7."""


if __name__ == "__main__":
    main()
