"""Problems 2 and 3's run table and runner: cached results, pooled runs equal plain runs,
smoke runs."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from compare import pool, runs, table
from compare.runs import Run, augment_of
from scratchnet.config import TrainConfig

TINY = TrainConfig(train_subset=300, epochs=2, batch_size=10)


def tiny(variant, config=TINY, impl="torch", augment=()):
    """A run outside the table, filed under Problem 2's part "x"."""
    return Run(2, "x", variant, config, impl, augment)


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
    todo = [tiny("s", TINY, "scratch"), tiny("t", TINY.replace(dtype="float32")),
            tiny("t-aug", TINY.replace(dtype="float32"), "torch", augment_of(max_shift=2.0))]
    pooled = pool.execute_many(todo, quick=True, jobs=2, root=mnist_root)
    for run in todo:
        plain = runs.execute(run, mnist_root)
        assert _without_seconds(pooled[run]) == _without_seconds(plain), run.name


def test_both_implementations_start_from_the_same_weights(mnist_root, tmp_results):
    """Same config in float64: the two packages' curves agree to round-off."""
    scratch = runs.execute(tiny("s", TINY, "scratch"), mnist_root)
    torch_ = runs.execute(tiny("t", TINY, "torch"), mnist_root)
    assert scratch["history"]["test_accuracy"] == torch_["history"]["test_accuracy"]
    for a, b in zip(scratch["history"]["train_loss"], torch_["history"]["train_loss"]):
        assert a == pytest.approx(b, rel=1e-10)  # float64 round-off over 60 steps


def test_results_are_cached_and_keyed_by_config(mnist_root, tmp_results, monkeypatch):
    run = tiny("s", TINY, "scratch")
    first = pool.execute_many([run], quick=True, jobs=1, root=mnist_root)
    path = runs.result_path(run, quick=True)
    stored = json.loads(path.read_text())
    assert path.is_file() and stored["run"] == run.to_dict() and stored["name"] == "x-s"
    assert {k: stored["run"][k] for k in ("problem", "part", "variant", "seed", "homework",
                                          "study")} == dict(problem=2, part="x", variant="s",
                                                            seed=0, homework=False, study=False)

    def no_training(*args, **kwargs):
        raise AssertionError("a cached run was trained again")
    monkeypatch.setattr(pool, "execute", no_training)
    again = pool.execute_many([run], quick=True, jobs=1, root=mnist_root)
    assert again[run]["history"] == first[run]["history"]
    for changed in (tiny("s", TINY.replace(lr=0.01), "scratch"),
                    Run(2, "x", "s", TINY, "scratch", homework=True)):
        assert runs.result_path(changed, True) != path  # new fields or config, a new file
        with pytest.raises(AssertionError, match="trained again"):
            pool.execute_many([changed], quick=True, jobs=1, root=mnist_root)


def test_run_validation():
    with pytest.raises(ValueError, match="impl='jax'"):
        tiny("x", TINY, "jax")
    with pytest.raises(ValueError, match="torchnet only"):
        tiny("x", TINY, "scratch", augment_of(max_shift=1.0))
    with pytest.raises(ValueError, match="problem=4"):
        Run(4, "a", "x", TINY)
    with pytest.raises(ValueError, match="seed=1 differs"):
        Run(2, "a", "x", TINY, seed=1)


def test_cost_orders_runs_by_work():
    """The pool starts the longest runs first: more epochs, wider layers and augmentation
    each cost more; the elastic recipe outranks the plain one trained as long."""
    plain = TrainConfig(sizes=(784, 1024, 10), batch_size=128, epochs=30)
    assert tiny("a", plain).cost < tiny("b", plain.replace(epochs=60)).cost
    assert tiny("a", plain).cost < tiny("b", plain.replace(sizes=(784, 2048, 10))).cost
    elastic = augment_of(elastic_alpha=24.0, elastic_sigma=4.0)
    assert tiny("a", plain).cost < tiny("b", plain, "torch", elastic).cost


def test_divergence_is_a_result(mnist_root, tmp_results):
    # lr · weight_decay = 1000: each step multiplies the weights by about −999, so they
    # overflow after about 100 steps, in the second epoch of 100 steps (the quadratic cost
    # is at most 5, so only the loss turning non-finite can stop the run)
    config = TINY.replace(train_subset=1000, lr=100.0, weight_decay=10.0, momentum=0.0,
                          nesterov=False, cost="quadratic")
    result = runs.execute(tiny("d", config, "scratch"), mnist_root)
    assert result["diverged_at"] is not None and result["diverged_at"]["epoch"] == 2
    assert result["final_accuracy"] == result["history"]["test_accuracy"][0]  # epoch 1's


@pytest.mark.parametrize("problem", [2, 3])
def test_quick_problem_smoke(problem, mnist_root, tmp_results):
    """The whole problem at smoke size: every run, every figure, a summary table."""
    import importlib

    (tmp_results / "data").symlink_to(mnist_root, target_is_directory=True)
    module = importlib.import_module(f"compare.problem{problem}.experiment")
    result = CliRunner().invoke(module.command, ["--quick", "--quiet", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    for run in table.plan(problem, quick=True):
        assert run.name in result.output
        assert runs.result_path(run, quick=True).is_file()
    folder = tmp_results / "figures" / "quick" / f"problem{problem}"
    figures = sorted(p.name for p in folder.glob("*.png"))
    assert len(figures) >= 4, figures


def test_impl_auto_picks_the_faster_implementation_per_part():
    """auto: the batch-10 sweeps in scratchnet (float64), the batch-128 nets in torchnet."""
    auto = {r.name: r for r in table.plan()}
    sweeps = [r for r in auto.values() if r.problem == 2 and r.part in ("b", "c")]
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
        forced = table.plan(impl=impl)
        assert {r.impl for r in forced if (r.problem, r.part) in
                ((2, "b"), (2, "c"), (2, "d"), (3, "c"))} == {impl}
    scratch = {r.name for r in table.plan(impl="scratch")}
    assert "d-recipe-elastic" not in scratch and "best-augmented" not in scratch
    # the study's candidates keep torchnet under auto
    assert {r.impl for r in table.plan(2, study=True) if r.study} == {"torch"}
    with pytest.raises(ValueError, match="impl='jax'"):
        table.plan(impl="jax")


def test_the_table_names_each_run_once_from_its_fields():
    """Every run of every plan has its own name and cache key; the name is derived from the
    fields (part, variant, impl where both are trained, seed) and says nothing they do not."""
    for quick in (False, True):
        for impl in ("auto", "torch", "scratch"):
            every = table.table(quick, impl)
            assert len({r.name for r in every}) == len(every)
            assert len({r.short_hash() for r in every}) == len(every)
    names = {r.name: r for r in table.table()}
    assert names["b-sgd-lr0.01-seed2"].to_dict() | {"config": None} == {
        "problem": 2, "part": "b", "variant": "sgd-lr0.01", "seed": 2, "homework": True,
        "study": False, "config": None, "impl": "scratch", "augment": {}}
    assert (names["deep-sigmoid-bn-torch"].part, names["deep-relu-scratch"].part) == ("b", "b")
    assert names["deep-sigmoid-scratch"].part == "a" and names["best"].part == "c"
    assert names["study-augmented-seed1"].study and not names["study-augmented"].homework
    homework = table.plan(part="homework")
    assert len(homework) == 20 and {(r.problem, r.part) for r in homework} == {
        (2, "a"), (2, "b"), (2, "c"), (3, "a"), (3, "b")}


def test_seed_siblings_change_only_the_seed_and_the_name():
    assert set(table.CLOSE_CALLS) <= set(table.P3_STUDY)   # no stale variants
    for problem, expected in ((2, 4 + 12 * 4 + 2 * 2 + 6 * 2),
                              (3, 2 * 2 + len(table.CLOSE_CALLS) * 2)):
        every = [r for r in table.table() if r.problem == problem]
        zero = {(r.part, r.variant, r.impl, r.study): r for r in every if r.seed == 0}
        siblings = [r for r in every if r.seed]
        assert len(siblings) == expected
        for run in siblings:
            base = zero[run.part, run.variant, run.impl, run.study]
            assert run.seed >= 1 and run.name == f"{base.name}-seed{run.seed}"
            assert run.config == base.config.replace(seed=run.seed)
            assert (run.impl, run.augment, run.homework) == (base.impl, base.augment,
                                                             base.homework)
            assert run.short_hash() != base.short_hash()
    names = [r.name for r in table.table() if r.problem == 2 and r.seed]
    assert [r.name for r in table.table() if r.part == "a" and r.seed] == [
        f"a-baseline-scratch-seed{k}" for k in (1, 2, 3, 4)]
    assert "d-recipe-elastic-seed2" in names and "study-relu1024-elastic-seed1" in names


def test_compare_problems_trains_both_in_one_pool(mnist_root, tmp_results):
    """`compare problems --quick --jobs 2`: both problems' runs and figures, one pool."""
    from compare.problem_cli import command

    (tmp_results / "data").symlink_to(mnist_root, target_is_directory=True)
    result = CliRunner().invoke(command, ["--quick", "--quiet", "--jobs", "2"])
    assert result.exit_code == 0, result.output
    for problem in (2, 3):
        for run in table.plan(problem, quick=True):
            assert runs.result_path(run, quick=True).is_file(), run.name
        found = list((tmp_results / "figures" / "quick" / f"problem{problem}").glob("*.png"))
        assert len(found) == 4, found
    assert "problem2:" in result.output and "problem3:" in result.output
    # --part homework: only the homework's runs, every one of them already stored
    again = CliRunner().invoke(command, ["--quick", "--quiet", "--part", "homework"])
    assert again.exit_code == 0, again.output
    assert "d-recipe" not in again.output and "best-augmented" not in again.output
    assert "problem3/best.png" not in again.output        # no best net, so no figure of it
    assert "b-sgd-lr0.01" in again.output and "deep-relu-torch" in again.output
