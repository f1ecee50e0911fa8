"""Many training runs at once: worker processes, each result stored as it finishes.

execute_many() trains the runs whose results are not cached yet, of one problem
or of several (`compare problems`), several at a time in worker processes (one
BLAS and torch thread each), longest first, and stores each result the moment
it is done, so an interrupted problem keeps every finished run and loses only
the unfinished ones. A run's result does not depend on which
process trained it: the test suite checks that a pooled run equals a plain one
bit for bit.

Interrupts. SIGINT (Ctrl-C) and SIGTERM to the parent stop every worker within
a few seconds and raise Interrupted, which says how many runs are kept and how
many are left; the CLI prints it as one line and exits with 128 + the signal
number. Workers ignore SIGINT (a terminal's Ctrl-C reaches the whole process
group: the parent decides), finish a result file they are writing or remove
its temporary, and die with their parent if it is killed outright (on Linux
through PR_SET_PDEATHSIG, elsewhere a thread that watches the parent's pid).
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, as_completed

from . import runs
from .runs import Run, execute

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_SECONDS = 3.0        # how long a stopped worker may take to leave before it is killed


class Interrupted(Exception):
    """Training was stopped by a signal; the finished runs are stored."""

    def __init__(self, signum: int, kept: int, to_go: int):
        self.signum, self.kept, self.to_go = signum, kept, to_go
        super().__init__(f"interrupted: {kept} run{'s' if kept != 1 else ''} kept, "
                         f"{to_go} to go; rerun to continue")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum                      # 130 for SIGINT, 143 for SIGTERM


class _Signal(BaseException):
    """Raised in the main thread by a stop signal (a BaseException: `except Exception`
    blocks let it through, and atomic writes remove their temporary file)."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


@contextlib.contextmanager
def _signals_raise():
    """While inside: SIGINT and SIGTERM raise _Signal in the main thread (elsewhere: no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise _Signal(signum)

    previous = {s: signal.signal(s, handler) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


@contextlib.contextmanager
def _blocked(signals):
    """Hold signals back while worker processes are started: a child inherits the mask,
    so it cannot be killed by Ctrl-C before it has set itself up; the parent gets any
    signal that came meanwhile as soon as the block ends."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, signals)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


# ---------------------------------------------------------------- in the worker
_busy = False              # a run is being trained or stored in this worker


class _Stop(BaseException):
    """SIGTERM in a worker: unwind the run (removing temporaries), then leave."""


def _on_term(signum, frame):
    if _busy:
        raise _Stop()
    os._exit(128 + signum)


def _die_with_parent(parent: int) -> None:
    """Get SIGTERM when the parent dies (Linux prctl), and watch its pid as a fallback."""
    with contextlib.suppress(Exception):
        if sys.platform.startswith("linux"):
            import ctypes

            PR_SET_PDEATHSIG = 1
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM))

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os.kill(os.getpid(), signal.SIGTERM)          # unwind cleanly if we can...
        time.sleep(GRACE_SECONDS)
        os._exit(128 + signal.SIGTERM)                # ...and leave regardless

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_init(threads: int, parent: int | None = None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)       # the parent handles Ctrl-C
    signal.signal(signal.SIGTERM, _on_term)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if parent is not None:
        _die_with_parent(parent)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    from threadpoolctl import threadpool_limits
    import torch

    threadpool_limits(threads)
    torch.set_num_threads(threads)


def _execute_and_store(run, quick, root, device):
    """Train run, store its result, and return it as stored (with its name and run)."""
    return runs.store(run, execute(run, root, device), quick)


def _execute_in_worker(run, quick, root, device):
    """_execute_and_store in a worker: a SIGTERM unwinds it (temporaries removed), then exits."""
    global _busy
    _busy = True
    try:
        return _execute_and_store(run, quick, root, device)
    except _Stop:
        os._exit(128 + signal.SIGTERM)
    finally:
        _busy = False


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started, stop the workers (SIGTERM, then SIGKILL), reap them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    with contextlib.suppress(Exception):       # the executor cancels its own futures (doing
        pool.shutdown(wait=False, cancel_futures=True)   # it here races its manager thread)
    for p in processes:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for p in processes:
        with contextlib.suppress(Exception):
            p.join(max(0.0, deadline - time.monotonic()))
    for p in processes:
        with contextlib.suppress(Exception):
            if p.is_alive():
                p.kill()
                p.join(1.0)


def _run_pooled(missing, quick, jobs, root, device, results, on_done) -> None:
    threads = max(1, (os.cpu_count() or 1) // jobs)
    context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_worker_init,
                               initargs=(threads, os.getpid()))
    futures = {}
    try:
        with _blocked(STOP_SIGNALS):                   # workers start with them held back
            for run in missing:
                futures[pool.submit(_execute_in_worker, run, quick, root, device)] = run
        for future in as_completed(futures):
            run = futures[future]
            results[run] = future.result()
            if on_done:
                on_done(run, results[run])
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown(wait=True)


def execute_many(todo: list[Run], quick: bool = False, jobs: int = 0,
                 root="data", device="cpu", force: bool = False, on_done=None,
                 on_damaged=None) -> dict:
    """Results of every (problem, run) of todo, by (problem, run name): from the cache, or
    trained (in parallel, the longest runs first, whatever problem they belong to).

    jobs: worker processes (0 = one per CPU core, at most the number of runs to
    train; 1 = train in this process). on_done(run, result) is called as each
    run finishes, from this process; on_damaged(path, why) for each cached
    result that is damaged or incomplete (it is trained again). A SIGINT or
    SIGTERM stops every worker and raises Interrupted; what finished is stored.
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
    jobs = jobs or min(os.cpu_count() or 1, len(missing))
    if str(device) != "cpu":
        jobs = 1                                        # one accelerator: one process
    try:
        with _signals_raise():
            if jobs <= 1:
                for run in missing:
                    results[run] = _execute_and_store(run, quick, root, device)
                    if on_done:
                        on_done(run, results[run])
            else:
                _run_pooled(missing, quick, jobs, root, device, results, on_done)
    except _Signal as stop:
        raise Interrupted(stop.signum, len(results), len(todo) - len(results)) from None
    except KeyboardInterrupt:
        raise Interrupted(signal.SIGINT, len(results), len(todo) - len(results)) from None
    return results
