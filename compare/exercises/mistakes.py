"""The catalogue of common mistakes: `make(ref)` turns the reference function (a method's plain
function) into the mistaken one, without reading scratchnet's source. Exercise 10's have no
`make`: loop_verdict.py proves them by counted calls.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable
from unittest.mock import patch

import numpy as np


@dataclass(frozen=True)
class Mistake:
    key: str
    exercise: int
    functions: tuple        # the qualified names it can be made in
    name: str               # what the diagnosis calls it
    fix: str
    make: Callable | None   # make(reference function) -> the mistaken function (None: exercise 10)


def _m(key, exercise, functions, name, fix, make):
    functions = (functions,) if isinstance(functions, str) else functions
    return Mistake(key, exercise, functions, name, fix, make)


def _with(ref, **changes):
    """ref run with some of self's attributes changed (each value a function of self)."""
    def method(self, *args):
        with patch.multiple(self, **{k: f(self) for k, f in changes.items()}):
            return ref(self, *args)
    return method


def _grads(change):
    """Network.backprop with change(k, grad, X) applied to ∂C/∂W (k even) and ∂C/∂b (k odd)."""
    def make(ref):
        def backprop(self, X, y):
            loss, grads = ref(self, X, y)
            n = 2 * len(self.weights)
            return loss, [change(k, g, X) if k < n else g for k, g in enumerate(grads)]
        return backprop
    return make


def _no_dropout_backward(ref):
    def backprop(self, X, y):
        with patch.object(sys.modules[ref.__module__], "dropout_backward", lambda g, m: g):
            return ref(self, X, y)
    return backprop


def _unstable_softmax(z, y):
    p = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    return float(-np.log(p[np.arange(len(y)), y]).mean()), (p - np.eye(z.shape[1])[y]) / len(y)


def _bn_constant_var(ref):
    def backward(self, grad_out, cache):
        dz, dgamma, dbeta = ref(self, grad_out, cache)
        xhat, inv_std, training = cache
        extra = xhat * (grad_out * self.gamma * xhat).sum(axis=0) * inv_std / len(xhat)
        return dz + extra if training else dz, dgamma, dbeta
    return backward


def _decay_after_momentum(ref):
    def _update(self, i, p, g):
        decay = self.lr * self.weight_decay * p
        with patch.object(self, "weight_decay", 0.0):
            ref(self, i, p, g)
        p -= decay
    return _update


def _dampened_start(ref):
    def _update(self, i, p, g):
        if self.buffers[i] is None:
            self.buffers[i] = np.zeros_like(p)     # then b = μ·0 + (1 − τ)g
        ref(self, i, p, g)
    return _update


def _lr_in_buffer(ref):
    def _update(self, i, p, g):
        g = g + self.weight_decay * p
        b = self.buffers[i]
        b = self.lr * g if b is None else self.momentum * b + self.lr * (1 - self.dampening) * g
        self.buffers[i] = b
        p -= self.lr * g + self.momentum * b if self.nesterov else b
    return _update


def _steplr_early(ref):
    def step(self):                  # decays after calls 1, 1 + s, ...: the reference, s − 1 ahead
        for _ in range(1 if self.__dict__.setdefault("_ahead", False) else self.step_size):
            ref(self)
        self._ahead = True
    return step


def _homework_adam(correct: bool, inside: bool):
    def adams(grad, init, n_epochs=5000, eta=1e-4, gamma=0.9, beta=0.99, epsilon=1e-8):
        path, v, s = [np.array(init, dtype=np.float64)], 0.0, 0.0
        for j in range(1, n_epochs + 1):
            g = np.array(grad(path[-1]))
            v, s = gamma * v + (1 - gamma) * g, beta * s + (1 - beta) * g * g
            v_hat, s_hat = (v / (1 - gamma ** j), s / (1 - beta ** j)) if correct else (v, s)
            root = np.sqrt(s_hat + epsilon) if inside else np.sqrt(s_hat) + epsilon
            path.append(path[-1] - eta * v_hat / root)
        return np.array(path)
    return lambda ref: adams


def _heavy_ball_average(ref):
    def gd_with_mom(grad, init, n_epochs=5000, eta=1e-4, beta=0.9, gamma=0.9):
        return ref(lambda p: (1 - gamma) * np.asarray(grad(p)), init, n_epochs, eta, beta, gamma)
    return gd_with_mom


_BOTH_COSTS = ("CrossEntropy.value_and_delta", "Quadratic.value_and_delta")

MISTAKES = (   # in exercise order; exercise 10's are proven by loop_verdict.py
    # 1. activation derivatives
    _m("f_prime_at_a", 1, ("sigmoid_prime", "tanh_prime"), "f′ taken at a instead of z",
       "a is already f(z), so σ′(z) = a(1 − a) and tanh′(z) = 1 − a²; applying f to a again "
       "gives f′(a)", lambda ref: lambda z, a: ref(a, np.tanh(a) if ref.__name__ == "tanh_prime"
                                                   else 1.0 / (1.0 + np.exp(-a)))),
    _m("sigmoid_prime_overflow", 1, "sigmoid_prime", "σ′ as e^−z/(1 + e^−z)², which overflows",
       "for z ≤ −710, e^−z is infinite and the ratio is NaN; σ′ = a(1 − a), from the a you are "
       "given, is exact for every z",
       lambda ref: lambda z, a: np.exp(-z) / (1.0 + np.exp(-z)) ** 2),
    _m("tanh_of_z", 1, "tanh_prime", "tanh′ computed as 1 − z²", "the square belongs to "
       "a = tanh(z): tanh′(z) = 1 − a²", lambda ref: lambda z, a: 1.0 - z * z),
    _m("relu_kink", 1, "relu_prime", "relu′(0) taken as 1",
       "torch's autograd, which the check follows, uses 0 at the kink: [z > 0], not [z ≥ 0]",
       lambda ref: lambda z, a: (z >= 0).astype(z.dtype)),
    _m("missing_mean", 2, _BOTH_COSTS, "sum where the mean is needed (a missing 1/N)",
       "C is the batch mean, so δ_L = ∂C/∂z_L carries a factor 1/N",
       lambda ref: lambda z, y: (ref(z, y)[0], ref(z, y)[1] * len(y))),
    _m("sign_flipped", 2, _BOTH_COSTS, "δ_L with its sign flipped",
       "∂C/∂z_L = (softmax(z_L) − onehot(y)) / N: prediction minus target",
       lambda ref: lambda z, y: (ref(z, y)[0], -ref(z, y)[1])),
    _m("missing_sigma_prime", 2, "Quadratic.value_and_delta", "the quadratic cost's δ_L without "
       "⊙ σ′(z_L)", "the output layer is a = σ(z_L), so δ_L = (a − y) ⊙ a(1 − a) / N", lambda ref:
       lambda z, y: (ref(z, y)[0], (1 / (1 + np.exp(-z)) - np.eye(z.shape[1])[y]) / len(y))),
    _m("unstable_softmax", 2, "CrossEntropy.value_and_delta", "softmax not numerically stable",
       "exp overflows for logits near 1000 and gives NaN; subtract each row's largest logit "
       "first, as log_softmax does", lambda ref: _unstable_softmax),
    _m("missing_f_prime", 3, "Network.backprop", "missing f′",
       "BP2 is δ_l = (δ_{l+1} W_{l+1}) ⊙ f′(z_l); the ⊙ f′(z_l) was left out",
       lambda ref: _with(ref, f_prime=lambda self: lambda z, a: np.ones_like(z))),
    _m("missing_transpose", 3, "Network.backprop", "a missing transpose in BP4",
       "∂C/∂W_l = δ_lᵀ a_{l−1} has W_l's shape (n_l, n_{l−1}); a_{l−1}ᵀ δ_l is its transpose",
       _grads(lambda k, g, X: g.T if k % 2 == 0 else g)),
    _m("extra_mean", 3, "Network.backprop", "an extra 1/N in BP3/BP4",
       "δ_L from the cost already carries the batch mean's 1/N, so BP3 and BP4 sum over the "
       "samples instead of averaging", _grads(lambda k, g, X: g / len(X))),
    _m("dropout_skipped", 3, "Network.backprop", "dropout mask not applied in BP2",
       "the units the forward pass dropped get no gradient: apply dropout_backward(…, mask) "
       "to δ_{l+1} W_{l+1} before the ⊙ f′", _no_dropout_backward),
    _m("mask_not_applied", 4, "dropout_backward", "dropout mask not applied", "the forward "
       "pass multiplied by the mask, so the backward step does too", lambda ref: lambda g, m: g),
    _m("mask_not_rescaled", 4, "dropout_backward", "dropout mask not rescaled",
       "the mask holds 1/(1 − p) for kept units, not 1: multiply by the mask itself, not by "
       "(mask > 0)", lambda ref: lambda grad, mask: grad * (mask > 0)),
    _m("bn_constant_stats", 5, "BatchNorm.backward", "batch mean and variance treated as constants",
       "in training mode they depend on every row of z, which adds the terms −Σ g and "
       "−x̂ Σ(g ⊙ x̂) to N g", lambda ref: lambda self, g, c: ref(self, g, (*c[:2], False))),
    _m("bn_constant_var", 5, "BatchNorm.backward", "the batch variance treated as a constant",
       "the term −x̂ Σ_samples(g ⊙ x̂), from the variance's dependence on z, is missing",
       _bn_constant_var),
    _m("bn_missing_gamma", 5, "BatchNorm.backward", "γ left out of ∂C/∂x̂", "y = γ x̂ + β, so "
       "∂C/∂x̂ = ∂C/∂y ⊙ γ", lambda ref: _with(ref, gamma=lambda self: np.ones_like(self.gamma))),
    _m("nesterov_no_lookahead", 6, "SGD._update", "Nesterov without the look-ahead",
       "with nesterov=True the step is g + μb (the gradient plus a look-ahead along the "
       "buffer), not b", lambda ref: _with(ref, nesterov=lambda self: False)),
    _m("decay_after_momentum", 6, "SGD._update", "weight decay added after momentum",
       "torch adds λθ to the gradient first, so the buffer accumulates g + λθ",
       _decay_after_momentum),
    _m("dampening_first_step", 6, "SGD._update", "dampening applied at the first step",
       "torch starts the buffer at b = g; (1 − τ) only scales later gradients", _dampened_start),
    _m("not_in_place", 6, "SGD._update", "parameters not updated in place",
       "the optimizer holds the arrays themselves: write p -= …; p = p − … only rebinds a "
       "local name and the network never changes",
       lambda ref: lambda self, i, p, g: ref(self, i, p.copy(), g)),
    _m("lr_in_buffer", 6, "SGD._update", "the learning rate kept inside the momentum buffer",
       "b ← μb + γg, θ ← θ − b equals torch's step only while γ is constant; when a scheduler "
       "changes γ, the old rate lingers in b. Keep b ← μb + (1 − τ)g and multiply by γ last",
       _lr_in_buffer),
    _m("no_bias_correction", 7, "Adam._update", "Adam without bias correction",
       "m and v start at 0, so the first steps divide by 1 − β₁ᵗ and 1 − β₂ᵗ: "
       "m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ)",
       lambda ref: _with(ref, t=lambda self: 10 ** 9)),      # β^t = 0: both corrections are 1
    _m("eps_wrong_side", 7, "Adam._update", "ε on the wrong side of the root",
       "torch.optim.Adam divides by √v̂ + ε; with eps_inside_sqrt (the homework's Adam) it is "
       "√(v̂ + ε)", lambda ref: _with(ref, eps_inside_sqrt=lambda self: not self.eps_inside_sqrt)),
    _m("steplr_early", 8, "StepLR.step", "StepLR decays one epoch early",
       "after e calls lr = lr₀ γ^⌊e/step_size⌋: the first decay comes after step_size calls, "
       "not at the first", _steplr_early),
    _m("steplr_not_on_optimizer", 8, "StepLR.step", "the optimizer's lr never changes",
       "the rate the optimizer uses is self.optimizer.lr: multiply that one by γ",
       lambda ref: lambda self: None),
    _m("heavy_ball_average", 9, "homework_gd_with_mom", "momentum as an average",
       "the homework's heavy ball is v ← γv + ∇f(θ), not γv + (1 − γ)∇f(θ)", _heavy_ball_average),
    _m("adams_no_bias_correction", 9, "homework_adams", "Adam without bias correction",
       "v̂ = v/(1 − γ^{j+1}) and ŝ = s/(1 − β^{j+1}) undo the zero start of the averages",
       _homework_adam(correct=False, inside=True)),
    _m("adams_eps_outside", 9, "homework_adams", "ε on the wrong side of the root",
       "the homework's Adam divides by √(ŝ + ε), torch's by √ŝ + ε",
       _homework_adam(correct=True, inside=False)),
    _m("step_once_per_epoch", 10, "train", "optimizer stepped once per epoch", "optimizer.step() "
       "belongs inside the batch loop, once per batch", None),
    _m("zero_grad_missing", 10, "train", "gradients never zeroed",
       "loss.backward() adds into .grad, so each batch's gradient piles onto the last ones: "
       "call optimizer.zero_grad() before every backward", None),
    _m("eval_never_set", 10, "train", "eval mode never set", "call network.eval() before "
       "testing: dropout and batch norm behave differently there", None),
    _m("train_not_reset", 10, "train", "training mode not set again after evaluation", "call "
       "network.train() at the start of every epoch: evaluation left it in eval mode", None),
)
