"""`compare lockstep`: both packages train 784-30-10 step for step from the same weights on
the same MNIST batches, with each optimizer setting; the largest weight difference after
every step shows round-off growing, not two algorithms.
"""
from __future__ import annotations

import itertools
import sys

import click
import numpy as np
import torch
from threadpoolctl import threadpool_limits

import scratchnet
from scratchnet import mnist, optim
from scratchnet.layers import max_norm_
from scratchnet.train import batches

from .. import plots, runs
from .gradcheck import device_option

# name -> (optimizer, options, StepLR (step_size, gamma) or None). max_norm is the constraint
# both train() functions apply after each step (Xavier's rows start near norm 1.4; c = 2 binds
# from about step 30, soon on nearly all).
SETTINGS = {
    "SGD": ("sgd", dict(lr=0.1), None),
    "SGD momentum": ("sgd", dict(lr=0.1, momentum=0.9), None),
    "SGD Nesterov + wd": ("sgd", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=1e-4),
                          None),
    "Adam": ("adam", dict(lr=1e-3), None),
    "Adam + wd": ("adam", dict(lr=1e-3, weight_decay=1e-4), None),
    "SGD + StepLR": ("sgd", dict(lr=0.1, momentum=0.9), (2, 0.5)),
    "SGD momentum + max-norm": ("sgd", dict(lr=0.1, momentum=0.9, max_norm=2.0), None),
}
# The largest weight difference allowed after 1,000 steps. The same algorithm in two
# implementations drifts apart by round-off, about 1e-15 here; a different one (a dampening
# missed, Adam's ε in the wrong place) by the size of an update, 1e-4 or more, within a few
# steps. 1e-9 lies between, with five orders of magnitude on either side.
LOCKSTEP_BOUND = 1e-9


def lockstep_setting(name: str, data, steps: int = 1000, steps_per_epoch: int = 100,
                     device="cpu", callback=lambda step: None, batch_size: int = 10,
                     seed: int = 0) -> np.ndarray:
    """max |θ_scratch − θ_torch| after each step (then callback(step)). An "epoch" is
    steps_per_epoch batches of the first images, in scratchnet's order: StepLR acts in the run."""
    from torchnet.convert import to_torch
    from torchnet.train import max_norm_ as torch_max_norm_, optimizer_for, small_batch_threads

    kind, options, schedule = SETTINGS[name]
    options = dict(options)
    max_norm = options.pop("max_norm", 0.0)
    X, y = data[0][:steps_per_epoch * batch_size], data[1][:steps_per_epoch * batch_size]
    Xt, yt = torch.from_numpy(X).to(device), torch.from_numpy(y).to(device)
    snet = scratchnet.Network((784, 30, 10), seed=seed)              # float64
    tnet = to_torch(snet, device)
    sopt = (optim.SGD if kind == "sgd" else optim.Adam)(snet.parameters(), **options)
    topt = optimizer_for(kind, tnet.parameters(), options, device)  # as torchnet.train.run
    schedulers = ([optim.StepLR(sopt, *schedule), torch.optim.lr_scheduler.StepLR(topt, *schedule)]
                  if schedule else [])
    stream = ((e, idx) for e in itertools.count() for idx in batches(len(X), batch_size, seed, e))
    diffs, current = np.empty(steps), 0
    with threadpool_limits(1, user_api="blas"), small_batch_threads(batch_size, Xt.device):
        for step, (epoch, idx) in zip(range(steps), stream):
            if epoch != current:                       # an epoch ended: the schedules move
                current = epoch
                for scheduler in schedulers:
                    scheduler.step()
            _, grads = snet.backprop(X[idx], y[idx])
            sopt.step(grads)
            topt.zero_grad()
            tnet.loss(Xt[idx], yt[idx]).backward()
            topt.step()
            if max_norm:                               # each after its own step, as train() does
                max_norm_(snet.weights, max_norm)
                torch_max_norm_([layer.weight for layer in tnet.layers], max_norm)
            diffs[step] = max(float(np.abs(p - q.detach().cpu().numpy()).max())
                              for p, q in zip(snet.parameters(), tnet.parameters()))
            callback(step + 1)
    return diffs


def plot_lockstep(result: dict, path):
    """The weight difference of every setting against the step, on a log scale."""
    fig, (ax,) = plots.figure(width=7.5)
    for name, diffs in result.items():
        ax.plot(np.arange(1, len(diffs) + 1), np.where(diffs > 0, diffs, np.nan), label=name,
                lw=1.2)
    ax.axhline(LOCKSTEP_BOUND, color="k", ls="--", lw=0.8, label=f"bound {LOCKSTEP_BOUND:g}")
    ax.set_yscale("log")
    plots.style(ax, xlabel="training step (batch of 10 MNIST images)",
                ylabel="max |θ_scratchnet − θ_torchnet| over all weights",
                title="Lock-step training in float64: scratchnet vs torchnet, 784-30-10 sigmoid",
                log_grid=True, ncol=2)
    return plots.save(fig, path)


@click.command("lockstep")
@click.option("--steps", type=click.IntRange(1), default=1000, show_default=True,
              help="training steps per setting")
@click.option("--data", "root", default="data", show_default=True,
              type=click.Path(file_okay=False), help="folder holding MNIST/raw")
@click.option("--quick", is_flag=True, help="50 steps per setting (or QUICK=1)")
@click.option("--quiet", is_flag=True, help="no progress bar")
@device_option
def command(steps, root, quick, quiet, device):
    """Train both packages from the same weights on the same batches; compare the weights."""
    quick = runs.quick_mode(quick)
    steps, per_epoch = (min(steps, 50), 10) if quick else (steps, 100)
    try:
        data = mnist.load("train", root)
    except mnist.IDXError as err:
        raise click.BadParameter(str(err), param_hint="--data") from None
    with click.progressbar(length=steps * len(SETTINGS), label="lockstep", hidden=quiet,
                           file=sys.stderr) as bar:
        result = {name: lockstep_setting(name, data, steps, per_epoch, device,
                                         lambda _: bar.update(1)) for name in SETTINGS}
    figure = plot_lockstep(result, runs.figures_dir("compare", quick) / "lockstep.png")
    path = runs.results_dir("compare", quick) / "lockstep.json"
    runs.write_json_atomic(path, {
        "device": str(device), "steps": steps, "steps_per_epoch": per_epoch,
        "batch_size": 10, "sizes": [784, 30, 10], "bound": LOCKSTEP_BOUND,
        "settings": {name: {"optimizer": SETTINGS[name][0], "options": SETTINGS[name][1],
                            "step_lr": SETTINGS[name][2], "final": float(d[-1]),
                            "max": float(d.max()), "max_abs_diff": d.tolist()}
                     for name, d in result.items()}})
    for name, d in result.items():
        click.echo(f"{name:<20} after {steps} steps: {d[-1]:.2e}  (largest {d.max():.2e})")
    worst = max(float(d.max()) for d in result.values())
    click.echo(f"worst {worst:.2e} (bound {LOCKSTEP_BOUND:g}) -> {path}, {figure}")
    if worst > LOCKSTEP_BOUND:
        raise SystemExit(1)
