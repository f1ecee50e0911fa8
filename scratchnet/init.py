"""Weight initializations: the formulas and defaults of torch.nn.init, written out.

Each scheme maps (n_out, n_in, rng) to a weight matrix of shape (n_out, n_in)
and a bias vector of shape (n_out,), like nn.Linear stores them.

- nielsen: W ~ N(0, 1/n_in), b ~ N(0, 1)   (Nielsen's default_weight_initializer)
- large:   W ~ N(0, 1),      b ~ N(0, 1)   (Nielsen's large_weight_initializer)
- xavier_normal:   W ~ N(0, 2/(n_in + n_out)), b = 0   (nn.init.xavier_normal_)
- kaiming_uniform: W ~ U(±√(6/n_in)), b = 0  (nn.init.kaiming_uniform_ with its
  defaults: a=0, mode='fan_in', nonlinearity='leaky_relu', so gain √2)
- kaiming_normal:  W ~ N(0, 2/n_in), b = 0   (nn.init.kaiming_normal_, same defaults)

Biases are zero for the torch-style schemes, as the homework's code sets them.
"""
from __future__ import annotations

import math

import numpy as np

from . import names


def nielsen(n_out, n_in, rng):
    return rng.normal(0.0, 1.0 / math.sqrt(n_in), (n_out, n_in)), rng.normal(0.0, 1.0, n_out)


def large(n_out, n_in, rng):
    return rng.normal(0.0, 1.0, (n_out, n_in)), rng.normal(0.0, 1.0, n_out)


def xavier_normal(n_out, n_in, rng):
    std = math.sqrt(2.0 / (n_in + n_out))
    return rng.normal(0.0, std, (n_out, n_in)), np.zeros(n_out)


def kaiming_uniform(n_out, n_in, rng):
    bound = math.sqrt(2.0) * math.sqrt(3.0 / n_in)  # gain · √(3 / fan_in)
    return rng.uniform(-bound, bound, (n_out, n_in)), np.zeros(n_out)


def kaiming_normal(n_out, n_in, rng):
    std = math.sqrt(2.0) / math.sqrt(n_in)  # gain / √fan_in
    return rng.normal(0.0, std, (n_out, n_in)), np.zeros(n_out)


# keyed by names.INITS, in its order
INITS = {f.__name__: f for f in (nielsen, large, xavier_normal, kaiming_uniform, kaiming_normal)}


def get(name: str):
    """The scheme for a name; a clear error for unknown names."""
    return INITS[names.check("init", name)]
