"""What a new user can do wrong, and what goes wrong around them: a catalogue.

Each class of mistake or accident has its cases here: bad values in both CLIs
and in compare (usage errors, exit status 2, no traceback, a message that
names the value), output paths that cannot be written (refused before any
work), full disks and failed writes (nothing replaced, no temporary left),
concurrent saves (the file left behind loads), interrupts of a worker pool (every
worker gone within seconds, one line, exit 130/143), damaged cache entries
(retrained, with one line saying why) and damaged input files (an error naming
the file). Every check that happens before training runs without training.
"""
from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from compare import data as cdata
from compare import pool, problem_cli, runs, schema
from compare.cli import main as compare_cli
from compare.runs import Run
from scratchnet import Network, atomic, mnist, saving
from scratchnet.cli import main as scratch_cli
from scratchnet.config import TrainConfig
from scratchnet.limits import SEED_LIMIT
from scratchnet.saving import NetworkFileError
from torchnet.cli import main as torch_cli

ROOT = Path(__file__).resolve().parent.parent
CLIS = {"scratchnet": scratch_cli, "torchnet": torch_cli, "compare": compare_cli}
TINY = ["--train-subset", "200", "--epochs", "1", "--sizes", "784,8,10", "--quiet"]


def _cuda_count() -> int:
    import torch
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def invoke(cli: str, *args):
    return CliRunner().invoke(CLIS[cli], [*map(str, args)])


def assert_usage_error(result, *fragments):
    """Exit status 2 (click's usage error), no traceback, every fragment in the message."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in result.output, (fragment, result.output)


def no_temporaries(*folders):
    for folder in folders:
        left = [p for p in Path(folder).rglob("*") if p.name.endswith(".tmp")]
        assert not left, left


# ================================================================ bad values
# (command, arguments, fragments of the message). None of them trains: every
# check happens before the data are loaded, or right after.
BAD_VALUES = [
    # not finite: inf and nan, everywhere
    ("scratchnet", ["train", "--lr", "inf"], ["--lr", "'inf'", "not a finite number"]),
    ("scratchnet", ["train", "--momentum", "inf"], ["--momentum", "not a finite number"]),
    ("scratchnet", ["train", "--weight-decay", "inf"], ["--weight-decay", "not a finite"]),
    ("scratchnet", ["train", "--optimizer", "adam", "--eps", "inf"], ["--eps", "not a finite"]),
    ("scratchnet", ["train", "--gamma", "inf", "--step-size", "1"], ["--gamma", "not a finite"]),
    ("scratchnet", ["train", "--dampening", "nan"], ["--dampening", "not a finite number"]),
    ("torchnet", ["train", "--optimizer", "adam", "--eps", "inf"], ["--eps", "not a finite"]),
    ("torchnet", ["train", "--lr", "nan"], ["--lr", "'nan'", "not a finite number"]),
    ("torchnet", ["train", "--augment-shift", "nan"], ["--augment-shift", "not a finite"]),
    ("torchnet", ["train", "--augment-rotation", "inf"], ["--augment-rotation", "0<=x<180"]),
    ("torchnet", ["train", "--augment-scale", "nan"], ["--augment-scale", "not a finite"]),
    # batch norm and a batch of one
    ("scratchnet", ["train", "--batchnorm", "--batch-size", "1"], ["batch_size=1", "batch norm"]),
    ("torchnet", ["train", "--batchnorm", "--batch-size", "1"], ["batch_size=1", "batch norm"]),
    # widths that do not fit in memory
    ("scratchnet", ["train", "--sizes", "784,100000000000,10"], ["too large", "PB", "more than"]),
    ("torchnet", ["train", "--sizes", "784,100000000000,10"], ["too large", "PB", "more than"]),
    # seeds both NumPy and torch take
    ("torchnet", ["train", "--seed", str(2 ** 64)], ["--seed", "0<=x<9223372036854775808"]),
    ("scratchnet", ["train", "--seed", str(2 ** 63)], ["--seed", "0<=x<9223372036854775808"]),
    ("scratchnet", ["train", "--seed", "-1"], ["--seed"]),
    # devices that do not exist
    ("torchnet", ["train", "--device", "tpu"], ["'tpu'", "auto, cpu, cuda, mps", "this machine has"]),
    ("torchnet", ["train", "--device", "cuda:99"], ["'cuda:99'"]),
    ("compare", ["problem2", "--device", "tpu"], ["--device", "'tpu'", "this machine has cpu"]),
    ("compare", ["problem3", "--device", "cuda:99"], ["--device", "'cuda:99'"]),
    ("compare", ["bench", "--device", "tpu"], ["--device", "'tpu'"]),
    ("compare", ["gradcheck", "--device", "tpu"], ["--device", "'tpu'"]),
    ("compare", ["lockstep", "--device", "cuda:99"], ["--device", "'cuda:99'"]),
    # outputs that cannot be written, refused before any work
    ("scratchnet", ["train", "--out", "/etc/hostname/x.json"], ["--out", "/etc/hostname",
                                                               "a file is in the way"]),
    ("scratchnet", ["train", "--save", "/etc/hostname/x.npz"], ["--save", "/etc/hostname"]),
    ("torchnet", ["train", "--out", "/etc/hostname/x.json"], ["--out", "/etc/hostname"]),
    ("torchnet", ["train", "--save", "/etc/hostname/x.npz"], ["--save", "/etc/hostname"]),
    ("scratchnet", ["train", "--out", "same.json", "--save", "same.json"], ["also given to"]),
]


@pytest.mark.parametrize("cli, args, fragments", BAD_VALUES,
                         ids=[f"{c}-{' '.join(a)[:40]}" for c, a, _ in BAD_VALUES])
def test_bad_value_is_a_usage_error(cli, args, fragments, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)                     # nothing may be written in the checkout
    assert_usage_error(invoke(cli, *args), *fragments)
    assert not list(tmp_path.rglob("*")), "a refused command wrote something"


@pytest.mark.skipif(_cuda_count() > 0, reason="this machine has CUDA")
@pytest.mark.parametrize("cli, args", [("torchnet", ["train"]), ("compare", ["problem2"]),
                                       ("compare", ["bench"]), ("compare", ["gradcheck"])])
def test_cuda_without_cuda_is_a_usage_error(cli, args):
    assert_usage_error(invoke(cli, *args, "--device", "cuda"), "CUDA is not available",
                       "this machine has cpu")


@pytest.mark.parametrize("cli", ["scratchnet", "torchnet"])
@pytest.mark.parametrize("args, fragments", [
    (["--train-subset", "100000"], ["train_subset=100,000", "only 60,000"]),
    (["--train-subset", "50001", "--validation"], ["only 50,000", "validation"]),
    (["--batchnorm", "--train-subset", "301", "--batch-size", "10"],
     ["batch_size=10", "301", "last batch of 1"]),
    (["--batchnorm", "--batch-size", "59999"], ["60,000", "last batch of 1"]),
])
def test_values_that_do_not_fit_the_data(cli, args, fragments, mnist_root):
    assert_usage_error(invoke(cli, "train", "--data", mnist_root, "--epochs", "1", *args),
                       *fragments)


@pytest.mark.parametrize("cli", ["scratchnet", "torchnet"])
def test_memory_beyond_what_is_available(cli, monkeypatch):
    """A width that fits the 1 TiB cap but not this machine: refused with the estimate."""
    import scratchnet.limits
    monkeypatch.setattr(scratchnet.limits, "available_memory", lambda: 2 * 10 ** 9)
    monkeypatch.setattr("scratchnet.cli.available_memory", lambda: 2 * 10 ** 9)
    result = invoke(cli, "train", "--sizes", "784,200000,10", "--device", "cpu") \
        if cli == "torchnet" else invoke(cli, "train", "--sizes", "784,200000,10")
    assert_usage_error(result, "sizes=784,200000,10 is too large", "GB", "2 GB")


@pytest.mark.parametrize("package", ["numpy", "torch"])
def test_the_seed_range_is_what_both_libraries_take(package):
    with pytest.raises(ValueError, match="seed"):
        TrainConfig(seed=SEED_LIMIT)
    for seed in (0, SEED_LIMIT - 1):
        TrainConfig(seed=seed)
        if package == "numpy":
            np.random.default_rng([seed, 1]).random()
        else:
            import torch
            torch.Generator().manual_seed(seed)


def test_config_refuses_non_finite_values_everywhere():
    for name in ("lr", "momentum", "dampening", "weight_decay", "eps", "gamma", "beta1",
                 "beta2", "dropout"):
        for value in (float("inf"), float("nan")):
            with pytest.raises(ValueError, match=f"{name}="):
                TrainConfig(**{name: value, "nesterov": False})


# ================================================================ outputs: unwritable, full
def _read_only_folder(tmp_path) -> Path:
    folder = tmp_path / "read-only"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):       # root ignores permissions: use sysfs instead
        return Path("/sys")
    return folder


@pytest.mark.parametrize("option", ["--out", "--save"])
def test_read_only_folder_is_refused_before_training(option, tmp_path):
    folder = _read_only_folder(tmp_path)
    result = invoke("scratchnet", "train", option, folder / "x.out", "--data", tmp_path / "none")
    assert_usage_error(result, option, str(folder))   # before the data: nothing was trained


def _old_pair(tmp_path):
    out, save = tmp_path / "history.json", tmp_path / "net.npz"
    out.write_text('{"old": true}\n')
    saving.save(Network([784, 4, 10], seed=1), save)
    return out, save, out.read_bytes(), save.read_bytes()


def test_full_disk_leaves_the_old_pair(mnist_root, tmp_path, monkeypatch):
    """ENOSPC while the second file is written: neither --out nor --save changes."""
    out, save, old_out, old_save = _old_pair(tmp_path)
    real_fsync, calls = os.fsync, []

    def full_disk(fd):
        calls.append(fd)
        if len(calls) == 2:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_fsync(fd)
    monkeypatch.setattr(atomic.os, "fsync", full_disk)
    result = invoke("scratchnet", "train", "--data", mnist_root, *TINY, "--out", out,
                    "--save", save)
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "No space left on device" in result.output and "nothing was replaced" in result.output
    assert out.read_bytes() == old_out and save.read_bytes() == old_save
    no_temporaries(tmp_path)


def test_a_failed_rename_restores_the_old_pair(tmp_path, monkeypatch):
    out, save, old_out, old_save = _old_pair(tmp_path)
    real_replace, calls = os.replace, []

    def second_fails(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(errno.EIO, "I/O error")
        return real_replace(src, dst)
    monkeypatch.setattr(atomic.os, "replace", second_fails)
    with pytest.raises(OSError, match="I/O"):
        with atomic.AtomicFiles() as files:
            files.stage(out, lambda f: f.write(b"new"))
            files.stage(save, lambda f: saving.save(Network([784, 4, 10], seed=2), f))
    assert out.read_bytes() == old_out and save.read_bytes() == old_save
    no_temporaries(tmp_path)


@pytest.mark.parametrize("failure", [OSError(errno.ENOSPC, "No space left on device"),
                                     KeyboardInterrupt()])
def test_write_helper_removes_its_temporary(tmp_path, failure):
    target = tmp_path / "x.json"
    target.write_text("old")

    def write(f):
        f.write(b"half")
        raise failure
    with pytest.raises(type(failure)):
        atomic.write_atomic(target, write)
    assert target.read_text() == "old"
    no_temporaries(tmp_path)


def test_written_files_have_the_usual_mode(tmp_path):
    path = atomic.write_json_atomic(tmp_path / "x.json", {"a": 1})
    umask = os.umask(0o022)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ================================================================ what a write may replace
def _special_files(tmp_path) -> dict:
    """A folder, a named pipe and a socket, all made in tmp_path (never the real /dev)."""
    folder, fifo = tmp_path / "folder", tmp_path / "fifo"
    folder.mkdir()
    os.mkfifo(fifo)
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(tmp_path / "sock"))
    sock.close()
    return {"a folder": folder, "a named pipe": fifo, "a socket": tmp_path / "sock"}


def _no_opening(monkeypatch):
    """Any attempt by scratchnet.atomic to create or open a file fails the test."""
    def refuse(*args, **kwargs):
        raise AssertionError(f"opened {args[:1]}")
    monkeypatch.setattr(atomic.tempfile, "mkstemp", refuse)
    monkeypatch.setattr(atomic.os, "open", refuse)
    monkeypatch.setattr(atomic.os, "replace", refuse)


def test_a_device_is_refused_without_being_opened(monkeypatch):
    """/dev/null is only looked at (os.stat): nothing is created, opened or renamed."""
    _no_opening(monkeypatch)
    with pytest.raises(ValueError, match="/dev/null is a device, not a regular file"):
        atomic.check_output_path("/dev/null")
    with pytest.raises(ValueError, match="/dev/null is a device"):
        atomic.write_json_atomic("/dev/null", {"a": 1})
    with pytest.raises(atomic.NotWritable, match="/dev/null is a device"):
        atomic.check_writable("/dev/null")


def test_special_files_are_refused_and_left_as_they_were(tmp_path, monkeypatch):
    import stat

    special = _special_files(tmp_path)
    kinds = {kind: path.lstat().st_mode for kind, path in special.items()}
    _no_opening(monkeypatch)
    for kind, path in special.items():
        with pytest.raises(ValueError, match=f"{path} is {kind}, not a regular file"):
            atomic.write_bytes_atomic(path, b"x")
        with pytest.raises(ValueError, match=kind):
            atomic.AtomicFiles().stage(path, lambda f: f.write(b"x"))
        assert stat.S_IFMT(path.lstat().st_mode) == stat.S_IFMT(kinds[kind])
    atomic.check_output_path(tmp_path / "new.json")             # not there yet: fine


@pytest.mark.parametrize("cli", ["scratchnet", "torchnet"])
@pytest.mark.parametrize("option", ["--out", "--save"])
def test_cli_refuses_special_outputs_before_any_work(cli, option, tmp_path):
    import stat

    for kind, path in _special_files(tmp_path).items():
        mode = path.lstat().st_mode
        result = invoke(cli, "train", option, path, "--data", tmp_path / "none")
        assert_usage_error(result, option, str(path))         # before the data: no training
        assert kind in result.output or "directory" in result.output   # click names folders
        assert path.lstat().st_mode == mode
        shutil.rmtree(path) if stat.S_ISDIR(mode) else path.unlink()


def test_cli_refuses_a_name_too_long_and_a_symlink_loop(tmp_path):
    long_name = tmp_path / ("x" * 300 + ".json")
    assert_usage_error(invoke("scratchnet", "train", "--out", long_name), "--out",
                       "file name too long")
    assert_usage_error(invoke("torchnet", "train", "--save", long_name), "--save",
                       "file name too long")
    loop = tmp_path / "loop"
    loop.symlink_to(loop)
    assert_usage_error(invoke("scratchnet", "train", "--save", loop), "--save",
                       "a loop of symbolic links")


def test_a_symlink_is_followed_and_a_file_keeps_its_mode(tmp_path):
    target, link = tmp_path / "real.json", tmp_path / "link.json"
    target.write_text("old")
    target.chmod(0o600)
    link.symlink_to(target)
    atomic.write_json_atomic(link, {"a": 1})
    assert link.is_symlink() and json.loads(link.read_text()) == {"a": 1}
    assert target.stat().st_mode & 0o777 == 0o600
    with atomic.AtomicFiles() as files:
        files.stage(link, lambda f: f.write(b"{}"))
    assert link.is_symlink() and target.read_text() == "{}"
    assert target.stat().st_mode & 0o777 == 0o600
    no_temporaries(tmp_path)


def test_a_huge_count_is_a_usage_error():
    assert_usage_error(invoke("torchnet", "train", "--batch-size", "100000000000000000000"),
                       "batch_size=100000000000000000000", "below 2**63")
    assert_usage_error(invoke("scratchnet", "train", "--epochs", str(2 ** 63)),
                       "epochs=9223372036854775808")


# ================================================================ concurrent saves
def test_concurrent_saves_leave_a_loadable_file(tmp_path):
    """Four processes save different networks to one path, 15 times each."""
    target = tmp_path / "net.npz"
    code = textwrap.dedent(f"""
        import sys
        from scratchnet import Network, saving
        net = Network([784, 64, 10], seed=int(sys.argv[1]))
        for _ in range(15):
            saving.save(net, {str(target)!r})
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code, str(i)], stderr=subprocess.PIPE)
             for i in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=60)
        assert p.returncode == 0, err.decode()
    net = saving.load(target)
    assert net.seed in range(4)
    assert np.array_equal(net.weights[0], Network([784, 64, 10], seed=net.seed).weights[0])
    no_temporaries(tmp_path)


# ================================================================ interrupts
def _children(pid: int) -> list[int]:
    """Processes whose parent is pid (a /proc scan)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("PPid:") and int(line.split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    """A process that exists and is not a zombie."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return not any(line.startswith("State:") and "Z" in line.split()[1]
                   for line in status.splitlines())


def _working_in(folder: Path) -> list[int]:
    """Live processes (other than this one) whose working folder is `folder`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if os.readlink(entry / "cwd") == str(folder):
                    found.append(int(entry.name))
            except OSError:
                continue
    return [pid for pid in found if _alive(pid)]


@pytest.fixture
def quick_problem(tmp_path, mnist_root):
    """A folder with data/ symlinked, where `compare problem2 --quick` can run."""
    (tmp_path / "data").symlink_to(mnist_root, target_is_directory=True)
    return tmp_path


def _descendants(pid: int) -> list[int]:
    """Every process below pid: children, grandchildren, ..."""
    out, todo = [], [pid]
    while todo:
        found = _children(todo.pop())
        out += found
        todo += found
    return out


def _start_pool(folder: Path):
    """`compare problem2 --quick --jobs 2` in folder, once its two workers (forked by the
    fork server, below the command) are up; (process, every process below it)."""
    proc = subprocess.Popen([sys.executable, "-m", "compare.cli", "problem2", "--quick",
                             "--jobs", "2", "--quiet"], cwd=folder, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 60
    workers = []
    while time.monotonic() < deadline and proc.poll() is None:
        direct = set(_children(proc.pid))
        workers = [pid for pid in _descendants(proc.pid) if pid not in direct]
        if len(workers) >= 2:
            break
        time.sleep(0.1)
    assert len(workers) >= 2, "the worker processes never started"
    time.sleep(1.0)                          # let them start training
    return proc, _descendants(proc.pid)


def _gone(pids, within: float) -> list[int]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        left = [pid for pid in pids if _alive(pid)]
        if not left:
            return []
        time.sleep(0.1)
    return [pid for pid in pids if _alive(pid)]


@pytest.mark.parametrize("how, code", [("SIGINT", 130), ("SIGTERM", 143), ("Ctrl-C", 130)])
def test_interrupt_stops_every_worker(how, code, quick_problem):
    proc, children = _start_pool(quick_problem)
    start = time.monotonic()
    if how == "Ctrl-C":                         # a terminal signals the whole process group
        os.killpg(proc.pid, signal.SIGINT)
    else:
        proc.send_signal(getattr(signal, how))
    out, err = proc.communicate(timeout=20)
    assert time.monotonic() - start < 8, "the pool took too long to stop"
    assert proc.returncode == code, (out, err)
    assert "Traceback" not in out + err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("interrupted: "), err
    assert "kept" in lines[0] and "to go; rerun to continue" in lines[0]
    assert _gone(children, 5) == [], "a worker outlived its parent"
    assert _working_in(quick_problem) == []
    no_temporaries(quick_problem)
    for path in (quick_problem / "results").rglob("*.json"):     # what was kept is whole
        assert schema.run_result_problem(json.loads(path.read_text())) is None


def test_workers_die_with_a_killed_parent(quick_problem):
    proc, children = _start_pool(quick_problem)
    proc.kill()                                 # SIGKILL: no handler runs in the parent
    proc.communicate(timeout=20)
    assert _gone(children, 6) == [], "workers outlived a killed parent"


# ================================================================ compare's inputs
def _loop(path: Path):
    path.parent.mkdir(parents=True)
    path.symlink_to(path.name)


@pytest.mark.parametrize("make, fragments", [
    (lambda t: (t / "results").write_text("x"), ["cannot write results", "results is not a folder"]),
    (lambda t: _loop(t / "results" / "quick" / "problem2"),
     ["results/quick/problem2: Too many levels of symbolic links"]),
    (lambda t: (t / "figures").write_text("x"), ["cannot write figures", "figures is not a folder"]),
    (lambda t: (t / "data").unlink(), ["data/MNIST/raw/train-images-idx3-ubyte is missing",
                                       "`make data`"]),
    (lambda t: cdata.raw_dir(t / "data").joinpath("t10k-labels-idx1-ubyte").unlink(),
     ["t10k-labels-idx1-ubyte is missing", "compare data"]),
])
def test_unusable_folders_and_missing_mnist_are_refused_before_training(make, fragments,
                                                                        copy_root, monkeypatch):
    """Before any worker starts: one usage error naming the path, nothing trained."""
    here = copy_root.parent                         # data/: a copy of MNIST, to damage
    (here / "data").symlink_to(copy_root, target_is_directory=True)
    monkeypatch.chdir(here)
    make(here)
    started = []
    monkeypatch.setattr(pool, "_client", lambda *a: started.append(a))
    assert_usage_error(invoke("compare", "problem2", "--quick", "--quiet"), *fragments)
    assert started == []


def test_a_read_only_results_folder_is_refused(tmp_path, monkeypatch):
    folder = _read_only_folder(tmp_path)
    monkeypatch.setattr(runs, "RESULTS", folder / "results")
    monkeypatch.chdir(tmp_path)
    assert_usage_error(invoke("compare", "problem3", "--quick"), "cannot write results",
                       f"{folder} is not writable")


@pytest.mark.parametrize("args, fragments", [
    (["problems", "--jobs", "1000000000000"], ["--jobs", "1000000000000", "0<=x<="]),
    (["problem2", "--jobs", "-1"], ["--jobs", "-1"]),
])
def test_counts_too_large_for_the_machine(args, fragments, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert_usage_error(invoke("compare", *args), *fragments)
    assert not list(tmp_path.rglob("*"))


@pytest.mark.parametrize("value, quick", [("", False), ("0", False), ("false", False),
                                          ("No", False), ("FALSE", False), ("1", True),
                                          ("true", True), ("YES", True)])
def test_the_quick_switch(value, quick, monkeypatch):
    monkeypatch.setenv("QUICK", value)
    assert runs.quick_mode() is quick and runs.quick_mode(True) is True


@pytest.mark.parametrize("command", ["problems", "problem2", "problem3"])
def test_a_bad_quick_switch_is_a_usage_error(command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QUICK", "maybe")
    assert_usage_error(invoke("compare", command), "QUICK='maybe'", "1, 0, true, false, yes")


@pytest.mark.parametrize("via", ["option", "environment"])
def test_a_scheduler_that_does_not_answer_is_a_usage_error(via, quick_problem, monkeypatch):
    monkeypatch.chdir(quick_problem)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]           # nothing listens there once it is closed
    address = f"tcp://127.0.0.1:{port}"
    if via == "environment":
        monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", address)
    result = invoke("compare", "problem3", "--quick", "--quiet",
                    *(["--scheduler", address] if via == "option" else []))
    assert_usage_error(result, "--scheduler", f"tcp://127.0.0.1:{port}", "no Dask scheduler")
    assert not (quick_problem / "results").exists()


# ================================================================ damaged cache entries
SMALL = TrainConfig(train_subset=200, epochs=1, sizes=(784, 8, 10))


@pytest.fixture
def tmp_results(tmp_path, monkeypatch, mnist_root):
    monkeypatch.setattr(runs, "RESULTS", tmp_path / "results")
    monkeypatch.setattr(runs, "FIGURES", tmp_path / "figures")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").symlink_to(mnist_root, target_is_directory=True)
    return tmp_path


def _drop(key):
    def damage(path):
        data = json.loads(path.read_text())
        data.pop(key)
        path.write_text(json.dumps(data))
    return damage


def _drop_history_list(path):
    data = json.loads(path.read_text())
    del data["history"]["train_loss"]
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("damage, why", [
    (lambda p: p.write_text("{}"), "missing 'name', 'run', 'impl' and 7 more"),
    (lambda p: p.write_text(""), "empty"),
    (lambda p: p.write_text(p.read_text()[:60]), "not valid JSON"),
    (lambda p: p.write_text("[1, 2]"), "not a JSON object"),
    (_drop("history"), "missing 'history'"),
    (_drop("final_accuracy"), "missing 'final_accuracy'"),
    (_drop_history_list, "missing 'history.train_loss'"),
    (lambda p: p.write_bytes(b"\xff\xfe\x00garbage"), "not valid JSON"),
])
def test_damaged_result_is_retrained_with_one_line(damage, why, mnist_root, tmp_results,
                                                   capsys):
    run = Run(2, "x", "s", SMALL, "scratch")
    first = problem_cli.run_many([run], True, 1, "cpu", False, True)
    path = runs.result_path(run, quick=True)
    damage(path)
    capsys.readouterr()
    again = problem_cli.run_many([run], True, 1, "cpu", False, True)
    err = capsys.readouterr().err
    assert err.strip() == f"{path} is damaged ({why}); retraining"
    assert again[run]["history"]["test_accuracy"] == first[run]["history"]["test_accuracy"]
    assert runs.stored(run, quick=True) is not None   # repaired


def test_result_of_another_run_is_not_used(mnist_root, tmp_results):
    run = Run(2, "x", "s", SMALL, "scratch")
    other = run.with_seed(1)
    pool.execute_many([other], quick=True, jobs=1, root=mnist_root)
    path = runs.result_path(run, quick=True)
    shutil.copyfile(runs.result_path(other, quick=True), path)
    told = []
    pool.execute_many([run], quick=True, jobs=1, root=mnist_root,
                      on_damaged=lambda p, why: told.append(why))
    assert told == ["it holds another run's config"]


def _stored_result(run) -> dict:
    """A sound result of run, as compare.runs.store writes it."""
    return {"name": run.name, "run": run.to_dict(), "impl": run.impl, "device": "cpu",
            "evaluated_on": "test", "history": {"test_accuracy": [0.9], "train_loss": [0.3],
                                                "grad_norms": [[1.0]], "seconds": [1.0],
                                                "lr": [0.1], "diverged_at": None},
            "final_accuracy": 0.9, "best_accuracy": 0.9, "diverged_at": None,
            "wall_seconds": 1.0}


def _nested(path):
    path.write_text("[" * 100_000 + "]" * 100_000)


@pytest.mark.parametrize("damage, why", [
    (lambda p, r: p.write_text(json.dumps({**r, "final_accuracy": float("nan")})),
     "'final_accuracy' is not an accuracy"),
    (lambda p, r: p.write_text(json.dumps({**r, "best_accuracy": 7.5})),
     "'best_accuracy' is not an accuracy"),
    (lambda p, r: p.write_text(json.dumps({**r, "diverged_at": "yes"})), "'diverged_at'"),
    (lambda p, r: p.write_text(json.dumps({**r, "impl": 3})), "'impl'"),
    (lambda p, r: p.write_text(json.dumps([r])), "not a JSON object"),
    (lambda p, r: p.write_text(json.dumps({**r, "history": {**r["history"],
                                                            "train_loss": ["a"]}})),
     "'history.train_loss'"),
    (lambda p, r: _nested(p), "nested too deeply"),
    (lambda p, r: p.symlink_to(p.name), "not a regular file"),        # a symlink loop
    (lambda p, r: p.write_text(json.dumps(r)[:50]), "not valid JSON"),
])
def test_the_report_lists_a_damaged_result_as_damaged(damage, why, tmp_path):
    """compare report reads results through the cache's schema: a damaged one is listed with
    the reason, never called stale, never a traceback, and its numbers are not used."""
    from compare import table
    from compare.report import build as report

    run = next(r for r in table.plan(2) if r.variant == "baseline" and r.impl == "torch")
    path = tmp_path / "results" / run.folder / runs.result_path(run).name
    path.parent.mkdir(parents=True)
    damage(path, _stored_result(run))
    src = report.collect(tmp_path / "results")
    (shown, reason), = [(e.shown, e.note) for e in src.entries() if e.status == "damaged"]
    assert shown == f"results/problem2/{path.name}" and why in reason
    assert src.of(2)[run.name].status == "damaged" and src.of(2)[run.name].result is None
    text = report.build(src, tmp_path / "figures", tmp_path / "REPORT.md").text
    assert "Traceback" not in text and "stale" not in text


@pytest.mark.parametrize("target, damage, why", [
    ("npz", lambda p: p.write_bytes(p.read_bytes()[:200]), "not a readable .npz"),
    ("npz", lambda p: p.unlink(), "missing"),
    ("json", lambda p: p.write_text("{}"), "missing 'hash'"),
    ("json", lambda p: p.write_text(p.read_text()[:100]), "not valid JSON"),
])
def test_problem1_cache_repairs_itself(target, damage, why, tmp_path, monkeypatch):
    from compare.problem1 import experiment as P

    monkeypatch.chdir(tmp_path)
    config = P.Problem1Config(n_steps=300, sweep_from=1e-5, per_decade=1, refine=2, scan=20,
                              scan_steps=100)
    results, _ = P.load_or_compute(config, quick=True)
    path = P.trajectories_path(config, True) if target == "npz" else P.json_path(True)
    damage(path)
    told = []
    again, trajectories = P.load_or_compute(config, quick=True,
                                            on_damaged=lambda p, w: told.append((p, w)))
    assert len(told) == 1 and told[0][0] == path and why in told[0][1]
    assert again["runs"] == results["runs"] and set(trajectories) >= {"b_gd", "b_adam"}
    P.load_or_compute(config, quick=True, on_damaged=lambda p, w: told.append(w))
    assert len(told) == 1                                             # repaired: reused
    no_temporaries(tmp_path)


# ================================================================ damaged files
@pytest.fixture
def copy_root(mnist_root, tmp_path):
    raw = cdata.raw_dir(tmp_path / "copy")
    raw.mkdir(parents=True)
    for name in cdata.MD5:
        shutil.copyfile(cdata.raw_dir(mnist_root) / name, raw / name)
    return tmp_path / "copy"


def _bad_label(blob: bytes) -> bytes:
    return blob[:8 + 5] + bytes([12]) + blob[8 + 6:]


IDX_DAMAGE = [
    ("train-images-idx3-ubyte", lambda b: b"\x00\x00\x09\x03" + b[4:], "bad magic number"),
    ("train-images-idx3-ubyte", lambda b: b[:-100], "truncated"),
    ("train-labels-idx1-ubyte", lambda b: b[:5], "too short"),
    ("train-labels-idx1-ubyte", _bad_label, "label 12 at index 5 is not a digit"),
    ("train-labels-idx1-ubyte", lambda b: b[:8] + b[8:] + b"\x01", "truncated or corrupted"),
]


@pytest.mark.parametrize("cli", ["scratchnet", "torchnet"])
@pytest.mark.parametrize("name, damage, message", IDX_DAMAGE,
                         ids=[m.split()[0] + "-" + n[:5] for n, _, m in IDX_DAMAGE])
def test_damaged_idx_file_names_the_file(cli, name, damage, message, copy_root):
    path = cdata.raw_dir(copy_root) / name
    path.write_bytes(damage(path.read_bytes()))
    result = invoke(cli, "train", "--data", copy_root, "--epochs", "1", "--quiet")
    assert_usage_error(result, "--data", name, message)


def test_torchnet_reader_names_the_file(copy_root):
    from torchnet import data as tdata

    path = cdata.raw_dir(copy_root) / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(mnist.IDXError, match="t10k-images-idx3-ubyte.*truncated"):
        tdata.load("test", copy_root)


def _network_file(tmp_path, **options) -> Path:
    path = tmp_path / "net.npz"
    saving.save(Network([784, 6, 10], seed=0, **options), path)
    return path


def _rewrite(path: Path, change):
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    change(arrays)
    with open(path, "wb") as f:
        np.savez(f, **arrays)


def _save_one_array(path: Path):
    with open(path, "wb") as f:
        np.save(f, np.zeros(3))


def _set_nan(arrays):
    arrays["W1"] = arrays["W1"].copy()
    arrays["W1"][0, 0] = np.nan


@pytest.mark.parametrize("damage, message", [
    (lambda p: p.write_bytes(b"not a zip at all"), "not a saved network"),
    (lambda p: p.write_bytes(p.read_bytes()[:300]), "not a saved network"),
    (lambda p: p.write_bytes(b"\x80\x04K\x01."), "not a saved network"),     # a pickle
    (lambda p: _save_one_array(p), "not an .npz archive"),
    (lambda p: _rewrite(p, lambda a: a.pop("b1")), "array b1 missing"),
    (lambda p: _rewrite(p, lambda a: a.pop("__options__")), "'__options__'"),
    (lambda p: _rewrite(p, lambda a: a.update(W0=np.zeros((6, 5)))), "W0 has shape (6, 5)"),
    (lambda p: _rewrite(p, _set_nan), "W1 holds NaN"),
    (lambda p: _rewrite(p, lambda a: a.update(__options__=np.array("{oops"))), "options"),
    (lambda p: p.unlink(), "no such file"),
])
def test_damaged_network_file_names_the_file(damage, message, tmp_path):
    path = _network_file(tmp_path)
    damage(path)
    with pytest.raises(NetworkFileError) as err:
        saving.load(path)
    assert str(path) in str(err.value) and message in str(err.value)
    assert "allow_pickle" not in str(err.value)


def _zip_with(path: Path, **members: bytes):
    """Add raw members to an .npz (a zip), as a hostile or damaged writer might."""
    import zipfile

    with zipfile.ZipFile(path, "a") as archive:
        for name, data in members.items():
            archive.writestr(name, data)


def _npy_header(shape, descr="<f8") -> bytes:
    """The .npy magic and header of an array of this shape, with none of its data."""
    import io

    f = io.BytesIO()
    np.lib.format.write_array_header_1_0(f, {"descr": descr, "fortran_order": False,
                                             "shape": shape})
    return f.getvalue()


def test_a_network_file_that_is_a_named_pipe_does_not_block(tmp_path):
    """The path is looked at (os.stat) before it is opened: a pipe with no writer
    would block open() forever."""
    fifo = tmp_path / "net.npz"
    os.mkfifo(fifo)
    outcome = []
    worker = threading.Thread(target=lambda: outcome.append(_load_error(fifo)), daemon=True)
    worker.start()
    worker.join(10)
    assert outcome and "not a regular file" in outcome[0] and str(fifo) in outcome[0]


def _load_error(path) -> str:
    try:
        saving.load(path)
    except NetworkFileError as err:
        return str(err)
    return "loaded"


def test_network_file_sizes_are_checked_before_anything_is_allocated(tmp_path, monkeypatch):
    """Options that declare a huge network, a member larger than its shape needs, a
    header that lies about the shape or holds objects: each refused, naming the file,
    before the data are read; an unknown member is never read at all."""
    import zipfile

    path = _network_file(tmp_path)
    _rewrite(path, lambda a: a.update(__options__=np.array(json.dumps(
        {"sizes": [784, 10 ** 9, 10], "seed": 0}))))
    message = _load_error(path)
    assert str(path) in message and "more than the memory available" in message

    reads = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, *a, **k: (
        reads.append(getattr(name, "filename", name)), real_open(self, name, *a, **k))[1])
    path = _network_file(tmp_path)
    _zip_with(path, **{"junk.npy": b"\0" * 10 ** 6})
    reads.clear()
    assert saving.load(path).sizes == [784, 6, 10] and "junk.npy" not in reads

    path = _network_file(tmp_path)
    _rewrite(path, lambda a: a.update(W1=np.zeros((10, 6000))))
    reads.clear()
    message = _load_error(path)
    assert "W1 takes" in message and "needs" in message and "W1.npy" not in reads

    for header, why in [(_npy_header((10, 600000)), "has shape (10, 600000)"),
                        (_npy_header((10, 6), "|O"), "holds object values")]:
        path = _network_file(tmp_path)
        _rewrite(path, lambda a: a.pop("W1"))
        _zip_with(path, **{"W1.npy": header})
        message = _load_error(path)
        assert str(path) in message and why in message, message


def test_compare_data_names_what_it_replaced(copy_root, mnist_root, monkeypatch):
    bad = cdata.raw_dir(copy_root) / "t10k-labels-idx1-ubyte"
    bad.write_bytes(bad.read_bytes()[:-1])

    def good_copy(work, timeout):
        return cdata.raw_bytes(mnist_root)
    monkeypatch.setattr(cdata, "ROUTES", (("a good copy", good_copy),))
    before = (cdata.raw_dir(copy_root) / "train-images-idx3-ubyte").stat().st_mtime_ns
    result = CliRunner().invoke(cdata.command, ["--root", str(copy_root)])
    assert result.exit_code == 0, result.output
    assert f"{bad} is damaged (MD5 mismatch)" in result.output
    assert f"replaced {bad} (MD5 mismatch)" in result.output
    assert cdata.bad_files(copy_root) == []
    assert (cdata.raw_dir(copy_root) / "train-images-idx3-ubyte").stat().st_mtime_ns == before
    no_temporaries(copy_root)


@pytest.fixture
def silent_server():
    """A server that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_compare_data_gives_up_on_a_silent_network(tmp_path, silent_server, monkeypatch):
    from torchvision.datasets import MNIST

    monkeypatch.setattr(MNIST, "mirrors", [silent_server])
    monkeypatch.setattr(cdata, "ROUTES", (("torchvision download", cdata._via_torchvision),))
    start = time.monotonic()
    result = CliRunner().invoke(cdata.command, ["--root", str(tmp_path), "--timeout", "0.5"])
    assert time.monotonic() - start < 15
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "torchvision download" in result.output and "timed out" in result.output
    assert "giving up on a connection silent for 0.5 s" in result.output


def test_nan_is_refused_where_a_number_is_required():
    from compare.cli import main

    for args, option in ((["data", "--timeout", "nan"], "--timeout"),
                         (["exercises", "check", "--time-limit", "nan", "x"], "--time-limit")):
        assert_usage_error(CliRunner().invoke(main, args), option, "finite")


def test_exercises_new_where_no_folder_can_be_made(tmp_path):
    from compare.cli import main

    blocker = tmp_path / "file"
    blocker.write_text("")
    result = CliRunner().invoke(main, ["exercises", "new", str(blocker / "copy")])
    assert_usage_error(result, str(blocker / "copy"))
