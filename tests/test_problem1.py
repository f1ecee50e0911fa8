"""Problem 1: the Rosenbrock function, the three optimizers, the study and its cache.

The oracle is the homework's own code (compare/reference.py: its gradient and
its loops, bodies unchanged): the package's gd, momentum and Adam must give its
trajectories to the last bit.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from compare import reference
from compare.problem1 import experiment as P
from compare.problem1 import report as report_problem1
from compare.problem1 import rosenbrock as R
from compare.problem1 import sweep as S

START = [-4.0, -2.0]
HOMEWORK = {"gd": reference.homework_gd, "momentum": reference.homework_gd_with_mom,
            "adam": reference.homework_adams}


def homework(method, lr, n, start=START):
    """The homework's trajectory, its overflow warnings silenced (ours must not warn)."""
    with np.errstate(over="ignore", invalid="ignore"):
        return HOMEWORK[method](reference.homework_grad, start, n, lr)


def max_relative_gap(a, b) -> float:
    """max over steps of max|a_t − b_t| / max|b_t| (in ∞-norm: iterates reach 1e290)."""
    return float((np.abs(a - b).max(axis=1) / np.abs(b).max(axis=1)).max())


# ---------------------------------------------------- the function and its derivatives
def points(n=50, seed=0):
    rng = np.random.default_rng(seed)
    p = np.column_stack([rng.uniform(-4, 4, n), rng.uniform(-2, 6, n)])
    return np.vstack([p, START, R.MINIMUM])                 # (n + 2, 2)


def test_gradient_matches_central_differences():
    # h = 1e-5·max(1, |x|): truncation h²·f'''/6 and round-off ε·f/h are both
    # below 1e-9 of ‖∇f‖ here; 1e-7 leaves room.
    for p in points():
        h = 1e-5 * np.maximum(1.0, np.abs(p))
        fd = [(R.f(*(p + h[i] * e)) - R.f(*(p - h[i] * e))) / (2 * h[i])
              for i, e in enumerate(np.eye(2))]
        g = R.gradient(p)
        assert np.linalg.norm(g - fd) <= 1e-7 * max(1.0, np.linalg.norm(g))


def test_gradient_and_hessian_match_autograd():
    # Same derivative, different evaluation order: they differ by a few roundings
    # of the terms' size (up to ~3e4), so compare at 1e-13 of that size.
    for p in points():
        t = torch.tensor(p, dtype=torch.float64, requires_grad=True)
        fx = lambda q: (1 - q[0]) ** 2 + 100 * (q[1] - q[0] ** 2) ** 2  # noqa: E731
        fx(t).backward()
        scale = 1 + abs(2 * (1 - p[0])) + abs(400 * p[0] * (p[1] - p[0] ** 2)) + abs(200 * p[1])
        assert np.abs(R.gradient(p) - t.grad.numpy()).max() <= 1e-13 * scale
        H = torch.autograd.functional.hessian(fx, torch.tensor(p, dtype=torch.float64)).numpy()
        assert np.abs(R.hessian(p) - H).max() <= 1e-13 * (1 + np.abs(H).max())
    assert R.gradient(R.MINIMUM).tolist() == [0.0, 0.0]


def test_largest_curvature_and_predicted_thresholds():
    # ∇²f(1, 1) = [[802, −400], [−400, 200]]: λ_max = 501 + √(301² + 400²), exactly.
    L = 501 + np.hypot(301, 400)
    assert R.largest_curvature(R.MINIMUM) == pytest.approx(L, rel=1e-14)
    assert R.predicted_threshold("gd", L) == pytest.approx(2 / L, rel=1e-15)
    assert R.predicted_threshold("momentum", L, gamma=0.9) == pytest.approx(3.8 / L, rel=1e-15)
    assert R.predicted_threshold("adam", L) is None


# ---------------------------------------------------- against the homework's reference code
@pytest.mark.parametrize("method", list(HOMEWORK))
@pytest.mark.parametrize("lr", [1e-4, 1e-3, 1e-2])
def test_each_method_is_the_homework_code_to_the_bit(method, lr):
    ours = R.run(method, lr, 500)
    ref = homework(method, lr, 500)
    first_bad = int((~np.isfinite(ref).all(axis=1)).argmax()) or len(ref)
    assert R.diverged_at(ours) == (None if first_bad == len(ref) else first_bad)
    assert np.array_equal(ref[:first_bad], ours[:first_bad])
    assert np.isnan(ours[first_bad:]).all()


@pytest.mark.parametrize("lr", [1e-4, 1e-2])
def test_homework_adam_over_the_full_run(lr):
    # Every step of 10⁵, so the first step below 1e-6 and the final error are the
    # homework code's own (55,253 and 2,362 steps for these two rates).
    ours, ref = R.run("adam", lr, 100_000), homework("adam", lr, 100_000)
    assert np.array_equal(ref, ours)
    assert R.summarize(ours) == R.summarize(ref)


# ---------------------------------------------------- against torch.optim
def torch_trajectory(make_opt, n):
    """torch.optim on a float64 (2,) tensor, fed the same gradient function: (n + 1, 2)."""
    p = torch.tensor(START, dtype=torch.float64)
    opt = make_opt(p)
    traj = np.full((n + 1, 2), np.nan)
    traj[0] = p.numpy()
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, n + 1):
            p.grad = torch.from_numpy(R.gradient(p.numpy()))
            opt.step()
            traj[t] = p.numpy()
            if not np.isfinite(traj[t]).all():
                break
    return traj


def _torch_sgd(method, lr):
    momentum = 0.9 if method == "momentum" else 0.0
    return lambda p: torch.optim.SGD([p], lr=lr, momentum=momentum)


@pytest.mark.parametrize("n", [10_000, pytest.param(100_000, marks=pytest.mark.slow)])
@pytest.mark.parametrize("method", ["gd", "momentum"])
def test_sgd_equals_torch(method, n):
    # torch fuses θ − γ·g into one multiply-add, so the two differ by round-off
    # (observed 5e-15 relative over 10⁵ steps); 1e-12 says "round-off only".
    ours = R.run(method, 1e-4, n)
    assert max_relative_gap(torch_trajectory(_torch_sgd(method, 1e-4), n), ours) < 1e-12


@pytest.mark.parametrize("method, lr, step", [("momentum", 1e-3, 7), ("gd", 3e-4, 9),
                                               ("momentum", 1e-2, 6)])
def test_divergence_at_the_same_step_as_torch(method, lr, step):
    ref, ours = torch_trajectory(_torch_sgd(method, lr), 50), R.run(method, lr, 50)
    torch_bad = int((~np.isfinite(ref).all(axis=1)).argmax())
    assert R.diverged_at(ours) == torch_bad == step
    # The iterates before it reach 1e290: compare relatively.
    assert max_relative_gap(ref[:step], ours[:step]) < 1e-12


@pytest.mark.parametrize("lr", [1e-4, 1e-2, 1e-1])
def test_torch_form_adam_equals_torch_for_100_steps(lr):
    # Same operations in the same order; 1e-12 allows for fused multiply-adds.
    make = lambda p: torch.optim.Adam([p], lr=lr, betas=(0.9, 0.99), eps=1e-8)  # noqa: E731
    assert max_relative_gap(torch_trajectory(make, 100), R.run("adam_torch", lr, 100)) < 1e-12


# ---------------------------------------------------- runs, divergence, the sweep
def test_divergence_is_clean():
    # Warnings are errors in this suite: overflow must not warn.
    traj = R.run("momentum", 1e-2, 1000)
    assert traj.shape == (1001, 2)
    assert R.diverged_at(traj) == 6
    assert np.isfinite(traj[:6]).all() and np.isnan(traj[6:]).all()
    summary = R.summarize(traj)
    assert summary["diverged_at"] == 6 and summary["final_sq_error"] is None
    assert R.summarize(R.run("momentum", 1e-4, 30_000))["diverged_at"] is None


@pytest.mark.parametrize("method", list(R.METHODS))
def test_sweep_rows_equal_single_runs(method):
    # The sweep runs k rates at once (opt.lr a (k, 1) column); each row must be
    # exactly the run that rate gives alone, diverging ones included.
    rates = np.array([1e-5, 1e-4, 2e-4, 1e-3, 1e-2])
    many = R.run(method, rates, 3_000)
    for i, lr in enumerate(rates):
        assert np.array_equal(many[:, i], R.run(method, lr, 3_000), equal_nan=True)
    assert R.diverged_at(many) == [R.diverged_at(many[:, i]) for i in range(len(rates))]


def test_summarize_counts_steps():
    traj = np.array([[-4.0, -2.0], [0.0, 0.0], [1.0005, 1.0], [1.0, 1.0]])
    s = R.summarize(traj, tol=1e-6)
    assert s == {"final_point": [1.0, 1.0], "final_sq_error": 0.0, "min_sq_error": 0.0,
                 "steps_to_tol": 2, "diverged_at": None}


# ---------------------------------------------------- the study
TINY = P.Problem1Config(n_steps=300, sweep_from=1e-5, per_decade=1, refine=2)


def test_config_hash_and_grid():
    assert TINY.short_hash() == P.Problem1Config(**{**TINY.__dict__}).short_hash()
    assert TINY.short_hash() != replace(TINY, n_steps=301).short_hash()
    grid = P.Problem1Config().grid()
    assert {1e-4, 1e-3, 1e-2} <= set(grid.tolist()) and len(grid) == 21


def test_thresholds_bracket_the_onsets():
    # Every divergence happens within ~20 steps, so 500 steps find the same bracket.
    config = P.Problem1Config(n_steps=500, methods=("gd", "momentum"), refine=8)
    th = S.thresholds(config, *_tables_scans(config))
    gd, mom = th["gd"], th["momentum"]
    lo, hi = gd["largest_stable"], gd["smallest_diverging"]
    assert gd["predicted_at_start"] < lo < hi < gd["predicted_at_minimum"]
    assert mom["smallest_diverging"] < mom["predicted_at_start"]
    assert mom["smallest_diverging"] < gd["largest_stable"]
    # what REPORT.md says of them: every divergence within the first few dozen steps
    said = report_problem1.thresholds({"thresholds": th, "best_stable_rate": {}})
    assert said["latest"] == max(gd["latest_divergence"], mom["latest_divergence"]) < 50
    # GD's threshold is sharp; momentum's is not: isolated rates above its onset converge.
    assert gd["scan"]["stable_above_onset"] == 0
    assert mom["scan"]["stable_above_onset"] > 0
    assert mom["scan"]["largest_stable"] > mom["predicted_at_start"]
    assert mom["scan"]["largest_stable_full_run"]["diverged_at"] is None


def _tables_scans(config):
    tables, scans = {}, {}
    for method in config.methods:
        tables[method], _ = S.sweep(method, config)
        scans[method] = S.scan(method, tables[method], config)
    return tables, scans


def test_best_stable_rate_stays_below_the_onset():
    table = {"rates": [1e-4, 2e-4, 3e-4, 4e-4], "steps_to_tol": [900, 500, None, 100],
             "final_sq_error": [1e-20, 1e-20, None, 1e-28], "diverged_at": [None, None, 7, None]}
    assert S.bracket(table) == (2e-4, 3e-4)
    assert S.best_stable(table) == 2e-4                   # 4e-4 is an island above the onset
    table["steps_to_tol"], table["final_sq_error"] = [None, None, None, 100], [1e-3, 1e-5, None, 0.0]
    assert S.best_stable(table) == 2e-4                   # none reaches tol: the closest


def _fail(*args, **kwargs):
    raise RuntimeError("recomputed although the cache holds this config")


def test_cache_is_reused_and_invalidated(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results, trajectories = P.load_or_compute(TINY, quick=True)
    assert (tmp_path / "results" / "quick" / "problem1.json").exists()
    assert P.trajectories_path(TINY, True).exists()
    monkeypatch.setattr(P, "compute", _fail)
    again, cached = P.load_or_compute(TINY, quick=True)
    assert again == results
    assert all(np.array_equal(cached[k], v, equal_nan=True) for k, v in trajectories.items())
    with pytest.raises(RuntimeError):
        P.load_or_compute(TINY, quick=True, force=True)
    with pytest.raises(RuntimeError):
        P.load_or_compute(replace(TINY, n_steps=301), quick=True)


def test_results_hold_every_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    results, trajectories = P.load_or_compute(replace(TINY, n_steps=2_000), quick=True)
    runs = {r["name"]: r for r in results["runs"]}
    assert set(runs) == {name for name, *_ in P.RUNS}
    assert runs["c_momentum"]["diverged_at"] == 7 and runs["d_momentum"]["diverged_at"] == 6
    assert runs["d_momentum_best"]["lr"] == results["best_stable_rate"]["momentum"]
    for name, r in runs.items():
        assert set(r) >= {"method", "lr", "final_point", "final_sq_error", "steps_to_tol",
                          "diverged_at"}
        assert trajectories[name].shape == (2_001, 2)
    said = report_problem1.thresholds(results)      # what REPORT.md says of the thresholds
    assert [r["label"] for r in said["thresholds"]] == [R.METHODS[m] for m in R.METHODS]
    assert said["adam_never"]


def test_command_computes_then_only_replots(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(P, "QUICK", TINY)
    first = CliRunner().invoke(P.command, ["--quick"])
    assert first.exit_code == 0, first.output
    assert "diverged at" in first.output and "step 7" in first.output
    figures = sorted(p.name for p in (tmp_path / "figures" / "quick" / "problem1").glob("*.png"))
    assert figures == ["a_contour.png", "b_trajectories.png", "c_trajectories.png",
                       "d_trajectories.png", "sweep.png"]
    monkeypatch.setattr(P, "compute", _fail)
    plotted = []
    monkeypatch.setattr(P, "plot_all", lambda *args: plotted.append(args) or [])  # drawn above
    second = CliRunner().invoke(P.command, ["--quick", "--quiet"])
    assert second.exit_code == 0, second.output
    assert second.output == "" and len(plotted) == 1
