"""`compare bench`: side-by-side timings in one process -> results/bench.json.

Each figure is the median of `repeats` timed repetitions after one untimed
warm-up, and each row's ratio is taken against its reference measured in the
same run:
  - one epoch of 784-30-10 and of 784-30×8-10 sigmoid at batch size 10:
      * Nielsen's per-sample loop (reference) vs scratchnet, both quadratic
        cost + plain SGD, training only (what network.py's loop does);
      * the homework's DataLoader loop (reference) vs torchnet on the CPU (and
        on CUDA when there is one) and scratchnet, all cross-entropy + SGD
        with Nesterov 0.8 and weight decay 1e-4, training plus evaluation;
  - 10⁵ Rosenbrock steps: the homework's loop as written vs the package's path.
"""
from __future__ import annotations

import statistics
import sys
import time
from datetime import datetime, timezone

import click
import numpy as np

from . import reference, runs
from .problem1 import rosenbrock
from .problem_cli import device_callback   # checks --device, importing torch only then

SHALLOW = (784, 30, 10)
DEEP = (784,) + (30,) * 8 + (10,)


def timed(fn, repeats: int) -> float:
    """Median seconds of fn() over `repeats` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ---------------------------------------------------------------- the contestants
def nielsen_epoch(sizes, X, y, n):
    import scratchnet
    from scratchnet.train import epoch_order

    init = scratchnet.Network(sizes, cost="quadratic", seed=0)
    order = epoch_order(0, 0, len(X))[:n]

    def go():
        reference.NielsenNetwork(init.weights, init.biases).train_epoch(X, y, 10, 0.1, order)
    return go


def scratch_epoch(sizes, X, y, n, test, homework: bool):
    from scratchnet.config import TrainConfig
    from scratchnet.train import run

    if homework:   # the homework's optimizer, with evaluation
        config = TrainConfig(sizes=sizes, epochs=1, train_subset=n)
        data, test_data = (X[:n], y[:n]), test
    else:          # network.py's algorithm: quadratic cost, plain SGD, no evaluation
        config = TrainConfig(sizes=sizes, cost="quadratic", lr=0.1, momentum=0.0,
                             nesterov=False, weight_decay=0.0, epochs=1, train_subset=n)
        data, test_data = (X[:n], y[:n]), None
    return lambda: run(config, data, test_data)


def torch_epoch(sizes, n, device, root):
    from scratchnet.config import TrainConfig
    from torchnet.train import load_data, run

    config = TrainConfig(sizes=sizes, epochs=1, train_subset=n, dtype="float32")
    train_data, test_data = load_data(config, root, device)
    test_data = tuple(t[:_test_size(n, len(test_data[0]))] for t in test_data)

    def go():
        run(config, train_data, test_data)
        if train_data[0].device.type == "cuda":
            import torch
            torch.cuda.synchronize()
    return go


def _test_size(n: int, n_test: int) -> int:
    """Test samples evaluated with an n-sample training subset, so both scale alike."""
    return n_test * n // 60000


def homework_epoch(sizes, n, root):
    if n < 60000:
        return None  # the homework's DataLoader loop has no subset option: full runs only
    return lambda: reference.homework_epoch(root, sizes)


def row(case, reference, reference_s, ours, ours_s, **extra) -> dict:
    """One line of the table; speedup = reference_s / ours_s (None without a reference)."""
    return {"case": case, "reference": reference, "reference_s": reference_s, "ours": ours,
            "ours_s": ours_s, "speedup": reference_s / ours_s if reference_s else None, **extra}


def rosenbrock_rows(repeats: int, steps: int) -> list[dict]:
    rows = []
    for method, homework, kwargs in (
            ("gd", reference.homework_gd, {}),
            ("momentum", reference.homework_gd_with_mom, {}),
            ("adam", reference.homework_adams, {})):
        ref = timed(lambda: homework(reference.homework_grad, [-4.0, -2.0], n_epochs=steps,
                                     eta=1e-4, **kwargs), repeats)
        ours = timed(lambda: rosenbrock.run(method, 1e-4, steps), repeats)
        rows.append(row(f"Rosenbrock {steps:,} steps, {method}", "homework loop", ref,
                        "compare.problem1.rosenbrock.run", ours))
    rates = np.logspace(-6, -4, 16)  # a sweep: the package runs all rates as one (16, 2) array
    ref = timed(lambda: [reference.homework_gd_with_mom(reference.homework_grad, [-4.0, -2.0],
                                                        n_epochs=steps, eta=lr) for lr in rates],
                repeats)
    ours = timed(lambda: rosenbrock.run("momentum", rates, steps), repeats)
    return rows + [row(f"Rosenbrock sweep, momentum at {len(rates)} rates × {steps:,} steps",
                       "homework loop per rate", ref,
                       "compare.problem1.rosenbrock.run (rates vectorized)", ours)]


# ---------------------------------------------------------------- the table
def epoch_rows(label, sizes, X, y, test, n, repeats, root, devices) -> list[dict]:
    scale = 60000 / n  # seconds per full epoch when a subset is timed
    test = tuple(a[:_test_size(n, len(test[0]))] for a in test)
    ref = timed(nielsen_epoch(sizes, X, y, n), repeats) * scale
    ours = timed(scratch_epoch(sizes, X, y, n, test, homework=False), repeats) * scale
    rows = [row(f"{label}: epoch, quadratic + plain SGD, training only",
                "Nielsen per-sample loop", ref, "scratchnet", ours)]
    hw = homework_epoch(sizes, n, root)
    ref = timed(hw, repeats) if hw else None
    scratch = timed(scratch_epoch(sizes, X, y, n, test, homework=True), repeats) * scale
    case = f"{label}: epoch, cross-entropy + SGD Nesterov, with evaluation"
    for device in devices:
        ours = timed(torch_epoch(sizes, n, device, root), repeats) * scale
        rows.append(row(case, "homework DataLoader loop", ref, f"torchnet ({device}, float32)",
                        ours, vs_scratchnet=ours / scratch))
    return rows + [row(case, "homework DataLoader loop", ref, "scratchnet (float64)", scratch)]


def machine_info() -> dict:
    """runs.machine() with the time, the BLAS libraries and the CUDA card, if any."""
    import torch
    from threadpoolctl import threadpool_info

    return {"when": datetime.now(timezone.utc).isoformat(timespec="seconds"), **runs.machine(),
            "blas": [{k: i.get(k) for k in ("internal_api", "num_threads", "architecture")}
                     for i in threadpool_info()],
            "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None}


def print_rows(rows) -> None:
    for r in rows:
        ref = "" if r.get("reference_s") is None else f"{r['reference']}: {r['reference_s']:.3f}s  "
        speed = ("" if r.get("speedup") is None else f"  ×{r['speedup']:.1f} faster"
                 if r["speedup"] >= 1 else f"  {1 / r['speedup']:.2f}× slower")
        extra = "" if r.get("vs_scratchnet") is None else f"  ({r['vs_scratchnet']:.2f}× scratchnet's time)"
        click.echo(f"{r['case']}\n    {ref}{r.get('ours', '')}: {r['ours_s']:.3f}s{speed}{extra}")


@click.command()
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True,
              help="Timed repetitions per figure (after one warm-up); the median is reported.")
@click.option("--quick", is_flag=True, help="Time 1/10 of an epoch and scale up (also QUICK=1); "
              "skips the homework loop, which cannot run on a subset.")
@click.option("--device", "devices", multiple=True, default=None, callback=device_callback,
              help="torch devices to time (default: cpu, plus cuda when available).")
@click.option("--data", "root", default="data", show_default=True, help="MNIST root folder.")
@click.option("--quiet", is_flag=True, help="Print only the table.")
def command(repeats, quick, devices, root, quiet):
    """Side-by-side timings of the reference loops and the two packages."""
    import torch
    from scratchnet import mnist

    quick = runs.quick_mode(quick)
    devices = list(devices) or (["cpu"] + (["cuda"] if torch.cuda.is_available() else []))
    X, y = mnist.load("train", root)
    test = mnist.load("test", root)
    n = 6000 if quick else len(X)
    steps = 10_000 if quick else 100_000
    jobs = [("784-30-10", SHALLOW), ("784-30×8-10", DEEP)]
    rows = []
    with click.progressbar(jobs + [("Rosenbrock", None)], label="timing", hidden=quiet,
                           item_show_func=lambda j: j and j[0]) as bar:
        for label, sizes in bar:
            if sizes is None:
                rows += rosenbrock_rows(repeats, steps)
            else:
                rows += epoch_rows(label, sizes, X, y, test, n, repeats, root, devices)
    result = {"machine": machine_info(), "repeats": repeats, "quick": quick, "rows": rows,
              "command": " ".join(["compare bench"] + sys.argv[2:])}
    path = (runs.RESULTS / "quick" / "bench.json") if quick else (runs.RESULTS / "bench.json")
    runs.write_json_atomic(path, result)
    print_rows(rows)
    click.echo(f"-> {path}")
