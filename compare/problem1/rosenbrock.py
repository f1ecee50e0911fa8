"""f(x, y) = (1 − x)² + 100 (y − x²)², minimum 0 at (1, 1), and Homework 7's optimizers on it.

The problem statement's (1 − x²) is a typo (f would be unbounded below along y = x²); the
homework's code has (1 − x)². gd, momentum and adam give the homework code's numbers to the
last bit (compare/reference.py is the oracle). A trajectory holds every iterate, (n + 1, 2) or
(n + 1, k, 2) for k rates at once, NaN from the first non-finite one (divergence) on.
"""
from __future__ import annotations

import math

import numpy as np

from scratchnet.optim import SGD, Adam

MINIMUM = np.array([1.0, 1.0])
START = (-4.0, -2.0)
METHODS = {"gd": "gradient descent", "momentum": "momentum (γ = 0.9)",
           "adam": "Adam (homework: ε inside √)", "adam_torch": "Adam (torch: ε outside √)"}


def f(x, y):
    """The Rosenbrock function, elementwise."""
    return (1 - x) ** 2 + 100 * (y - x ** 2) ** 2


def gradient(p, out=None):
    """∇f at p, (2,) or (k, 2), in the homework's order of operations; x² is its scalar x**2
    (C's pow, an ulp off x*x at times) also for k rates, so each row is its single run."""
    out = np.empty_like(p) if out is None else out
    x, y = p.T
    square = x ** 2 if np.ndim(x) == 0 else np.fromiter((v ** 2 for v in x), float, len(x))
    r = y - square
    out.T[0] = -2 * (1 - x) - 400 * x * r
    out.T[1] = 200 * r
    return out


def hessian(p) -> np.ndarray:
    """∇²f at p, (..., 2) -> (..., 2, 2)."""
    x, y = np.moveaxis(np.asarray(p, dtype=float), -1, 0)
    H = np.empty(x.shape + (2, 2))
    H[..., 0, 0] = 2 - 400 * (y - x * x) + 800 * x * x
    H[..., 0, 1] = H[..., 1, 0] = -400 * x
    H[..., 1, 1] = 200.0
    return H


def largest_curvature(p) -> np.ndarray:
    """L, the largest eigenvalue of ∇²f at p."""
    return np.linalg.eigvalsh(hessian(p))[..., -1]


def predicted_threshold(method: str, L: float, gamma: float = 0.9) -> float | None:
    """The largest stable rate on a quadratic of top curvature L: 2/L for GD, 2(1 + γ)/L for
    the heavy ball; None for Adam, whose step is normalized by √v̂."""
    return {"gd": 2.0 / L, "momentum": 2.0 * (1.0 + gamma) / L}.get(method)


class HomeworkAdam:
    """The homework's adams() loop body on p (in place), operation for operation; lr may be a
    (k, 1) column, one rate per row of a (k, 2) p."""

    def __init__(self, p: np.ndarray, lr, betas=(0.9, 0.99), eps: float = 1e-8):
        self.p, self.lr, (self.gamma, self.beta), self.eps = p, lr, betas, eps
        self.v = self.grad_sq = self.t = 0

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
    """The optimizer that runs `method` on the array p, in place. The heavy ball's
    v ← γv + ∇f is SGD without dampening: its buffer starts as the first gradient."""
    if method == "gd":
        return SGD([p], lr=lr)
    if method == "momentum":
        return SGD([p], lr=lr, momentum=gamma, dampening=0.0)
    if method == "adam":
        return HomeworkAdam(p, lr, betas, eps)
    return Adam([p], lr=lr, betas=betas, eps=eps)


def run(method: str, lr, n_steps: int, start=START, **hyper) -> np.ndarray:
    """Iterates of `method` from `start`: (n + 1, 2), or (n + 1, k, 2) for k rates side by side
    (opt.lr a (k, 1) column: each row is exactly its rate's single run, in one Python loop)."""
    rates = np.asarray(lr, dtype=float)
    p = np.empty(rates.shape + (2,))
    p[...] = start
    opt = make_optimizer(method, p, float(rates.max()), **hyper)
    if rates.ndim == 1:
        opt.lr = rates[:, None]
    traj = np.full((n_steps + 1,) + p.shape, np.nan)
    traj[0] = p
    grads, single = [np.empty_like(p)], rates.ndim == 0
    # Diverging runs overflow; that is read from the iterates, so the warnings are noise.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(1, n_steps + 1):
            gradient(p, out=grads[0])
            opt.step(grads)
            traj[t] = p
            if single and not (math.isfinite(p[0]) and math.isfinite(p[1])):
                break
    bad = ~np.isfinite(traj).all(axis=-1)                 # (n + 1,) or (n + 1, k)
    first = np.where(bad.any(axis=0), bad.argmax(axis=0), len(traj))
    traj[np.arange(len(traj)).reshape((-1,) + (1,) * (bad.ndim - 1)) >= first] = np.nan
    return traj


def squared_error(traj: np.ndarray) -> np.ndarray:
    """‖p − (1, 1)‖² per iterate: (..., 2) -> (...)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return ((traj - MINIMUM) ** 2).sum(axis=-1)


def diverged_at(traj: np.ndarray):
    """The first step whose iterate is not finite, or None; a list of them for (n + 1, k, 2)."""
    bad = np.isnan(traj[..., 0])
    first = [int(b.argmax()) if b.any() else None for b in bad.reshape(len(bad), -1).T]
    return first if bad.ndim > 1 else first[0]


def summarize(traj: np.ndarray, tol: float = 1e-6) -> dict:
    """One run (n + 1, 2): final point and error, smallest error, first step below tol."""
    err, step = squared_error(traj), diverged_at(traj)
    below = np.flatnonzero(err < tol)
    return {"final_point": None if step is not None else [float(v) for v in traj[-1]],
            "final_sq_error": None if step is not None else float(err[-1]),
            "min_sq_error": float(np.nanmin(err)),
            "steps_to_tol": int(below[0]) if below.size else None, "diverged_at": step}
