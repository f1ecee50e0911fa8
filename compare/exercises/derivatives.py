"""Checks of exercises 1–3: hand-written derivatives against torch autograd, in float64.

Each exercise is checked on its own: while Network.backprop (exercise 3) is
checked, the network it runs on gets the reference f′, costs, dropout and
batch-norm backward steps, so a mistake in exercise 1 never shows up as one
in exercise 3. Dropout masks are fixed in advance and given to both sides.
Each `variants` entry computes what a catalogued mistake would return
(compare.exercises.mistakes), by the same autograd with one piece changed.
Exercises 4 and 5 (dropout, batch norm) are in layers.py.
"""
from __future__ import annotations

import contextlib
import types

import numpy as np
import torch
import torch.nn.functional as F

from .grading import Case, Malformed, same

ACTIVATIONS = ("sigmoid", "tanh", "relu")
COSTS = {"cross_entropy": "CrossEntropy", "quadratic": "Quadratic"}
TORCH_F = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
WIDTHS = (8, 7, 6, 5, 4)        # all different, so a transposed product cannot fit by chance
CLASSES, BATCH = 3, 9


def leaf(a) -> torch.Tensor:
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True)


def surrogate(x: torch.Tensor, value: torch.Tensor, slope) -> torch.Tensor:
    """`value` on the way forward, but ∂/∂x = slope on the way back (a changed derivative)."""
    return value.detach() + (x - x.detach()) * slope


def pair(got, names: str, count: int) -> list:
    if not isinstance(got, (tuple, list)) or len(got) != count:
        raise Malformed(f"returned {type(got).__name__}"
                        f"{f' of length {len(got)}' if isinstance(got, (tuple, list)) else ''}, "
                        f"expected {names}")
    return list(got)


# ================================================================ 1. f′
def autograd_prime(name: str, z: np.ndarray) -> np.ndarray:
    t = leaf(z)
    TORCH_F[name](t).backward(torch.ones_like(t))
    return t.grad.numpy()


def activation_cases(ctx) -> list[Case]:
    rng = np.random.default_rng(1)
    cases = []
    for name in ACTIVATIONS:
        prime = ctx.student(f"{name}_prime")
        for shape in ((BATCH, 6), (1, 7)):
            z = np.clip(rng.normal(0.0, 2.0, shape), -6.0, 6.0)  # σ′ stays above round-off
            z[0, :2] = 0.0                                         # relu′'s kink
            a = TORCH_F[name](torch.from_numpy(z)).numpy()
            variants = {"f_prime_at_a": lambda g, t, n=name, a=a: n != "relu" and same(
                            g, [autograd_prime(n, a)]),
                        "tanh_of_z": lambda g, t, n=name, z=z: n == "tanh" and same(g, [1 - z * z]),
                        "relu_kink": lambda g, t, n=name, z=z: n == "relu" and same(
                            g, [(z >= 0).astype(z.dtype)])}
            cases.append(Case(f"{name}, z of shape {shape}", f"{name}_prime",
                              lambda p=prime, z=z, a=a: [p(z.copy(), a.copy())],
                              lambda n=name, z=z: [("f′(z)", autograd_prime(n, z))], variants))
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


def cost_cases(ctx) -> list[Case]:
    rng = np.random.default_rng(2)
    cases = []
    for cost, cls_name in COSTS.items():
        cls = ctx.student(f"{cls_name}.value_and_delta")
        shapes = [(1, 4, 2.0), (BATCH, 5, 2.0)] + ([(5, 4, 400.0)] if cost == "cross_entropy" else [])
        for n, classes, size in shapes:
            z, y = rng.normal(0.0, size, (n, classes)), rng.integers(0, classes, n)
            label = f"{cost}, N = {n}" + (", logits near ±1000" if size > 100 else "")
            cases.append(Case(label, f"{cls_name}.value_and_delta",
                              lambda c=cls, z=z, y=y: pair(c.value_and_delta(z.copy(), y.copy()),
                                                           "(C, δ_L)", 2),
                              lambda c=cost, z=z, y=y: list(zip(("C", "δ_L"), autograd_cost(c, z, y))),
                              _cost_variants(cost, z, y, size > 100)))
    return cases


def _cost_variants(cost, z, y, large):
    n = len(y)

    def with_delta(change):
        return lambda g, t: same(g, [t[0][1], change(t[1][1])])

    sigma = 1.0 / (1.0 + np.exp(-z)) if cost == "quadratic" else None
    return {"missing_mean": with_delta(lambda d: d * n) if n > 1 else _never,
            "sign_flipped": with_delta(lambda d: -d),
            "missing_sigma_prime": (with_delta(lambda d: (sigma - np.eye(z.shape[1])[y]) / n)
                                    if cost == "quadratic" else _never),
            "unstable_softmax": (lambda g, t: large and not all(np.isfinite(v).all() for v in g
                                                                if _is_numeric(v)))}


def _never(got, truth) -> bool:
    return False


def _is_numeric(value) -> bool:
    return isinstance(value, (float, int, np.floating, np.ndarray)) and not isinstance(value, bool)


# ================================================================ 3. backprop
def batch_norm(z, bn, gamma, beta, training: bool, knobs=()):
    """nn.BatchNorm1d's output; knobs detach the batch statistics (mistakes of exercise 5)."""
    if not training:
        mean, var = torch.from_numpy(bn.running_mean), torch.from_numpy(bn.running_var)
    else:
        mean, var = z.mean(dim=0), z.var(dim=0, correction=0)
        mean = mean.detach() if "bn_constant_stats" in knobs else mean
        var = var.detach() if {"bn_constant_stats", "bn_constant_var"} & set(knobs) else var
    return gamma * ((z - mean) / torch.sqrt(var + bn.eps)) + beta


def autograd_backprop(net, X, y, masks, knobs=()) -> list:
    """[(name, value)]: C and ∂C/∂p in parameters() order, by autograd (knobs: a mistake)."""
    Ws, bs = [leaf(W) for W in net.weights], [leaf(b) for b in net.biases]
    gammas, betas = [leaf(bn.gamma) for bn in net.norms], [leaf(bn.beta) for bn in net.norms]
    a = torch.from_numpy(np.asarray(X, dtype=np.float64))
    for l in range(len(Ws) - 1):
        z = a @ Ws[l].T + bs[l]
        if net.norms:
            z = batch_norm(z, net.norms[l], gammas[l], betas[l], net.training)
        act = TORCH_F[net.activation](z)
        if "missing_f_prime" in knobs:
            act = surrogate(z, act, 1.0)
        a = act
        if masks:
            mask = torch.from_numpy(masks[l])
            a = surrogate(act, act * mask, 1.0) if "dropout_skipped" in knobs else act * mask
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
def reference_pieces(ctx, net, masks):
    """The network runs on the reference f′, cost, dropout and batch norm, and on fixed masks."""
    module = ctx.module(ctx.scratchnet, "Network.backprop")
    calls = iter(range(10**9))

    def fixed_masks(a, p, rng):
        mask = masks[next(calls) % len(masks)]
        return a * mask, mask

    saved = {name: getattr(module, name) for name in ("dropout_forward", "dropout_backward")}
    module.dropout_forward, module.dropout_backward = fixed_masks, ctx.real("dropout_backward")
    net.f_prime = ctx.real(f"{net.activation}_prime")
    net.cost = ctx.real(f"{COSTS[net.cost_name]}.value_and_delta")
    for bn in net.norms:
        bn.backward = types.MethodType(ctx.real("BatchNorm.backward").backward, bn)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(module, name, value)


def backprop_cases(ctx) -> list[Case]:
    rng = np.random.default_rng(3)
    specs = [(a, c, d, {}) for a in ACTIVATIONS for c in COSTS for d in (2, 3, 4, 5)]
    extras = {"batch norm (training)": dict(batchnorm=True),
              "batch norm (evaluation)": dict(batchnorm=True, evaluation=True),
              "dropout 0.3": dict(dropout=0.3),
              "batch norm + dropout 0.3": dict(batchnorm=True, dropout=0.3)}
    specs += [(a, "cross_entropy", 3, dict(extra, label=label))
              for label, extra in extras.items() for a in ACTIVATIONS]
    return [_backprop_case(ctx, rng, k, *spec) for k, spec in enumerate(specs)]


def _backprop_case(ctx, rng, seed, activation, cost, depth, extra) -> Case:
    sizes = list(WIDTHS[:depth]) + [CLASSES]
    Network = ctx.student("Network.backprop")
    net = Network(sizes, activation, cost, "nielsen", seed=seed,
                  dropout=extra.get("dropout", 0.0), batchnorm=extra.get("batchnorm", False))
    for bn in net.norms:
        bn.gamma[...], bn.beta[...] = rng.uniform(0.5, 1.5, bn.gamma.shape), rng.normal(0, 0.5, bn.beta.shape)
        bn.running_mean[...] = rng.normal(0.0, 0.5, bn.running_mean.shape)
        bn.running_var[...] = rng.uniform(0.5, 2.0, bn.running_var.shape)
    net.train(not extra.get("evaluation", False))
    p = extra.get("dropout", 0.0)
    masks = [(rng.random((BATCH, n)) >= p) / (1.0 - p) for n in sizes[1:-1]] if p else []
    X, y = rng.normal(size=(BATCH, sizes[0])), rng.integers(0, CLASSES, BATCH)
    label = f"{activation}, {cost}, depth {depth}" + (f", {extra['label']}" if "label" in extra else "")

    def run():
        with reference_pieces(ctx, net, masks):
            loss, grads = pair(net.backprop(X.copy(), y.copy()), "(C, grads)", 2)
        if not isinstance(grads, (list, tuple)) or len(grads) != len(net.parameters()):
            count = len(grads) if isinstance(grads, (list, tuple)) else type(grads).__name__
            raise Malformed(f"returned {count} gradients, expected {len(net.parameters())} "
                            "(one per parameter, in parameters() order)")
        return [loss, *grads]

    def knob(*knobs):
        return lambda g, t: same(g, [v for _, v in autograd_backprop(net, X, y, masks, knobs)])

    variants = {"missing_f_prime": knob("missing_f_prime"),
                "dropout_skipped": knob("dropout_skipped") if masks else _never,
                "missing_transpose": lambda g, t: _per_array(g, t, lambda v: v.T, "∂C/∂W"),
                "extra_mean": lambda g, t: _per_array(g, t, lambda v: v / BATCH, "∂C/∂")}
    return Case(label, "Network.backprop", run, lambda: autograd_backprop(net, X, y, masks),
                variants)


def _per_array(got, truth, change, which: str) -> bool:
    """Whether some of the outputs named `which` are change(truth) and all others the truth."""
    expected, changed = [], False
    for value, (name, want) in zip(got, truth):
        alt = change(want) if which in name and isinstance(want, np.ndarray) else None
        use_alt = alt is not None and same([value], [alt]) and not same([value], [want])
        expected.append(alt if use_alt else want)
        changed |= use_alt
    return changed and same(got, expected)
