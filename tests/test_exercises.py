"""Exercises: the generated copy, the grader, and the catalogue of mistakes.

A fresh copy must import and report every exercise "not written yet"; with
the real bodies put back, everything must pass; with each catalogued mistake
planted, that mistake must be named. Most checks run the grader in this
process on copies loaded under their own package names (fast); the command
line tests run it as students do, in its own process.
"""
from __future__ import annotations

import ast
import difflib
import itertools
import re
import shutil
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from compare.exercises import generate, mistakes, source
from compare.exercises.child import CHECKED_BY_HAND, cases_of, run_check
from compare.exercises.cli import command
from compare.exercises.context import Context
from compare.exercises.table import EXERCISES, LOOP_FILE, MARKER, TARGETS

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^[ \d]\d  \S")                 # " 3  backpropagation ..."
FINAL_ROW = re.compile(r"^ —  \S")
TRIVIAL = re.compile(r"^(|else:|try:|pass|return|[\]\)\}]+,?)$")
_names = itertools.count()


# ================================================================ helpers
def real_text(target) -> str:
    """The real function's full text."""
    return source.function_text(generate.real_file(target).read_text(encoding="utf-8"),
                                 target.qualname)


def put_back(folder: Path, replace: dict | None = None) -> None:
    """Put the real body of every exercise function back (or replace[qualname]'s text)."""
    where = generate.where_students_write()
    for _, target in TARGETS:
        path = folder / where[target.qualname]
        text = path.read_text(encoding="utf-8")
        stub = source.function_text(text, target.qualname)
        new = (replace or {}).get(target.qualname, real_text(target))
        path.write_text(text.replace(stub, new), encoding="utf-8")


def grade_here(folder: Path, number: int, mnist_root: Path) -> dict:
    """One exercise's row, graded in this process on the copy in `folder` (torch on one
    thread, as in the checker's own process: the matrices are tiny)."""
    import torch

    ctx = Context(folder, mnist_root, student_name=f"_student_copy_{next(_names)}")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return run_check(ctx, next(e.key for e in EXERCISES if e.number == number))
    finally:
        torch.set_num_threads(threads)


def invoke(*args):
    return CliRunner().invoke(command, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("exercises") / "fresh"
    generate.write(folder)
    return folder


@pytest.fixture(scope="module")
def solved(tmp_path_factory, fresh) -> Path:
    folder = tmp_path_factory.mktemp("exercises") / "solved"
    shutil.copytree(fresh, folder)
    put_back(folder)
    return folder


# ================================================================ the copy
@pytest.mark.parametrize("target", [t for _, t in TARGETS], ids=lambda t: t.qualname)
def test_every_exercise_function_is_found_in_the_real_source(target):
    path = generate.real_file(target)   # raises SourceError naming the function if it is gone
    source.find(ast.parse(path.read_text(encoding="utf-8")), target.qualname, str(path))


def test_real_scratchnet_carries_no_exercise_markers():
    import scratchnet

    assert Path(scratchnet.__file__).resolve().parent == ROOT / "scratchnet"
    for path in (ROOT / "scratchnet").rglob("*.py"):
        assert not re.search(r"Exercise \d+", path.read_text(encoding="utf-8")), path


def test_the_copy_empties_exactly_the_exercise_functions(fresh):
    where = generate.where_students_write()
    for _, target in TARGETS:
        tree = ast.parse((fresh / where[target.qualname]).read_text(encoding="utf-8"))
        body = source.find(tree, target.qualname).body
        assert isinstance(body[0], ast.Expr) and isinstance(body[0].value.value, str)  # docstring
        assert len(body) == 2 and isinstance(body[1], ast.Raise), target.qualname
        assert body[1].exc.func.id == "NotImplementedError"
    for path in fresh.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")
    readme = (fresh / "README.md").read_text(encoding="utf-8")
    positions = [readme.index(f"### {e.number}. {e.title[:1].upper()}{e.title[1:]}")
                 for e in EXERCISES]
    assert positions == sorted(positions)
    assert all(f"`{t.qualname}`" in readme for _, t in TARGETS)


def test_every_other_line_stays_byte_identical(fresh):
    changed = {}
    for _, target in TARGETS:
        if target.source != "problem1":
            changed.setdefault(generate.real_file(target), []).append(target.qualname)
    for path in (ROOT / "scratchnet").rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path not in changed:
            copy = fresh / "scratchnet" / path.relative_to(ROOT / "scratchnet")
            assert copy.read_bytes() == path.read_bytes(), path
    for path, names in changed.items():
        original = path.read_text(encoding="utf-8").splitlines(keepends=True)
        rel = (f"scratchnet/{path.relative_to(ROOT / 'scratchnet').as_posix()}"
               if ROOT / "scratchnet" in path.parents else LOOP_FILE)
        copy = (fresh / rel).read_text(encoding="utf-8").splitlines(keepends=True)
        tree = ast.parse("".join(original))
        spans = [source.body_span(original, source.find(tree, n)) for n in names]
        opcodes = difflib.SequenceMatcher(None, original, copy, autojunk=False).get_opcodes()
        for tag, i1, i2, _, _ in opcodes:
            if tag != "equal":
                assert any(s.start <= i1 and i2 <= s.stop for s in spans), (rel, original[i1:i2])


def test_no_line_of_a_removed_body_appears_in_the_copy(fresh):
    """Unless the same line is also code the student sees anyway, outside every exercise."""
    by_file, removed, kept = {}, {}, set()
    for _, target in TARGETS:
        by_file.setdefault(generate.real_file(target), []).append(target)
    for path, targets in by_file.items():
        text = path.read_text(encoding="utf-8")
        if targets[0].source == "problem1":
            text = "".join(real_text(t) for t in targets)
        remainder, taken = source.replace_bodies(text, {t.qualname: "pass\n" for t in targets})
        removed.update(taken)
        kept |= {line.strip() for line in remainder.splitlines()}
    for path in (ROOT / "scratchnet").rglob("*.py"):
        if path not in by_file:
            kept |= {line.strip() for line in path.read_text(encoding="utf-8").splitlines()}
    copy = {line.strip() for path in fresh.rglob("*") if path.is_file()
            for line in path.read_text(encoding="utf-8").splitlines()}
    for qualname, text in removed.items():
        for line in text.splitlines():
            line = line.strip()
            assert TRIVIAL.match(line) or line in kept or line not in copy, \
                f"{qualname} leaks {line!r}"


TRICKY = '''\
import math  # kept


@staticmethod
def one_liner(x): return x + 1  # SECRET 1


def spread(a,
           b=(1, 2),
           ) -> int:
    # SECRET 2: a comment before the body
    c = a + b[0]  # SECRET 3
    return c
    # SECRET 4: a comment after the last statement


class Outer:
    """Kept."""

    def method(self):
        """∂C/∂z, a docstring with characters of several bytes."""  # SECRET 5
        def inner(y):
            return y * 2  # SECRET 6
        return inner(3)

    def kept(self):
        return "SECRET" + " not: kept"
'''


def test_bodies_are_removed_whatever_shape_the_function_has():
    bodies = {name: "raise NotImplementedError\n" for name in ("one_liner", "spread", "Outer.method")}
    text, removed = source.replace_bodies(TRICKY, bodies)
    assert "SECRET " not in text.replace('"SECRET" + " not: kept"', "")
    assert all(f"SECRET {k}" in "".join(removed.values()) for k in range(1, 7))
    tree = ast.parse(text)
    for name in bodies:
        assert isinstance(source.find(tree, name).body[-1], ast.Raise), name
    assert '"""∂C/∂z, a docstring with characters of several bytes."""\n' in text
    assert "def spread(a,\n           b=(1, 2),\n           ) -> int:\n" in text
    for line in ("import math  # kept", "@staticmethod", '    """Kept."""', "    def kept(self):"):
        assert line in text
    assert source.find(ast.parse(TRICKY), "Outer.method.inner").name == "inner"
    with pytest.raises(source.SourceError, match="Outer.gone is not defined"):
        source.replace_bodies(TRICKY, {"Outer.gone": "pass\n"})


def test_new_refuses_a_folder_it_would_overwrite(tmp_path):
    other = tmp_path / "notes"
    other.mkdir()
    (other / "mine.txt").write_text("keep me")
    result = CliRunner().invoke(command, ["new", str(other)])
    assert result.exit_code == 2 and "not an exercise copy" in result.output
    assert invoke("new", other, "--force", "--quiet").exit_code == 0
    assert (other / "mine.txt").read_text() == "keep me" and (other / MARKER).is_file()
    assert invoke("new", other, "--quiet").exit_code == 0           # an untouched copy: renewed
    work = other / "scratchnet" / "activations.py"
    work.write_text(work.read_text() + "# my work\n")
    result = CliRunner().invoke(command, ["new", str(other)])
    assert result.exit_code == 2 and "scratchnet/activations.py" in result.output
    assert invoke("new", other, "--force", "--quiet").exit_code == 0
    assert "# my work" not in work.read_text()
    for folder in (ROOT, ROOT / "scratchnet"):
        result = CliRunner().invoke(command, ["new", str(folder), "--force"])
        assert result.exit_code == 2 and "part of the project" in result.output


def test_check_refuses_a_folder_that_is_not_a_copy(tmp_path):
    result = CliRunner().invoke(command, ["check", str(tmp_path)])
    assert result.exit_code == 2 and "compare exercises new" in result.output


# ================================================================ the grader, as students run it
def test_a_fresh_copy_is_all_not_written_yet(fresh, mnist_root):
    result = invoke("check", fresh, "--data", mnist_root, "--quiet")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    rows = [line for line in result.output.splitlines() if ROW.match(line)]
    assert len(rows) == len(EXERCISES)
    assert all("not written yet" in row for row in rows), result.output
    assert "not run" in result.output


def test_a_complete_copy_passes_everything_within_a_minute(solved, mnist_root):
    start = time.perf_counter()
    result = invoke("check", solved, "--data", mnist_root, "--quiet")
    seconds = time.perf_counter() - start
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if ROW.match(line) or FINAL_ROW.match(line)]
    assert len(rows) == len(EXERCISES) + 1 and all(" passed " in r for r in rows), result.output
    assert seconds < 60


def test_student_code_never_crashes_the_checker(tmp_path, solved, mnist_root):
    folder = tmp_path / "broken"
    shutil.copytree(solved, folder)
    broken = {
        "sigmoid_prime": "def sigmoid_prime(z, a):\n    raise ZeroDivisionError('oops')\n",
        "CrossEntropy.value_and_delta": ("    @staticmethod\n    def value_and_delta(z, y):\n"
                                         "        return CrossEntropy.value(z, y), z[:, :2]\n"),
        "dropout_backward": "def dropout_backward(grad, mask):\n    return grad * mask * np.nan\n",
        "StepLR.step": "    def step(self) -> None:\n        while True:\n            pass\n",
        "BatchNorm.backward": ("    def backward(self, grad_out, cache):\n"
                               "        return tuple(np.zeros(grad_out.shape[1:] or 1, np.float32)"
                               " if i else np.zeros_like(grad_out, np.float32) for i in range(3))\n"),
    }
    put_back(folder, broken)
    result = invoke("check", folder, "--data", mnist_root, "--quiet", "--time-limit", 5,
                    *itertools.chain(*(("--only", k) for k in (1, 2, 4, 5, 8, 9))))
    out = result.output
    assert result.exit_code == 1 and "Traceback" not in out
    assert "raised ZeroDivisionError: oops (at scratchnet/activations.py:" in out
    assert re.search(r"δ_L has shape \(\d+, 2\), expected \(\d+, [45]\)", out), out
    assert "contains NaN" in out
    assert "∂C/∂z has dtype float32, expected float64" in out
    assert "still running after 5 s" in out
    assert re.search(r"^ 9 .* passed ", out, re.M), out           # checked after the restart


# ================================================================ the catalogue of mistakes
@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m.key)
def test_each_catalogued_mistake_is_named(mistake, solved, tmp_path, mnist_root):
    target = next(t for _, t in TARGETS if t.qualname == mistake.qualname)
    assert target in next(e for e in EXERCISES if e.number == mistake.exercise).targets
    folder = tmp_path / "planted"
    shutil.copytree(solved, folder)
    put_back(folder, {mistake.qualname: mistakes.plant(real_text(target), mistake)})
    row = grade_here(folder, mistake.exercise, mnist_root)
    assert row["status"] == "wrong", row
    assert mistake.name in row["diagnosis"], row


def test_the_guide_lists_every_exercise_function_and_every_mistake():
    guide = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    assert all(f"`{t.qualname}`" in guide for _, t in TARGETS)
    assert all(m.name in guide for m in mistakes.MISTAKES)


def test_every_exercise_has_a_check():
    for exercise in EXERCISES:
        assert cases_of(exercise.key) is not None or exercise.key in CHECKED_BY_HAND


HOMEWORK_PROBLEM3_LOOP = '''\
def train(network, train_loader, test_loader, epochs=1, eta=0.001, optimizer_type="SGD"):
    optimizer = optim.SGD(network.parameters(), lr=eta)
    criterion = nn.CrossEntropyLoss()

    grad_ratios = []
    test_acc = []

    for epoch in range(epochs):
        network.train()
        input_grads, output_grads = 0.0, 0.0
        n_batches = 0

        for images, labels in train_loader:
            optimizer.zero_grad()
            outputs = network(images)
            loss = criterion(outputs, labels)
            loss.backward()

            # gradient norm
            input_grad_norm = network.layers[0].weight.grad.norm().item()
            output_grad_norm = network.layers[-1].weight.grad.norm().item()
            input_grads += input_grad_norm
            output_grads += output_grad_norm
            n_batches += 1

        optimizer.step()

        grad_ratio = (input_grads / n_batches) / (output_grads / n_batches + 1e-8)
        grad_ratios.append(grad_ratio)

        network.eval()
        correct, total = 0, 0
        with torch.no_grad():
            for images, labels in test_loader:
                outputs = network(images)
                predicted = torch.argmax(outputs, dim=1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()

        accuracy = correct / total
        test_acc.append(accuracy)

    return test_acc
'''


def test_the_homeworks_problem3_loop_steps_once_per_epoch(solved, tmp_path, mnist_root):
    """The homework's own loop (its signature adapted), with the step outside the batch loop."""
    folder = tmp_path / "homework"
    shutil.copytree(solved, folder)
    put_back(folder, {"train": HOMEWORK_PROBLEM3_LOOP})
    row = grade_here(folder, 10, mnist_root)
    assert row["status"] == "wrong"
    assert "1 optimizer step in an epoch of 20 batches" in row["diagnosis"], row
    assert "optimizer stepped once per epoch" in row["diagnosis"]
