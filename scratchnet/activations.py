"""Activation functions: value and derivative, numerically stable.

Each activation is a pair (f, f_prime). f_prime takes both the pre-activation
z and the activation a = f(z), so that each can use whichever is cheaper and
more accurate: sigmoid'(z) = a(1 - a), tanh'(z) = 1 - a², relu'(z) = [z > 0].
"""
from __future__ import annotations

import numpy as np

from . import names


def sigmoid(z: np.ndarray) -> np.ndarray:
    """σ(z) = 1 / (1 + e^-z), computed without overflow for any finite z.

    With e = e^-|z| in (0, 1]: σ(|z|) = 1 / (1 + e), and σ(−|z|) = e / (1 + e)
    exactly, with no cancellation for very negative z.
    """
    e = np.exp(-np.abs(z))                 # never overflows
    s = 1.0 / (1.0 + e)                    # σ(|z|)
    return np.where(z >= 0, s, e * s)


def sigmoid_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return a * (1.0 - a)


def relu(z: np.ndarray) -> np.ndarray:
    return np.maximum(z, 0.0)


def relu_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return (z > 0).astype(z.dtype)  # 0 at the kink, as torch's autograd


def tanh(z: np.ndarray) -> np.ndarray:
    return np.tanh(z)


def tanh_prime(z: np.ndarray, a: np.ndarray) -> np.ndarray:
    return 1.0 - a * a


ACTIVATIONS = {  # keyed by names.ACTIVATIONS, in its order
    "sigmoid": (sigmoid, sigmoid_prime),
    "relu": (relu, relu_prime),
    "tanh": (tanh, tanh_prime),
}


def get(name: str):
    """(f, f_prime) for an activation name; a clear error for unknown names."""
    return ACTIVATIONS[names.check("activation", name)]
