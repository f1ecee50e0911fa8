"""Exact weight transfer between scratchnet and torchnet, in both directions.

Both packages store W as (n_out, n_in) and b as (n_out,), and both list their
parameters in the same order, so a transfer is a copy under matching names:
W0, b0, ..., gamma0, beta0, running_mean0, running_var0, ... (the names of
scratchnet's Network.state()). With equal dtypes the copy is bit-exact, so a
run in either package can start from the other's weights.
"""
from __future__ import annotations

import numpy as np
import torch

import scratchnet

from .network import Network


def torch_state(net: Network) -> dict[str, torch.Tensor]:
    """Every tensor that defines a torchnet network, under scratchnet's state() names."""
    state = {}
    for l, layer in enumerate(net.layers):
        state[f"W{l}"], state[f"b{l}"] = layer.weight, layer.bias
    for l, bn in enumerate(net.norms):
        state[f"gamma{l}"], state[f"beta{l}"] = bn.weight, bn.bias
        state[f"running_mean{l}"], state[f"running_var{l}"] = bn.running_mean, bn.running_var
    return state


def _check_same_shape(name, source_shape, target_shape):
    if tuple(source_shape) != tuple(target_shape):
        raise ValueError(f"{name}: shape {tuple(source_shape)} does not match "
                         f"{tuple(target_shape)}; the two networks differ in sizes or batch norm")


@torch.no_grad()
def copy_to_torch(source: scratchnet.Network, target: Network) -> Network:
    """Copy a scratchnet network's arrays into a torchnet network, in place."""
    arrays, tensors = source.state(), torch_state(target)
    if arrays.keys() != tensors.keys():
        raise ValueError(f"arrays {sorted(arrays)} do not match tensors {sorted(tensors)}")
    for name, tensor in tensors.items():
        _check_same_shape(name, arrays[name].shape, tensor.shape)
        tensor.copy_(torch.from_numpy(np.ascontiguousarray(arrays[name])))  # onto its device
    target.train(source.training)
    return target


@torch.no_grad()
def copy_to_scratch(source: Network, target: scratchnet.Network) -> scratchnet.Network:
    """Copy a torchnet network's tensors into a scratchnet network, in place."""
    tensors = torch_state(source)
    if tensors.keys() != target.state().keys():
        raise ValueError(f"tensors {sorted(tensors)} do not match arrays {sorted(target.state())}")
    target.load_state({name: t.detach().cpu().numpy() for name, t in tensors.items()})
    target.train(source.training)
    return target


def to_torch(source: scratchnet.Network, device="cpu") -> Network:
    """A new torchnet network with a scratchnet network's options and weights."""
    return copy_to_torch(source, Network(**source.options()).to(device))


def to_scratch(source: Network) -> scratchnet.Network:
    """A new scratchnet network with a torchnet network's options and weights."""
    return copy_to_scratch(source, scratchnet.Network(**source.options()))
