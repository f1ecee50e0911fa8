"""Cases of exercises 6–9: optimizers step for step against torch.optim, in float64.

Each setting runs STEPS steps from one start on both sides, the gradient of every step
0.5 θ + noise computed from each side's own parameters, so a wrong step changes every later
one; the whole trajectory must agree to LOCKSTEP_BOUND. In exercise 6 a StepLR halves the rate
halfway, so an SGD that reads it once, or keeps it in the momentum buffer, shows. The
homework's Adam (ε inside the root) has no torch.optim counterpart: its truth is adam_inside,
from the homework's equations, and Problem 1's Adam is the homework's own code.
"""
from __future__ import annotations

import numpy as np
import torch

from .grading import Case
from .table import LOCKSTEP_BOUND

STEPS = 150
SCHEDULE = (STEPS // 2, 0.5)     # exercise 6: after this step, a StepLR multiplies lr by 0.5
SHAPES = ((4, 3), (3,))          # a weight matrix and a bias vector
NAMES = tuple(f"θ ({'×'.join(map(str, s))})" for s in SHAPES)


def track(snapshot, step, steps: int, every: int = 1) -> list:
    """snapshot() at the start and after every `every` calls of step(t), stacked per array."""
    rows = [snapshot()]
    for t in range(steps):
        step(t)
        if (t + 1) % every == 0:
            rows.append(snapshot())
    return [np.stack(column) for column in zip(*rows)]


def copies(params) -> list:
    return [np.array(p.detach().numpy() if isinstance(p, torch.Tensor) else p) for p in params]


def problem(seed: int, scale: float = 1.0):
    """(start, grad_fn): parameters and the noisy-bowl gradient of every step."""
    rng = np.random.default_rng(seed)
    start = [rng.normal(size=s) for s in SHAPES]
    noise = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]
    return start, lambda params, t: [scale * (0.5 * p + n) for p, n in zip(params, noise[t])]


def student_run(code, kind, options, start, grad_fn, schedule=None) -> list:
    """Code's optimizer on copies of `start`: the parameters after every step (row 0: the start)."""
    params = copies(start)
    optimizer = code.get(f"{kind}._update")(params, **options)
    scheduler = code.real.get("StepLR.step")(optimizer, 1, schedule[1]) if schedule else None

    def step(t):
        optimizer.step(grad_fn(params, t))
        if scheduler and t + 1 == schedule[0]:
            scheduler.step()
    return track(lambda: copies(params), step, STEPS)


def torch_run(kind, options, start, grad_fn, schedule=None) -> list:
    """The same with torch.optim and torch's StepLR: [(name, trajectory)]."""
    params = [torch.tensor(p, requires_grad=True) for p in start]
    optimizer = getattr(torch.optim, kind)(params, **options)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1, schedule[1]) if schedule else None

    def step(t):
        for p, g in zip(params, grad_fn(copies(params), t)):
            p.grad = torch.from_numpy(g)
        optimizer.step()
        if scheduler and t + 1 == schedule[0]:
            scheduler.step()
    return list(zip(NAMES, track(lambda: copies(params), step, STEPS)))


def adam_inside(start, grad_fn, lr, eps, betas=(0.9, 0.999)) -> list:
    """The homework's Adam, θ ← θ − γ m̂/√(v̂ + ε), on the same problem: [(name, trajectory)]."""
    (b1, b2), params = betas, copies(start)
    m, v = [0.0] * len(params), [0.0] * len(params)

    def step(t):
        for i, g in enumerate(grad_fn(params, t)):
            m[i], v[i] = b1 * m[i] + (1 - b1) * g, b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** (t + 1)), v[i] / (1 - b2 ** (t + 1))
            params[i] = params[i] - lr * m_hat / np.sqrt(v_hat + eps)
    return list(zip(NAMES, track(lambda: copies(params), step, STEPS)))


def _case(label, kind, options, start, grad_fn, truth, schedule=None) -> Case:
    return Case(f"{label}, {STEPS} steps", f"{kind}._update",
                lambda code: student_run(code, kind, options, start, grad_fn, schedule),
                truth, LOCKSTEP_BOUND, "step")


SGD_SETTINGS = {
    "plain SGD, lr 0.1": dict(lr=0.1),
    "momentum 0.9": dict(lr=0.05, momentum=0.9),
    "momentum 0.9, dampening 0.3": dict(lr=0.05, momentum=0.9, dampening=0.3),
    "Nesterov 0.9, weight decay 0.01":
        dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "momentum 0.8, weight decay 0.05": dict(lr=0.05, momentum=0.8, weight_decay=0.05),
}
ADAM_SETTINGS = {   # label -> (options, gradient scale)
    "Adam, lr 0.01": (dict(lr=0.01), 1.0),
    "Adam, betas (0.8, 0.99), weight decay 0.01":
        (dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01), 1.0),
    "Adam, ε 1e-3, gradients near 1e-3": (dict(lr=0.01, eps=1e-3), 1e-3),
    "homework's Adam (eps_inside_sqrt)": (dict(lr=0.01, eps_inside_sqrt=True), 1.0),
    "homework's Adam (eps_inside_sqrt), ε 1e-3, gradients near 1e-3":
        (dict(lr=0.01, eps=1e-3, eps_inside_sqrt=True), 1e-3),
}


def sgd_cases() -> list[Case]:
    cases = []
    for k, (label, options) in enumerate(SGD_SETTINGS.items()):
        start, grad_fn = problem(60 + k)
        cases.append(_case(f"{label}, lr halved after step {SCHEDULE[0]}", "SGD", options, start,
                           grad_fn, lambda o=options, s=start, f=grad_fn: torch_run(
                               "SGD", o, s, f, SCHEDULE), SCHEDULE))
    return cases


def adam_cases() -> list[Case]:
    cases = []
    for k, (label, (options, scale)) in enumerate(ADAM_SETTINGS.items()):
        start, grad_fn = problem(70 + k, scale)

        def truth(o=options, s=start, f=grad_fn):
            if o.get("eps_inside_sqrt"):
                return adam_inside(s, f, o["lr"], o.get("eps", 1e-8))
            return torch_run("Adam", o, s, f)
        cases.append(_case(label, "Adam", options, start, grad_fn, truth))
    return cases


STEPLR_SETTINGS = {"step_size 3, γ 0.5": (3, 0.5), "step_size 1, γ 0.9": (1, 0.9),
                   "step_size 4, γ 0.1": (4, 0.1)}
CALLS, LR0 = 20, 0.5


def steplr_cases() -> list[Case]:
    cases = []
    for label, (size, gamma) in STEPLR_SETTINGS.items():
        def run(code, size=size, gamma=gamma):
            optimizer = code.real.get("SGD._update")([np.zeros(1)], lr=LR0)
            scheduler = code.get("StepLR.step")(optimizer, size, gamma)
            return track(lambda: [np.float64(optimizer.lr)], lambda t: scheduler.step(), CALLS)

        def truth(size=size, gamma=gamma):
            optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, size, gamma)

            def step(t):
                optimizer.step()                # (no gradients: only so torch sees the order)
                scheduler.step()
            lr = lambda: [np.float64(optimizer.param_groups[0]["lr"])]  # noqa: E731
            return [("the optimizer's lr", track(lr, step, CALLS)[0])]

        cases.append(Case(f"{label}, {CALLS} calls", "StepLR.step", run, truth, LOCKSTEP_BOUND,
                          "call"))
    return cases


P1_CASES = (   # function, start, keyword arguments
    ("homework_gd", (-4.0, -2.0), dict(n_epochs=300, eta=1e-4)),
    ("homework_gd", (0.5, 2.0), dict(n_epochs=300, eta=2e-4)),
    ("homework_gd_with_mom", (-4.0, -2.0), dict(n_epochs=300, eta=1e-4)),
    ("homework_gd_with_mom", (0.5, 2.0), dict(n_epochs=300, eta=1e-4, gamma=0.8)),
    ("homework_adams", (-4.0, -2.0), dict(n_epochs=300, eta=1e-2)),
    ("homework_adams", (0.5, 2.0), dict(n_epochs=300, eta=1e-3, epsilon=1.0)),
)


def problem1_truth(homework, name, init, n_epochs, eta, gamma=0.9, **more):
    """The homework's Adam (no torch.optim counterpart), or torch.optim.SGD for the others."""
    if name == "homework_adams":
        path = homework.homework_adams(homework.homework_grad, list(init), n_epochs, eta, gamma,
                                       **more)
        return [("trajectory", np.asarray(path, dtype=np.float64))]
    p = torch.tensor(init, dtype=torch.float64, requires_grad=True)
    momentum = gamma if name == "homework_gd_with_mom" else 0.0
    optimizer = torch.optim.SGD([p], lr=eta, momentum=momentum)

    def step(t):
        p.grad = torch.from_numpy(np.asarray(homework.homework_grad(copies([p])[0]), np.float64))
        optimizer.step()
    return [("trajectory", track(lambda: copies([p]), step, n_epochs)[0])]


def problem1_cases() -> list[Case]:
    from .code import reference

    homework, cases = reference().module("problem1"), []
    for name, init, options in P1_CASES:
        extra = ", ".join(f"{k} {v:g}" for k, v in options.items() if k != "n_epochs")
        cases.append(Case(f"{name} from {init}, {extra}, {options['n_epochs']} steps", name,
                          lambda code, name=name, init=init, o=options: [
                              code.get(name)(homework.homework_grad, list(init), **o)],
                          lambda name=name, init=init, o=options: problem1_truth(
                              homework, name, init, **o), LOCKSTEP_BOUND, "step"))
    return cases
