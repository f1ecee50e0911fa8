"""Mini-batch training with per-epoch measurements: train(), evaluate(), History.

The same History (scratchnet's own class) and the same batch order
(scratchnet.train.epoch_order) as scratchnet/train.py, so a run in either
package can be compared with the other epoch for epoch. The data are tensors
already on the device, batched by index: no DataLoader, no per-sample
transforms. Per-step measurements (loss and per-layer gradient norms) stay on
the device in one buffer per epoch; the host reads them every `check_every`
steps (every step on the CPU, where reading is free), which is also when a
non-finite loss is noticed.
"""
from __future__ import annotations

import contextlib
import math
import time

import torch

from scratchnet.train import SMALL_BATCH, History, epoch_order

from .device import resolve
from .network import Network, dtype_of


def evaluate(net: Network, data) -> float:
    """Fraction of samples whose predicted digit equals the label (eval mode, in chunks)."""
    X, y = data
    return int((net.predict(X) == y).sum()) / len(y)  # exactly scratchnet's float


def _first_nonfinite(losses: torch.Tensor) -> int | None:
    """Index of the first non-finite entry of a 1-d tensor, or None (one host read)."""
    if len(losses) == 1:                               # the CPU's every-step check: one read
        return None if math.isfinite(losses.item()) else 0
    finite = torch.isfinite(losses)
    return None if bool(finite.all()) else int((~finite).nonzero()[0, 0])


@contextlib.contextmanager
def small_batch_threads(batch_size: int, device: torch.device):
    """One CPU thread for small batches, as scratchnet's train(): more only add overhead."""
    if device.type != "cpu" or batch_size > SMALL_BATCH:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def _rng_fork(device: torch.device):
    """A context in which torch's generators (dropout masks) can be seeded locally."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.random.fork_rng(devices=[index], device_type="cuda")
    if device.type == "mps":
        return torch.random.fork_rng(device_type="mps")
    return torch.random.fork_rng(devices=[])           # the CPU generator only


def train(net: Network, train_data, test_data, epochs: int, batch_size: int, optimizer,
          scheduler=None, seed: int = 0, callback=None, augment=None,
          check_every: int | None = None) -> History:
    """Train `net` in place with a torch.optim `optimizer`; return its History.

    callback(epoch, history), if given, is called after every finished epoch.
    augment(x, generator), if given (a torchnet.augment.Augment), distorts each
    training batch on the device, with random numbers from a generator seeded by `seed`.
    A non-finite loss stops training and records diverged_at, as in scratchnet;
    with check_every > 1 (the default off the CPU) up to check_every − 1 more
    steps have already run by then, so the weights are not those of the bad step.
    """
    X, y = train_data                                  # (n, 784) on the device, (n,) int64
    n = len(X)
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs}, {batch_size}")
    if net.batchnorm and (batch_size == 1 or n % batch_size == 1):
        raise ValueError(f"batch norm needs at least 2 samples per batch; batch_size={batch_size} "
                         f"with {n} samples leaves a batch of 1")
    if check_every is None:
        check_every = 1 if X.device.type == "cpu" else 100
    weights = [layer.weight for layer in net.layers]
    n_batches = -(-n // batch_size)
    history, step = History(), 0
    generator = torch.Generator(device=X.device).manual_seed(seed) if augment is not None else None
    with _rng_fork(X.device), small_batch_threads(batch_size, X.device):
        torch.manual_seed(seed)                        # dropout masks, reproducible from the seed
        for epoch in range(epochs):
            start = time.perf_counter()
            net.train()
            lr = optimizer.param_groups[0]["lr"]
            order = torch.from_numpy(epoch_order(seed, epoch, n)).to(X.device)  # (n,)
            # Row j: the loss of batch j, then ‖∂C/∂W_l‖ of each layer; stays on the device.
            stats = torch.empty(n_batches, 1 + len(weights), dtype=weights[0].dtype,
                                device=X.device)
            checked = 0
            for j in range(n_batches):
                idx = order[j * batch_size:(j + 1) * batch_size]
                x_batch = X.index_select(0, idx)       # (batch, 784), as X[idx] but cheaper
                if augment is not None:
                    x_batch = augment(x_batch, generator)
                optimizer.zero_grad()
                loss = net.loss(x_batch, y.index_select(0, idx))  # 0-dim
                loss.backward()
                # ‖∂C/∂W_l‖ of every layer in one call (the one clip_grad_norm_ uses)
                stats[j] = torch.stack([loss.detach(),
                                        *torch._foreach_norm([W.grad for W in weights])])
                if j + 1 - checked >= check_every or j + 1 == n_batches:
                    bad = _first_nonfinite(stats[checked:j + 1, 0])
                    if bad is not None:
                        history.diverged_at = {"epoch": epoch + 1, "step": step + checked + bad + 1}
                        return history
                    checked = j + 1
                optimizer.step()
            step += n_batches
            if scheduler is not None:
                scheduler.step()
            means = stats.mean(dim=0).tolist()         # the one host read of the epoch's sums
            history.train_loss.append(means[0])
            history.grad_norms.append(means[1:])
            history.lr.append(lr)
            accuracy = evaluate(net, test_data) if test_data is not None else None
            history.test_accuracy.append(accuracy)
            history.seconds.append(time.perf_counter() - start)
            if callback is not None:
                callback(epoch, history)
    return history


def optimizer_for(name: str, params, options: dict, device="cpu"):
    """torch.optim.SGD ('sgd') or Adam ('adam') with torch.optim's keyword options.

    On the CPU and CUDA the fused implementation is used: the same update rule
    in one kernel per step instead of a few per parameter, which at batch size
    10 makes the step about three times cheaper (compare lockstep checks it).
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
    from . import data

    device = resolve(device)
    if config.validation:
        train_data = data.load("train", root, config.dtype, validation=True, device=device)
        eval_data = data.load("validation", root, config.dtype, device=device)
    else:
        train_data = data.load("train", root, config.dtype, device=device)
        eval_data = data.load("test", root, config.dtype, device=device)
    config.check_data(len(train_data[0]))    # a subset no larger than the data; no batch of 1
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
                    scheduler, seed=config.seed, callback=callback, augment=augment)
    return net, history
