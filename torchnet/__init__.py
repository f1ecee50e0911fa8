"""torchnet: the same fully-connected network as scratchnet, in plain PyTorch.

Reading order: network.py next to scratchnet/network.py, then train.py next to
scratchnet/train.py. convert.py moves weights between the two packages
exactly; data.py and device.py put MNIST on the CPU or a GPU. The training
function is torchnet.train.train: the name torchnet.train stays the module.
"""
from scratchnet.train import History

from .convert import to_scratch, to_torch
from .device import resolve
from .network import Network
from .train import evaluate

__all__ = ["Network", "History", "evaluate", "to_torch", "to_scratch", "resolve"]
