"""compare.checks: backprop vs autograd vs finite differences, and lock-step training.

Short versions of `compare gradcheck` and `compare lockstep`; the full table
and 1,000-step curves come from the commands. Tolerances: autograd 1e-10
relative (the same float64 arithmetic in another order differs by round-off,
about 1e-12 at worst here, while a wrong derivative shows up as 1e-3 or more),
finite differences 1e-7 relative (h = 1e-5: ~1e-10 truncation, ~1e-11 round-off).
"""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from compare.checks import gradcheck as gradients
from compare.cli import main as compare_cli
from compare.checks.gradcheck import (AUTOGRAD_RTOL, FD_RTOL, KINK_MARGIN, Case, all_cases,
                                      check_case, make_case, worst_error)
from compare.checks.lockstep import SETTINGS, lockstep_setting

SUBSET = [Case(a, c, i, d, seed=k) for k, (a, c, (i, d)) in enumerate(itertools.product(
    ["sigmoid", "relu", "tanh"], ["cross_entropy", "quadratic"],
    [("nielsen", 5), ("large", 3), ("xavier_normal", 2), ("kaiming_uniform", 4),
     ("kaiming_normal", 2)]))]
EXTRAS = [Case("sigmoid", "cross_entropy", "xavier_normal", 3, batchnorm=True, seed=1),
          Case("tanh", "quadratic", "kaiming_normal", 4, batchnorm=True, eval_mode=True, seed=2),
          Case("relu", "cross_entropy", "kaiming_uniform", 3, dropout=0.4, seed=3),
          Case("sigmoid", "quadratic", "nielsen", 3, batchnorm=True, dropout=0.3, seed=4),
          Case("tanh", "cross_entropy", "kaiming_normal", 3, input_dropout=0.2, seed=5),
          Case("relu", "quadratic", "xavier_normal", 4, batchnorm=True, dropout=0.3,
               input_dropout=0.2, seed=6)]


@pytest.mark.parametrize("case", SUBSET + EXTRAS, ids=lambda c: c.name)
def test_backprop_equals_autograd_and_finite_differences(case):
    row = check_case(case, fd_samples=15)
    assert row["autograd"] <= AUTOGRAD_RTOL, row
    assert row["finite_differences"] <= FD_RTOL, row
    assert row["ok"]


def test_relu_cases_stay_away_from_the_kink():
    net, X, _ = make_case(Case("relu", "quadratic", "large", 5, seed=11))
    assert gradients._min_abs_z(net, X) > KINK_MARGIN


def test_all_cases_cover_every_combination():
    names = {(c.activation, c.cost, c.init, c.depth) for c in all_cases()}
    assert len(names) == 3 * 2 * 5 * 4
    assert any(c.batchnorm for c in all_cases()) and any(c.dropout for c in all_cases())
    assert any(c.input_dropout for c in all_cases())
    assert 0 < len(all_cases(quick=True)) < len(all_cases()) / 4


def test_worst_error_skips_only_unresolvable_entries():
    a, n = [np.array([1.0, 1e-20, 2.0])], [np.array([1.0 + 1e-9, -1e-20, 2.0])]
    assert worst_error(a, n, 1e-15, "size") == pytest.approx(5e-10, rel=1e-6)  # 1e-20s skipped
    assert worst_error(a, n, 0.0, "size") == 1.0                              # opposite signs
    assert worst_error(a, n, 1e-8, "difference") == 0.0                       # all within 1e-8


def test_injected_masks_are_what_nn_dropout_does():
    """nn.Dropout multiplies by a mask of 0 and 1/(1−p), forward and backward: so the
    gradcheck's injected masks test the same function as torch's own dropout."""
    p, x = 0.4, torch.rand(50, 8, dtype=torch.float64, requires_grad=True)
    out = torch.nn.Dropout(p)(x)
    mask = (out / x).detach()
    assert set(np.unique(mask.numpy().round(12))) <= {0.0, round(1 / (1 - p), 12)}
    out.sum().backward()
    torch.testing.assert_close(x.grad, mask, rtol=1e-15, atol=0)  # (grad is exactly the mask)


def test_a_wrong_derivative_is_caught():
    """A 1% error in σ' on the scratchnet side fails both comparisons by far."""
    net, X, y = make_case(Case("sigmoid", "cross_entropy", "xavier_normal", 3, seed=5))
    _, good = net.backprop(X, y)
    net.f_prime = lambda z, a: a * (1.0 - a) * 1.01
    _, bad = net.backprop(X, y)
    assert worst_error(bad, gradients.autograd_gradients(net, X, y), 0.0, "size") > 1e-3
    assert worst_error(good, gradients.autograd_gradients(net, X, y), 0.0, "size") < 1e-10


def test_lockstep_200_steps(mnist_small):
    """200 steps per setting, 50 steps per "epoch" (so StepLR halves the rate at step 100,
    and max-norm binds from about step 30): weights agree to 1e-12 (measured: at most about
    4e-15 even after 1,000 steps)."""
    for name in SETTINGS:
        diffs = lockstep_setting(name, mnist_small[0], steps=200, steps_per_epoch=50)
        assert diffs.shape == (200,) and diffs.max() < 1e-12, name


def test_gradcheck_command_quick(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(compare_cli, ["gradcheck", "--quick"])
    assert result.exit_code == 0, result.output
    assert "worst autograd" in result.output and "0 failed" in result.output
    rows = json.loads((tmp_path / "results/quick/compare/gradcheck.json").read_text())["rows"]
    assert len(rows) == len(all_cases(quick=True))
    monkeypatch.setattr(gradients, "FD_RTOL", 0.0)             # everything "fails" now
    failed = CliRunner().invoke(compare_cli, ["gradcheck", "--quick", "--quiet"])
    assert failed.exit_code == 1 and "NO" in failed.output


def test_lockstep_command_quick(monkeypatch, tmp_path, mnist_root):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(compare_cli, ["lockstep", "--quick", "--quiet",
                                              "--data", str(mnist_root)])
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "results/quick/compare/lockstep.json").read_text())
    assert set(saved["settings"]) == set(SETTINGS) and saved["steps"] == 50
    assert (tmp_path / "figures/quick/compare/lockstep.png").stat().st_size > 10_000
    bad = CliRunner().invoke(compare_cli, ["lockstep", "--device", "tpu"])
    assert bad.exit_code == 2 and "tpu" in bad.output


# ---------------------------------------------------------------- GPU
@pytest.mark.gpu
@pytest.mark.parametrize("case", SUBSET[::3] + EXTRAS, ids=lambda c: c.name)
def test_cuda_autograd_equals_backprop(case, cuda):
    """Autograd on CUDA, float64, against scratchnet on the CPU: the same 1e-10 bound."""
    row = check_case(case, device=cuda, fd_samples=5)
    assert row["autograd"] <= AUTOGRAD_RTOL, row


@pytest.mark.gpu
def test_cuda_lockstep(mnist_small, cuda):
    """200 steps on CUDA in float64: cuBLAS sums in another order, still far below 1e-9."""
    for name in SETTINGS:
        diffs = lockstep_setting(name, mnist_small[0], steps=200, steps_per_epoch=50, device=cuda)
        assert diffs.max() < 1e-9, name
