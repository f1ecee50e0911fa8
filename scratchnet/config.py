"""TrainConfig: everything that defines one training run, as one dataclass.

Both packages read it (torchnet adds its device and augmentation on top), the
CLIs map their options one to one onto its fields, and compare/ hashes it to
name cached results. The defaults are Homework 7's baseline: 784-30-10 sigmoid,
Xavier normal, SGD with learning rate 0.001, Nesterov momentum 0.8 and weight
decay 1e-4, batch size 10, 30 epochs.

This is the one place that says which values a run accepts: RANGES holds the
allowed range of every numeric field (the CLIs build their option types from
it), check() applies it and the rules that tie fields together, check_data()
what needs the size of the training set, and check_memory() whether the
network fits in the memory at hand.
"""
from __future__ import annotations

import hashlib
import json
import math
import numbers
import os
from dataclasses import asdict, dataclass, fields, replace

from .names import ACTIVATIONS, COSTS, DTYPES, INITS, OPTIMIZERS


# Seeds: NumPy takes any integer >= 0 and torch.manual_seed any up to 2**64 - 1;
# 2**63 - 1 is the largest that also fits a signed 64-bit integer, so a seed
# survives a NumPy int64 array, a torch tensor or another language's JSON reader.
SEED_LIMIT = 2 ** 63
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
        if self.integer and not isinstance(value, numbers.Integral):
            return wrong
        if not math.isfinite(value):
            return wrong
        if self.low is not None and (value < self.low or (self.low_open and value == self.low)):
            return wrong
        if self.high is not None and (value > self.high or (self.high_open and value == self.high)):
            return wrong
        return None


POSITIVE, NONNEGATIVE, FRACTION = Bound(0, low_open=True), Bound(0), Bound(0, 1, high_open=True)
RANGES = {  # every numeric field of TrainConfig and its allowed values
    "dropout": FRACTION,
    "input_dropout": FRACTION,
    "lr": POSITIVE,
    "momentum": NONNEGATIVE,
    "dampening": NONNEGATIVE,
    "weight_decay": NONNEGATIVE,
    "max_norm": NONNEGATIVE,
    "beta1": FRACTION,
    "beta2": FRACTION,
    "eps": NONNEGATIVE,
    "step_size": Bound(0, integer=True),
    "gamma": POSITIVE,
    "batch_size": Bound(1, integer=True),
    "epochs": Bound(1, integer=True),
    "seed": Bound(0, SEED_LIMIT, high_open=True, integer=True),
    "train_subset": Bound(0, integer=True),
}


def short_hash(data: dict) -> str:
    """8 hex digits of the SHA-1 of `data` as sorted JSON: the name of a cached result.

    TrainConfig, compare's Run and Problem1Config name their results with it, so
    a change here renames, and so recomputes, every cached result.
    """
    return hashlib.sha1(json.dumps(data, sort_keys=True).encode()).hexdigest()[:8]


def format_bytes(n: float) -> str:
    """1234567 -> '1.2 MB' (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB", "PB", "EB"):
        if n < 999.5 or unit == "EB":
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


# Fields added after results had been cached under the hashes of configs without them.
# to_dict() leaves such a field out while it holds its default, so a config that does not
# use it has the dict it had before the field existed: the same short_hash(), the same hash
# of compare's Run (built from to_dict() too), and its cached results stay valid. Set to
# anything else, the field enters the dict and the hash changes. A field added from now on
# joins this tuple, with a default that means "off"; none may ever leave it.
ADDED_LATER = ("input_dropout", "max_norm")


@dataclass(frozen=True)
class TrainConfig:
    sizes: tuple = (784, 30, 10)
    activation: str = "sigmoid"
    cost: str = "cross_entropy"
    init: str = "xavier_normal"
    dropout: float = 0.0          # probability of zeroing a hidden unit while training
    input_dropout: float = 0.0    # probability of zeroing an input pixel while training
    batchnorm: bool = False       # batch norm between each hidden linear layer and its activation
    optimizer: str = "sgd"        # sgd | adam
    lr: float = 0.001
    momentum: float = 0.8         # SGD only
    dampening: float = 0.0        # SGD only
    nesterov: bool = True         # SGD only
    weight_decay: float = 1e-4
    max_norm: float = 0.0         # after each step, every unit's incoming weights scaled
                                  # to L2 norm ≤ max_norm (Srivastava et al. 2014); 0 = off
    beta1: float = 0.9            # Adam only
    beta2: float = 0.999          # Adam only
    eps: float = 1e-8             # Adam only
    step_size: int = 0            # StepLR period in epochs; 0 = constant learning rate
    gamma: float = 0.1            # StepLR factor
    batch_size: int = 10
    epochs: int = 30
    seed: int = 0
    dtype: str = "float64"
    validation: bool = False      # train on the first 50,000 images, evaluate on the last 10,000
    train_subset: int = 0         # use only the first n training images (0 = all): smoke runs

    def __post_init__(self):
        object.__setattr__(self, "sizes", tuple(int(s) for s in self.sizes))
        self.check()

    def check(self) -> None:
        """Raise ValueError naming the first bad value and what is allowed."""
        def bad(name, allowed):
            raise ValueError(f"{name}={getattr(self, name)!r} is invalid: {allowed}")

        if len(self.sizes) < 2 or min(self.sizes) < 1:
            bad("sizes", "need at least two layer widths, all positive")
        if self.sizes[-1] < 2:
            bad("sizes", "the output layer needs at least two classes")
        for name, table in (("activation", ACTIVATIONS), ("cost", COSTS), ("init", INITS)):
            if getattr(self, name) not in table:
                bad(name, "choose one of " + ", ".join(table))
        if self.optimizer not in OPTIMIZERS:
            bad("optimizer", "choose one of " + ", ".join(OPTIMIZERS))
        if self.dtype not in DTYPES:
            bad("dtype", "choose one of " + ", ".join(DTYPES))
        for name, bound in RANGES.items():          # finite, in range, integers where needed
            problem = bound.problem(getattr(self, name))
            if problem:
                bad(name, problem)
        if self.nesterov and self.optimizer == "sgd" and (self.momentum <= 0 or self.dampening):
            bad("nesterov", "needs momentum > 0 and dampening = 0")
        if self.batchnorm and self.batch_size == 1:
            bad("batch_size", "batch norm needs at least 2 samples in every batch")
        if self.train_subset == 1 and self.batchnorm:
            bad("train_subset", "batch norm needs at least 2 training samples")
        self.check_memory(MEMORY_CAP, "the cap for any run")

    def training_size(self, available: int | None = None) -> int:
        """How many images a run trains on, of `available` (MNIST's 60,000 by default)."""
        if available is None:
            available = MNIST_TRAIN - (VALIDATION_SIZE if self.validation else 0)
        return min(self.train_subset, available) if self.train_subset else available

    def check_data(self, available: int) -> None:
        """Raise ValueError if the run cannot use a training set of `available` images.

        `available` is what the data hold after the validation split: the subset
        cannot be larger, and batch norm cannot take a batch of one, the last included.
        """
        if self.train_subset > available:
            held = " with the last 10,000 held out for validation" if self.validation else ""
            raise ValueError(f"train_subset={self.train_subset:,} is invalid: the training set "
                             f"has only {available:,} images{held}")
        n = self.training_size(available)
        if self.batchnorm and n % self.batch_size == 1:
            raise ValueError(
                f"batch_size={self.batch_size} is invalid with batch norm: {n:,} training images "
                f"in batches of {self.batch_size} leave a last batch of 1, and batch norm needs "
                f"at least 2 samples in every batch; choose another batch size or subset")

    def memory_estimate(self, n_train: int | None = None) -> dict:
        """Bytes a run needs at its peak, roughly, by part (and 'total').

        parameters: weights, their gradients and the optimizer's state (SGD with
        momentum: one buffer, Adam: two); activations: what one training batch
        keeps for backprop (pre-activations, activations, masks and their
        gradients) plus one evaluation chunk; data: MNIST's 70,000 images as floats.
        """
        item = 4 if self.dtype == "float32" else 8
        widths = self.sizes
        count = sum(a * b + b for a, b in zip(widths[:-1], widths[1:]))
        if self.batchnorm:
            count += 4 * sum(widths[1:-1])       # gamma, beta, running mean and variance
        buffers = 2 if self.optimizer == "adam" else (1 if self.momentum > 0 else 0)
        parameters = count * (2 + buffers) * item
        batch = min(self.batch_size, self.training_size(n_train))
        activations = (4 * batch * sum(widths) + 2 * EVAL_CHUNK * max(widths[1:])) * item
        data = (MNIST_TRAIN + MNIST_TEST) * widths[0] * item
        return {"parameters": parameters, "activations": activations, "data": data,
                "total": parameters + activations + data}

    def check_memory(self, available: int | None, what: str = "the memory available") -> None:
        """Raise ValueError if memory_estimate() exceeds `available` bytes (None: unknown)."""
        if available is None:
            return
        need = self.memory_estimate()
        if need["total"] > available:
            raise ValueError(
                f"sizes={','.join(map(str, self.sizes))} is too large: training needs about "
                f"{format_bytes(need['total'])} ({format_bytes(need['parameters'])} for weights, "
                f"gradients and optimizer state, {format_bytes(need['activations'])} for a batch "
                f"of {self.batch_size} and evaluation, {format_bytes(need['data'])} for the data),"
                f" more than {what} ({format_bytes(available)})")

    # ------------------------------------------------------------ helpers
    def network_options(self) -> dict:
        """Keyword arguments of Network(...) in either package."""
        return dict(sizes=self.sizes, activation=self.activation, cost=self.cost,
                    init=self.init, seed=self.seed, dropout=self.dropout,
                    batchnorm=self.batchnorm, dtype=self.dtype, input_dropout=self.input_dropout)

    def optimizer_options(self) -> dict:
        """Keyword arguments of SGD(...) or Adam(...), torch.optim's names."""
        if self.optimizer == "sgd":
            return dict(lr=self.lr, momentum=self.momentum, dampening=self.dampening,
                        nesterov=self.nesterov, weight_decay=self.weight_decay)
        return dict(lr=self.lr, betas=(self.beta1, self.beta2), eps=self.eps,
                    weight_decay=self.weight_decay)

    def to_dict(self) -> dict:
        """The fields as JSON values, less the ADDED_LATER ones that hold their defaults."""
        data = asdict(self)
        data["sizes"] = list(self.sizes)
        for f in fields(self):
            if f.name in ADDED_LATER and data[f.name] == f.default:
                del data[f.name]
        return data

    def short_hash(self) -> str:
        """8 hex digits that change whenever any field changes (see ADDED_LATER)."""
        return short_hash({"class": type(self).__name__, **self.to_dict()})

    def replace(self, **changes):
        return replace(self, **changes)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
