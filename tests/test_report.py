"""compare report: REPORT.md built from a results folder of synthetic result files.

The files are written under the names and config hashes the current plans
expect (problem2.plan, problem3.plan, ...), with made-up but plausible numbers,
so each test can change one file and see the report follow: numbers come from
the files, missing and stale results are named, never invented.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from click.testing import CliRunner

from compare.problem1 import experiment as problem1
from compare.problem2 import figures as problem2_figures
from compare.problem2 import report as report_problem2
from compare import table
from compare.report import build as report

MACHINE = {"platform": "Linux-6.1-x86_64-with-glibc2.36", "processor": "x86_64", "cpus": 2,
           "python": "3.11.7", "numpy": "2.0.0", "torch": "2.4.0", "torch_threads": 1}
FIGURES = ["problem1/a_contour.png", "problem1/b_trajectories.png", "problem1/c_trajectories.png",
           "problem1/d_trajectories.png", "problem1/sweep.png", "problem2/a_baseline.png",
           "problem2/b_sgd_sweep.png", "problem2/c_adam_sweep.png", "problem2/d_best.png",
           "problem3/grad_ratio.png", "problem3/layer_norms.png", "problem3/accuracy.png",
           "problem3/best.png", "compare/lockstep.png"]
SGD_FINAL = {1e-4: 0.8811, 1e-3: 0.9432, 1e-2: 0.9671, 0.05: 0.9655, 0.1: 0.9602, 0.5: 0.1135}
ADAM_FINAL = {1e-4: 0.9561, 1e-3: 0.9633, 1e-2: 0.9518, 0.05: 0.8702, 0.1: 0.0980, 0.5: 0.0958}


# ---------------------------------------------------------------- synthetic results
def curve(final: float, epochs: int) -> list[float]:
    """A rising learning curve of `epochs` points that ends exactly at `final`."""
    return [round(final - 0.002 * (epochs - 1 - k), 4) for k in range(epochs)]


def write_run(folder: Path, run, accs, norms=None, diverged=None, wall=12.0, path=None):
    """One result file as compare.runs.store writes it."""
    n = len(accs)
    norms = norms or [[0.5, 1.0]] * n
    result = {"name": run.name, "run": run.to_dict(), "impl": run.impl, "device": "cpu",
              "evaluated_on": "validation" if run.config.validation else "test",
              "history": {"test_accuracy": accs, "train_loss": [0.3] * n, "grad_norms": norms,
                          "seconds": [1.0] * n, "lr": [run.config.lr] * n,
                          "diverged_at": diverged},
              "final_accuracy": accs[-1] if accs else None,
              "best_accuracy": max(accs) if accs else None, "diverged_at": diverged,
              "wall_seconds": wall, "machine": MACHINE}
    path = path or folder / f"{run.name}-{run.short_hash()}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result))
    return path


# What each seed adds to seed 0's final accuracy in the synthetic seed siblings.
SEED_DELTA = {1: 0.0010, 2: -0.0010, 3: 0.0020, 4: -0.0005}


def seed_results(folder: Path, problem: int, quick: bool) -> None:
    """Every seed sibling of a problem's runs: seed 0's curve, its last point moved by SEED_DELTA."""
    for run in (r for r in table.table(quick) if r.problem == problem and r.seed):
        zero = run.with_seed(0)
        data = json.loads((folder / f"{zero.name}-{zero.short_hash()}.json").read_text())
        accs = data["history"]["test_accuracy"]
        accs[-1] = round(accs[-1] + SEED_DELTA[run.seed], 4)
        write_run(folder, run, accs, data["history"]["grad_norms"], data["diverged_at"],
                  data["wall_seconds"])


def p2_results(folder: Path, quick: bool, study: bool = False) -> None:
    for run in table.plan(2, quick):
        epochs, lr = run.config.epochs, run.config.lr
        if run.part == "a":
            write_run(folder, run, curve(0.9432, epochs))
        elif run.part == "b":
            if lr in SGD_FINAL:
                write_run(folder, run, curve(SGD_FINAL[lr], epochs))
            else:   # the highest rates: the loss blows up in epoch 2
                write_run(folder, run, curve(0.2, 1), diverged={"epoch": 2, "step": 6123})
        elif run.part == "c":
            write_run(folder, run, curve(ADAM_FINAL[lr], epochs))
        elif run.variant == "recipe-elastic":
            write_run(folder, run, curve(0.9921, epochs), wall=700.0)
        else:
            write_run(folder, run, curve(0.9850, epochs), wall=300.0)
    if study:
        candidates = [r for r in table.plan(2, quick, study=True) if r.study and r.seed == 0]
        for k, run in enumerate(candidates):
            write_run(folder, run, curve(0.975 + 0.001 * k, run.config.epochs))


def deep_norms(first: float, epochs: int) -> list[list[float]]:
    """Nine layers' gradient norms per epoch, rising geometrically to 1 at the output."""
    return [[first ** ((8 - l) / 8) * (1 + 0.1 * e) for l in range(9)] for e in range(epochs)]


def p3_results(folder: Path, quick: bool, study: bool = False) -> None:
    if study:
        candidates = [r for r in table.plan(3, quick, study=True) if r.study and r.seed == 0]
        for k, run in enumerate(candidates):
            write_run(folder, run, curve(0.985 + 0.001 * k, run.config.epochs))
    for run in table.plan(3, quick):
        epochs = run.config.epochs
        if run.variant == "sigmoid-bn":
            write_run(folder, run, curve(0.9312, epochs), deep_norms(0.5, epochs))
        elif run.variant == "sigmoid":
            write_run(folder, run, [0.1135] * epochs, deep_norms(2e-5, epochs))
        elif run.variant == "relu":
            write_run(folder, run, curve(0.9421, epochs), deep_norms(0.8, epochs))
        elif run.variant == "best":
            write_run(folder, run, curve(0.9881, epochs), wall=900.0)
        else:
            write_run(folder, run, curve(0.9931, epochs), wall=1100.0)


FIXTURES = Path(__file__).parent / "fixtures" / "report"


def p1_result(quick: bool) -> dict:
    """results/problem1.json as compare problem1 wrote it (real numbers, the sweeps left out).

    The hash is set to the current config's, so a change of Problem1Config's
    defaults does not turn the fixture stale.
    """
    data = json.loads((FIXTURES / ("problem1.quick.json" if quick else "problem1.json")).read_text())
    data["hash"] = (problem1.QUICK if quick else problem1.Problem1Config()).short_hash()
    return data


def make_tree(root: Path, quick: bool = False, study: bool = False,
              seeds: bool = False) -> Path:
    """A complete results/ (or results/quick/) and figures/ under root; returns results/.
    study: the studies' candidates too; seeds: every seed sibling (`make study`) too."""
    results = root / "results"
    base = results / "quick" if quick else results
    p2_results(base / "problem2", quick, study or seeds)
    p3_results(base / "problem3", quick, study or seeds)
    if seeds:
        seed_results(base / "problem2", 2, quick)
        seed_results(base / "problem3", 3, quick)
    base.mkdir(parents=True, exist_ok=True)
    (base / "problem1.json").write_text(json.dumps(p1_result(quick)))
    settings = {"SGD": {"optimizer": "sgd", "options": {"lr": 0.1}, "step_lr": None,
                        "final": 8.9e-16, "max": 1.1e-15, "max_abs_diff": [1e-16, 8.9e-16]}}
    (base / "compare").mkdir(exist_ok=True)
    (base / "compare" / "lockstep.json").write_text(json.dumps(
        {"device": "cpu", "steps": 1000, "steps_per_epoch": 100, "batch_size": 10,
         "sizes": [784, 30, 10], "bound": 1e-9, "settings": settings}))
    (base / "compare" / "gradcheck.json").write_text(json.dumps(
        {"device": "cpu", "autograd_rtol": 1e-10, "fd_rtol": 1e-7, "fd_h": 1e-5,
         "rows": [{"case": "sigmoid/d2", "autograd": 4.9e-16, "finite_differences": 2.2e-8,
                   "ok": True}]}))
    (base / "bench.json").write_text(json.dumps(
        {"machine": {**MACHINE, "when": "2025-01-01T00:00:00+00:00"}, "repeats": 3,
         "rows": [{"case": "784-30-10 epoch", "reference": "Nielsen per-sample loop",
                   "reference_s": 30.0, "ours": "scratchnet", "ours_s": 4.0, "speedup": 7.5}]}))
    figures = root / "figures" / ("quick" if quick else "")
    for rel in FIGURES:
        (figures / rel).parent.mkdir(parents=True, exist_ok=True)
        (figures / rel).write_bytes(b"\x89PNG\r\n\x1a\n")
    return results


def build(root: Path, quick: bool = False, out: str = "REPORT.md"):
    return report.build(report.collect(root / "results", quick), root / "figures", root / out)


def status(rep, key: str) -> str:
    return next(s.status for s in rep.sections if s.key == key)


def result_file(results: Path, problem: str, name: str) -> Path:
    (path,) = [p for p in (results / problem).glob(f"{name}-*.json")
               if re.fullmatch(rf"{re.escape(name)}-[0-9a-f]{{8}}\.json", p.name)]
    return path


@pytest.fixture
def tree(tmp_path) -> Path:
    make_tree(tmp_path)
    return tmp_path


# ---------------------------------------------------------------- golden reports
# REPORT.md of fixed trees, as committed under tests/fixtures/report/REPORT.<kind>.md: a
# change of the report's words shows up as a diff there. After a deliberate change,
# regenerate them with UPDATE_GOLDEN=1 and commit the new files on their own.
GOLDEN_MTIME = 1735787040.0      # 2025-01-02 03:04 UTC: the header's "When" stays put
GOLDEN = ("full", "quick", "partial", "empty", "scratch", "study")


def golden_report(kind: str, root: Path) -> str:
    """The report of one fixed tree under root: full, quick, partial, empty, scratch or study.

    partial: the study run, but no seed siblings; the baseline stale; the augmented
    recipe, the Adam sweep and the timings missing; Problem 1 stale; one figure
    missing and one older than its results. study: full, with the studies and every
    seed sibling (what `make study` adds).
    """
    if kind != "empty":
        make_tree(root, quick=kind == "quick", study=kind == "partial", seeds=kind == "study")
    results = root / "results"
    if kind == "partial":
        path = result_file(results, "problem2", "a-baseline-torch")
        data = json.loads(path.read_text())
        data["run"]["config"]["epochs"] = 29
        path.unlink()
        (path.parent / "a-baseline-torch-0badc0de.json").write_text(json.dumps(data))
        result_file(results, "problem3", "best-augmented").unlink()
        for path in (results / "problem2").glob("c-adam-*.json"):
            path.unlink()
        (results / "bench.json").unlink()
        data = json.loads((results / "problem1.json").read_text())
        data["hash"], data["config"]["n_steps"] = "00000000", 5000
        (results / "problem1.json").write_text(json.dumps(data))
        (root / "figures" / "problem2" / "b_sgd_sweep.png").unlink()
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (GOLDEN_MTIME, GOLDEN_MTIME))
    if kind == "partial":
        os.utime(root / "figures" / "problem2" / "a_baseline.png", (0, 0))
    src = report.collect(results, kind == "quick", "scratch" if kind == "scratch" else "auto")
    return report.build(src, root / "figures", root / "REPORT.md").text


@pytest.mark.parametrize("kind", GOLDEN)
def test_report_matches_golden(kind, tmp_path):
    text = golden_report(kind, tmp_path)
    golden = FIXTURES / f"REPORT.{kind}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


# ---------------------------------------------------------------- tests
def test_complete_tree_answers_every_section(tree):
    rep = build(tree)
    assert all(s.status == "complete" for s in rep.sections), rep.summary()
    text = rep.text
    assert "not run yet" not in text and "stale" not in text
    assert "94.32%: 0.68 percentage points below 0.95 — just below 0.95" in text
    assert "**Best rate after 30 epochs: lr = 0.01**, at 96.71%" in text
    assert "diverged at epoch 2 (step 6,123)" in text
    assert "Adam's best final accuracy, 96.33% at lr = 0.001" in text
    assert "**Test accuracy: 98.50%**" in text and "The target of 98.3% is met" in text
    assert "compare problem2 --study" in text      # the study was not run: say how
    assert "Full runs" in text or "full runs" in text
    assert str(tree) not in text                   # no absolute paths of this machine


def test_numbers_come_from_the_files(tree):
    path = result_file(tree / "results", "problem2", "d-recipe")
    data = json.loads(path.read_text())
    data["history"]["test_accuracy"][-1] = data["final_accuracy"] = 0.9712
    path.write_text(json.dumps(data))
    text = build(tree).text
    assert "**Test accuracy: 97.12%**" in text
    assert "98.50%" not in text
    assert "The target of 98.3% is missed by 1.18 percentage points" in text


def test_best_rate_is_computed_not_assumed(tree):
    path = result_file(tree / "results", "problem2", "b-sgd-lr0.05")
    data = json.loads(path.read_text())
    data["history"]["test_accuracy"][-1] = data["final_accuracy"] = 0.9701
    path.write_text(json.dumps(data))
    text = build(tree).text
    assert "**Best rate after 30 epochs: lr = 0.05**, at 97.01%" in text
    assert "runner-up lr = 0.01 at 96.71%" in text


def test_gradient_ratios_and_orders_of_magnitude(tree):
    text = build(tree).text
    assert "2.0e-05" in text                       # the sigmoid ratio, first epoch
    assert "student's solution" in text and "0.000046" in text
    assert "Even so the net does not learn: 11.35%" in text
    # ReLU ratio 0.8 vs sigmoid 2e-5: log10(4e4) = 4.6 orders of magnitude
    assert "4.6 orders of magnitude above the sigmoid net's" in text


def test_a_missing_result_is_named_not_invented(tree):
    result_file(tree / "results", "problem3", "best-augmented").unlink()
    rep = build(tree)
    assert status(rep, "p3c") == "partial"
    assert "`best-augmented`" in rep.text and "make problem3" in rep.text
    assert "99.31%" not in rep.text                # its accuracy is nowhere


def test_a_missing_section_says_so(tree):
    for path in (tree / "results" / "problem2").glob("c-adam-*.json"):
        path.unlink()
    rep = build(tree)
    assert status(rep, "p2c") == "missing"
    section = rep.text.split('id="p2c"')[1].split('id="p2d"')[0]
    assert "Not run yet" in section and "make problem2" in section
    assert "%" not in section                      # no accuracy of any kind


def test_a_stale_result_is_named_stale(tree):
    results = tree / "results"
    path = result_file(results, "problem2", "a-baseline-torch")
    data = json.loads(path.read_text())
    data["run"]["config"]["epochs"] = 29
    data["final_accuracy"] = 0.9111
    path.unlink()
    (path.parent / "a-baseline-torch-0badc0de.json").write_text(json.dumps(data))
    rep = build(tree)
    assert status(rep, "p2a") == "partial"
    assert "stale: `results/problem2/a-baseline-torch-0badc0de.json`" in rep.text
    assert "epochs: 29 → 30" in rep.text
    assert "91.11%" not in rep.text


def test_problem1_stale_when_its_config_changed(tree):
    path = tree / "results" / "problem1.json"
    data = json.loads(path.read_text())
    data["hash"], data["config"]["n_steps"] = "00000000", 5000
    path.write_text(json.dumps(data))
    rep = build(tree)
    assert {status(rep, k) for k in ("p1a", "p1b", "p1c", "p1d", "p1x")} == {"stale"}
    assert "n_steps: 5000 → 100000" in rep.text
    assert "27,534" not in rep.text


def test_problem1_answers_from_the_json(tree):
    text = build(tree).text
    assert ("Momentum (γ = 0.9) is the fastest: its squared error drops below 1e-06 at "
            "step 27,534") in text
    assert "Gradient descent never gets below 1e-06 in 100,000 steps" in text
    assert "**Better at η = 0.001: Adam (homework: ε inside √).**" in text
    assert "Trade-off: Adam accepts a rate 62× momentum's threshold" in text


def test_out_in_docs_copies_figures_and_links_them(tree):
    out = tree / "docs" / "REPORT.md"
    rep = report.generate(out, tree / "results", tree / "figures")
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", out.read_text())
    assert len(links) == len(FIGURES)
    for link in links:
        assert not link.startswith("/") and link.startswith("figures/")
        assert (out.parent / link).is_file()
    assert (tree / "docs" / "figures" / "problem2" / "a_baseline.png").is_file()
    assert rep.copies


def test_report_at_the_root_links_figures_in_place(tree):
    out = tree / "REPORT.md"
    rep = report.generate(out, tree / "results", tree / "figures")
    assert not rep.copies
    assert "](figures/problem2/a_baseline.png)" in out.read_text()


def test_missing_and_outdated_figures_are_named(tree):
    (tree / "figures" / "problem2" / "b_sgd_sweep.png").unlink()
    old = tree / "figures" / "problem2" / "a_baseline.png"
    os.utime(old, (0, 0))             # long before its results
    text = build(tree).text
    assert "`figures/problem2/b_sgd_sweep.png` is not drawn yet: run `make problem2`" in text
    assert "older than the results above" in text


def test_quick_mode_reads_results_quick(tmp_path):
    make_tree(tmp_path, quick=True)
    quick = build(tmp_path, quick=True)
    assert all(s.status == "complete" for s in quick.sections), quick.summary()
    assert "quick smoke runs" in quick.text
    assert "figures/quick/problem2/a_baseline.png" in quick.text
    assert "student's final" not in quick.text     # 1-epoch runs: no comparison with 30 epochs
    full = build(tmp_path, quick=False)
    assert {s.status for s in full.sections} == {"missing", "optional"}   # optional: the timings


def test_the_study_table_when_present(tmp_path):
    make_tree(tmp_path, study=True)
    text = build(tmp_path).text
    section = text.split('id="p2d"')[1].split('id="p3a"')[0]
    plain = [r.name for r in table.plan(2, study=True)
             if r.study and not r.seed and not r.augment]
    winner = plain[-1]                             # make_tree scores it highest
    assert "**The study.**" in section and f"**{winner}**" in section
    assert "validation accuracy" in section
    assert "*not* this configuration" in section   # the synthetic winner is not the recipe
    assert "one seed: no verdict" in section       # no seed siblings: the tie rule cannot apply


def test_seeds_give_means_ties_and_the_homeworks_numbers_placed(tmp_path):
    make_tree(tmp_path, seeds=True)
    rep = build(tmp_path)
    assert all(s.status == "complete" for s in rep.sections), rep.summary()
    text = rep.text
    # the baseline, scratchnet: 0.9432 and seeds 1-4 at +0.0010, -0.0010, +0.0020, -0.0005:
    # mean 0.9435, sd sqrt(1.45e-6) = 0.0012; the homework's 94.45% is 0.83 sd above
    p2a = text.split('id="p2a"')[1].split('id="p2b"')[0]
    assert "| scratchnet | 94.32% | 94.35 ± 0.12% (n = 5) |" in p2a
    assert "the student's 94.45% lies 0.8 standard deviations above our mean" in p2a
    p2b = text.split('id="p2b"')[1].split('id="p2c"')[0]
    assert "| 0.001 | 94.32% | 94.35 ± 0.12% (n = 5) |" in p2b and "94.45% (+0.8 sd)" in p2b
    # study: seed 0 at 0.975 + 0.001 k, seeds 1, 2 at +-0.001: sd 0.001, n 3; the noise
    # limit is 2·sqrt(2e-6/3) = 0.00163, so the runner-up (0.001 behind) ties, the rest not
    p2d = text.split('id="p2d"')[1].split('id="p3a"')[0]
    assert "2·√(sd₁²/n₁ + sd₂²/n₂)" in p2d
    assert "| study-relu1024-drop0.5 |" in p2d and "| tie (within noise) |" in p2d
    assert "| below (beyond noise) |" in p2d
    assert "tied within noise with `study-relu1024-drop0.5`" in p2d
    assert "`study-relu1024-drop0.5`'s configuration, which ties with it" in p2d
    assert "one seed;" not in text     # every planned sibling is there (no "adds seeds")
    assert "80 of the 80 seed siblings" in text


def test_one_seed_says_what_adds_more(tree):
    text = build(tree).text
    p2d = text.split('id="p2d"')[1].split('id="p3a"')[0]
    assert "one seed; `make study` adds seeds 1 and 2" in p2d
    p2b = text.split('id="p2b"')[1].split('id="p2c"')[0]
    assert "one seed; `make study` adds seeds 1–4" in p2b
    assert not re.search(r"\d sd\)", p2b) and "Placed in the spread" not in p2b  # no seeds


def test_published_results_beside_our_recipes(tree):
    text = build(tree).text
    p2d = text.split('id="p2d"')[1].split('id="p3a"')[0]
    p3c = text.split('id="p3c"')[1].split('id="checks"')[0]
    for section in (p2d, p3c):
        assert section.count("| *published:* ") == 7
        assert "| 99.65% |" in section and "| 98.75% |" in section
    # d-recipe-elastic 99.21% against Simard et al.'s elastic 99.3%
    assert "Simard, Steinkraus & Platt 2003 (ICDAR), 99.3%: −0.09 points (seed 0)" in p2d
    # best 98.81% against Srivastava et al.'s 3×1024 dropout 98.75%
    assert "Srivastava et al. 2014 (JMLR 15, Table 2), 98.75%: +0.06 points (seed 0)" in p3c


def test_the_report_says_which_implementation_trained_each_part(tree):
    text = build(tree).text
    assert "the learning-rate sweeps trained by scratchnet (float64)" in text
    assert "the recipes and best nets trained by torchnet (float32)" in text
    assert "float64; trained by scratchnet." in text.split('id="p2b"')[1]


def test_command_line(tree, monkeypatch):
    monkeypatch.chdir(tree)
    monkeypatch.delenv("QUICK", raising=False)
    result = CliRunner().invoke(report.command, ["--out", "docs/REPORT.md"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "wrote docs/REPORT.md: all sections complete"
    assert (tree / "docs" / "REPORT.md").is_file()
    quiet = CliRunner().invoke(report.command, ["--quiet"])
    assert quiet.exit_code == 0 and quiet.output == ""
    bad = CliRunner().invoke(report.command, ["--impl", "jax"])
    assert bad.exit_code == 2 and "jax" in bad.output


def test_timings_are_optional(tree):
    (tree / "results" / "bench.json").unlink()      # make all does not run make bench
    rep = build(tree)
    assert status(rep, "timings") == "optional"
    assert rep.summary() == "all sections complete; optional: timings"
    section = rep.text.split('id="timings"')[1]
    assert "`make bench` fills this section" in section
    assert "- **Complete:** 13 of 13 sections; optional and not run" in rep.text


def test_quick_report_never_overwrites_the_real_one(tmp_path, monkeypatch):
    make_tree(tmp_path, quick=True)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "REPORT.md").write_text("the real report\n")
    monkeypatch.delenv("QUICK", raising=False)
    done = CliRunner().invoke(report.command, ["--quick"])
    assert done.exit_code == 0, done.output
    assert done.output.startswith("wrote REPORT.quick.md: all sections complete")
    assert "quick smoke runs" in (tmp_path / "REPORT.quick.md").read_text()
    monkeypatch.setenv("QUICK", "1")                 # QUICK=1 make all, make report
    assert CliRunner().invoke(report.command, ["--quiet"]).exit_code == 0
    assert (tmp_path / "REPORT.md").read_text() == "the real report\n"
    assert "/REPORT.quick.md" in (Path(__file__).parents[1] / ".gitignore").read_text()


@pytest.mark.parametrize("where", ["a-file/REPORT.md", "read-only/REPORT.md"])
def test_out_is_checked_before_any_work(tree, monkeypatch, where):
    monkeypatch.chdir(tree)
    monkeypatch.delenv("QUICK", raising=False)
    (tree / "a-file").write_text("not a folder")
    (tree / "read-only").mkdir()
    (tree / "read-only").chmod(0o555)
    if where.startswith("read-only") and os.access(tree / "read-only", os.W_OK):
        pytest.skip("running as a user who may write anywhere")

    def no_work(*args, **kwargs):
        raise AssertionError("the report was built before --out was checked")
    monkeypatch.setattr(report, "generate", no_work)
    done = CliRunner().invoke(report.command, ["--out", where])
    assert done.exit_code == 2, done.output
    assert "Invalid value for '--out'" in done.output and where in done.output


def test_the_report_is_written_atomically(tree):
    out = tree / "REPORT.md"
    out.write_text("the old report\n")

    class Unwritable(str):
        def encode(self, *args, **kwargs):
            raise OSError("disk full")
    rep = build(tree)
    rep.text = Unwritable(rep.text)
    with pytest.raises(OSError, match="disk full"):
        report.write(rep, out)
    assert out.read_text() == "the old report\n"
    assert sorted(p.name for p in tree.iterdir() if p.is_file()) == ["REPORT.md"]
    report.write(build(tree), out)
    assert out.read_text().startswith("# Homework 7")


def test_a_missing_fact_is_an_error_not_an_empty_string():
    from compare.report.render import ENV
    with pytest.raises(jinja2.UndefinedError):
        ENV.from_string("{{ nowhere }}").render()
    assert {"pct", "sci", "plural", "fmt", "para"} <= set(ENV.filters)


def test_student_numbers_match_the_homework_quote():
    assert report_problem2.STUDENT_P2[("sgd", 1e-3)] == problem2_figures.STUDENT_SGD_1E3[-1]


def test_report_does_not_import_torch(tree):
    code = ("import sys; from pathlib import Path; from compare.report import build as report; "
            "report.generate(Path(sys.argv[1]) / 'R.md', Path(sys.argv[1]) / 'results', "
            "Path(sys.argv[1]) / 'figures'); assert 'torch' not in sys.modules, 'torch imported'")
    done = subprocess.run([sys.executable, "-c", code, str(tree)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_other_implementation_is_not_stale(tree):
    rep = report.build(report.collect(tree / "results", False, "torch"), tree / "figures",
                       tree / "REPORT.md")
    assert status(rep, "p2b") == "missing"
    assert "compare problem2 --impl torch" in rep.text
    assert "only the other implementation's result exists" in rep.text
    assert "stale: `" not in rep.text


def test_a_changed_result_format_is_reported_not_fatal(tree):
    path = result_file(tree / "results", "problem3", "deep-relu-torch")
    data = json.loads(path.read_text())
    del data["history"]
    path.write_text(json.dumps(data))
    src = report.collect(tree / "results")
    assert src.damaged == [(f"results/problem3/{path.name}", "missing 'history'")]
    assert src.problem3["deep-relu-torch"].status == "damaged"
    rep = report.build(src, tree / "figures", tree / "REPORT.md")
    assert status(rep, "p3b") == "partial" and "Traceback" not in rep.text
    assert status(rep, "p2a") == "complete"
