"""Many training runs at once on Dask workers, each result stored as it arrives.

The workers are a LocalCluster's (one process per job, one thread each) or those
of a cluster whose scheduler is named. They only train and return each result
(a worker without MNIST is sent the command's files and checks their MD5s);
this process alone writes results/, so an interrupted command keeps every
finished run. SIGINT and SIGTERM raise Interrupted within seconds: the
LocalCluster is closed, a remote cluster's unfinished runs are cancelled. The
LocalCluster's workers ignore a terminal's Ctrl-C and die with a command that
is killed outright (their parent's pipe closes).
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal

from . import data, runs
from .runs import Run, execute

class Interrupted(Exception):
    """Training was stopped by a signal; the finished runs are stored."""

    def __init__(self, signum: int, kept: int, to_go: int):
        self.signum, self.kept, self.to_go = signum, kept, to_go
        super().__init__(f"interrupted: {kept} run{'s' if kept != 1 else ''} kept, "
                         f"{to_go} to go; rerun to continue")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum                      # 130 for SIGINT, 143 for SIGTERM


class NoScheduler(ValueError):
    """No Dask scheduler answered at the address given."""


class _Terminated(BaseException):
    """SIGTERM, raised in the main thread as SIGINT raises KeyboardInterrupt (a BaseException:
    `except Exception` blocks let it through, and atomic writes remove their temporary)."""


@contextlib.contextmanager
def _sigterm_raises():
    def handler(signum, frame):
        raise _Terminated()

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


# ---------------------------------------------------------------- in a worker
def _mnist_root(root, files) -> str:
    """root, once it holds verified MNIST: the command's files (files: {name: bytes}) are
    written there if they are missing, after their MD5s are checked."""
    if files and data.bad_files(root):
        data.install(files, root, data.damaged_files(root))
    return str(root)


def _train(run: Run, root, device, threads, files) -> dict:
    """Train one run in a worker and return its result (the command stores it)."""
    if threads:
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        torch.set_num_threads(threads)
    return execute(run, _mnist_root(root, files), device)


# ---------------------------------------------------------------- in the command
def _start_forkserver() -> None:
    """Start multiprocessing's fork server (once per process) with SIGINT ignored: the
    LocalCluster's workers are forked from it, so they ignore a terminal's Ctrl-C from
    birth and the command alone decides what an interrupt does."""
    import multiprocessing
    from multiprocessing import forkserver

    multiprocessing.set_forkserver_preload(["distributed", "torch", "compare.pool"])
    old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, old)


@contextlib.contextmanager
def _client(scheduler: str | None, jobs: int):
    """A Dask client: of the cluster at `scheduler`, or of a LocalCluster of `jobs` worker
    processes (one thread each) that ignore SIGINT and is closed on the way out."""
    import dask
    from distributed import Client, LocalCluster

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)   # one line on Ctrl-C, no log
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:
            raise NoScheduler(f"{scheduler!r}: no Dask scheduler answered there "
                              f"({str(err).splitlines()[0] if str(err) else type(err).__name__})"
                              ) from None
        with client:
            yield client
        return
    _start_forkserver()
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver"}):
        cluster = LocalCluster(n_workers=0, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=logging.CRITICAL)
        try:      # the workers start in the background: an interrupt may come meanwhile
            cluster.scale(jobs)
            with Client(cluster) as client:
                yield client
        finally:      # a worker busy training does not stop when asked: killed after 0.8 s
            for nanny in list(cluster.workers.values()):
                with contextlib.suppress(Exception):
                    cluster.sync(nanny.kill, timeout=1)
            cluster.close(timeout=10)


def _submit(client, missing: list[Run], root, device, threads, remote: bool) -> dict:
    """Submit every run, longest first; {future: run}."""
    files = None
    if remote:     # workers elsewhere may lack MNIST: send the command's verified files
        files = client.scatter(data.raw_bytes(root), broadcast=False, hash=False)
    return {client.submit(_train, run, root, device, threads, files, pure=False,
                          priority=len(missing) - i): run for i, run in enumerate(missing)}


def execute_many(todo: list[Run], quick: bool = False, jobs: int = 0, root="data",
                 device="cpu", force: bool = False, on_done=None, on_damaged=None,
                 scheduler: str | None = None) -> dict:
    """Results of every run of todo, by run: from the store, or trained on a cluster (the
    longest runs first, whatever problem they belong to) and stored as each arrives.

    jobs: LocalCluster worker processes (0 = one per CPU core, at most the number of runs
    to train); scheduler: the address of an existing cluster's scheduler instead.
    on_done(run, result) is called as each run is stored; on_damaged(path, why) for each
    stored result that cannot be used (it is trained again). A SIGINT or SIGTERM stops
    the training and raises Interrupted; what finished is stored.
    """
    results, missing = {}, []
    for run in todo:
        hit = None if force else runs.stored(run, quick, on_damaged)
        if hit is not None:
            results[run] = hit
        else:
            missing.append(run)
    if not missing:
        return results
    missing.sort(key=lambda run: run.cost, reverse=True)    # longest first packs best
    jobs = 1 if str(device) != "cpu" else jobs or min(os.cpu_count() or 1, len(missing))
    threads = None if scheduler else max(1, (os.cpu_count() or 1) // jobs)
    try:
        with _sigterm_raises(), _client(scheduler, jobs) as client:
            futures = _submit(client, missing, root, device, threads, bool(scheduler))
            try:
                _collect(futures, quick, results, on_done)
            finally:
                client.cancel(list(futures))
    except (_Terminated, KeyboardInterrupt) as stop:
        signum = signal.SIGTERM if isinstance(stop, _Terminated) else signal.SIGINT
        raise Interrupted(signum, len(results), len(todo) - len(results)) from None
    return results


def _collect(futures: dict, quick: bool, results: dict, on_done) -> None:
    """Store each run's result as it arrives (results[run] = the result as stored)."""
    from distributed import as_completed

    for future in as_completed(futures):
        run = futures[future]
        results[run] = runs.store(run, future.result(), quick)
        if on_done:
            on_done(run, results[run])
