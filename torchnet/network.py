"""The same fully-connected network as scratchnet/network.py, in plain PyTorch.

Layer l computes z_l = a_{l-1} W_lᵀ + b_l (nn.Linear) and a_l = f(z_l) on a
whole mini-batch: rows are samples, so a_l has shape (N, n_l). Options and
their meanings are scratchnet's; the names allowed come from the one table
both packages read (scratchnet/names.py), so a bad one is refused with the
same message. There is no backprop() here: loss(x, y).backward() lets
autograd apply the chain rule that scratchnet writes out as BP1-BP4. Shape
comments name the widths n_prev, n_here and n_next of the layers before, at
and after the one a line works on, as scratchnet/network.py's do.

Input: (input dropout), on the pixels, before the first linear layer.
Hidden layer: linear -> (batch norm) -> activation -> (dropout).
Output layer: linear logits with nn.CrossEntropyLoss (cross_entropy), or a
sigmoid output with ½‖a − y‖² averaged over the batch (quadratic, Nielsen).
"""
from __future__ import annotations

import math
import operator

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils import skip_init

from scratchnet import names  # the names allowed, shared with scratchnet (torch-free)

DTYPES = {"float32": torch.float32, "float64": torch.float64}           # keyed by names.DTYPES
ACTIVATIONS = {"sigmoid": torch.sigmoid, "relu": torch.relu, "tanh": torch.tanh}  # names.ACTIVATIONS


def dtype_of(name) -> torch.dtype:
    """torch dtype for 'float32' / 'float64' (a torch dtype passes through)."""
    if isinstance(name, torch.dtype) and name in DTYPES.values():
        return name
    return DTYPES[names.check("dtype", name)]


def init_linear(layer: nn.Linear, scheme: str, generator=None) -> None:
    """Fill a layer's W and b with the formulas of scratchnet/init.py, via torch.nn.init."""
    W, b = layer.weight, layer.bias                    # (n_out, n_in), (n_out,)
    n_in = W.shape[1]
    if scheme == "nielsen":                            # W ~ N(0, 1/n_in), b ~ N(0, 1)
        nn.init.normal_(W, 0.0, 1.0 / math.sqrt(n_in), generator=generator)
        nn.init.normal_(b, 0.0, 1.0, generator=generator)
        return
    if scheme == "large":                              # W ~ N(0, 1), b ~ N(0, 1)
        nn.init.normal_(W, 0.0, 1.0, generator=generator)
        nn.init.normal_(b, 0.0, 1.0, generator=generator)
        return
    if scheme == "xavier_normal":                      # N(0, 2/(n_in + n_out))
        nn.init.xavier_normal_(W, generator=generator)
    elif scheme == "kaiming_uniform":                  # U(±√(6/n_in)), torch's defaults
        nn.init.kaiming_uniform_(W, generator=generator)
    elif scheme == "kaiming_normal":                   # N(0, 2/n_in), torch's defaults
        nn.init.kaiming_normal_(W, generator=generator)
    else:
        names.check("init", scheme)                    # raises, naming what is allowed
    nn.init.zeros_(b)


class Network(nn.Module):
    """scratchnet.Network's options, layers and parameter order, as an nn.Module."""

    def __init__(self, sizes, activation="sigmoid", cost="cross_entropy",
                 init="xavier_normal", seed=None, dropout=0.0, batchnorm=False,
                 dtype="float64", input_dropout=0.0):
        super().__init__()
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive layer widths, got {sizes}")
        for name, p in (("dropout", dropout), ("input_dropout", input_dropout)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {p}")
        torch_dtype = dtype_of(dtype)
        if seed is not None:
            seed = operator.index(seed)                # a NumPy integer becomes an int (JSON)
        names.check("activation", activation)          # scratchnet's checks and messages
        names.check("cost", cost)
        names.check("init", init)
        self.sizes, self.seed = sizes, seed
        self.activation, self.cost_name, self.init = activation, cost, init
        self.dropout, self.batchnorm = float(dropout), bool(batchnorm)
        self.input_dropout = float(input_dropout)
        self.dtype = str(torch_dtype).removeprefix("torch.")  # 'float32' or 'float64'
        self.f = ACTIVATIONS[activation]

        generator = torch.Generator().manual_seed(seed) if seed is not None else None
        self.layers = nn.ModuleList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            # W (n_out, n_in), b (n_out,); skip_init: nothing drawn from torch's global generator
            layer = skip_init(nn.Linear, n_in, n_out, dtype=torch_dtype)
            with torch.no_grad():
                init_linear(layer, init, generator)
            self.layers.append(layer)
        # Registered after the layers, so parameters() is [W0, b0, W1, b1, ..., γ0, β0, ...]
        # exactly as scratchnet's Network.parameters().
        hidden = sizes[1:-1] if batchnorm else []
        self.norms = nn.ModuleList(nn.BatchNorm1d(n, dtype=torch_dtype) for n in hidden)
        self.drop = nn.Dropout(self.dropout) if self.dropout else None
        # nn.Dropout holds no parameters: with it or without, parameters() is the same list.
        self.input_drop = nn.Dropout(self.input_dropout) if self.input_dropout else None

    # ------------------------------------------------------------ forward
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """z_L, the pre-activations of the output layer (the logits): (N, n_in) -> (N, n_L).

        net(x) calls it, as for any nn.Module. scratchnet's Network.forward computes
        the same z_L and also returns the cache its backprop needs; autograd keeps its own.
        """
        *hidden, last = self.layers                    # (cheaper than slicing a ModuleList)
        a = x
        if self.input_drop is not None:
            a = self.input_drop(a)                     # the pixels; a no-op in eval()
        for l, layer in enumerate(hidden):
            z = layer(a)                               # (N, n_prev) @ (n_prev, n_here) -> (N, n_here)
            if self.batchnorm:
                z = self.norms[l](z)                   # batch statistics; running ones in eval()
            a = self.f(z)                              # (N, n_here)
            if self.drop is not None:
                a = self.drop(a)                       # a no-op in eval()
        return last(a)                                 # (N, n_{L-1}) @ (n_{L-1}, n_L)

    def feedforward(self, x: torch.Tensor) -> torch.Tensor:
        """Output of the last layer: logits (cross_entropy) or σ(z_L) (quadratic)."""
        z_L = self.forward(x)
        return z_L if self.cost_name == "cross_entropy" else torch.sigmoid(z_L)

    def loss(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The batch-mean cost as a 0-dim tensor; call .backward() on it for the gradients."""
        z_L = self.forward(x)                          # (N, n_L)
        if self.cost_name == "cross_entropy":
            return F.cross_entropy(z_L, y)             # softmax + NLL, batch mean
        diff = torch.sigmoid(z_L) - F.one_hot(y, z_L.shape[1]).to(z_L.dtype)  # (N, n_L)
        return 0.5 * (diff ** 2).sum(dim=1).mean()     # ½‖a − y‖², batch mean

    # ------------------------------------------------------------ evaluation
    @torch.no_grad()
    def predict(self, x: torch.Tensor, batch_size: int = 10_000) -> torch.Tensor:
        """Predicted digit for each row of x (in evaluation mode, in chunks)."""
        was_training = self.training
        self.eval()
        try:
            return torch.cat([self.feedforward(x[i:i + batch_size]).argmax(dim=1)
                              for i in range(0, len(x), batch_size)])
        finally:
            self.train(was_training)

    # ------------------------------------------------------------ options
    def options(self) -> dict:
        """Keyword arguments that rebuild this network in either package."""
        return dict(sizes=self.sizes, activation=self.activation, cost=self.cost_name,
                    init=self.init, seed=self.seed, dropout=self.dropout,
                    batchnorm=self.batchnorm, dtype=self.dtype, input_dropout=self.input_dropout)
