"""`torchnet train`: train one network on MNIST with PyTorch, from the command line.

The same options as `scratchnet train` (one per TrainConfig field, reused from
scratchnet.cli_options) plus --device and --dtype, whose default here is float32. The
CLI is thin: it parses, shows progress, calls torchnet.train.run, prints a summary.
"""
from __future__ import annotations

import time
from pathlib import Path

import click

from scratchnet.cli import (check_memory, check_outputs, data_option, epoch_progress, final_line,
                            out_option, write_outputs)
from scratchnet.cli_options import FiniteFloatRange, config_from_options, config_options
from scratchnet.names import DTYPES

from .device import DEVICES


def resolve_device(name: str, dtype: str):
    """The torch.device for --device, or a usage error naming what is allowed."""
    from .device import DeviceError, check_dtype, resolve

    try:
        device = resolve(name)
        check_dtype(device, dtype)
    except DeviceError as err:
        raise click.BadParameter(str(err), param_hint="--device") from None
    return device


def device_callback(ctx, param, value):
    """click callback for a --device option: refuse, before any work, a device this machine
    lacks (naming those it has). Gives back the canonical name(s) ('auto' -> 'cuda', say),
    strings, so they can travel to worker processes; several for a `multiple` option."""
    from .device import DeviceError, resolve

    if value is None:
        return None
    names = [value] if isinstance(value, str) else list(value)
    try:
        resolved = [str(resolve(name)) for name in names]
    except DeviceError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None
    return resolved[0] if isinstance(value, str) else tuple(resolved)


def load_mnist(config, root: Path, device):
    """(train_data, eval_data) as tensors on the device, or a usage error on how to get MNIST."""
    from scratchnet.mnist import IDXError

    from .train import load_data

    try:
        return load_data(config, root, device)
    except (FileNotFoundError, IDXError) as err:
        raise click.BadParameter(str(err), param_hint="--data") from None
    except ValueError as err:                 # the config does not fit the data (subset, batch)
        raise click.UsageError(str(err)) from None


AUGMENT = {  # --augment-X option -> Augment's argument
    "augment_shift": "max_shift", "augment_rotation": "max_rotation", "augment_scale": "max_scale",
    "augment_elastic_alpha": "elastic_alpha", "augment_elastic_sigma": "elastic_sigma"}


def augment_options(f):
    """The --augment-* options: on-the-fly augmentation of the training batches."""
    for option in reversed([
        click.option("--augment-shift", type=FiniteFloatRange(0, 28, max_open=True),
                     default=0.0, show_default=True,
                     help="on-the-fly augmentation: random shifts up to this many pixels"),
        click.option("--augment-rotation", type=FiniteFloatRange(0, 180, max_open=True),
                     default=0.0, show_default=True,
                     help="on-the-fly augmentation: random rotations up to ± degrees"),
        click.option("--augment-scale", type=FiniteFloatRange(0, 1, max_open=True),
                     default=0.0, show_default=True,
                     help="on-the-fly augmentation: random zoom within 1 ± this"),
        click.option("--augment-elastic-alpha", type=FiniteFloatRange(0), default=0.0,
                     show_default=True,
                     help="on-the-fly elastic distortion (Simard et al. 2003): its strength "
                          "in pixels (0: off; Simard et al. used 34)"),
        click.option("--augment-elastic-sigma", type=FiniteFloatRange(0, min_open=True),
                     default=4.0, show_default=True,
                     help="smoothness of the elastic distortion: the width in pixels of the "
                          "Gaussian that blurs its random field")]):
        f = option(f)
    return f


def augment_from(options: dict):
    """(Augment's arguments, an Augment or None if all are off), popped from the options."""
    from .augment import Augment

    arguments = {AUGMENT[name]: options.pop(name) for name in AUGMENT}
    on = any(arguments[name] for name in ("max_shift", "max_rotation", "max_scale",
                                          "elastic_alpha"))
    return arguments, Augment(**arguments) if on else None


@click.group()
def main():
    """torchnet: the same fully-connected network as scratchnet, in plain PyTorch."""


@main.command()
@config_options(skip=("dtype",))
@click.option("--dtype", type=click.Choice(list(DTYPES)), default="float32", show_default=True,
              help="floating-point type (float64 for exact comparisons with scratchnet)")
@click.option("--device", default="auto", show_default=True,
              help=f"{', '.join(DEVICES)} or cuda:<index>; auto picks cuda, then mps, then cpu")
@data_option
@out_option
@click.option("--save", type=click.Path(dir_okay=False, path_type=Path), metavar="NET.npz",
              help="save the trained network in scratchnet's format (scratchnet.saving.load)")
@augment_options
@click.option("--quiet", is_flag=True, help="no progress bar and no per-epoch lines")
def train(device, data_root, out, save, quiet, **options):
    """Train one network on MNIST and report its accuracy epoch by epoch."""
    from .convert import to_scratch
    from .device import free_memory
    from .train import run

    augment_arguments, augment = augment_from(options)
    config = config_from_options(options)
    device = resolve_device(device, config.dtype)
    check_memory(config, free_memory(device), f"the memory free on {device}")
    check_outputs(out=out, save=save)
    train_data, eval_data = load_mnist(config, data_root, device)
    eval_name = "validation" if config.validation else "test"
    start = time.perf_counter()
    with epoch_progress(config, eval_name, f"training on {device}", quiet) as on_epoch:
        net, history = run(config, train_data, eval_data, callback=on_epoch, device=device,
                           augment=augment)
    seconds = time.perf_counter() - start
    click.echo(final_line(config, history, eval_name, seconds))
    write_outputs(out, {"package": "torchnet", "device": str(device),
                        "config": config.to_dict(),
                        "augment": augment_arguments,
                        "history": history.to_dict()},
                  save, to_scratch(net) if save is not None else None)


if __name__ == "__main__":
    main()
