"""compare.schema: a damaged result is named as damaged, with the reason, never used."""
from __future__ import annotations

import json
import math

import pytest

from compare import schema


def good():
    return {"name": "x", "run": {"problem": 2, "part": "a", "variant": "x", "seed": 0,
                                 "homework": True, "study": False, "config": {},
                                 "impl": "torch", "augment": {}},
            "impl": "torch", "device": "cpu", "evaluated_on": "test",
            "history": {"test_accuracy": [0.5, 0.9], "train_loss": [2.3, 0.3],
                        "grad_norms": [[1.0, 2.0], [0.5, 1.0]], "seconds": [1.0, 1.0],
                        "lr": [0.1, 0.1], "diverged_at": None},
            "final_accuracy": 0.9, "best_accuracy": 0.9, "diverged_at": None,
            "wall_seconds": 2.0}


def test_a_sound_result_passes():
    assert schema.run_result_problem(good()) is None


@pytest.mark.parametrize("edit, fragment", [
    (lambda r: r.update(final_accuracy=math.nan), "final_accuracy"),
    (lambda r: r.update(final_accuracy=7.5), "final_accuracy"),
    (lambda r: r.update(best_accuracy=math.inf), "best_accuracy"),
    (lambda r: r.update(final_accuracy=True), "final_accuracy"),
    (lambda r: r.update(impl=3), "impl"),
    (lambda r: r.update(wall_seconds="12"), "wall_seconds"),
    (lambda r: r["history"].update(train_loss=["a", "b"]), "history.train_loss"),
    (lambda r: r["history"].update(test_accuracy=[0.5, 1.5]), "history.test_accuracy"),
    (lambda r: r["history"].update(lr=[0.1]), "differ in length"),
    (lambda r: r.update(diverged_at="yes"), "diverged_at"),
    (lambda r: r.update(diverged_at={"epoch": 0, "step": 1}), "diverged_at"),
    (lambda r: r.pop("history"), "missing 'history'"),
    (lambda r: r.update(evaluated_on="train"), "evaluated_on"),
    (lambda r: r["run"].pop("part"), "missing 'run.part'"),
    (lambda r: r["run"].update(seed=True), "'run.seed' is not an int"),
    (lambda r: r["run"].update(study="no"), "'run.study' is not a bool"),
])
def test_each_damage_is_named(edit, fragment):
    result = good()
    edit(result)
    why = schema.run_result_problem(result)
    assert why is not None and fragment in why


@pytest.mark.parametrize("content, fragment", [
    ("[" * 100000 + "]" * 100000, "nested too deeply"),
    ("", "empty"),
    ("{\"a\": ", "not valid JSON"),
])
def test_unreadable_files(tmp_path, content, fragment):
    path = tmp_path / "r.json"
    path.write_text(content)
    data, why = schema.read_json(path)
    assert data is None and fragment in why


def test_symlink_loop_and_folder_are_not_results(tmp_path):
    loop = tmp_path / "loop.json"
    loop.symlink_to(loop)
    assert schema.read_json(loop)[1] is not None
    assert schema.read_json(tmp_path)[1] == "not a regular file"
    assert schema.read_json(tmp_path / "none.json") == (None, None)


def test_top_level_list_is_not_a_result(tmp_path):
    assert schema.run_result_problem([good()]) == "not a JSON object"
    path = tmp_path / "r.json"
    path.write_text(json.dumps([1]))
    assert schema.read_json(path) == ([1], None)
