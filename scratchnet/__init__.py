"""scratchnet: a fully-connected network with every derivative written by hand in NumPy.

Reading order: network.py (forward pass and the four backprop equations), then
costs.py and activations.py, then optim.py and train.py. Importing scratchnet
never imports torch.
"""
from .network import Network
from .optim import SGD, Adam, StepLR
from .train import History, evaluate, train

__all__ = ["Network", "SGD", "Adam", "StepLR", "History", "train", "evaluate"]
