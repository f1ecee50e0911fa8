"""Mini-batch training with per-epoch measurements: train(), evaluate(), History.

torchnet.train uses the same History, the same batch order (epoch_order), the
same divergence rule (divergence) and the same Recorder, so a run in either
package can be compared with the other epoch for epoch. The bookkeeping of
each step (its loss, the gradient norms, the divergence check) lives in
Recorder, and NumPy's settings for the loop in quiet_numerics, so that train()
reads as the textbook step: backprop, record, step.
"""
from __future__ import annotations

import contextlib
import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np
from threadpoolctl import threadpool_limits

from .layers import max_norm_


@dataclass
class History:
    """What one training run measured, epoch by epoch (JSON-serializable).

    grad_norms[e][l] is the mean over epoch e's batches of ‖∂C/∂W_l‖ (Frobenius).

    diverged_at is None, or {"epoch": e, "step": s, "reason": text} (e and s
    counted from 1, s over the whole run) for the first step whose batch loss
    broke the divergence rule (`divergence`): training stopped there and that
    epoch has no entries.
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

    def add_epoch(self, train_loss: float, grad_norms: list, lr: float,
                  test_accuracy: float | None, seconds: float) -> None:
        """Append one finished epoch's numbers (both packages' train() call this)."""
        self.train_loss.append(train_loss)
        self.grad_norms.append(grad_norms)
        self.lr.append(lr)
        self.test_accuracy.append(test_accuracy)
        self.seconds.append(seconds)

    @classmethod
    def from_dict(cls, data: dict) -> "History":
        return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})


SMALL_BATCH = 32  # at or below this batch size, BLAS runs single-threaded in train()
DIVERGENCE_FACTOR = 1000.0  # a batch loss this many times the first batch's: diverged


def divergence(loss: float, first_loss: float) -> str | None:
    """Why a batch loss means the run diverged, or None (the rule behind History.diverged_at).

    Diverged: the loss is not finite, or it exceeds DIVERGENCE_FACTOR times the
    first batch's loss, counted as at least 1 (so that a run started from
    trained weights, whose first loss may be near 0, is not stopped by an
    ordinary bad batch). Torch-free: scratchnet's and torchnet's train() both
    apply it, so the two stop at the same step.
    """
    if not math.isfinite(loss):
        return "the training loss became non-finite"
    if loss > DIVERGENCE_FACTOR * max(first_loss, 1.0):
        of = f"the first batch's {first_loss:.3g}" if first_loss >= 1.0 else "1"
        return f"the training loss reached {loss:.3g}, over {DIVERGENCE_FACTOR:g}× {of}"
    return None


class Recorder:
    """A run's per-step loss and gradient norms, averaged per epoch; the divergence check.

    Both packages' train() call record(loss, norms) after each backprop, with
    the batch loss and ‖∂C/∂W_l‖ (Frobenius) of each layer, and epoch_means() at
    the end of each epoch. diverged_at stays None until a recorded loss breaks
    the divergence rule (`divergence`); then it says where and why.
    """

    def __init__(self, n_layers: int):
        self.epoch, self.step = 1, 0                   # counted from 1, as in diverged_at
        self.first_loss, self.diverged_at = None, None
        self.loss_sum, self.norm_sums, self.n_steps = 0.0, [0.0] * n_layers, 0

    def record(self, loss: float, norms) -> None:
        """Count one step with this batch loss and these per-layer gradient norms."""
        self.step += 1
        if self.first_loss is None:
            self.first_loss = loss
        reason = divergence(loss, self.first_loss)
        if reason is not None:
            self.diverged_at = {"epoch": self.epoch, "step": self.step, "reason": reason}
        self.loss_sum += loss
        self.norm_sums = [total + norm for total, norm in zip(self.norm_sums, norms)]
        self.n_steps += 1

    def epoch_means(self) -> tuple[float, list[float]]:
        """(mean loss, [mean ‖∂C/∂W_l‖ per layer]) of this epoch's steps; starts the next."""
        n = self.n_steps
        means = self.loss_sum / n, [total / n for total in self.norm_sums]
        self.epoch += 1
        self.loss_sum, self.norm_sums, self.n_steps = 0.0, [0.0] * len(self.norm_sums), 0
        return means


@contextlib.contextmanager
def quiet_numerics(batch_size: int | None = None):
    """NumPy's settings for training: no floating-point warnings; small batches on one thread.

    Overflow on the way to a divergence is expected: the loop's divergence check
    records it, so a warning would only repeat it. Batches of SMALL_BATCH rows or
    fewer run BLAS on one thread: their matrices are too small for threads to
    pay, and idle-spinning BLAS threads slow every other step down (torchnet's
    counterpart is small_batch_threads).
    """
    one_thread = batch_size is not None and batch_size <= SMALL_BATCH
    with np.errstate(all="ignore"), \
            (threadpool_limits(1, user_api="blas") if one_thread else contextlib.nullcontext()):
        yield


def epoch_order(seed: int, epoch: int, n: int) -> np.ndarray:
    """The order of the n training samples in one epoch; torchnet uses it too."""
    return np.random.default_rng([int(seed), int(epoch)]).permutation(n)


def batches(n: int, batch_size: int, seed: int, epoch: int):
    """Index arrays of one epoch's mini-batches (the last may be smaller)."""
    order = epoch_order(seed, epoch, n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def frobenius(g: np.ndarray) -> float:
    """‖g‖, the square root of the sum of its squared entries."""
    flat = g.ravel()
    return math.sqrt(flat @ flat)


def evaluate(net, data) -> float:
    """Fraction of samples whose predicted digit equals the label."""
    X, y = data
    return float((net.predict(X) == np.asarray(y)).mean())


def check_arguments(net, n: int, epochs: int, batch_size: int) -> None:
    """ValueError for a run that train() cannot do, in either package."""
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be positive, got {epochs}, {batch_size}")
    if net.batchnorm and (batch_size == 1 or n % batch_size == 1):
        raise ValueError(f"batch norm needs at least 2 samples in every batch: batch_size="
                         f"{batch_size} with {n} samples leaves a batch of 1")


def train(net, train_data, test_data, epochs: int, batch_size: int, optimizer,
          scheduler=None, seed: int = 0, callback=None, max_norm: float = 0.0) -> History:
    """Train `net` in place with mini-batch `optimizer`; return its History.

    callback(epoch, history), if given, is called after every finished epoch.
    max_norm > 0: after every step, each row of every W_l (a unit's incoming
    weights) longer than max_norm is scaled back to it (layers.max_norm_).
    The first step that breaks the divergence rule (see History) ends training;
    History.diverged_at records where and why.
    """
    X, y = train_data
    check_arguments(net, len(X), epochs, batch_size)
    L = len(net.weights)
    history, recorder = History(), Recorder(L)
    for epoch in range(epochs):
        start = time.perf_counter()
        net.train()
        lr = optimizer.lr
        with quiet_numerics(batch_size):
            for idx in batches(len(X), batch_size, seed, epoch):
                loss, grads = net.backprop(X.take(idx, axis=0), y[idx])  # X[idx], cheaper
                recorder.record(loss, [frobenius(g) for g in grads[:2 * L:2]])  # ‖∂C/∂W_l‖
                if recorder.diverged_at:
                    history.diverged_at = recorder.diverged_at
                    return history
                optimizer.step(grads)
                if max_norm:
                    max_norm_(net.weights, max_norm)
        if scheduler is not None:
            scheduler.step()
        with quiet_numerics():       # the last step may have overflowed the weights: no warnings
            accuracy = evaluate(net, test_data) if test_data is not None else None
        history.add_epoch(*recorder.epoch_means(), lr, accuracy, time.perf_counter() - start)
        if callback is not None:
            callback(epoch, history)
    return history


def load_data(config, root="data"):
    """(train_data, eval_data) as the config asks: MNIST from root, float arrays.

    With config.validation the last 10,000 training images are held out and
    returned as the evaluation set; otherwise it is the test set.
    """
    from . import mnist
    from .limits import check_data

    dtype = np.dtype(config.dtype)
    if config.validation:
        train_data = mnist.load("train", root, dtype, validation=True)
        eval_data = mnist.load("validation", root, dtype)
    else:
        train_data = mnist.load("train", root, dtype)
        eval_data = mnist.load("test", root, dtype)
    check_data(config, len(train_data[0]))    # a subset no larger than the data; no batch of 1
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
                    scheduler, seed=config.seed, callback=callback, max_norm=config.max_norm)
    return net, history
