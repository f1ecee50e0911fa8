"""scratchnet: a fully-connected network with every derivative written by hand in NumPy.

Reading order: network.py (forward pass and the four backprop equations), then
costs.py and activations.py, then optim.py and train.py. The training function
is scratchnet.train.train: the name scratchnet.train stays the module. Importing
scratchnet never imports torch.
"""
from .network import Network
from .optim import SGD, Adam, StepLR
from .train import History, evaluate

__all__ = ["Network", "SGD", "Adam", "StepLR", "History", "evaluate"]
