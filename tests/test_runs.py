"""Problems 2 and 3's runner: cached results, pooled runs equal plain runs, smoke runs."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compare import pool, runs
from compare.runs import Run, augment_of
from scratchnet.config import TrainConfig

TINY = TrainConfig(train_subset=300, epochs=2, batch_size=10)


@pytest.fixture
def tmp_results(tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(runs, "FIGURES", tmp_path / "figures")
    monkeypatch.chdir(tmp_path)  # figures and results land here, never in the checkout
    return tmp_path


def _without_seconds(result):
    history = dict(result["history"])
    history.pop("seconds")
    return history


def test_pooled_runs_equal_plain_runs(mnist_root, tmp_results):
    """A run trained in a worker process gives exactly what a plain run gives."""
    todo = [Run("s", TINY, "scratch"), Run("t", TINY.replace(dtype="float32"), "torch"),
            Run("t-aug", TINY.replace(dtype="float32"), "torch", augment_of(max_shift=2.0))]
    pooled = pool.execute_all("p", todo, quick=True, jobs=2, root=mnist_root)
    for run in todo:
        plain = runs.execute(run, mnist_root)
        assert _without_seconds(pooled[run.name]) == _without_seconds(plain), run.name


def test_both_implementations_start_from_the_same_weights(mnist_root, tmp_results):
    """Same config in float64: the two packages' curves agree to round-off."""
    scratch = runs.execute(Run("s", TINY, "scratch"), mnist_root)
    torch_ = runs.execute(Run("t", TINY, "torch"), mnist_root)
    assert scratch["history"]["test_accuracy"] == torch_["history"]["test_accuracy"]
    for a, b in zip(scratch["history"]["train_loss"], torch_["history"]["train_loss"]):
        assert a == pytest.approx(b, rel=1e-10)  # float64 round-off over 60 steps


def test_results_are_cached_and_keyed_by_config(mnist_root, tmp_results, monkeypatch):
    run = Run("s", TINY, "scratch")
    first = pool.execute_all("p", [run], quick=True, jobs=1, root=mnist_root)
    path = runs.result_path("p", "s", run, quick=True)
    assert path.is_file() and json.loads(path.read_text())["run"] == run.to_dict()

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")
    monkeypatch.setattr(pool, "execute", no_training)
    again = pool.execute_all("p", [run], quick=True, jobs=1, root=mnist_root)
    assert again["s"]["history"] == first["s"]["history"]
    changed = Run("s", TINY.replace(lr=0.01), "scratch")
    assert runs.result_path("p", "s", changed, True) != path  # a new config, a new file
    with pytest.raises(AssertionError, match="trained again"):
        pool.execute_all("p", [changed], quick=True, jobs=1, root=mnist_root)


def test_run_validation():
    with pytest.raises(ValueError, match="impl='jax'"):
        Run("x", TINY, "jax")
    with pytest.raises(ValueError, match="torchnet only"):
        Run("x", TINY, "scratch", augment_of(max_shift=1.0))


def test_cost_orders_runs_by_work():
    """The pool starts the longest runs first: more epochs, wider layers and augmentation
    each cost more; the elastic recipe outranks the plain one trained as long."""
    plain = TrainConfig(sizes=(784, 1024, 10), batch_size=128, epochs=30)
    assert Run("a", plain).cost < Run("b", plain.replace(epochs=60)).cost
    assert Run("a", plain).cost < Run("b", plain.replace(sizes=(784, 2048, 10))).cost
    elastic = augment_of(elastic_alpha=24.0, elastic_sigma=4.0)
    assert Run("a", plain).cost < Run("b", plain, "torch", elastic).cost


def test_divergence_is_a_result(mnist_root, tmp_results):
    # lr · weight_decay = 1000: each step multiplies the weights by about −999, so they
    # overflow after about 100 steps, in the second epoch of 100 steps (the quadratic cost
    # is at most 5, so only the loss turning non-finite can stop the run)
    config = TINY.replace(train_subset=1000, lr=100.0, weight_decay=10.0, momentum=0.0,
                          nesterov=False, cost="quadratic")
    result = runs.execute(Run("d", config, "scratch"), mnist_root)
    assert result["diverged_at"] is not None and result["diverged_at"]["epoch"] == 2
    assert result["final_accuracy"] == result["history"]["test_accuracy"][0]  # epoch 1's


@pytest.mark.parametrize("problem", ["problem2", "problem3"])
def test_quick_problem_smoke(problem, mnist_root, tmp_results):
    """The whole problem at smoke size: every run, every figure, a summary table."""
    import importlib

    (tmp_results / "data").symlink_to(mnist_root, target_is_directory=True)
    module = importlib.import_module(f"compare.{problem}.experiment")
    result = CliRunner().invoke(module.command, ["--quick", "--quiet", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    for run in module.plan(True, "auto"):
        assert run.name in result.output
        assert runs.result_path(problem, run.name, run, quick=True).is_file()
    figures = sorted(p.name for p in (tmp_results / "figures" / "quick" / problem).glob("*.png"))
    assert len(figures) >= 4, figures


def test_impl_auto_picks_the_faster_implementation_per_part():
    """auto: the batch-10 sweeps in scratchnet (float64), the batch-128 nets in torchnet."""
    from compare.problem2 import experiment as problem2
    from compare.problem3 import experiment as problem3

    auto = {r.name: r for r in problem2.plan(False, "auto") + problem3.plan(False, "auto")}
    sweeps = [r for k, r in auto.items() if k.startswith(("b-", "c-"))]
    assert len(sweeps) == 12
    assert all(r.impl == "scratch" and r.config.dtype == "float64"
               and r.config.batch_size == 10 for r in sweeps)
    large = [r for r in auto.values() if r.config.batch_size == 128]
    assert {r.name for r in large} == {"d-recipe", "d-recipe-elastic", "best", "best-augmented"}
    assert all(r.impl == "torch" for r in large)
    # the baselines and the deep variants run in both, whatever --impl says
    assert {auto["a-baseline-torch"].impl, auto["a-baseline-scratch"].impl} == {"torch", "scratch"}
    # forced: every sweep and best net in the one named; augmented runs only in torchnet
    for impl in ("torch", "scratch"):
        forced = problem2.plan(False, impl) + problem3.plan(False, impl)
        assert {r.impl for r in forced if r.name[:2] in ("b-", "c-", "d-") or
                r.name.startswith("best")} == {impl}
    scratch = {r.name for r in problem2.plan(False, "scratch") + problem3.plan(False, "scratch")}
    assert "d-recipe-elastic" not in scratch and "best-augmented" not in scratch
    # the study's candidates keep torchnet under auto (their cached results stay valid)
    assert {r.impl for r in problem2.study_plan(False, "auto")} == {"torch"}
    with pytest.raises(ValueError, match="impl='jax'"):
        problem2.plan(False, "jax")


def test_seed_siblings_change_only_the_seed_and_the_name():
    from compare.problem2 import experiment as problem2
    from compare.problem3 import experiment as problem3

    assert set(problem3.CLOSE_CALLS) <= set(problem3.study_configs())   # no stale names
    for module, expected in ((problem2, 4 + 12 * 4 + 2 * 2 + 6 * 2),
                             (problem3, 2 * 2 + len(problem3.CLOSE_CALLS) * 2)):
        zero = {r.name: r for r in module.plan(False, "auto") + module.study_plan(False, "auto")}
        siblings = module.seed_plan(False, "auto")
        assert len(siblings) == expected
        for run in siblings:
            base, seed = runs.split_seed(run.name)
            assert seed >= 1 and run.name == f"{base}-seed{seed}"
            assert run.config == zero[base].config.replace(seed=seed)
            assert (run.impl, run.augment) == (zero[base].impl, zero[base].augment)
            assert run.short_hash() != zero[base].short_hash()
    names = [r.name for r in problem2.seed_plan(False, "auto")]
    assert [n for n in names if n.startswith("a-")] == [
        f"a-baseline-scratch-seed{k}" for k in (1, 2, 3, 4)]
    assert "d-recipe-elastic-seed2" in names and "study-relu1024-elastic-seed1" in names
    assert runs.split_seed("best") == ("best", 0) and runs.seed_zero(
        {"best": 1, "best-seed1": 2, "b-sgd-lr5": 3}) == {"best": 1, "b-sgd-lr5": 3}


def test_compare_problems_trains_both_in_one_pool(mnist_root, tmp_results):
    """`compare problems --quick --jobs 2`: both problems' runs and figures, one pool."""
    from compare.problem2 import experiment as problem2
    from compare.problem3 import experiment as problem3
    from compare.problem_cli import command

    (tmp_results / "data").symlink_to(mnist_root, target_is_directory=True)
    result = CliRunner().invoke(command, ["--quick", "--quiet", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    for module, figures in ((problem2, 4), (problem3, 4)):
        for run in module.plan(True, "auto"):
            assert runs.result_path(module.PROBLEM, run.name, run, quick=True).is_file(), run.name
        found = list((tmp_results / "figures" / "quick" / module.PROBLEM).glob("*.png"))
        assert len(found) == figures, found
    assert "problem2:" in result.output and "problem3:" in result.output
    # --part homework: only the homework's runs, every one of them already stored
    again = CliRunner().invoke(command, ["--quick", "--quiet", "--part", "homework"])
    assert again.exit_code == 0, again.output
    assert "d-recipe" not in again.output and "best-augmented" not in again.output
    assert "problem3/best.png" not in again.output        # no best net, so no figure of it
    assert "b-sgd-lr0.01" in again.output and "deep-relu-torch" in again.output
