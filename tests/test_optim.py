"""SGD, Adam and StepLR against updates written out by hand in this file.

The hand versions below are plain, out-of-place NumPy, one line per formula
of torch.optim's documentation, in the documentation's order; the code under
test follows torch's order of operations (Adam's bias corrections folded into
the step size, its m as torch's lerp). Both sum the same terms, possibly in a
different order, so they agree to round-off: rel=1e-12 after a few float64 steps.
"""
from __future__ import annotations

import numpy as np
import pytest

from scratchnet import SGD, Adam, StepLR

STEPS = 5
REL = 1e-12  # float64, a few steps, the same terms summed in another order


def problem(seed=0):
    """Two parameter arrays of different shapes and STEPS gradients for each."""
    rng = np.random.default_rng(seed)
    params = [rng.normal(size=(2, 3)), rng.normal(size=3)]
    grads = [[rng.normal(size=p.shape) for p in params] for _ in range(STEPS)]
    return params, grads


def run(optimizer_class, params, grads, **options):
    """Run the code under test on copies of params; the parameters after each step."""
    params = [p.copy() for p in params]
    opt = optimizer_class(params, **options)
    trajectory = []
    for g in grads:
        opt.step(g)
        trajectory.append([p.copy() for p in params])
    return trajectory


def sgd_by_hand(params, grads, lr, momentum=0.0, dampening=0.0, nesterov=False,
                weight_decay=0.0):
    theta = [p.copy() for p in params]
    buf = [None] * len(params)
    trajectory = []
    for step_grads in grads:
        for i, g in enumerate(step_grads):
            g = g + weight_decay * theta[i]
            if momentum != 0:
                if buf[i] is None:
                    buf[i] = g                                   # first step: b = g
                else:
                    buf[i] = momentum * buf[i] + (1 - dampening) * g
                g = g + momentum * buf[i] if nesterov else buf[i]
            theta[i] = theta[i] - lr * g
        trajectory.append([t.copy() for t in theta])
    return trajectory


def adam_by_hand(params, grads, lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 eps_inside_sqrt=False):
    beta1, beta2 = betas
    theta = [p.copy() for p in params]
    m = [np.zeros_like(p) for p in params]
    v = [np.zeros_like(p) for p in params]
    trajectory = []
    for t, step_grads in enumerate(grads, start=1):
        for i, g in enumerate(step_grads):
            g = g + weight_decay * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g ** 2
            m_hat = m[i] / (1 - beta1 ** t)
            v_hat = v[i] / (1 - beta2 ** t)
            if eps_inside_sqrt:                                  # Homework 7's adams()
                theta[i] = theta[i] - lr * m_hat / np.sqrt(v_hat + eps)
            else:                                                # torch.optim.Adam
                theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
        trajectory.append([t_.copy() for t_ in theta])
    return trajectory


def assert_same_trajectory(got, expected):
    assert len(got) == len(expected)
    for step, (ps, qs) in enumerate(zip(got, expected), start=1):
        for p, q in zip(ps, qs):
            assert p == pytest.approx(q, rel=REL, abs=1e-15), f"step {step}"


# ---------------------------------------------------------------- SGD
@pytest.mark.parametrize("options", [
    dict(lr=0.1),                                                # plain
    dict(lr=0.1, momentum=0.9),                                  # heavy ball
    dict(lr=0.1, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.8, nesterov=True),
    dict(lr=0.1, weight_decay=0.01),
    dict(lr=0.001, momentum=0.8, nesterov=True, weight_decay=1e-4),  # the homework's baseline
    dict(lr=0.1, momentum=0.5, dampening=0.5, weight_decay=0.1),
], ids=["plain", "momentum", "dampening", "nesterov", "weight_decay", "baseline", "all"])
def test_sgd_matches_hand_computed_updates(options):
    params, grads = problem()
    assert_same_trajectory(run(SGD, params, grads, **options),
                           sgd_by_hand(params, grads, **options))


def test_sgd_momentum_by_the_numbers():
    """θ₀ = 1, g = 0.5 then -0.25, lr 0.1, μ 0.9: b = 0.5 -> θ = 0.95; b = 0.2 -> θ = 0.93.

    With Nesterov: step 1 moves by 0.1·(0.5 + 0.9·0.5) = 0.095; step 2 by
    0.1·(-0.25 + 0.9·0.2) = -0.007.
    """
    for nesterov, expected in ((False, [0.95, 0.93]), (True, [0.905, 0.912])):
        theta = np.array([1.0])
        opt = SGD([theta], lr=0.1, momentum=0.9, nesterov=nesterov)
        seen = []
        for g in (0.5, -0.25):
            opt.step([np.array([g])])
            seen.append(theta[0])
        assert seen == pytest.approx(expected, rel=1e-15)


def test_sgd_refuses_nesterov_without_momentum():
    with pytest.raises(ValueError, match="nesterov"):
        SGD([np.zeros(2)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="nesterov"):
        SGD([np.zeros(2)], lr=0.1, momentum=0.9, dampening=0.1, nesterov=True)


# ---------------------------------------------------------------- Adam
@pytest.mark.parametrize("options", [
    dict(lr=0.01),
    dict(lr=0.01, weight_decay=0.1),
    dict(lr=0.01, betas=(0.5, 0.9), eps=1e-3),
    dict(lr=0.01, eps=1e-2, eps_inside_sqrt=True),
    dict(lr=0.01, betas=(0.9, 0.99), eps=1e-8, weight_decay=1e-4, eps_inside_sqrt=True),
], ids=["default", "weight_decay", "betas_eps", "eps_inside_sqrt", "homework_all"])
def test_adam_matches_hand_computed_updates(options):
    params, grads = problem(1)
    assert_same_trajectory(run(Adam, params, grads, **options),
                           adam_by_hand(params, grads, **options))


def test_adam_first_step_by_the_numbers():
    """At t = 1 the bias corrections give m̂ = g and v̂ = g², so the step is
    lr·g / (|g| + ε) (torch) or lr·g / √(g² + ε) (eps inside the square root)."""
    for inside, denominator in ((False, 0.5 + 1e-2), (True, np.sqrt(0.25 + 1e-2))):
        theta = np.array([1.0])
        Adam([theta], lr=0.1, eps=1e-2, eps_inside_sqrt=inside).step([np.array([0.5])])
        assert theta[0] == pytest.approx(1.0 - 0.1 * 0.5 / denominator, rel=1e-15)


def test_adam_eps_placement_matters():
    params, grads = problem(2)
    torch_style = run(Adam, params, grads, lr=0.01, eps=1e-2)
    homework = run(Adam, params, grads, lr=0.01, eps=1e-2, eps_inside_sqrt=True)
    assert not np.allclose(torch_style[-1][0], homework[-1][0], rtol=1e-6)


# ---------------------------------------------------------------- StepLR
def test_steplr_by_hand():
    """lr = lr₀ · γ^⌊epoch / step_size⌋, and the optimizer steps with the current lr."""
    theta = np.array([0.0])
    opt = SGD([theta], lr=0.8)
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    lrs = []
    for epoch in range(6):
        lrs.append(opt.lr)
        before = theta[0]
        opt.step([np.array([1.0])])                             # moves θ by exactly -lr
        assert before - theta[0] == pytest.approx(opt.lr, rel=1e-15)
        scheduler.step()
    assert lrs == pytest.approx([0.8, 0.8, 0.4, 0.4, 0.2, 0.2], rel=1e-15)


def test_steplr_refuses_bad_values():
    opt = SGD([np.zeros(1)], lr=0.1)
    with pytest.raises(ValueError, match="step_size"):
        StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="gamma"):
        StepLR(opt, step_size=1, gamma=0.0)


def test_optimizers_work_on_a_plain_vector():
    """Problem 1 minimizes f(x) = Σ x² from (3, -4) with them."""
    for make in (lambda x: SGD([x], lr=0.1, momentum=0.5), lambda x: Adam([x], lr=0.1)):
        x = np.array([3.0, -4.0])
        opt = make(x)
        for _ in range(300):
            opt.step([2 * x])
        assert np.abs(x).max() < 1e-3


# ---------------------------------------------------------------- torch.optim as an oracle
@pytest.mark.parametrize("name, options", [
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=1e-2)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=1e-2)),
])
def test_optimizers_step_for_step_with_torch(name, options):
    """The same algorithm as torch.optim, to round-off, with StepLR halving lr each 2 steps."""
    torch = pytest.importorskip("torch")
    params, grads = problem(3)
    ours = [p.copy() for p in params]
    opt = {"SGD": SGD, "Adam": Adam}[name](ours, **options)
    scheduler = StepLR(opt, step_size=2, gamma=0.5)
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    reference = getattr(torch.optim, name)(theirs, **options)
    reference_scheduler = torch.optim.lr_scheduler.StepLR(reference, step_size=2, gamma=0.5)
    for step_grads in grads:
        opt.step(step_grads)
        scheduler.step()
        for t, g in zip(theirs, step_grads):
            t.grad = torch.tensor(g)
        reference.step()
        reference_scheduler.step()
        assert opt.lr == reference.param_groups[0]["lr"]
        for p, t in zip(ours, theirs):
            assert p == pytest.approx(t.detach().numpy(), rel=REL, abs=1e-15)
