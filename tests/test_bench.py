"""compare bench: the table's shape and its ratios, on a smoke-sized run."""
from __future__ import annotations

import json

from click.testing import CliRunner

from compare import bench, runs


def test_quick_bench_writes_rows_with_ratios(mnist_root, tmp_path, monkeypatch):
    monkeypatch.setattr(runs, "RESULTS", tmp_path / "results")
    result = CliRunner().invoke(bench.command, ["--quick", "--repeats", "1", "--quiet",
                                                "--device", "cpu", "--data", str(mnist_root)])
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "results" / "quick" / "bench.json").read_text())
    assert data["quick"] and data["machine"]["cpus"] >= 1
    cases = {(r["case"], r["ours"]) for r in data["rows"]}
    assert ("784-30-10: epoch, quadratic + plain SGD, training only", "scratchnet") in cases
    for row in data["rows"]:
        assert row["ours_s"] > 0
        if row.get("reference_s"):
            assert row["speedup"] == row["reference_s"] / row["ours_s"]  # ratio of this run's numbers
