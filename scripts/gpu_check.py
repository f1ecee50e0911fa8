"""The CUDA path in one prepared run: the gpu tests, the epoch benchmarks, the three recipes.

    make gpu-check                         # from an installed checkout
    PYTHONPATH=. python3 scripts/gpu_check.py   # from a bare tree with torch installed

Without a CUDA device it says so and exits 0: nothing here can be checked on
a CPU. With one, it runs (each step under its own time limit, about ten
minutes in all on a current card):

1. `pytest -m gpu`: the tests that compare the CUDA path with the CPU path;
2. `compare bench --device cuda --quick`: the epoch timings, written to
   results/bench.json with the card's name;
3. the three chosen recipes (Problem 2 (d), Problem 3 without and with
   augmentation) trained on the card, from the same initial weights as on the
   CPU; accuracies and seconds go to results/gpu/recipes.json.

It prints one line per step and exits non-zero if any step failed.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIMITS = {"tests": 180, "bench": 180, "recipes": 300}   # seconds per step


def step(name: str, argv: list[str]) -> bool:
    """Run one step as a subprocess under its time limit; print one line about it."""
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, cwd=ROOT, timeout=LIMITS[name])
        ok = done.returncode == 0
        what = "passed" if ok else f"failed (exit {done.returncode})"
    except subprocess.TimeoutExpired:
        ok, what = False, f"stopped at its {LIMITS[name]} s limit"
    print(f"gpu-check: {name} {what} in {time.perf_counter() - start:.0f} s", flush=True)
    return ok


def recipes() -> None:
    """Train the three chosen recipes on CUDA; write their accuracies and times."""
    from compare.runs import execute
    from compare.table import plan
    from scratchnet.train import write_json_atomic

    todo = [r for r in plan() if (r.problem, r.variant) in
            ((2, "recipe"), (3, "best"), (3, "best-augmented"))]
    out = {}
    for run in todo:
        result = execute(run, root=str(ROOT / "data"), device="cuda")
        out[run.name] = {"final_accuracy": result["final_accuracy"],
                         "wall_seconds": result["wall_seconds"], "device": result["device"],
                         "machine": result["machine"], "run": run.to_dict()}
        print(f"  {run.name}: {result['final_accuracy']:.4f} in "
              f"{result['wall_seconds']:.0f} s", flush=True)
    write_json_atomic(ROOT / "results" / "gpu" / "recipes.json", out)


def main() -> int:
    import torch

    if not torch.cuda.is_available():
        print("gpu-check: no CUDA device here; nothing to check (the CPU tests are `make test`).")
        return 0
    print(f"gpu-check: {torch.cuda.get_device_name(0)}, torch {torch.__version__}", flush=True)
    python = sys.executable
    ok = step("tests", [python, "-m", "pytest", "-q", "-m", "gpu", "-p", "no:cacheprovider"])
    ok &= step("bench", [python, "-m", "compare.cli", "bench", "--device", "cuda", "--quick"])
    ok &= step("recipes", [python, str(Path(__file__).resolve()), "--recipes"])
    return 0 if ok else 1


if __name__ == "__main__":
    if sys.argv[1:] == ["--recipes"]:
        sys.path.insert(0, str(ROOT))
        recipes()
        sys.exit(0)
    sys.exit(main())
