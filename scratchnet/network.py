"""A fully-connected network with every derivative written by hand (Nielsen, ch. 2).

Layer l computes z_l = a_{l-1} W_lᵀ + b_l and a_l = f(z_l) on a whole
mini-batch at once: rows are samples, so a_l has shape (N, n_l). Weights are
stored as (n_out, n_in) and biases as (n_out,), as nn.Linear stores them.

The four equations of backpropagation, for the batch-mean cost C (δ_l = ∂C/∂z_l
already carries the mean's 1/N, so BP3 and BP4 sum over the samples):
  BP1  δ_L = ∂C/∂z_L                       (given by the cost)
  BP2  δ_l = (δ_{l+1} W_{l+1}) ⊙ f'(z_l)
  BP3  ∂C/∂b_l = Σ_samples δ_l
  BP4  ∂C/∂W_l = δ_lᵀ a_{l-1}
Optional dropout (after each hidden activation) multiplies BP2's product by
the same mask the forward pass used, before the ⊙ f'. Optional input dropout
multiplies X itself by a mask, so a_0 = X ⊙ mask_0 is the input that BP4 of
the first layer uses; no gradient with respect to X is computed, so nothing
else changes on the way back. Optional batch normalization (between each
hidden linear layer and its activation) means f acts on the normalized z, so
f' is taken there and batch norm's own backward step comes after the ⊙ f': it
turns ∂C/∂(normalized z) into the ∂C/∂z_l of the linear layer that BP3 and
BP4 use, and gives ∂C/∂γ and ∂C/∂β.

Options (the same names and meanings as torchnet.Network): sizes (widths, input
first), activation, cost, init, seed, dropout (the probability of zeroing a
hidden unit while training), input_dropout (of zeroing an input pixel while
training, Srivastava et al. 2014), batchnorm, dtype. In training mode the
dropout masks come from dropout_rng in a fixed order: the input's first, then
each hidden layer's, first to last.

forward(X) returns z_L and a ForwardCache (what each layer keeps for the way
back); backprop(X, y) starts from it. Shape comments name the widths n_prev,
n_here and n_next of the layers before, at and after the one a line works on,
as torchnet/network.py's do.
"""
from __future__ import annotations

import operator
from typing import NamedTuple

import numpy as np

from . import activations, costs, init as inits, names
from .layers import BatchNorm, dropout_backward, dropout_forward


class ForwardCache(NamedTuple):
    """What Network.forward keeps for backprop: one list entry per layer, in layer order.

    With N the batch size, n_l the width of layer l (the input is layer 0) and
    L the number of weight layers, for hidden layer l = 1, ..., L − 1 at list
    index l − 1:
      z[l-1]      (N, n_l)      pre-activations; after batch norm when it is on,
                                since f acts on the normalized z
      f_z[l-1]    (N, n_l)      f(z), before dropout (f' is computed from z and f(z))
      masks[l-1]  (N, n_l)      the dropout mask applied to f(z), or None (dropout
                                off, or evaluation mode)
      bn[l-1]                   batch norm's own cache (BatchNorm.backward reads
                                it), or None without batch norm
    and for every weight layer l = 1, ..., L, its input at list index l − 1:
      a[l-1]      (N, n_{l-1})  a[0] is X (after input dropout); a[l] is hidden layer
                                l's output, f(z) after dropout: what W_{l+1} multiplies
    and for the input:
      input_mask  (N, n_0)      the input dropout mask, a[0] = X ⊙ input_mask, or None
                                (input dropout off, or evaluation mode)
    """
    z: list
    f_z: list
    masks: list
    bn: list
    a: list
    input_mask: np.ndarray | None


class Network:
    def __init__(self, sizes, activation="sigmoid", cost="cross_entropy",
                 init="xavier_normal", seed=None, dropout=0.0, batchnorm=False,
                 dtype="float64", input_dropout=0.0):
        sizes = [int(s) for s in sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"sizes must list at least two positive layer widths, got {sizes}")
        for name, p in (("dropout", dropout), ("input_dropout", input_dropout)):
            if not 0.0 <= p < 1.0:
                raise ValueError(f"{name} must be in [0, 1), got {p}")
        names.check("dtype", dtype)
        if seed is not None:
            seed = operator.index(seed)  # a NumPy integer becomes an int, so options() is JSON
        self.sizes, self.seed = sizes, seed
        self.activation, self.cost_name, self.init = activation, cost, init
        self.dropout, self.batchnorm, self.dtype = float(dropout), bool(batchnorm), dtype
        self.input_dropout = float(input_dropout)
        self.f, self.f_prime = activations.get(activation)
        self.cost = costs.get(cost)
        make = inits.get(init)

        rng = np.random.default_rng(seed)
        self.weights, self.biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            W, b = make(n_out, n_in, rng)
            self.weights.append(W.astype(dtype))       # (n_out, n_in)
            self.biases.append(b.astype(dtype))        # (n_out,)
        hidden = sizes[1:-1]
        self.norms = [BatchNorm(n, dtype) for n in hidden] if batchnorm else []
        self.dropout_rng = np.random.default_rng(None if seed is None else [seed, 1])
        self.training = True

    # ------------------------------------------------------------ parameters
    def parameters(self) -> list[np.ndarray]:
        """Every trainable array, in the order torchnet.Network.parameters() gives."""
        params = [p for W, b in zip(self.weights, self.biases) for p in (W, b)]
        return params + [p for bn in self.norms for p in (bn.gamma, bn.beta)]

    def train(self, mode: bool = True) -> "Network":
        """Training mode: dropout on, batch statistics (as nn.Module.train)."""
        self.training = mode
        return self

    def eval(self) -> "Network":
        return self.train(False)

    # ------------------------------------------------------------ forward
    def forward(self, X: np.ndarray) -> tuple[np.ndarray, ForwardCache]:
        """(z_L, cache): the output layer's pre-activations (N, n_L) and what backprop needs.

        torchnet's Network.forward computes the same z_L; the cache is what
        autograd keeps for torch. Follows the mode: in training mode dropout draws masks (the
        input's first, then the hidden layers' in order) and batch norm uses
        (and updates) the batch statistics; in evaluation mode neither.
        """
        a = np.asarray(X, dtype=self.dtype)            # (N, n_0)
        input_mask = None
        if self.input_dropout and self.training:       # the pixels, before the first layer
            a, input_mask = dropout_forward(a, self.input_dropout, self.dropout_rng)
        cache = ForwardCache(z=[], f_z=[], masks=[], bn=[], a=[a], input_mask=input_mask)
        for l, (W, b) in enumerate(zip(self.weights[:-1], self.biases[:-1])):
            z = a @ W.T + b                            # (N, n_prev) @ (n_prev, n_here) -> (N, n_here)
            bn = None
            if self.norms:                             # from here on z is the normalized z
                z, bn = self.norms[l].forward(z, self.training)
            f_z = self.f(z)                            # (N, n_here)
            a, mask = f_z, None
            if self.dropout and self.training:
                a, mask = dropout_forward(f_z, self.dropout, self.dropout_rng)
            cache.z.append(z)
            cache.f_z.append(f_z)
            cache.masks.append(mask)
            cache.bn.append(bn)
            cache.a.append(a)                          # the next layer's input
        z_L = a @ self.weights[-1].T + self.biases[-1]  # (N, n_{L-1}) @ (n_{L-1}, n_L)
        return z_L, cache

    def feedforward(self, X: np.ndarray) -> np.ndarray:
        """Output of the last layer: logits (cross_entropy) or σ(z_L) (quadratic)."""
        return self.cost.output(self.forward(X)[0])

    def loss(self, X: np.ndarray, y: np.ndarray) -> float:
        """The batch-mean cost C, forward pass only (in training mode it draws
        dropout masks and updates batch norm's running statistics, as backprop does)."""
        return self.cost.value(self.forward(X)[0], np.asarray(y))

    # ------------------------------------------------------------ backward
    def backprop(self, X: np.ndarray, y: np.ndarray):
        """(C, grads): the batch-mean cost and ∂C/∂p for every p in parameters().

        Input dropout needs no step here: it only changes cache.a[0], the input
        BP4 multiplies for the first layer, and no ∂C/∂X is computed.
        """
        z_L, cache = self.forward(X)
        loss, delta = self.cost.value_and_delta(z_L, np.asarray(y))  # BP1, (N, n_L)
        L = len(self.weights)
        nabla_W, nabla_b = [None] * L, [None] * L
        nabla_gamma, nabla_beta = [None] * len(self.norms), [None] * len(self.norms)
        nabla_W[-1] = delta.T @ cache.a[-1]            # BP4: (n_L, N) @ (N, n_{L-1})
        nabla_b[-1] = delta.sum(axis=0)                # BP3: (n_L,)
        for l in range(L - 2, -1, -1):                 # the hidden layers, last to first
            grad_a = delta @ self.weights[l + 1]       # BP2 (first half): (N, n_next) @ (n_next, n_here)
            if cache.masks[l] is not None:
                grad_a = dropout_backward(grad_a, cache.masks[l])
            delta = grad_a * self.f_prime(cache.z[l], cache.f_z[l])  # BP2 (second half): ⊙ f'(z)
            if cache.bn[l] is not None:                # back through batch norm, after the ⊙ f'
                delta, nabla_gamma[l], nabla_beta[l] = self.norms[l].backward(delta, cache.bn[l])
            nabla_W[l] = delta.T @ cache.a[l]          # BP4: (n_here, N) @ (N, n_prev)
            nabla_b[l] = delta.sum(axis=0)             # BP3: (n_here,)
        grads = [g for pair in zip(nabla_W, nabla_b) for g in pair]
        grads += [g for pair in zip(nabla_gamma, nabla_beta) for g in pair]
        return loss, grads

    # ------------------------------------------------------------ evaluation
    def predict(self, X: np.ndarray, batch_size: int = 10_000) -> np.ndarray:
        """Predicted digit for each row of X (in evaluation mode, in chunks)."""
        was_training, self.training = self.training, False
        try:
            return np.concatenate([self.feedforward(X[i:i + batch_size]).argmax(axis=1)
                                   for i in range(0, len(X), batch_size)])
        finally:
            self.training = was_training

    # ------------------------------------------------------------ options and arrays
    def options(self) -> dict:
        """Keyword arguments that rebuild this network in either package."""
        return dict(sizes=self.sizes, activation=self.activation, cost=self.cost_name,
                    init=self.init, seed=self.seed, dropout=self.dropout,
                    batchnorm=self.batchnorm, dtype=self.dtype, input_dropout=self.input_dropout)

    def state(self) -> dict[str, np.ndarray]:
        """Every array that defines the network, by name (lossless)."""
        state = {}
        for l, (W, b) in enumerate(zip(self.weights, self.biases)):
            state[f"W{l}"], state[f"b{l}"] = W, b
        for l, bn in enumerate(self.norms):
            state[f"gamma{l}"], state[f"beta{l}"] = bn.gamma, bn.beta
            state[f"running_mean{l}"], state[f"running_var{l}"] = bn.running_mean, bn.running_var
        return state

    def load_state(self, state: dict[str, np.ndarray]) -> "Network":
        """Copy arrays in place (so optimizers holding them keep working)."""
        for name, target in self.state().items():
            value = np.asarray(state[name])
            if value.shape != target.shape:
                raise ValueError(f"{name}: shape {value.shape} does not match {target.shape}")
            target[...] = value
        return self
