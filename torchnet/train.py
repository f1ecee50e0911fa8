"""Mini-batch training with per-epoch measurements: train(), evaluate(), History.

The same History, batch order (epoch_order), divergence rule and Recorder as
scratchnet/train.py (scratchnet's own, imported), so a run in either package
can be compared with the other epoch for epoch. The data are tensors already
on the device, batched by index: no DataLoader, no per-sample transforms. The
inner loop is the textbook step: zero_grad, loss, backward, record, step.
"""
from __future__ import annotations

import contextlib
import time

import torch
from torch.linalg import vector_norm

from scratchnet.train import SMALL_BATCH, History, Recorder, check_arguments, epoch_order

from .device import resolve
from .network import Network, dtype_of


def evaluate(net: Network, data) -> float:
    """Fraction of samples whose predicted digit equals the label (eval mode, in chunks)."""
    X, y = data
    return int((net.predict(X) == y).sum()) / len(y)  # exactly scratchnet's float


@contextlib.contextmanager
def small_batch_threads(batch_size: int, device: torch.device):
    """One CPU thread for small batches, as scratchnet's quiet_numerics: more only add overhead."""
    if device.type != "cpu" or batch_size > SMALL_BATCH:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def max_norm_(weights, c: float) -> None:
    """scratchnet.layers.max_norm_ in torch, in place: each row w_j of a W_l (the incoming
    weights of unit j) with ‖w_j‖ > c becomes w_j · c / (‖w_j‖ + 1e-7); the others stay."""
    with torch.no_grad():
        for W in weights:                              # (n_out, n_in)
            W.renorm_(2, 0, c)                         # p = 2, rows (dim 0), max norm c


@contextlib.contextmanager
def seeded(device: torch.device, seed: int):
    """torch's generators (which draw the dropout masks) seeded with `seed` inside the
    block, and as they were after it."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        fork = torch.random.fork_rng(devices=[index], device_type="cuda")
    elif device.type == "mps":
        fork = torch.random.fork_rng(device_type="mps")
    else:
        fork = torch.random.fork_rng(devices=[])       # the CPU generator only
    with fork:
        torch.manual_seed(seed)
        yield


def train(net: Network, train_data, test_data, epochs: int, batch_size: int, optimizer,
          scheduler=None, seed: int = 0, callback=None, max_norm: float = 0.0,
          augment=None) -> History:
    """Train `net` in place with a torch.optim `optimizer`; return its History.

    Arguments as for scratchnet.train.train; augment(x, generator), if given (an Augment),
    distorts each training batch on the device, drawing from a generator seeded by `seed`.
    """
    X, y = train_data                                  # (n, 784) on the device, (n,) int64
    check_arguments(net, len(X), epochs, batch_size)
    weights = [layer.weight for layer in net.layers]
    history, recorder = History(), Recorder(len(weights))
    generator = torch.Generator(device=X.device).manual_seed(seed) if augment is not None else None
    with seeded(X.device, seed), small_batch_threads(batch_size, X.device):  # dropout masks
        for epoch in range(epochs):
            start = time.perf_counter()
            net.train()
            lr = optimizer.param_groups[0]["lr"]
            order = torch.from_numpy(epoch_order(seed, epoch, len(X))).to(X.device)  # (n,)
            for idx in order.split(batch_size):
                x_batch, y_batch = X.index_select(0, idx), y.index_select(0, idx)  # X[idx], cheaper
                if augment is not None:
                    x_batch = augment(x_batch, generator)
                optimizer.zero_grad()
                loss = net.loss(x_batch, y_batch)      # 0-dim
                loss.backward()
                recorder.record(loss.item(), [vector_norm(W.grad).item() for W in weights])
                if recorder.diverged_at:
                    history.diverged_at = recorder.diverged_at
                    return history
                optimizer.step()
                if max_norm:
                    max_norm_(weights, max_norm)
            if scheduler is not None:
                scheduler.step()
            accuracy = evaluate(net, test_data) if test_data is not None else None
            history.add_epoch(*recorder.epoch_means(), lr, accuracy, time.perf_counter() - start)
            if callback is not None:
                callback(epoch, history)
    return history


def optimizer_for(name: str, params, options: dict, device="cpu"):
    """torch.optim.SGD ('sgd') or Adam ('adam') with torch.optim's keyword options.

    On the CPU and CUDA the fused implementation is used: the same update rule
    in one kernel per step instead of a few per parameter (compare lockstep
    checks that it is the same rule).
    """
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name]
    fused = True if torch.device(device).type in ("cpu", "cuda") else None
    return make(params, **options, fused=fused)


def make_optimizer(config, params, device="cpu"):
    """torch.optim.SGD or Adam and (maybe) a StepLR, as a TrainConfig describes."""
    optimizer = optimizer_for(config.optimizer, params, config.optimizer_options(), device)
    scheduler = (torch.optim.lr_scheduler.StepLR(optimizer, config.step_size, config.gamma)
                 if config.step_size else None)
    return optimizer, scheduler


def load_data(config, root="data", device="cpu"):
    """(train_data, eval_data) as the config asks: MNIST from root, tensors on the device.

    With config.validation the last 10,000 training images are held out and
    returned as the evaluation set; otherwise it is the test set.
    """
    from scratchnet.limits import check_data

    from . import data

    device = resolve(device)
    if config.validation:
        train_data = data.load("train", root, config.dtype, validation=True, device=device)
        eval_data = data.load("validation", root, config.dtype, device=device)
    else:
        train_data = data.load("train", root, config.dtype, device=device)
        eval_data = data.load("test", root, config.dtype, device=device)
    check_data(config, len(train_data[0]))    # a subset no larger than the data; no batch of 1
    if config.train_subset:
        train_data = tuple(t[:config.train_subset] for t in train_data)
    return train_data, eval_data


def run(config, train_data, eval_data, callback=None, device=None, net=None, augment=None):
    """Build the network and optimizer a TrainConfig describes, train, return (net, History).

    device: where the network lives; by default the device the data are on.
    net: start from this network instead of a fresh one (it is trained in place).
    augment: on-the-fly augmentation of the training batches (see train()).
    """
    device = train_data[0].device if device is None else resolve(device)
    if dtype_of(config.dtype) != train_data[0].dtype:
        raise ValueError(f"config.dtype={config.dtype!r} but the data are {train_data[0].dtype}")
    if net is None:
        net = Network(**config.network_options())
    net = net.to(device)
    optimizer, scheduler = make_optimizer(config, net.parameters(), device)
    history = train(net, train_data, eval_data, config.epochs, config.batch_size, optimizer,
                    scheduler, seed=config.seed, callback=callback, max_norm=config.max_norm,
                    augment=augment)
    return net, history
