"""Many runs at once on Dask workers: a LocalCluster's (one process per job) or those of a
cluster whose scheduler is named. Workers only train (one without MNIST is sent the
command's files, MD5-checked); this process alone writes results/, as each run arrives.
SIGINT and SIGTERM raise Interrupted within seconds, keeping what finished. The
LocalCluster's workers ignore a terminal's Ctrl-C and die with a killed command.
"""
from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal

from . import data, runs
from .runs import Run

M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3      # mallopt's parameters, from glibc's malloc.h
# Dask's periodic work, less often: the worker's profiler (every 10 ms), the event loops' tick
# (20 ms) and the monitors made a run 6-9% slower than in a plain process when every core
# trains; with these, as fast. A LocalCluster has no dashboard to feed.
QUIET = {"distributed.worker.profile.enabled": False, "distributed.admin.tick.interval": "1s",
         "distributed.admin.system-monitor.interval": "5s",
         "distributed.worker.memory.monitor-interval": "1s"}


class Interrupted(Exception):
    """Training was stopped by a signal; the finished runs are stored."""

    def __init__(self, signum: int, kept: int, to_go: int):
        self.exit_code = 128 + signum                      # 130 for SIGINT, 143 for SIGTERM
        super().__init__(f"interrupted: {kept} run{'s' if kept != 1 else ''} kept, "
                         f"{to_go} to go; rerun to continue")


class NoScheduler(ValueError):
    """No Dask scheduler answered at the address given."""


class _Terminated(BaseException):
    """SIGTERM, raised as SIGINT raises KeyboardInterrupt (past `except Exception`)."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def _heap_allocations() -> None:
    """Keep weight-sized arrays on glibc's heap. Dask's nanny starts a worker with
    MALLOC_TRIM_THRESHOLD_ set, which pins glibc's mmap threshold at 128 KiB: every larger
    temporary is then mapped and zeroed afresh, and an epoch took 1.8x (torchnet) to 5.7x
    (scratchnet) as long in such a worker."""
    if os.environ.get("MALLOC_TRIM_THRESHOLD_"):
        with contextlib.suppress(OSError, AttributeError):     # not glibc: nothing to do
            libc = ctypes.CDLL(None)
            libc.mallopt(M_MMAP_THRESHOLD, 32 << 20)     # glibc's largest dynamic value
            libc.mallopt(M_TRIM_THRESHOLD, 64 << 20)     # and twice that, as glibc pairs them


def _train(run: Run, root, device, threads, files) -> dict:
    """In a worker: put the command's MNIST files in place if need be, then train one run."""
    _heap_allocations()
    if threads:
        import torch
        from threadpoolctl import threadpool_limits

        threadpool_limits(threads)
        torch.set_num_threads(threads)
    if files and (damaged := data.damaged_files(root)):
        data.install(files, root, damaged)
    return runs.execute(run, str(root), device)


def _start_forkserver() -> None:
    """Start the fork server with SIGINT ignored: the workers forked from it ignore a
    terminal's Ctrl-C from birth, and the command alone decides what it does."""
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
    """A Dask client of the cluster at `scheduler`, or of a LocalCluster of `jobs` workers
    (closed on the way out)."""
    import dask
    from distributed import Client, LocalCluster

    for name in ("distributed", "tornado", "asyncio"):
        logging.getLogger(name).setLevel(logging.CRITICAL)   # one line on Ctrl-C, no log
    if scheduler:
        try:
            client = Client(scheduler, timeout="10s")
        except (OSError, TimeoutError, ValueError) as err:
            why = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise NoScheduler(f"{scheduler!r}: no Dask scheduler answered there ({why})") from None
        with client:
            yield client
        return
    _start_forkserver()
    with dask.config.set({"distributed.worker.multiprocessing-method": "forkserver", **QUIET}):
        # the scheduler's web server on a free port (another command may hold the default),
        # and on this machine only (":0" would listen on every interface)
        cluster = LocalCluster(n_workers=0, threads_per_worker=1, processes=True,
                               dashboard_address="127.0.0.1:0", silence_logs=logging.CRITICAL)
        try:      # the workers start in the background: an interrupt may come meanwhile
            cluster.scale(jobs)
            with Client(cluster) as client:
                yield client
        finally:      # a worker busy training does not stop when asked: kill it
            for nanny in list(cluster.workers.values()):
                with contextlib.suppress(Exception):
                    cluster.sync(nanny.kill, timeout=1)
            cluster.close(timeout=10)


def execute_many(todo: list[Run], quick: bool = False, jobs: int = 0, root="data",
                 device="cpu", force: bool = False, on_done=None, on_damaged=None,
                 scheduler: str | None = None) -> dict:
    """{run: result} for every run of todo: stored, or trained (longest first) on `jobs`
    LocalCluster workers (0: one per core) or the cluster at `scheduler`, and stored as
    each arrives (on_done(run, result)). on_damaged(path, why): a stored result that is
    trained again. A SIGINT or SIGTERM raises Interrupted."""
    results = {run: hit for run in todo
               if not force and (hit := runs.stored(run, quick, on_damaged)) is not None}
    missing = sorted((r for r in todo if r not in results), key=lambda r: -r.cost)
    if not missing:
        return results
    jobs = 1 if str(device) != "cpu" else jobs or min(os.cpu_count() or 1, len(missing))
    threads = None if scheduler else max(1, (os.cpu_count() or 1) // jobs)
    old = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        with _client(scheduler, jobs) as client:
            _gather(client, missing, quick, root, device, threads, results, on_done)
    except (_Terminated, KeyboardInterrupt) as stop:
        signum = signal.SIGTERM if isinstance(stop, _Terminated) else signal.SIGINT
        raise Interrupted(signum, len(results), len(todo) - len(results)) from None
    finally:
        signal.signal(signal.SIGTERM, old)
    return results


def _gather(client, missing, quick, root, device, threads, results, on_done) -> None:
    """Submit every run, longest first; store each result as it arrives."""
    from distributed import as_completed

    files = None
    if threads is None:     # a remote cluster: its workers may lack MNIST, send ours
        files = client.scatter(data.raw_bytes(root), broadcast=False, hash=False)
    futures = {client.submit(_train, run, root, device, threads, files, pure=False,
                             priority=-i): run for i, run in enumerate(missing)}
    try:
        for future in as_completed(futures):
            run = futures[future]
            results[run] = runs.store(run, future.result(), quick)
            if on_done:
                on_done(run, results[run])
    finally:
        client.cancel(list(futures))
