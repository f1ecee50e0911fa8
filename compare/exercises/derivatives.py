"""Cases of exercises 1–3: hand-written derivatives against torch autograd, in float64.

Each exercise is checked on its own: while Network.backprop (exercise 3) is
checked, the network it runs on gets the reference f′, costs, dropout and
batch-norm backward steps, so a mistake in exercise 1 never shows up as one in
exercise 3. Every input (weights, batches, dropout masks) is drawn here from
fixed seeds, the same in the child that runs the student's code and in the
grader that computes the truth. Exercises 4 and 5 are in layers.py.

The freedom a correct answer has: any formula and any order of operations
(relative error 1e-10 after round-off, grading.py), f′ from z or from a, any
intermediate arrays; the outputs' type, shape and dtype are fixed.
"""
from __future__ import annotations

import contextlib
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

from .code import reference
from .grading import Case, Malformed

ACTIVATIONS = ("sigmoid", "tanh", "relu")
COSTS = {"cross_entropy": "CrossEntropy", "quadratic": "Quadratic"}
TORCH_F = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
WIDTHS = (8, 7, 6, 5, 4)        # all different, so a transposed product cannot fit by chance
CLASSES, BATCH = 3, 9
EXTREME_Z = np.array([[-800.0, -710.0, -100.0, -30.0, 0.0, 30.0, 100.0, 710.0, 800.0]])


def leaf(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def pair(got, names: str, count: int) -> list:
    if not isinstance(got, (tuple, list)) or len(got) != count:
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        raise Malformed(f"returned {type(got).__name__}{length}, expected {names}")
    return list(got)


# ================================================================ 1. f′
def autograd_prime(name: str, z: np.ndarray) -> np.ndarray:
    t = leaf(z)
    TORCH_F[name](t).backward(torch.ones_like(t))
    return t.grad.numpy()


def activation_cases() -> list[Case]:
    rng = np.random.default_rng(1)
    cases = []
    for name in ACTIVATIONS:
        for shape in ((BATCH, 6), (1, 7), None):
            if shape is None:
                z, label = EXTREME_Z.copy(), f"{name}, z from −800 to 800"
            else:
                z = np.clip(rng.normal(0.0, 2.0, shape), -6.0, 6.0)   # σ′ above round-off
                z[0, :2] = 0.0                                          # relu′'s kink
                label = f"{name}, z of shape {shape}"
            a = TORCH_F[name](torch.from_numpy(z)).numpy()
            cases.append(Case(label, f"{name}_prime",
                              lambda code, n=name, z=z, a=a: [code.get(f"{n}_prime")(z.copy(), a.copy())],
                              lambda n=name, z=z: [("f′(z)", autograd_prime(n, z))]))
    return cases


# ================================================================ 2. δ_L
def autograd_cost(cost: str, z: np.ndarray, y: np.ndarray):
    t, labels = leaf(z), torch.from_numpy(y)
    if cost == "cross_entropy":
        value = F.cross_entropy(t, labels)
    else:
        onehot = F.one_hot(labels, t.shape[1]).to(t.dtype)
        value = 0.5 * ((torch.sigmoid(t) - onehot) ** 2).sum(dim=1).mean()
    value.backward()
    return float(value.detach()), t.grad.numpy()


def cost_cases() -> list[Case]:
    rng = np.random.default_rng(2)
    cases = []
    for cost, cls_name in COSTS.items():
        qualname = f"{cls_name}.value_and_delta"
        shapes = [(1, 4, 2.0), (BATCH, 5, 2.0)] + ([(5, 4, 400.0)] if cost == "cross_entropy" else [])
        for n, classes, size in shapes:
            z, y = rng.normal(0.0, size, (n, classes)), rng.integers(0, classes, n)
            label = f"{cost}, N = {n}" + (", logits near ±1000" if size > 100 else "")
            cases.append(Case(label, qualname,
                              lambda code, q=qualname, z=z, y=y: pair(
                                  code.get(q).value_and_delta(z.copy(), y.copy()), "(C, δ_L)", 2),
                              lambda c=cost, z=z, y=y: list(zip(("C", "δ_L"), autograd_cost(c, z, y)))))
    return cases


# ================================================================ 3. backprop
def batch_norm(z, bn, gamma, beta, training: bool):
    """nn.BatchNorm1d's output, with bn's running statistics in evaluation mode."""
    if not training:
        mean, var = torch.from_numpy(bn.running_mean), torch.from_numpy(bn.running_var)
    else:
        mean, var = z.mean(dim=0), z.var(dim=0, correction=0)
    return gamma * ((z - mean) / torch.sqrt(var + bn.eps)) + beta


def autograd_backprop(net, X, y, masks) -> list:
    """[(name, value)]: C and ∂C/∂p in parameters() order, by autograd."""
    Ws, bs = [leaf(W) for W in net.weights], [leaf(b) for b in net.biases]
    gammas, betas = [leaf(bn.gamma) for bn in net.norms], [leaf(bn.beta) for bn in net.norms]
    a = torch.from_numpy(np.asarray(X, dtype=np.float64))
    for l in range(len(Ws) - 1):
        z = a @ Ws[l].T + bs[l]
        if net.norms:
            z = batch_norm(z, net.norms[l], gammas[l], betas[l], net.training)
        a = TORCH_F[net.activation](z)
        a = a * torch.from_numpy(masks[l]) if masks else a
    z_L, labels = a @ Ws[-1].T + bs[-1], torch.from_numpy(np.asarray(y))
    if net.cost_name == "cross_entropy":
        loss = F.cross_entropy(z_L, labels)
    else:
        onehot = F.one_hot(labels, z_L.shape[1]).to(z_L.dtype)
        loss = 0.5 * ((torch.sigmoid(z_L) - onehot) ** 2).sum(dim=1).mean()
    params = [p for pair_ in zip(Ws, bs) for p in pair_] + \
             [p for pair_ in zip(gammas, betas) for p in pair_]
    grads = torch.autograd.grad(loss, params)
    return [("C", float(loss.detach()))] + [(name, g.numpy()) for name, g in zip(names(net), grads)]


def names(net) -> list[str]:
    """'layer l, ∂C/∂W_l' ... for parameters() (layers counted from 1, as in the equations)."""
    out = [f"layer {l}, ∂C/∂{p}_{l}" for l in range(1, len(net.weights) + 1) for p in "Wb"]
    return out + [f"layer {l}, ∂C/∂{p}_{l}" for l in range(1, len(net.norms) + 1) for p in "γβ"]


@contextlib.contextmanager
def reference_pieces(code, net, masks):
    """The network runs on the reference f′, cost, dropout and batch norm, and on fixed masks."""
    module = vars(sys.modules[code.top("Network.backprop").__module__])
    calls = iter(range(10 ** 9))

    def fixed_masks(a, p, rng):
        mask = masks[next(calls) % len(masks)]
        return a * mask, mask

    saved = {name: module[name] for name in ("dropout_forward", "dropout_backward")}
    module["dropout_forward"], module["dropout_backward"] = fixed_masks, code.real.get("dropout_backward")
    net.f_prime = code.real.get(f"{net.activation}_prime")
    net.cost = code.real.get(f"{COSTS[net.cost_name]}.value_and_delta")
    for bn in net.norms:
        bn.backward = types.MethodType(code.real.function("BatchNorm.backward"), bn)
    try:
        yield
    finally:
        module.update(saved)


def backprop_cases() -> list[Case]:
    rng = np.random.default_rng(3)
    specs = [(a, c, d, {}) for a in ACTIVATIONS for c in COSTS for d in (2, 3, 4, 5)]
    extras = {"batch norm (training)": dict(batchnorm=True),
              "batch norm (evaluation)": dict(batchnorm=True, evaluation=True),
              "dropout 0.3": dict(dropout=0.3),
              "batch norm + dropout 0.3": dict(batchnorm=True, dropout=0.3)}
    specs += [(a, "cross_entropy", 3, dict(extra, label=label))
              for label, extra in extras.items() for a in ACTIVATIONS]
    return [_backprop_case(rng, k, *spec) for k, spec in enumerate(specs)]


def _backprop_case(rng, seed, activation, cost, depth, extra) -> Case:
    sizes = list(WIDTHS[:depth]) + [CLASSES]
    options = dict(sizes=sizes, activation=activation, cost=cost, init="nielsen", seed=seed,
                   dropout=extra.get("dropout", 0.0), batchnorm=extra.get("batchnorm", False))
    start = reference().top("Network.backprop")(**options)
    for bn in start.norms:
        bn.gamma[...], bn.beta[...] = rng.uniform(0.5, 1.5, bn.gamma.shape), rng.normal(0, 0.5, bn.beta.shape)
        bn.running_mean[...] = rng.normal(0.0, 0.5, bn.running_mean.shape)
        bn.running_var[...] = rng.uniform(0.5, 2.0, bn.running_var.shape)
    start.train(not extra.get("evaluation", False))
    p = extra.get("dropout", 0.0)
    masks = [(rng.random((BATCH, n)) >= p) / (1.0 - p) for n in sizes[1:-1]] if p else []
    X, y = rng.normal(size=(BATCH, sizes[0])), rng.integers(0, CLASSES, BATCH)
    label = f"{activation}, {cost}, depth {depth}" + (f", {extra['label']}" if "label" in extra else "")

    def run(code):
        net = code.get("Network.backprop")(**options)
        for mine, true in zip(net.parameters(), start.parameters()):
            mine[...] = true
        for mine, true in zip(net.norms, start.norms):
            mine.running_mean[...], mine.running_var[...] = true.running_mean, true.running_var
        net.train(start.training)
        with reference_pieces(code, net, masks):
            loss, grads = pair(net.backprop(X.copy(), y.copy()), "(C, grads)", 2)
        if not isinstance(grads, (list, tuple)) or len(grads) != len(net.parameters()):
            count = len(grads) if isinstance(grads, (list, tuple)) else type(grads).__name__
            raise Malformed(f"returned {count} gradients, expected {len(net.parameters())} "
                            "(one per parameter, in parameters() order)")
        return [loss, *grads]

    return Case(label, "Network.backprop", run, lambda: autograd_backprop(start, X, y, masks))
