"""Cases of exercises 1–5: hand-written derivatives against torch autograd, in float64, from
fixed seeds. Backprop runs on the reference's f′, costs, dropout and batch norm, so a mistake in
exercise 1 never shows up in exercise 3.
"""
from __future__ import annotations

import contextlib
import sys
import types

import numpy as np
import torch
import torch.nn.functional as F

from .source import reference
from .grading import Case, Malformed
from .table import BY_NUMBER

ACTIVATIONS = ("sigmoid", "tanh", "relu")
COSTS = {"cross_entropy": "CrossEntropy", "quadratic": "Quadratic"}
TORCH_F = {"sigmoid": torch.sigmoid, "tanh": torch.tanh, "relu": torch.relu}
WIDTHS = (8, 7, 6, 5, 4)        # all different, so a transposed product cannot fit by chance
CLASSES, BATCH = 3, 9
EXTREME_Z = np.array([[-800.0, -710.0, -100.0, -30.0, 0.0, 30.0, 100.0, 710.0, 800.0]])


def autograd(f, arrays, grad_out=None) -> tuple:
    """f(*arrays) and its gradients (of a scalar, or weighted by grad_out), by torch autograd."""
    leaves = [torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = f(*leaves)
    weights = None if grad_out is None else torch.from_numpy(np.asarray(grad_out, np.float64))
    return out.detach().numpy(), [g.numpy() for g in torch.autograd.grad(out, leaves, weights)]


def pair(got, names: str, count: int) -> list:
    if not isinstance(got, (tuple, list)) or len(got) != count:
        length = f" of length {len(got)}" if isinstance(got, (tuple, list)) else ""
        raise Malformed(f"returned {type(got).__name__}{length}, expected {names}")
    return list(got)


def torch_cost(cost: str, z, y):
    labels = torch.from_numpy(np.asarray(y))
    if cost == "cross_entropy":
        return F.cross_entropy(z, labels)
    onehot = F.one_hot(labels, z.shape[1]).to(z.dtype)
    return 0.5 * ((torch.sigmoid(z) - onehot) ** 2).sum(dim=1).mean()


def activation_cases() -> list[Case]:
    rng, cases = np.random.default_rng(1), []
    for name in ACTIVATIONS:
        for shape in ((BATCH, 6), (1, 7), None):
            if shape is None:
                z, label = EXTREME_Z.copy(), f"{name}, z from −800 to 800"
            else:
                z = np.clip(rng.normal(0.0, 2.0, shape), -6.0, 6.0)   # σ′ above round-off
                z[0, :2] = 0.0                                          # relu′'s kink
                label = f"{name}, z of shape {shape}"
            a = TORCH_F[name](torch.from_numpy(z)).numpy()
            cases.append(Case(label, f"{name}_prime", lambda code, n=name, z=z, a=a: [
                code.get(f"{n}_prime")(z.copy(), a.copy())], lambda n=name, z=z: [
                ("f′(z)", autograd(TORCH_F[n], [z], np.ones_like(z))[1][0])]))
    return cases


def cost_cases() -> list[Case]:
    rng, cases = np.random.default_rng(2), []
    for cost, cls_name in COSTS.items():
        qualname = f"{cls_name}.value_and_delta"
        shapes = [(1, 4, 2.0), (BATCH, 5, 2.0)] + [(5, 4, 400.0)] * (cost == "cross_entropy")
        for n, classes, size in shapes:
            z, y = rng.normal(0.0, size, (n, classes)), rng.integers(0, classes, n)
            label = f"{cost}, N = {n}" + (", logits near ±1000" if size > 100 else "")

            def truth(c=cost, z=z, y=y):
                value, (delta,) = autograd(lambda t: torch_cost(c, t, y), [z])
                return [("C", float(value)), ("δ_L", delta)]
            cases.append(Case(label, qualname, lambda code, q=qualname, z=z, y=y: pair(
                code.get(q).value_and_delta(z.copy(), y.copy()), "(C, δ_L)", 2), truth))
    return cases


def batch_norm(z, bn, gamma, beta, training: bool):
    """nn.BatchNorm1d's output, with bn's running statistics in evaluation mode."""
    if not training:
        mean, var = torch.from_numpy(bn.running_mean), torch.from_numpy(bn.running_var)
    else:
        mean, var = z.mean(dim=0), z.var(dim=0, correction=0)
    return gamma * ((z - mean) / torch.sqrt(var + bn.eps)) + beta


def forward(net, masks, X, *params):
    """z_L of net's forward pass on X by torch, with `params` in parameters() order."""
    n = len(net.weights)
    a = torch.from_numpy(np.asarray(X, dtype=np.float64))
    for l in range(n):
        a = a @ params[2 * l].T + params[2 * l + 1]
        if l + 1 < n:
            if net.norms:
                gamma, beta = params[2 * (n + l)], params[2 * (n + l) + 1]
                a = batch_norm(a, net.norms[l], gamma, beta, net.training)
            a = TORCH_F[net.activation](a) * (torch.from_numpy(masks[l]) if masks else 1.0)
    return a


def backprop_truth(net, X, y, masks) -> list:
    """[(name, value)]: C and ∂C/∂p in parameters() order (layers counted from 1), by autograd."""
    names = [f"layer {l}, ∂C/∂{p}_{l}" for l in range(1, len(net.weights) + 1) for p in "Wb"]
    names += [f"layer {l}, ∂C/∂{p}_{l}" for l in range(1, len(net.norms) + 1) for p in "γβ"]
    loss, grads = autograd(lambda *p: torch_cost(net.cost_name, forward(net, masks, X, *p), y),
                           net.parameters())
    return [("C", float(loss))] + list(zip(names, grads))


def put_back(number: int, net, optimizer=None, scheduler=None) -> None:
    """Exercise `number`'s functions on these objects taken from the reference."""
    real = reference()
    if number == 1:
        net.f_prime = real.get(f"{net.activation}_prime")
    elif number == 2:
        net.cost = real.get(f"{COSTS[net.cost_name]}.value_and_delta")
    elif number in (3, 5, 6, 7, 8):             # one method each: bind the reference's
        name = BY_NUMBER[number].targets[0].qualname
        for obj in {3: [net], 5: net.norms, 8: [scheduler]}.get(number, [optimizer]):
            setattr(obj, name.split(".")[1], types.MethodType(real.function(name), obj))


@contextlib.contextmanager
def reference_pieces(code, net, masks):
    """The network runs on the reference f′, cost, dropout and batch norm, and on fixed masks."""
    module = vars(sys.modules[code.top("Network.backprop").__module__])
    calls = iter(range(10 ** 9))

    def fixed_masks(a, p, rng):
        mask = masks[next(calls) % len(masks)]
        return a * mask, mask

    saved = {name: module[name] for name in ("dropout_forward", "dropout_backward")}
    module.update(dropout_forward=fixed_masks, dropout_backward=reference().get("dropout_backward"))
    for number in (1, 2, 5):
        put_back(number, net)
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
        bn.gamma[...] = rng.uniform(0.5, 1.5, bn.gamma.shape)
        bn.beta[...] = rng.normal(0, 0.5, bn.beta.shape)
        bn.running_mean[...] = rng.normal(0.0, 0.5, bn.running_mean.shape)
        bn.running_var[...] = rng.uniform(0.5, 2.0, bn.running_var.shape)
    start.train(not extra.get("evaluation", False))
    p = extra.get("dropout", 0.0)
    masks = [(rng.random((BATCH, n)) >= p) / (1.0 - p) for n in sizes[1:-1]] if p else []
    X, y = rng.normal(size=(BATCH, sizes[0])), rng.integers(0, CLASSES, BATCH)
    label = ", ".join([activation, cost, f"depth {depth}"] + ([extra["label"]] if extra else []))

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

    return Case(label, "Network.backprop", run, lambda: backprop_truth(start, X, y, masks))


def dropout_cases() -> list[Case]:
    rng, cases = np.random.default_rng(4), []
    for p in (0.2, 0.5, 0.8):
        mask = (rng.random((BATCH, 6)) >= p) / (1.0 - p)
        grad = rng.normal(size=mask.shape)
        cases.append(Case(f"dropout p = {p}", "dropout_backward", lambda code, m=mask, g=grad: [
            code.get("dropout_backward")(g.copy(), m.copy())], lambda m=mask, g=grad: [
            ("∂C/∂a", autograd(lambda a: a * torch.from_numpy(m), [np.ones_like(m)], g)[1][0])]))
    return cases


def batch_norm_cases() -> list[Case]:
    rng, cases = np.random.default_rng(5), []
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

        def truth(bn=bn, z=z, g=grad_out, t=training):
            _, grads = autograd(lambda z_, gamma, beta: batch_norm(z_, bn, gamma, beta, t),
                                [z, bn.gamma, bn.beta], g)
            return list(zip(("∂C/∂z", "∂C/∂γ", "∂C/∂β"), grads))

        mode = "training" if training else "evaluation"
        cases.append(Case(f"batch norm ({mode}), N = {n}", "BatchNorm.backward", run, truth))
    return cases
