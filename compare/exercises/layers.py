"""Cases of exercises 4–5: dropout's and batch norm's backward steps against torch autograd.

Each layer is checked on its own arrays, in float64: dropout with masks of
three rates, batch norm in training mode (two batch sizes) and in evaluation
mode, with γ, β and the running statistics moved away from their defaults so
they all matter. The freedom a correct answer has is that of derivatives.py.
"""
from __future__ import annotations

import numpy as np
import torch

from .derivatives import BATCH, batch_norm, leaf, pair
from .grading import Case


# ================================================================ 4. dropout
def dropout_cases() -> list[Case]:
    rng = np.random.default_rng(4)
    cases = []
    for p in (0.2, 0.5, 0.8):
        mask = (rng.random((BATCH, 6)) >= p) / (1.0 - p)
        grad = rng.normal(size=mask.shape)

        def truth(mask=mask, grad=grad):
            a = leaf(np.ones_like(mask))
            (a * torch.from_numpy(mask)).backward(torch.from_numpy(grad))
            return [("∂C/∂a", a.grad.numpy())]

        cases.append(Case(f"dropout p = {p}", "dropout_backward",
                          lambda code, m=mask, g=grad: [code.get("dropout_backward")(g.copy(), m.copy())],
                          truth))
    return cases


# ================================================================ 5. batch norm
def autograd_batch_norm(bn, z, grad_out, training):
    zt, gamma, beta = leaf(z), leaf(bn.gamma), leaf(bn.beta)
    batch_norm(zt, bn, gamma, beta, training).backward(torch.from_numpy(grad_out))
    return [("∂C/∂z", zt.grad.numpy()), ("∂C/∂γ", gamma.grad.numpy()), ("∂C/∂β", beta.grad.numpy())]


def batch_norm_cases() -> list[Case]:
    from .code import reference

    rng = np.random.default_rng(5)
    cases = []
    for n, training in ((BATCH, True), (4, True), (BATCH, False)):  # (N = 2 is ill-conditioned)
        bn = reference().top("BatchNorm.backward")(6)
        bn.gamma[...], bn.beta[...] = rng.uniform(0.5, 1.5, 6), rng.normal(0, 0.5, 6)
        bn.running_mean[...], bn.running_var[...] = rng.normal(0, 0.5, 6), rng.uniform(0.5, 2, 6)
        z, grad_out = rng.normal(1.0, 2.0, (n, 6)), rng.normal(size=(n, 6))

        def run(code, bn=bn, z=z, g=grad_out, training=training):
            mine = code.get("BatchNorm.backward")(6)
            for name in ("gamma", "beta", "running_mean", "running_var"):
                getattr(mine, name)[...] = getattr(bn, name)
            _, cache = mine.forward(z.copy(), training)
            return pair(mine.backward(g.copy(), cache), "(∂C/∂z, ∂C/∂γ, ∂C/∂β)", 3)

        mode = "training" if training else "evaluation"
        cases.append(Case(f"batch norm ({mode}), N = {n}", "BatchNorm.backward", run,
                          lambda bn=bn, z=z, g=grad_out, t=training: autograd_batch_norm(bn, z, g, t)))
    return cases
