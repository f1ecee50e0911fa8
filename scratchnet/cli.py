"""`scratchnet train`: train one network on MNIST from the command line.

The options map one to one onto the fields of scratchnet.config.TrainConfig,
with its defaults (Homework 7's baseline). torchnet's CLI reuses them:
`config_options` adds the options to a click command and
`config_from_options` turns the parsed values back into a TrainConfig.
The CLI is thin: it parses, shows progress, calls the library, prints a summary.
"""
from __future__ import annotations

import contextlib
import math
import sys
import time
from pathlib import Path

import click

from . import names
from .config import DTYPES, OPTIMIZERS, RANGES, Bound, TrainConfig, available_memory

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


def check_memory(config: TrainConfig, available: int | None = None,
                 what: str = "the memory available") -> None:
    """A usage error, before any work, if the run would not fit in memory (with the estimate)."""
    try:
        config.check_memory(available_memory() if available is None else available, what)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--sizes") from None


def check_outputs(**paths) -> None:
    """Usage errors, before any work, for output paths that cannot be written.

    paths: option name -> Path or None, e.g. out=..., save=.... Folders are
    created where they can be; two options naming the same file are refused.
    """
    from .atomic import NotWritable, check_writable

    given = {name: Path(p) for name, p in paths.items() if p is not None}
    seen = {}
    for name, path in given.items():
        hint = "--" + name.replace("_", "-")
        key = path.resolve()
        if key in seen:
            raise click.BadParameter(f"{str(path)!r} is also given to {seen[key]}; "
                                     "give each output its own file", param_hint=hint)
        seen[key] = hint
        try:
            check_writable(path)
        except NotWritable as err:
            raise click.BadParameter(str(err), param_hint=hint) from None


def load_mnist(config: TrainConfig, root: Path):
    """(train_data, eval_data), or a usage error saying how to get MNIST."""
    from .mnist import IDXError
    from .train import load_data

    if not (Path(root) / "MNIST" / "raw").is_dir():
        raise click.BadParameter(f"no MNIST/raw folder under {str(root)!r}; run `make data` "
                                 "(or `compare data`) to fetch MNIST", param_hint="--data")
    try:
        return load_data(config, root)
    except IDXError as err:
        raise click.BadParameter(f"{err}", param_hint="--data") from None
    except ValueError as err:                 # the config does not fit the data (subset, batch)
        raise click.UsageError(str(err)) from None


def write_outputs(out: Path | None, record: dict, save: Path | None, net) -> None:
    """Write the history (--out) and the network (--save) as one pair.

    Both are written under temporary names first and renamed only when both
    are complete: a failure (a full disk, an interrupt) leaves the old pair
    or the new pair, never a mix, and no temporary file. A failure is a
    one-line error (exit status 1).
    """
    from .atomic import AtomicFiles, json_bytes

    if out is None and save is None:
        return
    try:
        with AtomicFiles() as files:
            if out is not None:
                blob = json_bytes(record)
                files.stage(out, lambda f: f.write(blob))
            if save is not None:
                files.stage(save, net.save)
    except OSError as err:
        names = " and ".join(str(p) for p in (out, save) if p is not None)
        raise click.ClickException(f"could not write {names}: {err.strerror or err}; "
                                   "nothing was replaced") from None


def epoch_line(epoch: int, epochs: int, history, eval_name: str) -> str:
    """One epoch's summary: accuracy, training loss, gradient ratio, seconds."""
    return (f"epoch {epoch + 1:>{len(str(epochs))}}/{epochs}  "
            f"{eval_name} accuracy {history.test_accuracy[-1]:.4f}  "
            f"train loss {history.train_loss[-1]:.4f}  "
            f"grad ratio first/last {history.grad_ratio[-1]:.3g}  "
            f"{history.seconds[-1]:.1f}s")


@contextlib.contextmanager
def epoch_progress(config: TrainConfig, eval_name: str, label: str, quiet: bool):
    """A progress bar over epochs (on stderr) and the callback that prints each epoch's line."""
    bar = None if quiet else click.progressbar(length=config.epochs, label=label,
                                               show_pos=True, file=sys.stderr)

    def on_epoch(epoch, history):
        if bar is None:
            return
        if sys.stderr.isatty():                    # clear the bar's line; update() redraws it
            click.echo("\r\033[K", nl=False, err=True)
        click.echo(epoch_line(epoch, config.epochs, history, eval_name))
        bar.update(1)

    with bar or contextlib.nullcontext():
        yield on_epoch


def final_line(config: TrainConfig, history, eval_name: str, seconds: float) -> str:
    if history.diverged_at is not None:
        where = history.diverged_at
        reason = where.get("reason", "the training loss became non-finite")  # older files
        return (f"diverged: {reason} at epoch {where['epoch']}, step {where['step']} "
                f"(lr {config.lr:g}); training stopped there after {seconds:.1f}s")
    accuracy = history.test_accuracy
    best = max(range(len(accuracy)), key=accuracy.__getitem__)
    epochs = f"{config.epochs} epoch{'s' if config.epochs != 1 else ''}"
    return (f"{'-'.join(map(str, config.sizes))} {config.activation}, {epochs}: "
            f"{eval_name} accuracy {accuracy[-1]:.4f} (best {accuracy[best]:.4f} at epoch "
            f"{best + 1}) in {seconds:.1f}s")


@click.group()
def main():
    """scratchnet: a fully-connected network on MNIST, every derivative by hand in NumPy."""


# The options of a training run that both packages' CLIs share.
data_option = click.option("--data", "data_root", default="data", show_default=True,
                           type=click.Path(file_okay=False, path_type=Path),
                           help="folder holding MNIST/raw (`make data` fills it)")
out_option = click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                          metavar="HISTORY.json",
                          help="write the History and the config as JSON (atomically)")


@main.command()
@config_options
@data_option
@out_option
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), metavar="NET.npz",
              help="save the trained network (Network.save)")
@click.option("--quiet", is_flag=True, help="no progress bar and no per-epoch lines")
def train(data_root, out, save, quiet, **options):
    """Train one network on MNIST and report its accuracy epoch by epoch."""
    from .train import run

    config = config_from_options(options)
    check_memory(config)
    check_outputs(out=out, save=save)
    train_data, eval_data = load_mnist(config, data_root)
    eval_name = "validation" if config.validation else "test"
    start = time.perf_counter()
    with epoch_progress(config, eval_name, "training", quiet) as on_epoch:
        net, history = run(config, train_data, eval_data, callback=on_epoch)
    seconds = time.perf_counter() - start
    click.echo(final_line(config, history, eval_name, seconds))
    write_outputs(out, {"package": "scratchnet", "config": config.to_dict(),
                        "history": history.to_dict()}, save, net)


if __name__ == "__main__":
    main()
