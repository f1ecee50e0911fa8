"""Gradient checking: backprop against central finite differences.

For one entry θ_i of a parameter array,

    ∂C/∂θ_i ≈ (C(θ + h e_i) − C(θ − h e_i)) / 2h,

with an error of order h² (truncation) plus round-off of order ε·|C| / h;
h = 1e-5 balances the two in float64. Backprop and finite differences agree
when their relative error |a − n| / (|a| + |n|) is small: about 1e-7 or less
for smooth functions in float64. Only for entries well above the round-off,
though: where ∂C/∂θ_i is tiny (deep in a sigmoid net, say 1e-7), the two
differ by about ε·|C| / h ≈ 1e-11 to 1e-10, whatever the relative error says.

The cost must be the same function of θ at every evaluation, so the checks
here replay the same dropout masks each time, the input's and the hidden
layers' (they reset the network's dropout_rng, which draws them all, to one
saved state before each forward pass) and put batch norm's running
statistics back afterwards (training mode normalizes with the batch's own
statistics, so the cost never reads them, but every forward pass updates
them). The network is left exactly as it was found.
"""
from __future__ import annotations

import copy

import numpy as np

TINY = np.finfo(np.float64).tiny  # keeps 0 / 0 (both gradients exactly zero) at 0


def relative_error(a, n) -> np.ndarray:
    """Elementwise |a − n| / max(|a| + |n|, tiny)."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), TINY)


def max_relative_error(a, n) -> float:
    """The largest elementwise relative error (0 for empty arrays)."""
    return float(relative_error(a, n).max(initial=0.0))


def frozen(net, X, y):
    """(cost, backprop): C(θ) and backprop at the network's current parameters, repeatable.

    Every call draws the same dropout masks (those the network would draw
    next) and leaves batch norm's running statistics and the dropout
    generator as they are now.
    """
    rng_state = copy.deepcopy(net.dropout_rng.bit_generator.state)
    stats = [(bn.running_mean.copy(), bn.running_var.copy()) for bn in net.norms]

    def replay(method):
        def call():
            net.dropout_rng.bit_generator.state = rng_state   # the same masks every time
            try:
                return method(X, y)
            finally:
                net.dropout_rng.bit_generator.state = rng_state
                for bn, (mean, var) in zip(net.norms, stats):
                    bn.running_mean[...], bn.running_var[...] = mean, var
        return call

    return replay(net.loss), replay(net.backprop)


def numerical_gradient(cost, p: np.ndarray, indices=None, h: float = 1e-5) -> np.ndarray:
    """Central differences of cost() with respect to the flat entries `indices` of p.

    p must be one of the arrays cost() reads (a network parameter): each entry
    is moved by ±h in place and then restored exactly.
    """
    indices = np.arange(p.size) if indices is None else np.asarray(indices)
    grad = np.empty(len(indices))
    for k, i in enumerate(indices):
        original = p.flat[i]
        p.flat[i] = original + h
        plus = cost()
        p.flat[i] = original - h
        minus = cost()
        p.flat[i] = original
        grad[k] = (plus - minus) / (2 * h)
    return grad


def sample_indices(size: int, samples: int | None, rng: np.random.Generator) -> np.ndarray:
    """All flat indices of an array of `size` entries, or `samples` of them (no repeats)."""
    if samples is None or samples >= size:
        return np.arange(size)
    return np.sort(rng.choice(size, samples, replace=False))


def compare(net, X, y, h: float = 1e-5, samples: int | None = None, seed: int = 0):
    """Backprop and central differences side by side, for every array in net.parameters().

    Returns one (indices, analytic, numeric) triple per parameter array:
    the flat indices checked (all of them, or `samples` drawn with `seed`)
    and the two gradients there.
    """
    cost, backprop = frozen(net, X, y)
    _, grads = backprop()
    rng = np.random.default_rng(seed)
    result = []
    for p, g in zip(net.parameters(), grads):
        idx = sample_indices(p.size, samples, rng)
        result.append((idx, g.reshape(-1)[idx], numerical_gradient(cost, p, idx, h)))
    return result


def gradcheck(net, X, y, h: float = 1e-5, samples: int | None = None,
              seed: int = 0) -> list[float]:
    """The worst relative error between backprop and finite differences, per parameter array."""
    return [max_relative_error(a, n) for _, a, n in compare(net, X, y, h, samples, seed)]
