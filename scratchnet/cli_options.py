"""The command-line options of a training run: one click option per TrainConfig field.

Both CLIs use them: `config_options` adds the options to a click command, with
TrainConfig's defaults (Homework 7's baseline) and the ranges of
scratchnet/limits.py as their types, and `config_from_options` turns the parsed
values back into a TrainConfig.
"""
from __future__ import annotations

import math

import click

from . import names
from .config import TrainConfig
from .limits import RANGES, Bound
from .names import DTYPES, OPTIMIZERS

MNIST_INPUTS, MNIST_CLASSES = 784, 10
DEFAULT = TrainConfig()  # the homework's baseline


def parse_sizes(ctx, param, value) -> tuple[int, ...]:
    """'784,30,10' -> (784, 30, 10): positive widths, 784 inputs and 10 classes for MNIST."""
    sizes = []
    for part in value.split(","):
        try:
            sizes.append(int(part))
        except ValueError:
            raise click.BadParameter(f"{part.strip()!r} in {value!r} is not an integer; "
                                     "give layer widths such as 784,30,10") from None
    if len(sizes) < 2:
        raise click.BadParameter(f"{value!r}: need at least two layer widths, such as 784,30,10")
    if min(sizes) < 1:
        raise click.BadParameter(f"{value!r}: layer widths must be positive integers, "
                                 f"got {min(sizes)}")
    if sizes[0] != MNIST_INPUTS:
        raise click.BadParameter(f"{value!r}: the first width must be {MNIST_INPUTS} "
                                 f"(an MNIST image has 28x28 = {MNIST_INPUTS} pixels)")
    if sizes[-1] != MNIST_CLASSES:
        raise click.BadParameter(f"{value!r}: the last width must be {MNIST_CLASSES} "
                                 f"(MNIST has {MNIST_CLASSES} digit classes)")
    return tuple(sizes)


def _option(name, help, **kwargs):
    """--name for the TrainConfig field `name`, with that field's default shown."""
    flag = "--" + name.replace("_", "-")
    default = getattr(DEFAULT, name)
    if isinstance(default, tuple):                     # sizes: shown and parsed as 784,30,10
        default = ",".join(map(str, default))
    if isinstance(default, bool):
        flag = f"{flag}/--no-{flag[2:]}"
    return click.option(flag, name, default=default, show_default=True, help=help, **kwargs)


class FiniteFloatRange(click.FloatRange):
    """click.FloatRange that also refuses inf and nan (which compare false with every bound)."""

    def convert(self, value, param, ctx):
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number"
                      + (f" ({self._describe_range()})" if self.min is not None
                         or self.max is not None else ""), param, ctx)
        return number


def click_type(bound: Bound) -> click.ParamType:
    """The click type of a config.RANGES entry: the CLI accepts what TrainConfig accepts."""
    if bound.integer:
        return click.IntRange(bound.low, bound.high, min_open=bound.low_open,
                              max_open=bound.high_open)
    return FiniteFloatRange(bound.low, bound.high, min_open=bound.low_open,
                            max_open=bound.high_open)


def _number(name, help):
    """--name for a numeric TrainConfig field, typed by its range in config.RANGES."""
    return _option(name, help, type=click_type(RANGES[name]))

OPTIONS = {  # TrainConfig field -> its click option
    "sizes": _option("sizes", "layer widths, input first: 784,...,10", callback=parse_sizes,
                     metavar="W0,W1,...", type=click.UNPROCESSED),
    "activation": _option("activation", "hidden-layer activation",
                          type=click.Choice(names.ACTIVATIONS)),
    "cost": _option("cost", "cross_entropy: softmax + NLL; quadratic: sigmoid output, "
                    "½‖a−y‖²", type=click.Choice(names.COSTS)),
    "init": _option("init", "weight initialization", type=click.Choice(names.INITS)),
    "dropout": _number("dropout", "probability of zeroing a hidden unit while training"),
    "input_dropout": _number("input_dropout", "probability of zeroing an input pixel while "
                             "training"),
    "batchnorm": _option("batchnorm", "batch norm between each hidden linear layer and its "
                         "activation"),
    "optimizer": _option("optimizer", "optimizer", type=click.Choice(list(OPTIMIZERS))),
    "lr": _number("lr", "learning rate"),
    "momentum": _number("momentum", "SGD momentum"),
    "dampening": _number("dampening", "SGD dampening"),
    "nesterov": _option("nesterov", "SGD Nesterov momentum (needs momentum > 0)"),
    "weight_decay": _number("weight_decay", "L2 weight decay (SGD and Adam)"),
    "max_norm": _number("max_norm", "max-norm constraint: after every step, scale each unit's "
                        "incoming weights down to L2 norm at most this (0: off)"),
    "beta1": _number("beta1", "Adam's β₁"),
    "beta2": _number("beta2", "Adam's β₂"),
    "eps": _number("eps", "Adam's ε"),
    "step_size": _number("step_size", "StepLR period in epochs (0: constant learning rate)"),
    "gamma": _number("gamma", "StepLR factor"),
    "batch_size": _number("batch_size", "mini-batch size"),
    "epochs": _number("epochs", "number of epochs"),
    "seed": _number("seed", "seed of the initialization, batch order and dropout"),
    "dtype": _option("dtype", "floating-point type", type=click.Choice(list(DTYPES))),
    "validation": _option("validation", "train on the first 50,000 images and evaluate on "
                          "the last 10,000 instead of the test set"),
    "train_subset": _number("train_subset", "use only the first N training images (0: all)"),
}
assert set(RANGES) <= set(OPTIONS), "every numeric field has a typed option"


def config_options(func=None, *, skip=()):
    """Decorator: one click option per TrainConfig field, in field order.

    `skip` names fields the command declares itself (torchnet, say, its dtype).
    Use as @config_options or @config_options(skip=("dtype",)).
    """
    def decorate(f):
        for name, option in reversed(OPTIONS.items()):
            if name not in skip:
                f = option(f)
        return f
    return decorate if func is None else decorate(func)


def config_from_options(options: dict, config_class=TrainConfig) -> TrainConfig:
    """The config of the parsed options (keys that are not its fields are ignored).

    A combination the config refuses (e.g. --nesterov with --momentum 0)
    becomes a click usage error naming the value. config_class may be a
    subclass of TrainConfig with fields of its own.
    """
    fields = {name: options[name] for name in config_class.field_names() if name in options}
    try:
        return config_class(**fields)
    except ValueError as err:
        raise click.UsageError(str(err)) from None

