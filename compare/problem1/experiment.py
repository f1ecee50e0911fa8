"""`compare problem1`: results/problem1.json, its trajectories' .npz and figures/problem1.

The runs of (b)–(d) are columns of every method's learning-rate sweep (sweep.py); a second
call with the same config only re-plots.
"""
from __future__ import annotations

import time
import zipfile
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import numpy as np

from scratchnet.atomic import AtomicFiles, json_bytes
from scratchnet.cachekey import short_hash

from . import rosenbrock as R
from .figures import plot_all
from .sweep import best_stable, scan, sweep, thresholds
from ..runs import figures_dir, quick_mode, read_result, results_dir


@dataclass(frozen=True)
class Problem1Config:
    start: tuple = R.START
    n_steps: int = 100_000
    lr_b: float = 1e-4            # part (b): all three methods
    lr_c: float = 1e-3            # part (c): momentum and Adam
    lr_d: float = 1e-2            # part (d): Adam, and momentum "as the student did"
    gamma: float = 0.9            # momentum
    betas: tuple = (0.9, 0.99)    # Adam
    eps: float = 1e-8             # Adam
    tol: float = 1e-6             # "converged": squared error below tol
    sweep_from: float = 1e-6
    sweep_to: float = 1e-1
    per_decade: int = 4
    refine: int = 24              # extra rates between the last stable and first diverging one
    scan: int = 1000              # rates in the stability scan (a decade above the last stable one)
    scan_steps: int = 2000        # its horizon: every divergence seen happens within ~25 steps
    methods: tuple = tuple(R.METHODS)
    arithmetic: str = "homework"  # gradient and Adam rounded as the homework's code rounds them

    def hyper(self) -> dict:
        return dict(gamma=self.gamma, betas=tuple(self.betas), eps=self.eps)

    def grid(self) -> np.ndarray:
        """The sweep's log grid, with the rates of (b)–(d) on it exactly."""
        decades = np.log10(self.sweep_to / self.sweep_from)
        rates = np.geomspace(self.sweep_from, self.sweep_to, round(decades * self.per_decade) + 1)
        for lr in (self.lr_b, self.lr_c, self.lr_d):
            rates[np.isclose(rates, lr, rtol=1e-9)] = lr
        return np.union1d(rates, [self.lr_b, self.lr_c, self.lr_d])

    def to_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}

    def short_hash(self) -> str:
        """8 hex digits that change whenever any field changes."""
        return short_hash({"class": type(self).__name__, **self.to_dict()})


QUICK = Problem1Config(n_steps=2_000, per_decade=2, refine=6, scan=200, scan_steps=500)

# (name, part, method, which rate): the homework's runs. "best" = momentum's best stable rate.
RUNS = (("b_gd", "b", "gd", "lr_b"), ("b_momentum", "b", "momentum", "lr_b"),
        ("b_adam", "b", "adam", "lr_b"), ("c_momentum", "c", "momentum", "lr_c"),
        ("c_adam", "c", "adam", "lr_c"), ("d_adam", "d", "adam", "lr_d"),
        ("d_momentum", "d", "momentum", "lr_d"), ("d_momentum_best", "d", "momentum", "best"))
RESULT_KEYS = ("hash", "config", "runs", "best_stable_rate", "sweep", "thresholds")
RUN_KEYS = ("name", "part", "method", "label", "lr", "final_sq_error", "steps_to_tol",
            "diverged_at")


def compute(config: Problem1Config, callback=lambda method: None):
    """(results for the JSON, {run name: trajectory (n + 1, 2)}); callback(method) after
    each method's sweep."""
    t0 = time.perf_counter()
    tables, kept, scans = {}, {}, {}
    for method in config.methods:
        table, columns = sweep(method, config)
        tables[method], scans[method] = table, scan(method, table, config)
        for name, _, m, which in RUNS:
            lr = best_stable(table) if which == "best" else getattr(config, which)
            if m == method and lr is not None:
                kept[name] = (lr, columns[lr].copy())
        del columns                                        # frees the (n + 1, k, 2) sweep
        callback(method)
    return {
        "problem": 1,
        "function": "f(x, y) = (1 - x)^2 + 100 (y - x^2)^2, minimum 0 at (1, 1)",
        "typo": "the problem statement's (1 - x^2) is a typo for (1 - x)^2, "
                "as the homework's own code has it",
        "config": config.to_dict(), "hash": config.short_hash(),
        "runs": [{"name": name, "part": part, "method": method, "label": R.METHODS[method],
                  "lr": kept[name][0], **R.summarize(kept[name][1], config.tol)}
                 for name, part, method, _ in RUNS if name in kept],
        "best_stable_rate": {m: best_stable(t) for m, t in tables.items()},
        "sweep": tables, "thresholds": thresholds(config, tables, scans),
        "seconds": round(time.perf_counter() - t0, 2),
    }, {name: traj for name, (_, traj) in kept.items()}


def json_path(quick: bool) -> Path:
    """results/problem1.json, or results/quick/problem1.json for smoke runs."""
    return results_dir("problem1", quick).with_suffix(".json")


def trajectories_path(config: Problem1Config, quick: bool) -> Path:
    return results_dir("problem1", quick) / f"trajectories-{config.short_hash()}.npz"


def results_problem(results: dict) -> str | None:
    """What makes a stored results/problem1.json unusable, or None."""
    if missing := [k for k in RESULT_KEYS if k not in results]:
        return "missing " + ", ".join(f"'{k}'" for k in missing)
    if not isinstance(results["runs"], list) or not results["runs"]:
        return "'runs' is empty or not a list"
    if any(not isinstance(run, dict) or any(k not in run for k in RUN_KEYS)
           for run in results["runs"]):
        return "a run in 'runs' is incomplete"
    return None if isinstance(results["thresholds"], dict) else "'thresholds' is not an object"


def load_trajectories(npz: Path, results: dict, n_steps: int):
    """({run name: trajectory (n + 1, 2)}, None), or (None, why) if the .npz is unusable."""
    try:
        with open(npz, "rb") as f, np.load(f, allow_pickle=False) as data:
            trajectories = {name: data[name] for name in data.files}
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError, EOFError, zipfile.BadZipFile, AttributeError, TypeError):
        return None, "not a readable .npz (damaged or truncated)"
    for name in (r["name"] for r in results["runs"]):
        shape = trajectories[name].shape if name in trajectories else None
        if shape != (n_steps + 1, 2):
            return None, (f"no trajectory for {name}" if shape is None else
                          f"trajectory {name} has shape {shape}, expected {(n_steps + 1, 2)}")
    return trajectories, None


def load_or_compute(config: Problem1Config, quick: bool = False, force: bool = False,
                    callback=lambda method: None, on_damaged=lambda path, why: None):
    """(results, trajectories) from the cache if it holds this config, else computed and
    stored as a pair, atomically. A damaged file is recomputed after on_damaged(path, why)."""
    path, npz = json_path(quick), trajectories_path(config, quick)
    results, why = (None, None) if force else read_result(path, results_problem)
    if why is not None:
        on_damaged(path, why)
    elif results is not None and results["hash"] == config.short_hash():   # else: stale
        trajectories, why = load_trajectories(npz, results, config.n_steps)
        if trajectories is not None:
            return results, trajectories
        on_damaged(npz, why)
    results, trajectories = compute(config, callback)
    with AtomicFiles() as files:
        files.stage(npz, lambda f: np.savez(f, **trajectories))   # a file object: no ".npz" added
        files.stage(path, lambda f: f.write(json_bytes(results)))
    return results, trajectories


def table_lines(results: dict) -> list[str]:
    """The summary table the command prints."""
    rows = [f"{'part':4}  {'method':28}  {'lr':>9}  {'final error':>11}  {'to 1e-6':>7}  "
            "diverged at"]
    for r in results["runs"]:
        err = "-" if r["final_sq_error"] is None else f"{r['final_sq_error']:.2e}"
        to_tol = "-" if r["steps_to_tol"] is None else str(r["steps_to_tol"])
        div = "-" if r["diverged_at"] is None else f"step {r['diverged_at']}"
        label = r["label"] + (" [best]" if r["name"].endswith("_best") else "")
        rows.append(f"({r['part']})   {label:28}  {r['lr']:9.3g}  {err:>11}  {to_tol:>7}  {div}")
    for m, th in results["thresholds"].items():
        if m in ("gd", "momentum") and th["smallest_diverging"] is not None:
            sc = th["scan"] or {}
            islands = (f" (isolated stable rates up to {sc['largest_stable']:.3g})"
                       if sc.get("stable_above_onset") else "")
            rows.append(f"{R.METHODS[m]}: diverges from lr {th['smallest_diverging']:.3g}"
                        f"{islands}; predicted {th['predicted_at_start']:.3g} (start), "
                        f"{th['predicted_at_minimum']:.3g} (minimum)")
    return rows


@click.command()
@click.option("--quick", is_flag=True, help="Smoke run (2,000 steps, coarse sweep) into "
              "results/quick and figures/quick; also QUICK=1. Default: off.")
@click.option("--force", is_flag=True,
              help="Recompute even if the cached results match. Default: off.")
@click.option("--quiet", is_flag=True, help="No progress bar and no table. Default: off.")
def command(quick, force, quiet):
    """Problem 1: GD, momentum and Adam on the Rosenbrock function; figures and JSON."""
    quick = quick_mode(quick)
    config = QUICK if quick else Problem1Config()
    damaged = lambda path, why: click.echo(f"{path} is damaged ({why}); recomputing", err=True)
    with click.progressbar(length=len(config.methods), label="Problem 1 sweeps", hidden=quiet,
                           item_show_func=lambda s: s) as bar:
        results, trajectories = load_or_compute(config, quick, force,
                                                lambda m: bar.update(1, m), damaged)
    figures = plot_all(results, trajectories, figures_dir("problem1", quick))
    if not quiet:
        click.echo("\n".join(table_lines(results)))
        click.echo(f"{json_path(quick)} and {len(figures)} figures in {figures[0].parent}")
