"""Checks of exercises 6–9: optimizers step for step against torch.optim, in float64.

Each setting runs STEPS steps from the same start on both sides. The
gradient of every step is 0.5 θ + noise (a noisy quadratic bowl), computed
from each side's own parameters, so a wrong step changes every later one.
The whole trajectory must agree to LOCKSTEP_BOUND. The homework's Adam (ε
inside the root) has no torch.optim counterpart: its truth is the homework's
own code. Each mistake's trajectory comes from a small NumPy variant of the
algorithm (sgd_steps, adam_steps, problem1_steps) with that one thing changed.
"""
from __future__ import annotations

import numpy as np
import torch

from .grading import Case, same
from .table import LOCKSTEP_BOUND

STEPS = 150
SHAPES = ((4, 3), (3,))          # a weight matrix and a bias vector
NAMES = tuple(f"θ ({'×'.join(map(str, s))})" for s in SHAPES)


def _same(got, expected) -> bool:
    return same(got, expected, LOCKSTEP_BOUND)


def problem(seed: int, scale: float = 1.0):
    """(start, grad_fn): parameters and the noisy-bowl gradient of every step."""
    rng = np.random.default_rng(seed)
    start = [rng.normal(size=s) for s in SHAPES]
    noise = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]

    def grad_fn(params, t):
        return [scale * (0.5 * p + n) for p, n in zip(params, noise[t])]
    return start, grad_fn


def trajectory(snapshots) -> list:
    """[(name, (steps + 1, *shape))] from one list of arrays per step."""
    return [(name, np.stack([snap[i] for snap in snapshots])) for i, name in enumerate(NAMES)]


def student_run(make, start, grad_fn) -> list:
    """The student's optimizer on copies of `start`; the parameters after every step."""
    params = [p.copy() for p in start]
    optimizer = make(params)
    snapshots = [[p.copy() for p in params]]
    for t in range(STEPS):
        optimizer.step(grad_fn(params, t))
        snapshots.append([p.copy() for p in params])
    return [v for _, v in trajectory(snapshots)]


def torch_run(make, start, grad_fn) -> list:
    """The same with a torch.optim optimizer."""
    params = [torch.tensor(p, requires_grad=True) for p in start]
    optimizer = make(params)
    snapshots = [[p.detach().numpy().copy() for p in params]]
    for t in range(STEPS):
        for p, g in zip(params, grad_fn([q.detach().numpy() for q in params], t)):
            p.grad = torch.from_numpy(g)
        optimizer.step()
        snapshots.append([p.detach().numpy().copy() for p in params])
    return trajectory(snapshots)


def numpy_run(update, start, grad_fn) -> list:
    """A NumPy variant: update(i, p, g, state, t) returns the new p."""
    params, state = [p.copy() for p in start], [{} for _ in start]
    snapshots = [[p.copy() for p in params]]
    for t in range(STEPS):
        grads = grad_fn(params, t)
        params = [update(i, p, g, state[i], t + 1) for i, (p, g) in enumerate(zip(params, grads))]
        snapshots.append([p.copy() for p in params])
    return [v for _, v in trajectory(snapshots)]


# ================================================================ 6. SGD
SGD_SETTINGS = {
    "plain SGD, lr 0.1": dict(lr=0.1),
    "momentum 0.9": dict(lr=0.05, momentum=0.9),
    "momentum 0.9, dampening 0.3": dict(lr=0.05, momentum=0.9, dampening=0.3),
    "Nesterov 0.9, weight decay 0.01": dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "momentum 0.8, weight decay 0.05": dict(lr=0.05, momentum=0.8, weight_decay=0.05),
}


def sgd_steps(lr, momentum=0.0, dampening=0.0, nesterov=False, weight_decay=0.0, mistake=None):
    """torch.optim.SGD's update in NumPy, or with one catalogued mistake."""
    def update(i, p, g, state, t):
        if mistake == "not_in_place":
            return p
        d = g + weight_decay * p if mistake != "decay_after_momentum" else g
        if momentum:
            if "b" not in state:
                state["b"] = (1 - dampening) * d if mistake == "dampening_first_step" else d.copy()
            else:
                state["b"] = momentum * state["b"] + (1 - dampening) * d
            lookahead = nesterov and mistake != "nesterov_no_lookahead"
            d = d + momentum * state["b"] if lookahead else state["b"]
        if mistake == "decay_after_momentum":
            d = d + weight_decay * p
        return p - lr * d
    return update


def sgd_cases(ctx) -> list[Case]:
    SGD = ctx.student("SGD._update")
    cases = []
    for k, (label, options) in enumerate(SGD_SETTINGS.items()):
        start, grad_fn = problem(60 + k)
        variants = {key: (lambda g, t, key=key, o=options, s=start, f=grad_fn:
                          _same(g, numpy_run(sgd_steps(**o, mistake=key), s, f)))
                    for key in ("nesterov_no_lookahead", "decay_after_momentum",
                                "dampening_first_step", "not_in_place")}
        cases.append(Case(f"{label}, {STEPS} steps", "SGD._update",
                          lambda o=options, s=start, f=grad_fn: student_run(
                              lambda ps: SGD(ps, **o), s, f),
                          lambda o=options, s=start, f=grad_fn: torch_run(
                              lambda ps: torch.optim.SGD(ps, **o), s, f),
                          variants, LOCKSTEP_BOUND, "step"))
    return cases


# ================================================================ 7. Adam
ADAM_SETTINGS = {   # label -> (options, gradient scale)
    "Adam, lr 0.01": (dict(lr=0.01), 1.0),
    "Adam, betas (0.8, 0.99), weight decay 0.01": (dict(lr=0.01, betas=(0.8, 0.99),
                                                        weight_decay=0.01), 1.0),
    "Adam, ε 1e-3, gradients near 1e-3": (dict(lr=0.01, eps=1e-3), 1e-3),
    "homework's Adam (eps_inside_sqrt)": (dict(lr=0.01, eps_inside_sqrt=True), 1.0),
    "homework's Adam (eps_inside_sqrt), ε 1e-3, gradients near 1e-3":
        (dict(lr=0.01, eps=1e-3, eps_inside_sqrt=True), 1e-3),
}


def adam_steps(lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, eps_inside_sqrt=False,
               mistake=None):
    """torch.optim.Adam's update in NumPy (or the homework's), or with one catalogued mistake."""
    inside = eps_inside_sqrt != (mistake == "eps_wrong_side")

    def update(i, p, g, state, t):
        b1, b2 = betas
        g = g + weight_decay * p
        state["m"] = b1 * state.get("m", 0.0) + (1 - b1) * g
        state["v"] = b2 * state.get("v", 0.0) + (1 - b2) * g * g
        c1, c2 = (1.0, 1.0) if mistake == "no_bias_correction" else (1 - b1 ** t, 1 - b2 ** t)
        m_hat, v_hat = state["m"] / c1, state["v"] / c2
        return p - lr * m_hat / (np.sqrt(v_hat + eps) if inside else np.sqrt(v_hat) + eps)
    return update


def adam_cases(ctx) -> list[Case]:
    Adam = ctx.student("Adam._update")
    cases = []
    for k, (label, (options, scale)) in enumerate(ADAM_SETTINGS.items()):
        start, grad_fn = problem(70 + k, scale)
        torch_options = {key: v for key, v in options.items() if key != "eps_inside_sqrt"}
        if options.get("eps_inside_sqrt"):
            def truth(o=options, s=start, f=grad_fn):
                return list(zip(NAMES, numpy_run(adam_steps(**o), s, f)))
        else:
            def truth(o=torch_options, s=start, f=grad_fn):
                return torch_run(lambda ps: torch.optim.Adam(ps, **o), s, f)
        variants = {key: (lambda g, t, key=key, o=options, s=start, f=grad_fn:
                          _same(g, numpy_run(adam_steps(**o, mistake=key), s, f)))
                    for key in ("no_bias_correction", "eps_wrong_side")}
        cases.append(Case(f"{label}, {STEPS} steps", "Adam._update",
                          lambda o=options, s=start, f=grad_fn: student_run(
                              lambda ps: Adam(ps, **o), s, f),
                          truth, variants, LOCKSTEP_BOUND, "step"))
    return cases


# ================================================================ 8. StepLR
STEPLR_SETTINGS = {"step_size 3, γ 0.5": (3, 0.5), "step_size 1, γ 0.9": (1, 0.9),
                   "step_size 4, γ 0.1": (4, 0.1)}
CALLS, LR0 = 20, 0.5


def steplr_cases(ctx) -> list[Case]:
    StepLR, SGD = ctx.student("StepLR.step"), ctx.student("SGD._update")
    cases = []
    for label, (size, gamma) in STEPLR_SETTINGS.items():
        def run(size=size, gamma=gamma):
            optimizer = SGD([np.zeros(1)], lr=LR0)
            scheduler, lrs = StepLR(optimizer, size, gamma), []
            for _ in range(CALLS):
                scheduler.step()
                lrs.append(optimizer.lr)
            return [np.array(lrs, dtype=np.float64)]

        def truth(size=size, gamma=gamma):
            optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
            scheduler, lrs = torch.optim.lr_scheduler.StepLR(optimizer, size, gamma), []
            for _ in range(CALLS):
                optimizer.step()                # (no gradients: only so torch sees the order)
                scheduler.step()
                lrs.append(optimizer.param_groups[0]["lr"])
            return [("lr after each call", np.array(lrs))]

        early = np.array([LR0 * gamma ** ((e - 1) // size + 1) for e in range(1, CALLS + 1)])
        variants = {"steplr_early": lambda g, t, early=early: _same(g, [early]),
                    "steplr_not_on_optimizer": lambda g, t: _same(g, [np.full(CALLS, LR0)])}
        cases.append(Case(f"{label}, {CALLS} epochs", "StepLR.step", run, truth, variants,
                          LOCKSTEP_BOUND, "call"))
    return cases


# ================================================================ 9. Problem 1
P1_CASES = (   # function, start, keyword arguments
    ("homework_gd", (-4.0, -2.0), dict(n_epochs=300, eta=1e-4)),
    ("homework_gd", (0.5, 2.0), dict(n_epochs=300, eta=2e-4)),
    ("homework_gd_with_mom", (-4.0, -2.0), dict(n_epochs=300, eta=1e-4)),
    ("homework_gd_with_mom", (0.5, 2.0), dict(n_epochs=300, eta=1e-4, gamma=0.8)),
    ("homework_adams", (-4.0, -2.0), dict(n_epochs=300, eta=1e-2)),
    ("homework_adams", (0.5, 2.0), dict(n_epochs=300, eta=1e-3, epsilon=1.0)),
)


def problem1_steps(name, grad, init, n_epochs, eta, gamma=0.9, beta=0.99, epsilon=1e-8,
                   mistake=None) -> np.ndarray:
    """The homework's three methods in NumPy, or with one catalogued mistake."""
    params, v, s, path = np.array(init, dtype=np.float64), 0.0, 0.0, []
    path.append(params)
    for j in range(n_epochs):
        g = np.array(grad(params))
        if name == "homework_gd":
            params = params - eta * g
        elif name == "homework_gd_with_mom":
            v = gamma * v + ((1 - gamma) * g if mistake == "heavy_ball_average" else g)
            params = params - eta * v
        else:
            v, s = gamma * v + (1 - gamma) * g, beta * s + (1 - beta) * g * g
            v_hat, s_hat = ((v, s) if mistake == "adams_no_bias_correction"
                            else (v / (1 - gamma ** (j + 1)), s / (1 - beta ** (j + 1))))
            denom = np.sqrt(s_hat) + epsilon if mistake == "adams_eps_outside" else np.sqrt(s_hat + epsilon)
            params = params - eta * v_hat / denom
        path.append(params)
    return np.array(path)


def _torch_problem1(name, grad, init, n_epochs, eta, gamma=0.9):
    p = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    momentum = gamma if name == "homework_gd_with_mom" else 0.0
    optimizer, path = torch.optim.SGD([p], lr=eta, momentum=momentum), [p.detach().numpy().copy()]
    for _ in range(n_epochs):
        p.grad = torch.from_numpy(np.asarray(grad(p.detach().numpy()), dtype=np.float64))
        optimizer.step()
        path.append(p.detach().numpy().copy())
    return np.array(path)


def problem1_cases(ctx) -> list[Case]:
    grad = ctx.problem1_reference.homework_grad
    cases = []
    for name, init, options in P1_CASES:
        def run(name=name, init=init, o=options):
            return [getattr(ctx.problem1, name)(grad, list(init), **o)]

        def truth(name=name, init=init, o=options):
            if name == "homework_adams":      # no torch.optim counterpart: the homework's own code
                path = getattr(ctx.problem1_reference, name)(grad, list(init), **o)
            else:
                path = _torch_problem1(name, grad, init, **o)
            return [("trajectory", np.asarray(path, dtype=np.float64))]

        variants = {key: (lambda g, t, key=key, name=name, init=init, o=options: _same(
                    g, [problem1_steps(name, grad, init, **o, mistake=key)]))
                    for key in ("heavy_ball_average", "adams_no_bias_correction",
                                "adams_eps_outside")}
        extra = ", ".join(f"{k} {v:g}" for k, v in options.items() if k != "n_epochs")
        cases.append(Case(f"{name} from {init}, {extra}, {options['n_epochs']} steps", name,
                          run, truth, variants, LOCKSTEP_BOUND, "step"))
    return cases
