"""SGD, Adam and StepLR: torch.optim's documented algorithms, written out.

Each optimizer updates a list of NumPy arrays in place, given a list of
gradients of the same shapes: `opt.step(grads)`. Any arrays will do: a
network's parameters() or Problem 1's 2-vector. Each update is the algorithm
of torch.optim's documentation, computed in the arithmetic order of torch's own
implementation (Adam, for one, folds its bias corrections into the step size),
so a scratchnet run and a torchnet run can be compared step for step.
"""
from __future__ import annotations

import math

import numpy as np


def _check(name: str, value: float, low: float, high: float = math.inf):
    if not low <= value < high:
        raise ValueError(f"{name} must be in [{low}, {high}), got {value}")


class Optimizer:
    """Base class: holds the arrays, the learning rate and the step count."""

    def __init__(self, params, lr: float):
        self.params = list(params)
        if not self.params:
            raise ValueError("optimizer got an empty parameter list")
        _check("lr", lr, 0.0)
        self.lr = float(lr)
        self.t = 0  # steps taken

    def step(self, grads) -> None:
        grads = list(grads)
        if len(grads) != len(self.params):
            raise ValueError(f"got {len(grads)} gradients for {len(self.params)} parameters")
        self.t += 1
        for i, (p, g) in enumerate(zip(self.params, grads)):
            self._update(i, p, g)


class SGD(Optimizer):
    """torch.optim.SGD:
        g ← g + λθ                      (weight_decay λ)
        b ← g            at t = 1,  b ← μb + (1 − τ)g  after   (momentum μ, dampening τ)
        g ← g + μb  (nesterov)   or   g ← b
        θ ← θ − γg
    """

    def __init__(self, params, lr: float, momentum: float = 0.0, dampening: float = 0.0,
                 nesterov: bool = False, weight_decay: float = 0.0):
        super().__init__(params, lr)
        _check("momentum", momentum, 0.0)
        _check("weight_decay", weight_decay, 0.0)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("nesterov needs momentum > 0 and dampening = 0 "
                             f"(got momentum={momentum}, dampening={dampening})")
        self.momentum, self.dampening = float(momentum), float(dampening)
        self.nesterov, self.weight_decay = bool(nesterov), float(weight_decay)
        self.buffers = [None] * len(self.params)

    def _update(self, i, p, g):
        if self.weight_decay:
            g = g + self.weight_decay * p              # g ← g + λθ
        if self.momentum:
            b = self.buffers[i]
            if b is None:
                b = self.buffers[i] = g.copy()         # b ← g
            else:
                b *= self.momentum                     # b ← μb + (1 − τ)g
                b += (1.0 - self.dampening) * g
            g = g + self.momentum * b if self.nesterov else b
        p -= self.lr * g                               # θ ← θ − γg


class Adam(Optimizer):
    """torch.optim.Adam:
        g ← g + λθ
        m ← β₁m + (1 − β₁)g,   v ← β₂v + (1 − β₂)g²
        θ ← θ − γ · m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)

    eps_inside_sqrt=True gives Homework 7's variant instead:
        θ ← θ − γ · m̂ / √(v̂ + ε)
    """

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, eps_inside_sqrt: bool = False):
        super().__init__(params, lr)
        beta1, beta2 = betas
        _check("betas[0]", beta1, 0.0, 1.0)
        _check("betas[1]", beta2, 0.0, 1.0)
        _check("eps", eps, 0.0)
        _check("weight_decay", weight_decay, 0.0)
        self.betas, self.eps = (float(beta1), float(beta2)), float(eps)
        self.weight_decay, self.eps_inside_sqrt = float(weight_decay), bool(eps_inside_sqrt)
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]

    def _update(self, i, p, g):
        beta1, beta2 = self.betas
        m, v = self.m[i], self.v[i]
        if self.weight_decay:
            g = g + self.weight_decay * p              # g ← g + λθ
        m += (1.0 - beta1) * (g - m)                   # m ← β₁m + (1 − β₁)g, as torch's lerp
        v *= beta2
        v += (1.0 - beta2) * g * g                     # v ← β₂v + (1 − β₂)g²
        bias1 = 1.0 - beta1 ** self.t
        bias2 = 1.0 - beta2 ** self.t
        if self.eps_inside_sqrt:                       # θ ← θ − γ (m̂ / √(v̂ + ε))
            p -= (m / bias1) / np.sqrt(v / bias2 + self.eps) * self.lr
        else:                                          # θ ← θ − (γ / (1 − β₁ᵗ)) m / (√v / √(1 − β₂ᵗ) + ε)
            p -= (self.lr / bias1) * m / (np.sqrt(v) / bias2 ** 0.5 + self.eps)


class StepLR:
    """torch.optim.lr_scheduler.StepLR: lr = lr₀ · γ^⌊epoch / step_size⌋.

    Call step() once at the end of every epoch, as with torch.
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1):
        if int(step_size) < 1:
            raise ValueError(f"step_size must be a positive integer, got {step_size}")
        if not gamma > 0:
            raise ValueError(f"gamma must be positive, got {gamma}")
        self.optimizer, self.step_size, self.gamma = optimizer, int(step_size), float(gamma)
        self.epoch = 0

    def step(self) -> None:
        self.epoch += 1
        if self.epoch % self.step_size == 0:
            self.optimizer.lr *= self.gamma  # torch multiplies in place, as here
