"""Training runs for Problems 2 and 3: a run spec, its cached result, and a process pool.

A Run is a TrainConfig plus the implementation that trains it ("torch" or
"scratch") and, for torch, optional on-the-fly augmentation. Both
implementations start from the same initial weights (drawn by scratchnet from
the config's seed and copied into torch) and see the same batch order, so a
config gives the same experiment whichever package runs it.

execute() trains one run in this process. execute_all() trains the runs whose
results are not cached yet, several at a time in worker processes (one BLAS
and torch thread each), and stores each result the moment it is done, so an
interrupted problem keeps every finished run and loses only the unfinished
ones. A run's result does not depend on which process trained it: the test
suite checks that a pooled run equals a plain one bit for bit.
"""
from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import platform
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import click

from scratchnet.config import TrainConfig

from . import runs

IMPLS = ("torch", "scratch")


@dataclass(frozen=True)
class Run:
    name: str
    config: TrainConfig
    impl: str = "torch"
    augment: tuple = field(default=())   # sorted (name, value) pairs of torchnet.augment.Augment
    label: str = ""                      # legend text; defaults to the name

    def __post_init__(self):
        if self.impl not in IMPLS:
            raise ValueError(f"impl={self.impl!r} is invalid: choose one of {', '.join(IMPLS)}")
        if self.augment and self.impl != "torch":
            raise ValueError("on-the-fly augmentation is implemented in torchnet only")

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "impl": self.impl,
                "augment": dict(self.augment)}

    def short_hash(self) -> str:
        blob = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:8]

    @property
    def cost(self) -> float:
        """Rough relative training cost, to start the longest runs first."""
        sizes = self.config.sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        steps = self.config.epochs * 60000 / self.config.batch_size
        return self.config.epochs * 60000 * weights + steps * 2e4 * len(sizes)


def augment_of(**kwargs) -> tuple:
    """The hashable form of torchnet.augment.Augment's arguments."""
    return tuple(sorted(kwargs.items()))


# ---------------------------------------------------------------- one run
def execute(run: Run, root="data", device="cpu") -> dict:
    """Train one run in this process; return its JSON-serializable result."""
    import scratchnet

    config = run.config
    start = time.perf_counter()
    initial = scratchnet.Network(**config.network_options())  # the weights both impls start from
    if run.impl == "scratch":
        from scratchnet.train import load_data, run as train_run

        train_data, eval_data = load_data(config, root)
        net, history = train_run(config, train_data, eval_data, net=initial)
        device_name = "cpu"
    else:
        from torchnet.augment import Augment
        from torchnet.convert import to_torch
        from torchnet.train import load_data, run as train_run

        train_data, eval_data = load_data(config, root, device)
        net = to_torch(initial, train_data[0].device)
        augment = Augment(**dict(run.augment)) if run.augment else None
        net, history = train_run(config, train_data, eval_data, net=net, augment=augment)
        device_name = str(train_data[0].device)
    accuracies = [a for a in history.test_accuracy if a is not None]
    return {
        "impl": run.impl,
        "device": device_name,
        "evaluated_on": "validation" if config.validation else "test",
        "history": history.to_dict(),
        "final_accuracy": accuracies[-1] if accuracies else None,
        "best_accuracy": max(accuracies) if accuracies else None,
        "diverged_at": history.diverged_at,
        "wall_seconds": time.perf_counter() - start,
        "machine": machine(),
    }


def machine() -> dict:
    import numpy

    info = {"platform": platform.platform(), "processor": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__}
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info


# ---------------------------------------------------------------- many runs
def _worker_init(threads: int) -> None:
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from threadpoolctl import threadpool_limits
    import torch

    threadpool_limits(threads)
    torch.set_num_threads(threads)


def _execute_and_store(problem, run, quick, root, device):
    result = execute(run, root, device)
    path = runs.result_path(problem, run.name, run, quick)
    runs.write_json_atomic(path, {"name": run.name, "run": run.to_dict(), **result})
    return result


def cached_result(problem: str, run: Run, quick: bool):
    return runs.load_result(runs.result_path(problem, run.name, run, quick))


def execute_all(problem: str, todo: list[Run], quick: bool = False, jobs: int = 0,
                root="data", device="cpu", force: bool = False, on_done=None) -> dict:
    """Results of every run by name: from the cache, or trained (in parallel).

    jobs: worker processes (0 = one per CPU core, at most the number of runs to
    train; 1 = train in this process). on_done(run, result) is called as each
    run finishes, from this process.
    """
    results, missing = {}, []
    for run in todo:
        hit = None if force else cached_result(problem, run, quick)
        if hit is not None:
            results[run.name] = hit
        else:
            missing.append(run)
    missing.sort(key=lambda r: r.cost, reverse=True)    # longest first packs best
    jobs = jobs or min(os.cpu_count() or 1, len(missing))
    if device != "cpu":
        jobs = 1                                        # one accelerator: one process
    if jobs <= 1:
        for run in missing:
            results[run.name] = _execute_and_store(problem, run, quick, root, device)
            if on_done:
                on_done(run, results[run.name])
        return results
    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init,
                             initargs=(threads,)) as pool:
        futures = {pool.submit(_execute_and_store, problem, run, quick, root, device): run
                   for run in missing}
        for future in as_completed(futures):
            run = futures[future]
            results[run.name] = future.result()
            if on_done:
                on_done(run, results[run.name])
    return results


# ---------------------------------------------------------------- for the CLIs
def summary_rows(results: dict, labels: dict) -> list[tuple]:
    rows = []
    for name, r in results.items():
        acc = r["final_accuracy"]
        rows.append((name, labels.get(name, name), r["impl"], r["evaluated_on"],
                     "—" if acc is None else f"{acc:.4f}",
                     "—" if r["best_accuracy"] is None else f"{r['best_accuracy']:.4f}",
                     f"epoch {r['diverged_at']['epoch']}" if r["diverged_at"] else "",
                     f"{r['wall_seconds']:.0f}s"))
    return rows


def print_table(rows) -> None:
    header = ("run", "label", "impl", "scored on", "final acc", "best acc", "diverged", "time")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in (header, *rows):
        click.echo("  ".join(str(x).ljust(w) for x, w in zip(row, widths)))


def run_problem(problem, todo, quick, jobs, device, force, quiet):
    """Train what is missing (with a progress bar), return results in plan order."""
    bar_items = [r for r in todo if force or cached_result(problem, r, quick) is None]
    with click.progressbar(length=len(bar_items), label=f"{problem}: training",
                           hidden=quiet, show_pos=True) as bar:
        def done(run, result):
            bar.update(1)
        results = execute_all(problem, todo, quick, jobs, device=device, force=force,
                              on_done=done)
    return {r.name: results[r.name] for r in todo}




def run_and_tabulate(problem, plan, study_plan, quick, impl, study, jobs, device, force, quiet):
    """What `compare problemN` does before its figures: plan, train what is missing, print
    the summary table. Returns (quick, results by name, legend labels by name)."""
    quick = runs.quick_mode(quick)
    todo = plan(quick, impl) + (study_plan(quick, impl) if study else [])
    labels = {r.name: r.label or r.name for r in todo}
    results = run_problem(problem, todo, quick, jobs, device, force, quiet)
    print_table(summary_rows(results, labels))
    return quick, results, labels


def problem_options(impl_help: str, study_help: str):
    """The options every `compare problemN` for N = 2, 3 shares, as one decorator."""
    options = [
        click.option("--quick", is_flag=True,
                     help="Smoke run: 2,000 training images, one epoch (also QUICK=1)."),
        click.option("--impl", type=click.Choice(IMPLS), default="torch", show_default=True,
                     help=impl_help),
        click.option("--study", is_flag=True, help=study_help),
        click.option("--jobs", type=click.IntRange(min=0), default=0, show_default=True,
                     help="Worker processes (0 = one per CPU core)."),
        click.option("--device", default="cpu", show_default=True,
                     help="torch device: cpu, cuda, auto."),
        click.option("--force", is_flag=True, help="Retrain even if a cached result exists."),
        click.option("--quiet", is_flag=True, help="No progress bar; only the summary tables."),
    ]

    def decorate(func):
        for option in reversed(options):
            func = option(func)
        return func
    return decorate
