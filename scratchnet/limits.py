"""Which values a training run accepts, and whether it fits in memory.

RANGES holds the allowed range of every numeric field of TrainConfig (the
CLIs build their option types from it); check_config() applies it and the
rules that tie fields together, check_data() what needs the size of the
training set, and check_memory() whether a run fits in the memory at hand.
"""
from __future__ import annotations

import math
import numbers
import os
from dataclasses import dataclass

from .names import ACTIVATIONS, COSTS, DTYPES, INITS, OPTIMIZERS

# Seeds and counts: 2**63 - 1 is the largest integer that fits a signed 64-bit
# integer, so a value survives a NumPy int64 array, a torch tensor or another
# language's JSON reader (torch.manual_seed takes up to 2**64 - 1).
INT_LIMIT = 2 ** 63
SEED_LIMIT = INT_LIMIT
MNIST_TRAIN, MNIST_TEST, VALIDATION_SIZE = 60_000, 10_000, 10_000
EVAL_CHUNK = 10_000          # both packages' predict() run the evaluation set in chunks this large
# No run may need more than this, on any machine: it catches absurd widths
# (784,100000000000,10) at once; the CLIs also refuse what exceeds the memory available.
MEMORY_CAP = 2 ** 40         # 1 TiB


@dataclass(frozen=True)
class Bound:
    """The allowed range of a number: finite, between low and high, maybe an integer."""
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False

    def describe(self) -> str:
        kind = "an integer" if self.integer else "a finite number"
        if self.low is not None and self.high is not None:
            if self.integer and self.high_open:
                return f"{kind} from {self.low} to {self.high - 1}"
            return (f"{kind} in {'(' if self.low_open else '['}{self.low:g}, "
                    f"{self.high:g}{')' if self.high_open else ']'}")
        if self.low is not None:
            return f"{kind} {'>' if self.low_open else '>='} {self.low:g}"
        return kind

    def problem(self, value) -> str | None:
        """None if value is allowed, else 'must be ...'."""
        wrong = f"must be {self.describe()}"
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            return wrong
        if (self.integer and not isinstance(value, numbers.Integral)) or not math.isfinite(value):
            return wrong
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return wrong
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return wrong
        return None


POSITIVE, NONNEGATIVE, FRACTION = Bound(0, low_open=True), Bound(0), Bound(0, 1, high_open=True)
RANGES = {  # every numeric field of TrainConfig and its allowed values
    "dropout": FRACTION, "input_dropout": FRACTION, "lr": POSITIVE, "momentum": NONNEGATIVE,
    "dampening": NONNEGATIVE, "weight_decay": NONNEGATIVE, "max_norm": NONNEGATIVE,
    "beta1": FRACTION, "beta2": FRACTION, "eps": NONNEGATIVE,
    "step_size": Bound(0, integer=True), "gamma": POSITIVE,
    "batch_size": Bound(1, integer=True), "epochs": Bound(1, integer=True),
    "seed": Bound(0, SEED_LIMIT, high_open=True, integer=True),
    "train_subset": Bound(0, integer=True),
}
COUNTS = ("step_size", "batch_size", "epochs", "train_subset")   # each below INT_LIMIT too


def check_config(config) -> None:
    """Raise ValueError naming the first bad value of a TrainConfig and what is allowed."""
    def bad(name, allowed):
        raise ValueError(f"{name}={getattr(config, name)!r} is invalid: {allowed}")

    if len(config.sizes) < 2 or min(config.sizes) < 1:
        bad("sizes", "need at least two layer widths, all positive")
    if config.sizes[-1] < 2:
        bad("sizes", "the output layer needs at least two classes")
    for name, table in (("activation", ACTIVATIONS), ("cost", COSTS), ("init", INITS),
                        ("optimizer", OPTIMIZERS), ("dtype", DTYPES)):
        if getattr(config, name) not in table:
            bad(name, "choose one of " + ", ".join(table))
    for name, bound in RANGES.items():          # finite, in range, integers where needed
        problem = bound.problem(getattr(config, name))
        if problem:
            bad(name, problem)
    for name in COUNTS:
        if getattr(config, name) >= INT_LIMIT:
            bad(name, f"too large: a count must be below 2**63 = {INT_LIMIT:,}")
    if config.nesterov and config.optimizer == "sgd" and (config.momentum <= 0
                                                          or config.dampening):
        bad("nesterov", "needs momentum > 0 and dampening = 0")
    if config.batchnorm and config.batch_size == 1:
        bad("batch_size", "batch norm needs at least 2 samples in every batch")
    if config.train_subset == 1 and config.batchnorm:
        bad("train_subset", "batch norm needs at least 2 training samples")
    check_memory(config, MEMORY_CAP, "the cap for any run")


def training_size(config, available: int | None = None) -> int:
    """How many images a run trains on, of `available` (MNIST's 60,000 by default)."""
    if available is None:
        available = MNIST_TRAIN - (VALIDATION_SIZE if config.validation else 0)
    return min(config.train_subset, available) if config.train_subset else available


def check_data(config, available: int) -> None:
    """Raise ValueError if the run cannot use a training set of `available` images.

    `available` is what the data hold after the validation split: the subset
    cannot be larger, and batch norm cannot take a batch of one, the last included.
    """
    if config.train_subset > available:
        held = " with the last 10,000 held out for validation" if config.validation else ""
        raise ValueError(f"train_subset={config.train_subset:,} is invalid: the training set "
                         f"has only {available:,} images{held}")
    n = training_size(config, available)
    if config.batchnorm and n % config.batch_size == 1:
        raise ValueError(
            f"batch_size={config.batch_size} is invalid with batch norm: {n:,} training images "
            f"in batches of {config.batch_size} leave a last batch of 1, and batch norm needs "
            f"at least 2 samples in every batch; choose another batch size or subset")


def parameter_count(sizes, batchnorm: bool) -> int:
    """Numbers a network holds: weights and biases, and batch norm's four per hidden unit."""
    count = sum(a * b + b for a, b in zip(sizes[:-1], sizes[1:]))
    return count + (4 * sum(sizes[1:-1]) if batchnorm else 0)


def memory_estimate(config, n_train: int | None = None) -> dict:
    """Bytes a run needs at its peak, roughly, by part (and 'total').

    parameters: weights, their gradients and the optimizer's state (SGD with
    momentum: one buffer, Adam: two) and the step's new arrays; activations: what
    one training batch keeps for backprop (pre-activations, activations, masks
    and their gradients) plus one evaluation chunk; data: MNIST's 70,000 images.
    """
    item = 4 if config.dtype == "float32" else 8
    widths = config.sizes
    buffers = 2 if config.optimizer == "adam" else (1 if config.momentum > 0 else 0)
    parameters = parameter_count(widths, config.batchnorm) * (3 + buffers) * item
    batch = min(config.batch_size, training_size(config, n_train))
    activations = (4 * batch * sum(widths) + 2 * EVAL_CHUNK * max(widths[1:])) * item
    data = (MNIST_TRAIN + MNIST_TEST) * widths[0] * item
    return {"parameters": parameters, "activations": activations, "data": data,
            "total": parameters + activations + data}


def check_memory(config, available: int | None, what: str = "the memory available") -> None:
    """Raise ValueError if memory_estimate() exceeds `available` bytes (None: unknown)."""
    if available is None:
        return
    need = memory_estimate(config)
    if need["total"] > available:
        raise ValueError(
            f"sizes={','.join(map(str, config.sizes))} is too large: training needs about "
            f"{format_bytes(need['total'])} ({format_bytes(need['parameters'])} for weights, "
            f"gradients and optimizer state, {format_bytes(need['activations'])} for a batch "
            f"of {config.batch_size} and evaluation, {format_bytes(need['data'])} for the data),"
            f" more than {what} ({format_bytes(available)})")


def format_bytes(n: float) -> str:
    """1234567 -> '1.2 MB' (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB"):
        if n < 999.5:
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.3g} {unit}"
        n /= 1000
    return f"{n:.3g} EB"


def available_memory() -> int | None:
    """Bytes of memory this machine can still give a process (Linux: MemAvailable), or None."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
