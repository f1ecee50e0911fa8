"""MNIST through torchvision.datasets.MNIST, as tensors preloaded on the device.

torchvision reads the same IDX files in data/MNIST/raw/ that scratchnet/mnist.py
parses by hand, and the scaling is the same (pixel / 255, as ToTensor), so the
two packages see bit-identical inputs. Everything is converted once, up front:
the training loop only indexes rows, with no per-sample transform.
"""
from __future__ import annotations

from pathlib import Path

import torch

from scratchnet.mnist import FILES, VALIDATION_SIZE, IDXError, verify

from .device import check_dtype, resolve
from .network import dtype_of

SPLITS = ("train", "validation", "test")


def load(split: str = "train", root: Path | str = "data", dtype="float64",
         validation: bool = False, device="cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """(X, y) on the device: X of shape (N, 784) in [0, 1], y int64 of shape (N,).

    split: 'train', 'test', or with validation=True the training set split as
    scratchnet.mnist.load splits it. Missing files raise FileNotFoundError, damaged
    ones scratchnet.mnist.IDXError (a ValueError) naming the file.
    """
    from torchvision.datasets import MNIST  # imported here: only loading data needs it

    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    device, dtype = resolve(device), dtype_of(dtype)
    check_dtype(device, dtype)
    validation = validation or split == "validation"
    source = "test" if split == "test" else "train"
    folder = Path(root) / "MNIST" / "raw"
    missing = [name for name in FILES[source] if not (folder / name).is_file()]
    if missing:
        raise FileNotFoundError(f"MNIST not found under {folder}: no {', '.join(missing)} "
                                "(run `make data` or `compare data`)")
    # torchvision answers a damaged file with a bare AssertionError or a reshape error
    # naming no file: check headers, sizes and labels first, with scratchnet's reader
    verify(source, root)
    try:
        dataset = MNIST(str(root), train=split != "test", download=False)
    except RuntimeError as err:
        raise FileNotFoundError(f"MNIST not found under {folder} "
                                f"(run `make data` or `compare data`): {err}") from None
    except Exception as err:            # damaged in a way the checks above did not see
        raise IDXError(f"{folder}: torchvision could not read the {source} files "
                       f"({type(err).__name__}: {err}); run `make data` to replace them") \
            from None
    images, labels = dataset.data, dataset.targets     # uint8 (N, 28, 28), int64 (N,)
    X = images.reshape(len(images), -1).to(dtype) / 255.0  # (N, 28, 28) -> (N, 784)
    y = labels.to(torch.int64)
    if validation and split != "test":
        cut = len(X) - VALIDATION_SIZE
        X, y = (X[cut:], y[cut:]) if split == "validation" else (X[:cut], y[:cut])
    return X.contiguous().to(device), y.contiguous().to(device)
