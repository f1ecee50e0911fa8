"""Where tensors live: "auto" -> cuda, mps or cpu, resolved once per run.

The CLI resolves the name once and hands the torch.device to the library, so
every tensor of a run is created on the same device from the start.
"""
from __future__ import annotations

import torch

DEVICES = ("auto", "cpu", "cuda", "mps")


class DeviceError(ValueError):
    """A device name that is unknown, or names a device this machine does not have."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available() -> list[str]:
    """The devices this machine has, by the names --device takes: cpu, cuda:0, ..., mps."""
    names = ["cpu"]
    if torch.cuda.is_available():
        names += [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    if _mps_available():
        names.append("mps")
    return names


def resolve(name="auto") -> torch.device:
    """torch.device for 'auto', 'cpu', 'cuda', 'cuda:<i>' or 'mps' (a torch.device passes through).

    'auto' picks cuda if available, else mps, else cpu. Asking for a device
    this machine lacks is an error, not a silent fall-back to the CPU; the
    error names the devices there are.
    """
    if isinstance(name, torch.device):
        name = str(name)
    text = str(name).strip().lower()
    if text == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    here = f"this machine has {', '.join(available())}"
    kind, _, index = text.partition(":")
    if kind not in DEVICES[1:] or (index and not index.isdigit()) or (index and kind != "cuda"):
        raise DeviceError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)} "
                          f"(or cuda:<index>); {here}")
    if kind == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise DeviceError(f"device {name!r} asked for, but CUDA is not available here "
                              f"(use --device cpu or auto); {here}")
        if index and int(index) >= count:
            raise DeviceError(f"device {name!r} asked for, but this machine has {count} "
                              f"CUDA device(s): cuda:0 to cuda:{count - 1}")
    if kind == "mps" and not _mps_available():
        raise DeviceError(f"device {name!r} asked for, but MPS is not available here "
                          f"(use --device cpu or auto); {here}")
    return torch.device(text)


def free_memory(device: torch.device) -> int | None:
    """Bytes free on the device (None where it cannot be told): CUDA's, else the host's."""
    if device.type == "cuda":
        try:
            return int(torch.cuda.mem_get_info(device)[0])
        except RuntimeError:
            return None
    from scratchnet.limits import available_memory

    return available_memory()


def check_dtype(device: torch.device, dtype) -> None:
    """Apple's MPS has no float64: say so before any tensor is made."""
    if device.type == "mps" and dtype in ("float64", torch.float64):
        raise DeviceError("dtype 'float64' is not supported on mps; use float32 or --device cpu")
