"""Checks of exercises 4–5: dropout's and batch norm's backward steps against torch autograd.

Each layer is checked on its own arrays, in float64: dropout with masks of
three rates, batch norm in training mode (two batch sizes) and in evaluation
mode, with γ, β and the running statistics moved away from their defaults so
they all matter. The mistakes' answers come from the same autograd with the
batch statistics detached, or with γ left out.
"""
from __future__ import annotations

import types

import numpy as np
import torch

from .derivatives import BATCH, batch_norm, leaf, pair
from .grading import Case, same


# ================================================================ 4. dropout
def dropout_cases(ctx) -> list[Case]:
    rng = np.random.default_rng(4)
    backward = ctx.student("dropout_backward")
    cases = []
    for p in (0.2, 0.5, 0.8):
        mask = (rng.random((BATCH, 6)) >= p) / (1.0 - p)
        grad = rng.normal(size=mask.shape)

        def truth(mask=mask, grad=grad):
            a = leaf(np.ones_like(mask))
            (a * torch.from_numpy(mask)).backward(torch.from_numpy(grad))
            return [("∂C/∂a", a.grad.numpy())]

        variants = {"mask_not_applied": lambda g, t, grad=grad: same(g, [grad]),
                    "mask_not_rescaled": lambda g, t, grad=grad, m=mask: same(g, [grad * (m > 0)])}
        cases.append(Case(f"dropout p = {p}", "dropout_backward",
                          lambda m=mask, g=grad: [backward(g.copy(), m.copy())], truth, variants))
    return cases


# ================================================================ 5. batch norm
def autograd_batch_norm(bn, z, grad_out, training, knobs=()):
    zt, gamma, beta = leaf(z), leaf(bn.gamma), leaf(bn.beta)
    y = batch_norm(zt, bn, gamma, beta, training, knobs)
    y.backward(torch.from_numpy(grad_out))
    return [("∂C/∂z", zt.grad.numpy()), ("∂C/∂γ", gamma.grad.numpy()), ("∂C/∂β", beta.grad.numpy())]


def batch_norm_cases(ctx) -> list[Case]:
    rng = np.random.default_rng(5)
    BatchNorm = ctx.student("BatchNorm.backward")
    cases = []
    for n, training in ((BATCH, True), (4, True), (BATCH, False)):  # (N = 2 is ill-conditioned)
        bn = BatchNorm(6)
        bn.gamma[...], bn.beta[...] = rng.uniform(0.5, 1.5, 6), rng.normal(0, 0.5, 6)
        bn.running_mean[...], bn.running_var[...] = rng.normal(0, 0.5, 6), rng.uniform(0.5, 2, 6)
        z, grad_out = rng.normal(1.0, 2.0, (n, 6)), rng.normal(size=(n, 6))

        def run(bn=bn, z=z, g=grad_out, training=training):
            _, cache = bn.forward(z.copy(), training)
            return pair(bn.backward(g.copy(), cache), "(∂C/∂z, ∂C/∂γ, ∂C/∂β)", 3)

        def truth(bn=bn, z=z, g=grad_out, training=training):
            return autograd_batch_norm(bn, z, g, training)

        def knob(*knobs, bn=bn, z=z, g=grad_out, training=training):
            return lambda got, t: training and same(
                got, [v for _, v in autograd_batch_norm(bn, z, g, training, knobs)])

        def no_gamma(got, t, bn=bn, z=z, g=grad_out, training=training):
            ones = types.SimpleNamespace(gamma=np.ones_like(bn.gamma), beta=bn.beta, eps=bn.eps,
                                         running_mean=bn.running_mean, running_var=bn.running_var)
            dz = autograd_batch_norm(ones, z, g, training)[0][1]
            return same(got, [dz, t[1][1], t[2][1]])

        mode = "training" if training else "evaluation"
        cases.append(Case(f"batch norm ({mode}), N = {n}", "BatchNorm.backward", run, truth,
                          {"bn_constant_stats": knob("bn_constant_stats"),
                           "bn_constant_var": knob("bn_constant_var"),
                           "bn_missing_gamma": no_gamma}))
    return cases
