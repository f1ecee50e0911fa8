"""Costs, each with the output layer it belongs to.

- cross_entropy: linear output layer, softmax + negative log-likelihood,
  averaged over the batch: exactly torch.nn.CrossEntropyLoss.
- quadratic: sigmoid output layer, C = ½‖a − y‖² averaged over the batch,
  with y the one-hot label: Nielsen's network.py.

Each cost gives value(z_L, y) and delta(z_L, y) = ∂C/∂z_L (equation BP1), both
for the batch mean, from the output pre-activations z_L of shape (N, 10) and
integer labels y of shape (N,).
"""
from __future__ import annotations

import numpy as np

from . import names
from .activations import sigmoid


def log_softmax(z: np.ndarray) -> np.ndarray:
    """log softmax along the last axis, stable for any finite z."""
    shifted = z - z.max(axis=1, keepdims=True)  # largest entry becomes 0
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(z: np.ndarray) -> np.ndarray:
    return np.exp(log_softmax(z))


def one_hot(y: np.ndarray, n: int, dtype=np.float64) -> np.ndarray:
    out = np.zeros((len(y), n), dtype=dtype)
    out[np.arange(len(y)), y] = 1.0
    return out


class CrossEntropy:
    name = "cross_entropy"

    @staticmethod
    def output(z: np.ndarray) -> np.ndarray:
        return z  # linear output layer: the logits

    @staticmethod
    def value(z: np.ndarray, y: np.ndarray) -> float:
        return float(-log_softmax(z)[np.arange(len(y)), y].mean())

    @staticmethod
    def value_and_delta(z: np.ndarray, y: np.ndarray):
        """C and BP1 for softmax + NLL: δ_L = (softmax(z) − onehot(y)) / N."""
        n = len(y)
        logp = log_softmax(z)                               # (N, 10)
        value = -logp[np.arange(n), y].mean()
        delta = np.exp(logp)                                # softmax, (N, 10)
        delta[np.arange(n), y] -= 1.0
        return float(value), delta / n


class Quadratic:
    name = "quadratic"

    @staticmethod
    def output(z: np.ndarray) -> np.ndarray:
        return sigmoid(z)  # sigmoid output layer, as in Nielsen's network.py

    @staticmethod
    def value(z: np.ndarray, y: np.ndarray) -> float:
        a = sigmoid(z)
        return float(0.5 * ((a - one_hot(y, z.shape[1], z.dtype)) ** 2).sum(axis=1).mean())

    @staticmethod
    def value_and_delta(z: np.ndarray, y: np.ndarray):
        """C and BP1 for ½‖σ(z) − y‖²: δ_L = (a − y) ⊙ σ'(z) / N."""
        n = len(y)
        a = sigmoid(z)                                      # (N, 10)
        diff = a.copy()
        diff[np.arange(n), y] -= 1.0                        # a − onehot(y)
        value = 0.5 * (diff * diff).sum() / n
        return float(value), diff * a * (1.0 - a) / n


COSTS = {"cross_entropy": CrossEntropy, "quadratic": Quadratic}  # keyed by names.COSTS


def get(name: str):
    """The cost class for a name; a clear error for unknown names."""
    return COSTS[names.check("cost", name)]
