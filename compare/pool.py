"""Many training runs at once: worker processes, each result stored as it finishes.

execute_all() trains the runs whose results are not cached yet, several at a
time in worker processes (one BLAS and torch thread each), and stores each
result the moment it is done, so an interrupted problem keeps every finished
run and loses only the unfinished ones. A run's result does not depend on which
process trained it: the test suite checks that a pooled run equals a plain one
bit for bit.
"""
from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor, as_completed

from . import runs
from .runs import Run, execute

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
