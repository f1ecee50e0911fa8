"""The names both packages accept: activations, costs, initializations, optimizers, dtypes.

One table, read by scratchnet (its maths modules, TrainConfig, the CLI's
choices) and by torchnet, so the two packages accept the same names and
refuse the others with the same message. Only names live here: what each
name computes is written separately in each package (scratchnet/activations.py
by hand, torch.sigmoid in torchnet/network.py, and so on). Imports nothing.
"""
from __future__ import annotations

ACTIVATIONS = ("sigmoid", "relu", "tanh")
COSTS = ("cross_entropy", "quadratic")
INITS = ("nielsen", "large", "xavier_normal", "kaiming_uniform", "kaiming_normal")
OPTIMIZERS = ("sgd", "adam")
DTYPES = ("float32", "float64")

TABLES = {"activation": ACTIVATIONS, "cost": COSTS, "init": INITS, "optimizer": OPTIMIZERS,
          "dtype": DTYPES}


def check(kind: str, name) -> str:
    """name itself if it is one of the `kind` names, else ValueError naming what is allowed.

    >>> check("activation", "softplus")
    Traceback (most recent call last):
    ValueError: unknown activation 'softplus'; choose one of sigmoid, relu, tanh
    """
    allowed = TABLES[kind]
    if name not in allowed:
        raise ValueError(f"unknown {kind} {name!r}; choose one of {', '.join(allowed)}")
    return name
