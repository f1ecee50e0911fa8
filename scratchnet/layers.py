"""Dropout and batch normalization, each forward next to its hand-written backward;
and the max-norm constraint that training applies to the weights after each step.

All follow torch's definitions, so a scratchnet network with these layers
computes what the torchnet one with nn.Dropout / nn.BatchNorm1d computes, and
max_norm_ does what torch.renorm_ does. Shapes as in network.py: N samples,
n_here units in the layer.
"""
from __future__ import annotations

import numpy as np


# ---------------------------------------------------------------- dropout
def dropout_forward(a: np.ndarray, p: float, rng: np.random.Generator):
    """Inverted dropout: zero each unit with probability p, scale the rest by 1/(1-p)."""
    mask = (rng.random(a.shape) >= p).astype(a.dtype) / (1.0 - p)   # (N, n_here)
    return a * mask, mask


def dropout_backward(grad: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return grad * mask  # the same units are dropped on the way back


# ---------------------------------------------------------------- batch norm
class BatchNorm:
    """Batch normalization over the batch axis, nn.BatchNorm1d's defaults.

    Training: normalize with the batch mean and biased variance, and update
    running statistics with momentum 0.1 (the running variance uses the
    unbiased batch variance, as torch does). Evaluation: use the running ones.
    """

    def __init__(self, n: int, dtype=np.float64, eps: float = 1e-5, momentum: float = 0.1):
        self.gamma = np.ones(n, dtype=dtype)           # scale, (n_here,)
        self.beta = np.zeros(n, dtype=dtype)           # shift, (n_here,)
        self.running_mean = np.zeros(n, dtype=dtype)
        self.running_var = np.ones(n, dtype=dtype)
        self.eps, self.momentum = eps, momentum

    def forward(self, z: np.ndarray, training: bool):
        if training:
            n = z.shape[0]
            if n < 2:  # the batch variance of one sample is 0: torch refuses it too
                raise ValueError("batch norm needs more than 1 sample per batch when training")
            mean = z.mean(axis=0)                      # (n_here,)
            var = z.var(axis=0)                        # biased, used to normalize
            m = self.momentum
            self.running_mean *= 1.0 - m
            self.running_mean += m * mean
            self.running_var *= 1.0 - m
            self.running_var += m * var * (n / (n - 1))  # unbiased
        else:
            mean, var = self.running_mean, self.running_var
        inv_std = 1.0 / np.sqrt(var + self.eps)        # (n_here,)
        xhat = (z - mean) * inv_std                    # (N, n_here)
        return self.gamma * xhat + self.beta, (xhat, inv_std, training)

    def backward(self, grad_out: np.ndarray, cache):
        """∂C/∂z, ∂C/∂γ, ∂C/∂β from ∂C/∂(BN output)."""
        xhat, inv_std, training = cache
        dgamma = (grad_out * xhat).sum(axis=0)
        dbeta = grad_out.sum(axis=0)
        dxhat = grad_out * self.gamma                  # (N, n_here)
        if not training:                               # mean and var are constants
            return dxhat * inv_std, dgamma, dbeta
        n = grad_out.shape[0]                          # mean and var depend on z
        dz = inv_std / n * (n * dxhat - dxhat.sum(axis=0) - xhat * (dxhat * xhat).sum(axis=0))
        return dz, dgamma, dbeta


# ---------------------------------------------------------------- max-norm constraint
RENORM_EPS = 1e-7  # torch.renorm's: it divides by ‖w_j‖ + 1e-7, so a row ends a hair below c


def max_norm_(weights, c: float) -> None:
    """Max-norm constraint (Srivastava et al. 2014), in place: every unit's ‖w_j‖ at most c.

    Row j of W_l, shape (n_out, n_in), holds w_j, the incoming weights of unit
    j. Each row whose L2 norm exceeds c is scaled back; the others stay:

        w_j ← w_j · c / (‖w_j‖ + 1e-7)   where ‖w_j‖ > c

    torch.renorm_(W, 2, 0, c)'s formula, its 1e-7 included, so the two packages
    agree to round-off. Training calls it after every optimizer step, on the
    weight matrices only (not the biases, nor batch norm's γ and β).
    """
    for W in weights:                                  # (n_out, n_in)
        norms = np.sqrt((W * W).sum(axis=1))           # ‖w_j‖, (n_out,)
        scale = np.where(norms > c, c / (norms + RENORM_EPS), 1.0)
        W *= scale[:, None]                            # in place: the optimizer holds W
