"""Exercises: the generated copy, the grader, and the catalogue of mistakes.

A fresh copy must import and report every exercise "not written yet"; with
the real bodies put back, everything must pass; correct code written another
way must pass too; each catalogued mistake, planted by overriding the function
with the mistake's own code (never by editing scratchnet's text), must be
named, and other mistakes marked wrong without a false name. Most checks run
the child's part and the grader's part in this process, the outputs passing
through the same JSON the child sends (fast); the command-line tests run the
grader as students and teaching assistants do, with child processes.
"""
from __future__ import annotations

import ast
import csv
import difflib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from unittest.mock import patch

import numpy as np
import pytest
from click.testing import CliRunner

from compare.exercises import generate, mistakes, source
from compare.exercises.check import FINAL, cases_of, judge
from compare.exercises.child import decode, encode
from compare.exercises.cli import command
from compare.exercises.grading import attempt
from compare.exercises.source import reference, student
from compare.exercises.table import BY_NUMBER, EXERCISES, LOOP_FILE, MARKER, TARGETS

ROOT = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^[ \d]\d  \S")                 # " 3  backpropagation ..."
FINAL_ROW = re.compile(r"^ —  \S")
TRIVIAL = re.compile(r"^(|else:|try:|pass|return|[\]\)\}]+,?)$")
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


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


def grade_here(code, number, mnist_root, key=None) -> dict:
    """A check's row, its cases run on `code` in this process, the outputs sent through JSON
    (torch and NumPy on one thread, as in the grader: the matrices are tiny)."""
    import torch
    from threadpoolctl import threadpool_limits

    key = key or BY_NUMBER[number].key
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(1):
            results = [attempt(case, code) for case in cases_of(key, str(mnist_root))]
            sent = [json.loads(json.dumps({k: encode(v) for k, v in r.items()})) for r in results]
            return judge(key, [{k: decode(v) if k == "outputs" else v for k, v in r.items()}
                               for r in sent], str(mnist_root))
    finally:
        torch.set_num_threads(threads)


def planted(mistake_or_function, make=None):
    """The reference with one function replaced by a mistake's code (or by make(ref))."""
    ref = reference()
    if make is None:
        mistake = mistake_or_function
        return ref.but({f: mistake.make(ref.function(f)) for f in mistake.functions})
    return ref.but({mistake_or_function: make(ref.function(mistake_or_function))})


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


def test_a_complete_copy_passes_everything(solved, mnist_root):
    result = invoke("check", solved, "--data", mnist_root, "--quiet")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if ROW.match(line) or FINAL_ROW.match(line)]
    assert len(rows) == len(EXERCISES) + 1 and all(" passed " in r for r in rows), result.output


BROKEN = {
    "sigmoid_prime": "def sigmoid_prime(z, a):\n    raise ZeroDivisionError('oops')\n",
    "CrossEntropy.value_and_delta": ("    @staticmethod\n    def value_and_delta(z, y):\n"
                                     "        return CrossEntropy.value(z, y), z[:, :2]\n"),
    "dropout_backward": "def dropout_backward(grad, mask):\n    return grad * mask * np.nan\n",
    "StepLR.step": "    def step(self) -> None:\n        while True:\n            pass\n",
    "BatchNorm.backward": ("    def backward(self, grad_out, cache):\n"
                           "        return tuple(np.zeros(grad_out.shape[1:] or 1, np.float32)"
                           " if i else np.zeros_like(grad_out, np.float32) for i in range(3))\n"),
}


def test_student_code_never_crashes_the_checker(tmp_path, solved, mnist_root):
    folder = tmp_path / "broken"
    shutil.copytree(solved, folder)
    put_back(folder, BROKEN)
    only = [a for k in (1, 2, 4, 5, 8, 9) for a in ("--only", k)]
    result = invoke("check", folder, "--data", mnist_root, "--quiet", "--time-limit", 5, *only)
    out = result.output
    assert result.exit_code == 1 and "Traceback" not in out
    assert "raised ZeroDivisionError: oops (at scratchnet/activations.py:" in out
    assert re.search(r"δ_L has shape \(\d+, 2\), expected \(\d+, [45]\)", out), out
    assert "contains NaN" in out
    assert "∂C/∂z has dtype float32, expected float64" in out
    assert "still running after 5 s" in out
    assert re.search(r"^ 9 .* passed ", out, re.M), out           # checked after the restart
    for number in (2, 4, 5):                                      # no numbers were compared
        assert re.search(rf"^ {number} .* wrong +—$", out, re.M), out


FORGER = '''
import sys as _sys
for _m in list(_sys.modules.values()):
    if getattr(_m, "__name__", "").startswith("compare.exercises"):
        for _name in ("grade", "judge", "compare", "attempt", "cases_of"):
            if hasattr(_m, _name):
                setattr(_m, _name, lambda *a, **k: {"status": "passed", "error": 0.0})
'''


def test_student_code_cannot_forge_its_grade(tmp_path, fresh, mnist_root):
    folder = tmp_path / "forger"
    shutil.copytree(fresh, folder)
    with open(folder / "scratchnet" / "activations.py", "a", encoding="utf-8") as f:
        f.write(FORGER)
    result = invoke("check", folder, "--data", mnist_root, "--quiet", "--only", 1, "--only", 6)
    assert result.exit_code == 1
    rows = [line for line in result.output.splitlines() if ROW.match(line)]
    assert len(rows) == 2 and not any(" passed " in r for r in rows), result.output


ORPHAN = '''    def step(self) -> None:
        import os, subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
        with open(os.environ["PIDS_FILE"], "w") as f:
            f.write(f"{os.getpid()} {child.pid}")
        while True:
            pass
'''


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(sys.platform != "linux", reason="process groups and /proc")
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=str)
def test_the_childs_processes_die_with_the_grader(sig, tmp_path, solved, mnist_root):
    folder = tmp_path / "orphan"
    shutil.copytree(solved, folder)
    put_back(folder, {"StepLR.step": ORPHAN})
    pids_file, tmp = tmp_path / "pids", tmp_path / "tmp"
    tmp.mkdir()
    grader = subprocess.Popen([sys.executable, "-m", "compare.cli", "exercises", "check", str(folder),
                               "--only", "8", "--data", str(mnist_root), "--quiet"],
                              env={**ENV, "PIDS_FILE": str(pids_file), "TMPDIR": str(tmp)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not pids_file.is_file() or not pids_file.read_text().strip():
        assert time.monotonic() < deadline and grader.poll() is None
        time.sleep(0.1)
    pids = [int(p) for p in pids_file.read_text().split()]
    grader.send_signal(sig)
    grader.wait(timeout=30)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)
    assert not [p for p in tmp.iterdir() if not p.name.startswith("torchinductor")]  # torch's cache


# ================================================================ correct code in other styles
def _sgd_other_style(ref):
    def _update(self, i, p, g):
        d = g + self.weight_decay * p
        if self.momentum:
            b = self.buffers[i]
            self.buffers[i] = np.array(d) if b is None else self.momentum * b + (1 - self.dampening) * d
            d = d + self.momentum * self.buffers[i] if self.nesterov else self.buffers[i]
        p[...] = p - self.lr * d
    return _update


def _adam_other_style(ref):
    def _update(self, i, p, g):
        b1, b2 = self.betas
        g = g + self.weight_decay * p
        self.m[i][...] = b1 * self.m[i] + (1 - b1) * g
        self.v[i][...] = b2 * self.v[i] + (1 - b2) * g ** 2
        m_hat, v_hat = self.m[i] / (1 - b1 ** self.t), self.v[i] / (1 - b2 ** self.t)
        p -= self.lr * m_hat / (np.sqrt(v_hat + self.eps) if self.eps_inside_sqrt
                                else np.sqrt(v_hat) + self.eps)
    return _update


def _steplr_closed_form(ref):
    def step(self):
        self.calls = getattr(self, "calls", 0) + 1
        self.lr0 = getattr(self, "lr0", self.optimizer.lr)
        self.optimizer.lr = self.lr0 * self.gamma ** (self.calls // self.step_size)
    return step


VARIANTS = [   # (exercise, function, make(ref))
    (1, "sigmoid_prime", lambda ref: lambda z, a: np.exp(-np.logaddexp(0, -z) - np.logaddexp(0, z))),
    (1, "tanh_prime", lambda ref: lambda z, a: 1.0 / np.cosh(z) ** 2),
    (1, "relu_prime", lambda ref: lambda z, a: np.where(z > 0, 1.0, 0.0)),
    (4, "dropout_backward", lambda ref: lambda grad, mask: np.multiply(mask, grad)),
    (6, "SGD._update", _sgd_other_style),
    (7, "Adam._update", _adam_other_style),
    (8, "StepLR.step", _steplr_closed_form),
]


@pytest.mark.parametrize("exercise, function, make", VARIANTS, ids=[v[1] for v in VARIANTS])
def test_correct_code_in_another_style_passes(exercise, function, make, mnist_root):
    row = grade_here(planted(function, make), exercise, mnist_root)
    assert row["status"] == "passed", row


# ================================================================ exercise 10: idioms and proofs
def _loop(*, count="tensor", backward=1, order="zbs", evaluate_on="test", eval_mode=True,
          train_every_epoch=True, smoothing=0.0, train_accuracy=False):
    """A homework-style train() with a choice of accuracy idiom and of mistakes (with no "s"
    in `order`, the step comes after the batch loop)."""
    import torch
    import torch.nn as nn
    import torch.optim as optim

    def train(network, train_loader, test_loader, epochs, eta, optimizer_type):
        criterion = nn.CrossEntropyLoss(label_smoothing=smoothing)
        if optimizer_type == "SGD":
            optimizer = optim.SGD(network.parameters(), lr=eta, momentum=0.8, nesterov=True,
                                  weight_decay=1e-4)
        else:
            optimizer = optim.Adam(network.parameters(), lr=eta, betas=(0.9, 0.999), weight_decay=1e-4)
        accuracies = []
        for epoch in range(epochs):
            if train_every_epoch or epoch == 0:
                network.train()
            for images, labels in train_loader:
                loss = None
                for what in order:
                    if what == "z":
                        optimizer.zero_grad()
                    elif what == "s":
                        optimizer.step()
                    else:
                        loss = criterion(network(images), labels)
                        for k in range(backward):
                            loss.backward(retain_graph=k + 1 < backward)
            if "s" not in order:
                optimizer.step()
            if eval_mode:
                network.eval()
            correct, total, per_batch = 0, 0, []
            with torch.no_grad():
                if train_accuracy:                  # an extra pass, for the training accuracy
                    sum(int((network(x).argmax(1) == y).sum()) for x, y in train_loader)
                for images, labels in (test_loader if evaluate_on == "test" else train_loader):
                    hits = network(images).argmax(dim=1) == labels
                    correct, total = correct + hits.sum(), total + len(labels)
                    per_batch.append(hits.float().mean().item())
            accuracies.append((correct / total).item() if count == "tensor" else
                              100 * correct.item() / total if count == "percent" else
                              sum(per_batch) / len(per_batch))
        return accuracies
    return train


@pytest.mark.parametrize("count", ["tensor", "mean of batches"])
def test_both_common_accuracy_idioms_pass(count, mnist_root):
    row = grade_here(planted("train", lambda ref: _loop(count=count)), 10, mnist_root)
    assert row["status"] == "passed", row


LOOP_MISTAKES = [   # (knobs, what the diagnosis must say, what it must not)
    (dict(backward=2), "loss.backward() ran 2 times in batch 1 of epoch 1", "never zeroed"),
    (dict(order="zsb"), "optimizer.step() ran before loss.backward() in batch 1 of epoch 1",
     "never zeroed"),
    (dict(order="bzs"), "zero_grad() ran between loss.backward() and optimizer.step() in batch 1",
     "never zeroed"),
    (dict(evaluate_on="train"), "test_loader was never read: the evaluation ran on train_loader",
     "optimizer step"),
    (dict(smoothing=0.1), "after epoch 1 the weights differ from the reference loop's on the same "
     "batches", "test accuracy"),
    (dict(count="percent"), "after epoch 1, but the network as your loop evaluated it classifies",
     "weights differ"),
]


@pytest.mark.parametrize("knobs, says, never", LOOP_MISTAKES, ids=[str(m[0]) for m in LOOP_MISTAKES])
def test_training_loop_diagnoses_are_proven_by_counted_calls(knobs, says, never, mnist_root):
    row = grade_here(planted("train", lambda ref: _loop(**knobs)), 10, mnist_root)
    assert row["status"] == "wrong", row
    assert says in row["diagnosis"], row
    assert never not in row["diagnosis"] + (row["detail"] or ""), row


HOMEWORK_PROBLEM3_LOOP = '''\
def train(network, train_loader, test_loader, epochs=1, eta=0.001, optimizer_type="SGD"):
    optimizer = optim.SGD(network.parameters(), lr=eta)
    criterion = nn.CrossEntropyLoss()
    test_acc = []
    for epoch in range(epochs):
        network.train()
        for images, labels in train_loader:
            optimizer.zero_grad()
            outputs = network(images)
            loss = criterion(outputs, labels)
            loss.backward()

        optimizer.step()

        network.eval()
        correct, total = 0, 0
        with torch.no_grad():
            for images, labels in test_loader:
                predicted = torch.argmax(network(images), dim=1)
                total += labels.size(0)
                correct += (predicted == labels).sum().item()
        test_acc.append(correct / total)
    return test_acc
'''


def test_the_homeworks_problem3_loop_steps_once_per_epoch(solved, tmp_path, mnist_root):
    """The homework's own loop (its signature adapted), with the step outside the batch loop."""
    folder = tmp_path / "homework"
    shutil.copytree(solved, folder)
    put_back(folder, {"train": HOMEWORK_PROBLEM3_LOOP})
    row = grade_here(student(folder, "_homework_copy"), 10, mnist_root)
    assert row["status"] == "wrong"
    assert "1 optimizer step in an epoch of 20 batches" in row["diagnosis"], row
    assert "optimizer stepped once per epoch" in row["diagnosis"]


# ================================================================ the catalogue, and what it must not name
LOOP_PLANTS = {"step_once_per_epoch": dict(order="zb"), "zero_grad_missing": dict(order="bs"),
               "eval_never_set": dict(eval_mode=False), "train_not_reset": dict(train_every_epoch=False)}


@pytest.mark.parametrize("mistake", mistakes.MISTAKES, ids=lambda m: m.key)
def test_each_catalogued_mistake_is_named(mistake, mnist_root):
    for function in mistake.functions:
        assert function in {t.qualname for t in BY_NUMBER[mistake.exercise].targets}
    code = planted(mistake) if mistake.make else planted(
        "train", lambda ref: _loop(**LOOP_PLANTS[mistake.key]))
    row = grade_here(code, mistake.exercise, mnist_root)
    assert row["status"] == "wrong", row
    assert row["diagnosis"].startswith(mistake.name), row


def _wrong_after_first_call(ref):
    def step(self):
        ref(self)
        self.calls = getattr(self, "calls", 0) + 1
        self.optimizer.lr *= 2.0 if self.calls == 1 else 0.5 if self.calls == 2 else 1.0
    return step


def test_positions_count_from_1(mnist_root):
    row = grade_here(planted("StepLR.step", _wrong_after_first_call), 8, mnist_root)
    assert row["status"] == "wrong" and "the optimizer's lr after call 1 is" in row["diagnosis"], row
    row = grade_here(planted("SGD._update", lambda ref: lambda self, i, p, g: ref(
        self, i, p, g * (1.5 if self.t == 2 else 1.0))), 6, mnist_root)
    assert " after step 2, entry [" in row["diagnosis"], row


def _big_arrays_only(ref):
    """Right on the small arrays of exercise 6's cases, wrong on a network's weight matrices."""
    def _update(self, i, p, g):
        ref(self, i, p, g * (1.001 if p.size > 1000 else 1.0))
    return _update


def test_a_drifting_last_check_names_the_exercise_that_causes_it(mnist_root):
    code = planted("SGD._update", _big_arrays_only)
    assert grade_here(code, 6, mnist_root)["status"] == "passed"
    row = grade_here(code, None, mnist_root, key=FINAL)
    assert row["status"] == "wrong" and row["drifted"] == 0, row
    culprit = grade_here(code, None, mnist_root, key=f"culprit {row['drifted']}")
    assert "caused by exercise 6 (SGD's step" in culprit["diagnosis"], culprit


def test_a_changed_learning_rate_shows_in_exercise_6(mnist_root):
    """An SGD that reads the rate once gives torch's steps until the scheduler changes it."""
    def frozen_rate(ref):
        def _update(self, i, p, g):
            self.__dict__.setdefault("lr0", self.lr)
            with patch.object(self, "lr", self.lr0):
                ref(self, i, p, g)
        return _update

    row = grade_here(planted("SGD._update", frozen_rate), 6, mnist_root)
    assert row["status"] == "wrong" and "after step 76" in row["diagnosis"], row


def test_the_guide_lists_every_exercise_function_and_every_mistake():
    guide = (ROOT / "docs" / "exercises.md").read_text(encoding="utf-8")
    assert all(f"`{t.qualname}`" in guide for _, t in TARGETS)
    assert all(m.name in guide for m in mistakes.MISTAKES)
    assert "compare exercises grade" in guide and "results.json" in guide


# ================================================================ a class
def test_grade_writes_a_row_per_student_and_gradescope_results(tmp_path, fresh, solved, mnist_root):
    forger = tmp_path / "class" / "mallory"
    shutil.copytree(fresh, forger)
    with open(forger / "scratchnet" / "activations.py", "a", encoding="utf-8") as f:
        f.write(FORGER)
    shutil.copytree(solved, tmp_path / "class" / "alice")
    shutil.copytree(fresh, tmp_path / "class" / "bob")
    (tmp_path / "class" / "eve").mkdir()                           # not a copy at all
    folders = sorted((tmp_path / "class").iterdir())
    out = tmp_path / "grades"
    assert invoke("grade", *folders, "--out", out, "--data", mnist_root, "--quiet").exit_code == 0
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text(encoding="utf-8"))))
    by_name = {r["student"]: r for r in rows}
    assert [r["student"] for r in rows] == ["alice", "bob", "eve", "mallory"]
    assert by_name["alice"]["exercises passed"] == "10" and by_name["alice"]["last check"] == "passed"
    assert all(by_name[n][f"{k} status"] == "not written yet" for n in ("bob", "mallory")
               for k in range(1, 11))
    assert by_name["eve"]["1 status"] == "wrong" and by_name["eve"]["1 worst error"] == "—"
    assert "not an exercise copy" in " ".join((out / "feedback" / "eve.txt").read_text().split())
    assert invoke("grade", folders[0], "--out", out / "gs", "--format", "gradescope",
                  "--data", mnist_root, "--quiet").exit_code == 0
    results = json.loads((out / "gs" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 10 and len(results["tests"]) == 11
    assert {"name", "score", "max_score", "output"} <= set(results["tests"][0])
    assert not list(out.rglob("*.partial"))


@pytest.mark.slow
def test_grade_a_class_of_ten(tmp_path, fresh, solved, mnist_root):
    """Ten copies (complete, blank, broken, one endless loop): every row right, timed."""
    kinds = ["complete"] * 4 + ["blank"] * 3 + ["broken"] * 2 + ["endless"]
    folders = []
    for k, kind in enumerate(kinds):
        folder = tmp_path / "class" / f"{k:02d}-{kind}"
        shutil.copytree(solved if kind != "blank" else fresh, folder)
        if kind == "broken":
            put_back(folder, {"sigmoid_prime": BROKEN["sigmoid_prime"], "train": "def train(:\n"})
        if kind == "endless":
            put_back(folder, {"StepLR.step": BROKEN["StepLR.step"]})
        folders.append(folder)
    start = time.perf_counter()
    assert invoke("grade", *folders, "--out", tmp_path / "out", "--data", mnist_root,
                  "--quiet").exit_code == 0
    seconds = time.perf_counter() - start
    rows = {r["student"]: r for r in csv.DictReader(
        io.StringIO((tmp_path / "out" / "grades.csv").read_text(encoding="utf-8")))}
    for name, row in rows.items():
        kind = name.split("-")[1]
        expected = {"complete": "10", "blank": "0", "broken": "8", "endless": "9"}[kind]
        assert row["exercises passed"] == expected, (name, row)
    print(f"graded {len(folders)} copies in {seconds:.0f} s")


def test_measuring_training_accuracy_too_is_no_mistake(mnist_root):
    """An extra pass over train_loader each epoch, to count training accuracy, changes no batch."""
    row = grade_here(planted("train", lambda ref: _loop(train_accuracy=True)), 10, mnist_root)
    assert row["status"] == "passed", row


def _evaluate_first(network, train_loader, test_loader, epochs, eta, optimizer_type):
    import torch

    optimizer = torch.optim.SGD(network.parameters(), lr=eta, momentum=0.8, nesterov=True,
                                weight_decay=1e-4)
    accuracies = []
    for _ in range(epochs):
        network.eval()
        with torch.no_grad():
            accuracies.append(sum(int((network(x).argmax(1) == y).sum()) for x, y in test_loader) / 100)
        network.train()
        for x, y in train_loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(network(x), y).backward()
            optimizer.step()
    return accuracies


def test_an_evaluation_before_training_is_caught(mnist_root):
    row = grade_here(planted("train", lambda ref: _evaluate_first), 10, mnist_root)
    assert row["status"] == "wrong" and "read before epoch 1's training" in row["diagnosis"], row
