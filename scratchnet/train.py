"""Mini-batch training with per-epoch measurements: train(), evaluate(), History.

torchnet.train uses the same History and the same batch order (epoch_order),
so a run in either package can be compared with the other epoch for epoch.
"""
from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from .atomic import write_json_atomic


@dataclass
class History:
    """What one training run measured, epoch by epoch (JSON-serializable).

    grad_norms[e][l] is the mean over epoch e's batches of ‖∂C/∂W_l‖ (Frobenius).
    diverged_at is None, or {"epoch": e, "step": s} (both counted from 1, s over
    the whole run) for the first step whose loss was not finite: training stopped
    there and that epoch has no entries.
    """
    test_accuracy: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    grad_norms: list = field(default_factory=list)
    seconds: list = field(default_factory=list)
    lr: list = field(default_factory=list)
    diverged_at: dict | None = None

    @property
    def grad_ratio(self) -> list[float]:
        """The homework's ratio: mean ‖∇W_first‖ / mean ‖∇W_last‖, per epoch."""
        return [norms[0] / norms[-1] if norms[-1] else math.inf for norms in self.grad_norms]

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})

    def save(self, path: Path | str) -> None:
        write_json_atomic(path, self.to_dict())


# write_json_atomic lives in scratchnet/atomic.py (a unique temporary name, fsync,
# rename); it stays importable from here.


SMALL_BATCH = 32  # at or below this batch size, BLAS runs single-threaded in train()


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of the n training samples in one epoch; torchnet uses it too."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def batches(n: int, batch_size: int, seed: int, epoch: int):
    """Index arrays of one epoch's mini-batches (the last may be smaller)."""
    order = epoch_order(seed, epoch, n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def evaluate(net, data) -> float:
    """Fraction of samples whose predicted digit equals the label."""
    X, y = data
    return float((net.predict(X) == np.asarray(y)).mean())


def train(net, train_data, test_data, epochs: int, batch_size: int, optimizer,
          scheduler=None, seed: int = 0, callback=None) -> History:
    """Train `net` in place with mini-batch `optimizer`; return its History.

    callback(epoch, history), if given, is called after every finished epoch.
    """
    X, y = train_data
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs}, {batch_size}")
    if net.batchnorm and (batch_size == 1 or len(X) % batch_size == 1):
        raise ValueError(f"batch norm needs at least 2 samples in every batch: batch_size="
                         f"{batch_size} with {len(X)} samples leaves a batch of 1")
    n_layers = len(net.weights)
    history, step = History(), 0
    for epoch in range(epochs):
        start = time.perf_counter()
        net.train()
        lr = optimizer.lr
        loss_sum, norm_sums, n_batches = 0.0, [0.0] * n_layers, 0
        # Overflow on the way to divergence is expected: it is caught by the
        # finiteness check below and recorded, not warned about. Small batches
        # run BLAS on one thread: their matrices are too small for threads to
        # pay, and idle-spinning BLAS threads slow every other step down.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"), \
                threadpool_limits(1 if batch_size <= SMALL_BATCH else None, user_api="blas"):
            for idx in batches(len(X), batch_size, seed, epoch):
                loss, grads = net.backprop(X[idx], y[idx])
                step += 1
                if not math.isfinite(loss):
                    history.diverged_at = {"epoch": epoch + 1, "step": step}
                    return history
                for l in range(n_layers):
                    g = grads[2 * l].ravel()
                    norm_sums[l] += math.sqrt(g @ g)   # ‖∂C/∂W_l‖ (Frobenius)
                optimizer.step(grads)
                loss_sum += loss
                n_batches += 1
        if scheduler is not None:
            scheduler.step()
        history.train_loss.append(loss_sum / n_batches)
        history.grad_norms.append([s / n_batches for s in norm_sums])
        history.lr.append(lr)
        # The epoch's last update may have overflowed the weights although its loss
        # was finite: evaluate them quietly too (the next step records the divergence).
        with np.errstate(over="ignore", invalid="ignore", divide="ignore", under="ignore"):
            accuracy = evaluate(net, test_data) if test_data is not None else None
        history.test_accuracy.append(accuracy)
        history.seconds.append(time.perf_counter() - start)
        if callback is not None:
            callback(epoch, history)
    return history


def load_data(config, root="data"):
    """(train_data, eval_data) as the config asks: MNIST from root, float arrays.

    With config.validation the last 10,000 training images are held out and
    returned as the evaluation set; otherwise it is the test set.
    """
    from . import mnist

    dtype = np.dtype(config.dtype)
    if config.validation:
        train_data = mnist.load("train", root, dtype, validation=True)
        eval_data = mnist.load("validation", root, dtype)
    else:
        train_data = mnist.load("train", root, dtype)
        eval_data = mnist.load("test", root, dtype)
    config.check_data(len(train_data[0]))    # a subset no larger than the data; no batch of 1
    if config.train_subset:
        train_data = tuple(a[:config.train_subset] for a in train_data)
    return train_data, eval_data


def run(config, train_data, eval_data, callback=None, net=None):
    """Build the network and optimizer a TrainConfig describes, train, return (net, History).

    net: start from this network instead of a fresh one (it is trained in place).
    """
    from .network import Network
    from .optim import SGD, Adam, StepLR

    if net is None:
        net = Network(**config.network_options())
    make = SGD if config.optimizer == "sgd" else Adam
    optimizer = make(net.parameters(), **config.optimizer_options())
    scheduler = StepLR(optimizer, config.step_size, config.gamma) if config.step_size else None
    history = train(net, train_data, eval_data, config.epochs, config.batch_size, optimizer,
                    scheduler, seed=config.seed, callback=callback)
    return net, history
