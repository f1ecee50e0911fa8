"""`compare bench`: side-by-side timings in one process -> results/bench.json.

Each figure is the median of `repeats` timed repetitions after one warm-up; each ratio is
against a reference timed in the same run: one epoch of 784-30-10 and 784-30×8-10 at batch
10, Nielsen's per-sample loop against scratchnet (quadratic cost, plain SGD, training only)
and the homework's DataLoader loop against torchnet and scratchnet (cross-entropy, SGD
Nesterov 0.8, weight decay 1e-4, with evaluation); 10⁵ Rosenbrock steps, the homework's
loop against the package's.
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

SIZES = {"784-30-10": (784, 30, 10), "784-30×8-10": (784,) + (30,) * 8 + (10,)}


def timed(fn, repeats: int) -> float:
    """Median seconds of fn() over `repeats` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def row(case, reference, reference_s, ours, ours_s, **extra) -> dict:
    """One line of the table; speedup = reference_s / ours_s (None without a reference)."""
    return {"case": case, "reference": reference, "reference_s": reference_s, "ours": ours,
            "ours_s": ours_s, "speedup": reference_s / ours_s if reference_s else None, **extra}


def rosenbrock_rows(repeats: int, steps: int) -> list[dict]:
    rows = []
    start = [-4.0, -2.0]
    for method, homework in (("gd", reference.homework_gd),
                             ("momentum", reference.homework_gd_with_mom),
                             ("adam", reference.homework_adams)):
        ref = timed(lambda: homework(reference.homework_grad, start, n_epochs=steps, eta=1e-4),
                    repeats)
        ours = timed(lambda: rosenbrock.run(method, 1e-4, steps), repeats)
        rows.append(row(f"Rosenbrock {steps:,} steps, {method}", "homework loop", ref,
                        "compare.problem1.rosenbrock.run", ours))
    rates = np.logspace(-6, -4, 16)  # a sweep: the package runs all rates as one (16, 2) array
    ref = timed(lambda: [reference.homework_gd_with_mom(reference.homework_grad, start,
                                                        n_epochs=steps, eta=lr) for lr in rates],
                repeats)
    ours = timed(lambda: rosenbrock.run("momentum", rates, steps), repeats)
    return rows + [row(f"Rosenbrock sweep, momentum at {len(rates)} rates × {steps:,} steps",
                       "homework loop per rate", ref,
                       "compare.problem1.rosenbrock.run (rates vectorized)", ours)]


def epoch_rows(label, X, y, test, n, repeats, root, devices) -> list[dict]:
    """One epoch of SIZES[label] on n images (scaled to 60,000), as the module says."""
    import scratchnet
    from scratchnet.config import TrainConfig
    from scratchnet.train import epoch_order, run as scratch_run
    from torchnet.train import load_data, run as torch_run

    sizes, scale = SIZES[label], 60000 / n
    test = tuple(a[:len(test[0]) * n // 60000] for a in test)  # evaluation scales alike
    init = scratchnet.Network(sizes, cost="quadratic", seed=0)
    order = epoch_order(0, 0, len(X))[:n]
    ref = timed(lambda: reference.NielsenNetwork(init.weights, init.biases).train_epoch(
        X, y, 10, 0.1, order), repeats) * scale
    plain = TrainConfig(sizes=sizes, cost="quadratic", lr=0.1, momentum=0.0, nesterov=False,
                        weight_decay=0.0, epochs=1, train_subset=n)
    ours = timed(lambda: scratch_run(plain, (X[:n], y[:n]), None), repeats) * scale
    rows = [row(f"{label}: epoch, quadratic + plain SGD, training only",
                "Nielsen per-sample loop", ref, "scratchnet", ours)]
    # the homework's DataLoader loop has no subset option: full runs only
    ref = timed(lambda: reference.homework_epoch(root, sizes), repeats) if n == len(X) else None
    config = TrainConfig(sizes=sizes, epochs=1, train_subset=n)
    scratch = timed(lambda: scratch_run(config, (X[:n], y[:n]), test), repeats) * scale
    case = f"{label}: epoch, cross-entropy + SGD Nesterov, with evaluation"
    for device in devices:
        config32 = config.replace(dtype="float32")
        train_data, test_data = load_data(config32, root, device)
        test_data = tuple(t[:len(test_data[0]) * n // 60000] for t in test_data)
        ours = timed(lambda: _synced(torch_run(config32, train_data, test_data)), repeats) * scale
        rows.append(row(case, "homework DataLoader loop", ref, f"torchnet ({device}, float32)",
                        ours, vs_scratchnet=ours / scratch))
    return rows + [row(case, "homework DataLoader loop", ref, "scratchnet (float64)", scratch)]


def _synced(result):
    """result, once every CUDA kernel has finished (so a timing covers them)."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result


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
        ref = "" if r["reference_s"] is None else f"{r['reference']}: {r['reference_s']:.3f}s  "
        speed = ("" if r["speedup"] is None else f"  ×{r['speedup']:.1f} faster"
                 if r["speedup"] >= 1 else f"  {1 / r['speedup']:.2f}× slower")
        extra = f"  ({r['vs_scratchnet']:.2f}× scratchnet's time)" if "vs_scratchnet" in r else ""
        click.echo(f"{r['case']}\n    {ref}{r['ours']}: {r['ours_s']:.3f}s{speed}{extra}")


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
    rows = []
    with click.progressbar([*SIZES, "Rosenbrock"], label="timing", hidden=quiet,
                           item_show_func=lambda label: label) as bar:
        for label in bar:
            rows += (rosenbrock_rows(repeats, 10_000 if quick else 100_000)
                     if label == "Rosenbrock" else
                     epoch_rows(label, X, y, test, 6000 if quick else len(X), repeats, root,
                                devices))
    result = {"machine": machine_info(), "repeats": repeats, "quick": quick, "rows": rows,
              "command": " ".join(["compare bench"] + sys.argv[2:])}
    path = runs.RESULTS / ("quick" if quick else "") / "bench.json"
    runs.write_json_atomic(path, result)
    print_rows(rows)
    click.echo(f"-> {path}")
