"""TrainConfig: everything that defines one training run, as one dataclass.

Both packages read it (torchnet adds its device and augmentation on top), the
CLIs map their options one to one onto its fields, and compare/ hashes it to
name cached results (scratchnet/cachekey.py). The defaults are Homework 7's
baseline: 784-30-10 sigmoid, Xavier normal, SGD with learning rate 0.001,
Nesterov momentum 0.8 and weight decay 1e-4, batch size 10, 30 epochs. Which
values it accepts is scratchnet/limits.py's business.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace

from . import cachekey, limits


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
    max_norm: float = 0.0         # each unit's incoming weights kept to L2 norm ≤ this; 0 = off
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
        limits.check_config(self)     # ValueError naming the first bad value

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
        """The fields as JSON values."""
        return {**asdict(self), "sizes": list(self.sizes)}

    def short_hash(self) -> str:
        """8 hex digits that change whenever any field changes: the name of its results."""
        return cachekey.short_hash({"class": type(self).__name__, **self.to_dict()})

    def replace(self, **changes):
        return replace(self, **changes)

    @classmethod
    def field_names(cls) -> list[str]:
        return [f.name for f in fields(cls)]
