"""Runs on a Dask cluster started elsewhere: a real scheduler and two real worker processes,
each in its own folder, as `dask scheduler` and `dask worker` start them on other machines."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from compare import data, schema, table

ROOT = Path(__file__).resolve().parent.parent


def _start(args, folder: Path, env) -> subprocess.Popen:
    folder.mkdir()
    return subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=folder, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def cluster(tmp_path):
    """(scheduler address, the workers' folders): a scheduler on 127.0.0.1 and two workers of
    one process and one thread each, none of them with MNIST or the checkout as its folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}       # the package, as installed elsewhere
    address_file = tmp_path / "scheduler.json"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(address_file)], tmp_path / "scheduler", env)]
    deadline = time.monotonic() + 30
    while not address_file.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    folders = [tmp_path / f"worker{i}" for i in (1, 2)]
    procs += [_start(["worker", "--scheduler-file", str(address_file), "--host", "127.0.0.1",
                      "--nworkers", "1", "--nthreads", "1", "--no-dashboard"], folder, env)
              for folder in folders]
    try:
        yield json.loads(address_file.read_text())["address"], folders
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_a_quick_problem_runs_on_a_cluster_and_writes_only_here(cluster, tmp_path, mnist_root):
    address, workers = cluster
    here = tmp_path / "command"
    here.mkdir()
    (here / "data").symlink_to(mnist_root, target_is_directory=True)
    done = subprocess.run([sys.executable, "-m", "compare.cli", "problem3", "--quick",
                           "--quiet", "--scheduler", address], cwd=here, capture_output=True,
                          text=True, timeout=240, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stdout + done.stderr
    for run in table.plan(3, quick=True):
        stored = json.loads((here / "results" / "quick" / "problem3" /
                             f"{run.name}-{run.short_hash()}.json").read_text())
        assert schema.run_result_problem(stored, run.to_dict(), run.name) is None
    for folder in workers:
        assert not (folder / "results").exists() and not (folder / "figures").exists()
        assert not list(folder.rglob("*.json")), "a worker wrote a result"
        assert data.bad_files(folder / "data") == []      # the command's files, verified


PAGE_FAULTS = """
import os, resource, sys
import numpy as np
from compare import pool
if sys.argv[1] == "fixed":
    pool._heap_allocations()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(200):
    a = np.ones(2 ** 17)           # 1 MiB, a weight-sized temporary
    del a
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc only")
def test_worker_keeps_arrays_on_the_heap():
    """A process started as Dask's nanny starts workers (MALLOC_TRIM_THRESHOLD_ set) maps and
    zeroes every 1 MiB array afresh: 256 page faults each. After _heap_allocations the arrays
    reuse the heap's pages."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MALLOC_TRIM_THRESHOLD_": "65536"}

    def faults(mode):
        out = subprocess.run([sys.executable, "-c", PAGE_FAULTS, mode], env=env, check=True,
                             capture_output=True, text=True).stdout
        return int(out)

    pinned, fixed = faults("pinned"), faults("fixed")
    assert pinned > 200 * 200          # the slow case this guards against is real here
    assert fixed < pinned / 20


def test_local_cluster_listens_on_this_machine_only():
    """The LocalCluster's scheduler and its web server take no connection from the network."""
    import psutil

    from compare import pool

    with pool._client(None, 1):
        listening = [c.laddr.ip for c in psutil.Process().net_connections("inet")
                     if c.status == psutil.CONN_LISTEN]
    assert listening and all(ip in ("127.0.0.1", "::1") for ip in listening), listening


def test_local_cluster_workers_wake_seldom():
    """Nothing in a LocalCluster's worker wakes more often than once a second: its profiler
    (every 10 ms by default) and event-loop tick (20 ms) made a run 6-9% slower than in a plain
    process when every core trains."""
    from compare import pool

    with pool._client(None, 1) as client:
        client.wait_for_workers(1)
        [times] = client.run(lambda dask_worker: {
            name: pc.callback_time for name, pc in dask_worker.periodic_callbacks.items()}).values()
    assert "profile" not in times and min(times.values()) >= 1000, times
