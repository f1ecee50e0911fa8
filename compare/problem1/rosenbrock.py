"""The Rosenbrock function and Homework 7's three optimizers on it.

    f(x, y) = (1 − x)² + 100 (y − x²)²,   minimum f = 0 at (1, 1).

The problem statement prints the first term as (1 − x²); that is a typo: with
it f has no minimum at (1, 1) (∂f/∂x = −2x − 400x(y − x²) is −2 there) and is
unbounded below along y = x², while the homework's own reference code uses
(1 − x)², the classic Rosenbrock function.

The optimizers run on a float64 2-vector, driven by the homework's gradient in
the homework's arithmetic (so gd, momentum and adam give the homework code's
numbers to the last bit; tests compare them with compare/reference.py):

    gd          plain gradient descent              scratchnet SGD(lr)
    momentum    heavy-ball v ← γv + ∇f, p ← p − ηv    scratchnet SGD(lr, momentum=γ, dampening=0)
    adam        the homework's Adam: ε inside √      HomeworkAdam: the homework's adams() loop
    adam_torch  torch.optim.Adam: ε outside √        scratchnet Adam(lr, betas, eps)

torch.optim.SGD's momentum buffer starts as the first gradient, which is what
the homework's v = γ·0 + ∇f gives, so `momentum` is the homework's algorithm.

A trajectory holds every iterate: shape (n + 1, 2), or (n + 1, k, 2) when k
learning rates run at once. An iterate that is not finite (the gradient or the
update overflowed) marks divergence: from that step on the trajectory is NaN.
"""
from __future__ import annotations

import math

import numpy as np

from scratchnet.optim import SGD, Adam

MINIMUM = np.array([1.0, 1.0])
START = (-4.0, -2.0)
METHODS = {
    "gd": "gradient descent",
    "momentum": "momentum (γ = 0.9)",
    "adam": "Adam (homework: ε inside √)",
    "adam_torch": "Adam (torch: ε outside √)",
}


def f(x, y):
    """The Rosenbrock function, elementwise on arrays of the same shape."""
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def gradient(p, out=None):
    """∇f at p, shape (2,) or (k, 2) -> same; in the homework's arithmetic order.

    ∂f/∂x = −2(1 − x) − 400x(y − x²),   ∂f/∂y = 200(y − x²)

    x² is the homework's scalar x**2 (C's pow, which can differ from x*x by an
    ulp), also for a column of k rates: each row follows its single run exactly.
    """
    out = np.empty_like(p) if out is None else out
    x, y = p.T                                # scalars for (2,), columns for (k, 2)
    square = x ** 2 if np.ndim(x) == 0 else np.fromiter((v ** 2 for v in x), float, len(x))
    r = y - square
    out.T[0] = -2 * (1 - x) - 400 * x * r
    out.T[1] = 200 * r
    return out


def hessian(p) -> np.ndarray:
    """∇²f at p, shape (..., 2) -> (..., 2, 2)."""
    p = np.asarray(p, dtype=float)
    x, y = p[..., 0], p[..., 1]
    H = np.empty(x.shape + (2, 2))
    H[..., 0, 0] = 2 - 400 * (y - x * x) + 800 * x * x  # = 2 − 400y + 1200x²
    H[..., 0, 1] = H[..., 1, 0] = -400 * x
    H[..., 1, 1] = 200.0
    return H


def largest_curvature(p) -> np.ndarray:
    """L = the largest eigenvalue of ∇²f at p, shape (..., 2) -> (...)."""
    return np.linalg.eigvalsh(hessian(p))[..., -1]


def predicted_threshold(method: str, L: float, gamma: float = 0.9) -> float | None:
    """The largest stable learning rate on a quadratic of top curvature L.

    GD: η < 2/L.  Heavy ball: η < 2(1 + γ)/L.  Adam: none — its step is
    normalized by √v̂, so its size does not grow with the curvature.
    """
    if method == "gd":
        return 2.0 / L
    if method == "momentum":
        return 2.0 * (1.0 + gamma) / L
    return None


class HomeworkAdam:
    """The homework's adams() loop body on p (updated in place), operation for operation:

        v ← γv + (1 − γ)g,   s ← βs + (1 − β)g·g,   p ← p − η (v/(1 − γᵗ)) / √(s/(1 − βᵗ) + ε)

    lr may be a (k, 1) column, one rate per row of a (k, 2) p.
    """

    def __init__(self, p: np.ndarray, lr, betas=(0.9, 0.99), eps: float = 1e-8):
        self.p, self.lr, (self.gamma, self.beta), self.eps = p, lr, betas, eps
        self.v = self.grad_sq = 0
        self.t = 0

    def step(self, grads):
        g, gamma, beta = grads[0], self.gamma, self.beta
        self.t += 1
        self.v = gamma * self.v + (1 - gamma) * g
        self.grad_sq = beta * self.grad_sq + (1 - beta) * g * g
        v_hat = self.v / (1 - gamma ** self.t)
        grad_sq_hat = self.grad_sq / (1 - beta ** self.t)
        self.p -= self.lr * np.divide(v_hat, np.sqrt(grad_sq_hat + self.eps))


def make_optimizer(method: str, p: np.ndarray, lr: float, gamma: float = 0.9,
                   betas=(0.9, 0.99), eps: float = 1e-8):
    """The optimizer that runs `method` on the array p (updated in place)."""
    if method == "gd":
        return SGD([p], lr=lr)
    if method == "momentum":
        return SGD([p], lr=lr, momentum=gamma, dampening=0.0)
    if method == "adam":
        return HomeworkAdam(p, lr, betas, eps)
    if method == "adam_torch":
        return Adam([p], lr=lr, betas=betas, eps=eps)
    raise ValueError(f"unknown method {method!r}: choose one of {', '.join(METHODS)}")


def run(method: str, lr, n_steps: int, start=START, **hyper) -> np.ndarray:
    """Iterates of `method` from `start`: (n + 1, 2), or (n + 1, k, 2) for k rates.

    lr is one learning rate, or a 1-D array of k rates run side by side (the
    sweep): scratchnet's updates are elementwise and multiply by opt.lr with
    NumPy broadcasting, so with opt.lr a (k, 1) column each row of the (k, 2)
    points follows exactly the run that rate gives alone (a test checks this
    to the last bit) at the cost of one Python loop instead of k. A single run
    stops at the first non-finite iterate; either way the trajectory is NaN
    from divergence on.
    """
    rates = np.asarray(lr, dtype=float)
    p = np.empty(rates.shape + (2,))          # (2,) or (k, 2)
    p[...] = start
    opt = make_optimizer(method, p, float(rates.max()), **hyper)
    if rates.ndim == 1:
        opt.lr = rates[:, None]               # (k, 1): one rate per row
    traj = np.full((n_steps + 1,) + p.shape, np.nan)
    traj[0] = p
    grads = [np.empty_like(p)]
    single = rates.ndim == 0
    # Overflow and inf − inf are expected on diverging runs: they are detected
    # below from the iterates, so NumPy's warnings would only be noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(1, n_steps + 1):
            gradient(p, out=grads[0])
            opt.step(grads)
            traj[t] = p
            if single and not (math.isfinite(p[0]) and math.isfinite(p[1])):
                break
    return _nan_after_divergence(traj)


def _nan_after_divergence(traj: np.ndarray) -> np.ndarray:
    """Set every iterate from the first non-finite one on to NaN, in place."""
    bad = ~np.isfinite(traj).all(axis=-1)                 # (n + 1, ...)
    first = np.where(bad.any(axis=0), bad.argmax(axis=0), traj.shape[0])
    steps = np.arange(traj.shape[0]).reshape((-1,) + (1,) * (bad.ndim - 1))
    traj[steps >= first] = np.nan
    return traj


def squared_error(traj: np.ndarray) -> np.ndarray:
    """‖p − (1, 1)‖² per iterate: (..., 2) -> (...); NaN after divergence."""
    with np.errstate(over="ignore", invalid="ignore"):
        return ((traj - MINIMUM) ** 2).sum(axis=-1)


def diverged_at(traj: np.ndarray):
    """The first step whose iterate is not finite, or None; per run for (n + 1, k, 2)."""
    bad = np.isnan(traj[..., 0])                          # (n + 1,) or (n + 1, k)
    first = [int(b.argmax()) if b.any() else None for b in bad.reshape(len(bad), -1).T]
    return first if bad.ndim > 1 else first[0]


def summarize(traj: np.ndarray, tol: float = 1e-6) -> dict:
    """The numbers reported for one run (n + 1, 2): final point and error, steps to tol."""
    err = squared_error(traj)                             # (n + 1,)
    below = np.flatnonzero(err < tol)
    step = diverged_at(traj)
    final = traj[-1]
    return {
        "final_point": None if step is not None else [float(v) for v in final],
        "final_sq_error": None if step is not None else float(err[-1]),
        "min_sq_error": float(np.nanmin(err)),
        "steps_to_tol": int(below[0]) if below.size else None,
        "diverged_at": step,
    }
