"""`scratchnet train`: train one network on MNIST from the command line.

The options map one to one onto the fields of scratchnet.config.TrainConfig
(scratchnet/cli_options.py); torchnet's CLI reuses them and the helpers here.
The CLI is thin: it parses, shows progress, calls the library, prints a summary.
"""
from __future__ import annotations

import contextlib
import sys
import time
from pathlib import Path

import click

from . import limits
from .cli_options import config_from_options, config_options
from .config import TrainConfig
from .limits import available_memory


def check_memory(config: TrainConfig, available: int | None = None,
                 what: str = "the memory available") -> None:
    """A usage error, before any work, if the run would not fit in memory (with the estimate)."""
    try:
        limits.check_memory(config, available_memory() if available is None else available, what)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--sizes") from None


def check_outputs(**paths) -> None:
    """Usage errors, before any work, for output paths that cannot be written.

    paths: option name -> Path or None, e.g. out=..., save=.... A path must be a
    regular file or new (scratchnet.atomic.check_output_path; a symbolic link
    means its target); folders are created where they can be; two options
    naming the same file are refused.
    """
    from .atomic import NotWritable, check_writable

    seen = {}
    for name, path in paths.items():
        if path is None:
            continue
        hint = "--" + name.replace("_", "-")
        try:
            key = check_writable(path)
        except NotWritable as err:
            raise click.BadParameter(str(err), param_hint=hint) from None
        if key in seen:
            raise click.BadParameter(f"{str(path)!r} is also given to {seen[key]}; "
                                     "give each output its own file", param_hint=hint)
        seen[key] = hint


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
    from . import saving
    from .atomic import AtomicFiles, json_bytes

    if out is None and save is None:
        return
    try:
        with AtomicFiles() as files:
            if out is not None:
                blob = json_bytes(record)
                files.stage(out, lambda f: f.write(blob))
            if save is not None:
                files.stage(save, lambda f: saving.save(net, f))
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
        return (f"diverged: {where['reason']} at epoch {where['epoch']}, step {where['step']} "
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
