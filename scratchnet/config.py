"""TrainConfig: everything that defines one training run, as one dataclass.

Both packages read it (torchnet adds its device and augmentation on top), the
CLIs map their options one to one onto its fields, and compare/ hashes it to
name cached results. The defaults are Homework 7's baseline: 784-30-10 sigmoid,
Xavier normal, SGD with learning rate 0.001, Nesterov momentum 0.8 and weight
decay 1e-4, batch size 10, 30 epochs.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, fields, replace

from . import activations, costs, init as inits

OPTIMIZERS = ("sgd", "adam")
DTYPES = ("float32", "float64")


@dataclass(frozen=True)
class TrainConfig:
    sizes: tuple = (784, 30, 10)
    activation: str = "sigmoid"
    cost: str = "cross_entropy"
    init: str = "xavier_normal"
    dropout: float = 0.0          # probability of zeroing a hidden unit while training
    batchnorm: bool = False       # batch norm between each hidden linear layer and its activation
    optimizer: str = "sgd"        # sgd | adam
    lr: float = 0.001
    momentum: float = 0.8         # SGD only
    dampening: float = 0.0        # SGD only
    nesterov: bool = True         # SGD only
    weight_decay: float = 1e-4
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
        for name, table in (("activation", activations.ACTIVATIONS), ("cost", costs.COSTS),
                            ("init", inits.INITS)):
            if getattr(self, name) not in table:
                bad(name, "choose one of " + ", ".join(table))
        if self.optimizer not in OPTIMIZERS:
            bad("optimizer", "choose one of " + ", ".join(OPTIMIZERS))
        if self.dtype not in DTYPES:
            bad("dtype", "choose one of " + ", ".join(DTYPES))
        if not self.lr > 0:
            bad("lr", "must be positive")
        for name in ("momentum", "dampening", "weight_decay", "eps"):
            if not getattr(self, name) >= 0:
                bad(name, "must be >= 0")
        for name in ("beta1", "beta2", "dropout"):
            if not 0 <= getattr(self, name) < 1:
                bad(name, "must be in [0, 1)")
        if self.nesterov and self.optimizer == "sgd" and (self.momentum <= 0 or self.dampening):
            bad("nesterov", "needs momentum > 0 and dampening = 0")
        for name in ("batch_size", "epochs"):
            if getattr(self, name) < 1:
                bad(name, "must be a positive integer")
        for name in ("step_size", "train_subset", "seed"):   # NumPy seeds are >= 0
            if getattr(self, name) < 0:
                bad(name, "must be >= 0")
        if not self.gamma > 0:
            bad("gamma", "must be positive")

    # ------------------------------------------------------------ helpers
    def network_options(self) -> dict:
        """Keyword arguments of Network(...) in either package."""
        return dict(sizes=self.sizes, activation=self.activation, cost=self.cost,
                    init=self.init, seed=self.seed, dropout=self.dropout,
                    batchnorm=self.batchnorm, dtype=self.dtype)

    def optimizer_options(self) -> dict:
        """Keyword arguments of SGD(...) or Adam(...), torch.optim's names."""
        if self.optimizer == "sgd":
            return dict(lr=self.lr, momentum=self.momentum, dampening=self.dampening,
                        nesterov=self.nesterov, weight_decay=self.weight_decay)
        return dict(lr=self.lr, betas=(self.beta1, self.beta2), eps=self.eps,
                    weight_decay=self.weight_decay)

    def to_dict(self) -> dict:
        data = asdict(self)
        data["sizes"] = list(self.sizes)
        return data

    def short_hash(self) -> str:
        """8 hex digits that change whenever any field changes."""
        blob = json.dumps({"class": type(self).__name__, **self.to_dict()}, sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:8]

    def replace(self, **changes):
        return replace(self, **changes)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
