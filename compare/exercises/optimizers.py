"""Cases of exercises 6–9: optimizers step for step against torch.optim, in float64, each
step's gradient 0.5 θ + noise taken at each side's own parameters. In exercise 6 a StepLR halves
the rate halfway, so an SGD that reads it once, or keeps it in the momentum buffer, shows.
"""
from __future__ import annotations

import numpy as np
import torch

from .source import reference
from .grading import Case
from .table import LOCKSTEP_BOUND

STEPS = 150
SCHEDULE = (STEPS // 2, 0.5)     # exercise 6: after this step, a StepLR multiplies lr by 0.5
SHAPES = ((4, 3), (3,))          # a weight matrix and a bias vector
NAMES = tuple(f"θ ({'×'.join(map(str, s))})" for s in SHAPES)
SGD = {   # label -> (options, gradient scale)
    "plain SGD, lr 0.1": (dict(lr=0.1), 1.0),
    "momentum 0.9": (dict(lr=0.05, momentum=0.9), 1.0),
    "momentum 0.9, dampening 0.3": (dict(lr=0.05, momentum=0.9, dampening=0.3), 1.0),
    "Nesterov 0.9, weight decay 0.01":
        (dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.01), 1.0),
    "momentum 0.8, weight decay 0.05": (dict(lr=0.05, momentum=0.8, weight_decay=0.05), 1.0),
}
ADAM = {
    "Adam, lr 0.01": (dict(lr=0.01), 1.0),
    "Adam, betas (0.8, 0.99), weight decay 0.01":
        (dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.01), 1.0),
    "Adam, ε 1e-3, gradients near 1e-3": (dict(lr=0.01, eps=1e-3), 1e-3),
    "homework's Adam (eps_inside_sqrt)": (dict(lr=0.01, eps_inside_sqrt=True), 1.0),
    "homework's Adam (eps_inside_sqrt), ε 1e-3, gradients near 1e-3":
        (dict(lr=0.01, eps=1e-3, eps_inside_sqrt=True), 1e-3),
}
STEPLR = {"step_size 3, γ 0.5": (3, 0.5), "step_size 1, γ 0.9": (1, 0.9),
          "step_size 4, γ 0.1": (4, 0.1)}
CALLS, LR0 = 20, 0.5
PROBLEM1 = (   # function, start, keyword arguments
    ("homework_gd", (-4.0, -2.0), dict(n_epochs=300, eta=1e-4)),
    ("homework_gd", (0.5, 2.0), dict(n_epochs=300, eta=2e-4)),
    ("homework_gd_with_mom", (-4.0, -2.0), dict(n_epochs=300, eta=1e-4)),
    ("homework_gd_with_mom", (0.5, 2.0), dict(n_epochs=300, eta=1e-4, gamma=0.8)),
    ("homework_adams", (-4.0, -2.0), dict(n_epochs=300, eta=1e-2)),
    ("homework_adams", (0.5, 2.0), dict(n_epochs=300, eta=1e-3, epsilon=1.0)),
)


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


def trajectory(kind, options, start, grad_fn, code=None, schedule=None, steps=STEPS) -> list:
    """The parameters after every step from `start` (row 0: the start) with code's optimizer,
    or (no code) torch.optim's; a StepLR multiplies lr by schedule[1] after step schedule[0]."""
    on_torch = code is None
    params = [torch.tensor(p, requires_grad=True) for p in start] if on_torch else copies(start)
    optimizer = (getattr(torch.optim, kind) if on_torch else code.get(f"{kind}._update"))(
        params, **options)
    step_lr = torch.optim.lr_scheduler.StepLR if on_torch else reference().get("StepLR.step")
    scheduler = schedule and step_lr(optimizer, 1, schedule[1])

    def step(t):
        grads = grad_fn(copies(params), t)
        if on_torch:
            for p, g in zip(params, grads):
                p.grad = torch.from_numpy(g)
            optimizer.step()
        else:
            optimizer.step(grads)
        if scheduler and t + 1 == schedule[0]:
            scheduler.step()
    return track(lambda: copies(params), step, steps)


def adam_inside(start, grad_fn, lr, eps=1e-8, betas=(0.9, 0.999), **_) -> list:
    """The homework's Adam, θ ← θ − γ m̂/√(v̂ + ε), on the same problem."""
    (b1, b2), params = betas, copies(start)
    m, v = [0.0] * len(params), [0.0] * len(params)

    def step(t):
        for i, g in enumerate(grad_fn(params, t)):
            m[i], v[i] = b1 * m[i] + (1 - b1) * g, b2 * v[i] + (1 - b2) * g * g
            m_hat, v_hat = m[i] / (1 - b1 ** (t + 1)), v[i] / (1 - b2 ** (t + 1))
            params[i] = params[i] - lr * m_hat / np.sqrt(v_hat + eps)
    return track(lambda: copies(params), step, STEPS)


def optimizer_cases(kind: str, settings: dict, seed: int, schedule=None) -> list[Case]:
    """Exercise 6 or 7: each setting from its own start and noise (seeds from `seed`)."""
    cases = []
    for k, (label, (options, scale)) in enumerate(settings.items()):
        rng = np.random.default_rng(seed + k)
        start = [rng.normal(size=s) for s in SHAPES]
        noise = [[rng.normal(size=s) for s in SHAPES] for _ in range(STEPS)]

        def grad_fn(params, t, noise=noise, scale=scale):      # a noisy quadratic bowl
            return [scale * (0.5 * p + n) for p, n in zip(params, noise[t])]

        def truth(o=options, s=start, f=grad_fn):
            path = adam_inside(s, f, **o) if o.get("eps_inside_sqrt") else \
                trajectory(kind, o, s, f, schedule=schedule)
            return list(zip(NAMES, path))
        halved = f", lr halved after step {schedule[0]}" if schedule else ""
        cases.append(Case(f"{label}{halved}, {STEPS} steps", f"{kind}._update",
                          lambda code, o=options, s=start, f=grad_fn: trajectory(
                              kind, o, s, f, code, schedule), truth, LOCKSTEP_BOUND, "step"))
    return cases


def steplr_cases() -> list[Case]:
    cases = []
    for label, (size, gamma) in STEPLR.items():
        def run(code, size=size, gamma=gamma):
            optimizer = reference().get("SGD._update")([np.zeros(1)], lr=LR0)
            scheduler = code.get("StepLR.step")(optimizer, size, gamma)
            return track(lambda: [np.float64(optimizer.lr)], lambda t: scheduler.step(), CALLS)

        def truth(size=size, gamma=gamma):
            optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=LR0)
            scheduler = torch.optim.lr_scheduler.StepLR(optimizer, size, gamma)

            def step(t):
                optimizer.step()                # (no gradients: only so torch sees the order)
                scheduler.step()
            lr = track(lambda: [np.float64(optimizer.param_groups[0]["lr"])], step, CALLS)
            return [("the optimizer's lr", lr[0])]
        cases.append(Case(f"{label}, {CALLS} calls", "StepLR.step", run, truth, LOCKSTEP_BOUND,
                          "call"))
    return cases


def problem1_truth(homework, name, init, n_epochs, eta, gamma=0.9, **more) -> list:
    """The homework's own Adam (no torch.optim counterpart), torch.optim.SGD for the others."""
    if name == "homework_adams":
        path = homework.homework_adams(homework.homework_grad, list(init), n_epochs, eta, gamma,
                                       **more)
    else:
        options = dict(lr=eta, momentum=gamma if name == "homework_gd_with_mom" else 0.0)
        path, = trajectory("SGD", options, [np.array(init)],
                           lambda params, t: [homework.homework_grad(params[0])], steps=n_epochs)
    return [("trajectory", np.asarray(path, dtype=np.float64))]


def problem1_cases() -> list[Case]:
    homework, cases = reference().module("problem1"), []
    for name, init, options in PROBLEM1:
        extra = ", ".join(f"{k} {v:g}" for k, v in options.items() if k != "n_epochs")
        cases.append(Case(f"{name} from {init}, {extra}, {options['n_epochs']} steps", name,
                          lambda code, name=name, init=init, o=options: [
                              code.get(name)(homework.homework_grad, list(init), **o)],
                          lambda name=name, init=init, o=options: problem1_truth(
                              homework, name, init, **o), LOCKSTEP_BOUND, "step"))
    return cases
