"""Shared fixtures. Numerical tests run in float64; warnings are errors (setup.cfg)."""
from __future__ import annotations

import signal
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# A shell starts a background job with SIGINT ignored, and every command a test starts would
# inherit that and ignore the Ctrl-C the tests send it. The tests are about a terminal's Ctrl-C:
# with a handler here, the commands start with SIGINT's default action (exec resets a handler).
if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(scope="session")
def mnist_root() -> Path:
    """The project's data/ folder, holding verified MNIST (`make data` fills it)."""
    from compare.data import bad_files, ensure_mnist

    root = ROOT / "data"
    if bad_files(root):
        ensure_mnist(root)
    return root


@pytest.fixture(scope="session")
def mnist_small(mnist_root):
    """The first 2,000 training and 1,000 test images, float64."""
    from scratchnet import mnist

    Xtr, ytr = mnist.load("train", mnist_root)
    Xte, yte = mnist.load("test", mnist_root)
    return (Xtr[:2000], ytr[:2000]), (Xte[:1000], yte[:1000])


@pytest.fixture
def cuda():
    """The CUDA device, or a skip where there is none (the `gpu` tests)."""
    import torch

    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    return torch.device("cuda")
