"""What the two packages share on purpose: the name tables and the hash of a config."""
from __future__ import annotations

import ast
import hashlib
import json
from pathlib import Path

import pytest

from scratchnet import activations, cachekey, costs, init as inits, names
from scratchnet.cachekey import short_hash
from scratchnet.config import TrainConfig


def test_each_maths_module_implements_exactly_the_names_table():
    """scratchnet's maths and torchnet's are keyed by the one table, in its order."""
    from torchnet import network as tnet

    assert tuple(activations.ACTIVATIONS) == names.ACTIVATIONS == tuple(tnet.ACTIVATIONS)
    assert tuple(costs.COSTS) == names.COSTS
    assert tuple(inits.INITS) == names.INITS
    assert tuple(tnet.DTYPES) == names.DTYPES


@pytest.mark.parametrize("kind, bad", [("activation", "softplus"), ("cost", "hinge"),
                                       ("init", "orthogonal"), ("optimizer", "rmsprop"),
                                       ("dtype", "float16")])
def test_check_names_what_is_allowed(kind, bad):
    assert names.check(kind, names.TABLES[kind][0]) == names.TABLES[kind][0]
    with pytest.raises(ValueError, match=f"unknown {kind} '{bad}'; choose one of "
                                         + ", ".join(names.TABLES[kind])):
        names.check(kind, bad)


def test_torchnet_network_reads_no_scratchnet_maths():
    """torchnet/network.py takes only the name table from scratchnet, none of its maths."""
    import torchnet.network

    tree = ast.parse(Path(torchnet.network.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("scratchnet"):
            imported |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            imported |= {a.name for a in node.names if a.name.startswith("scratchnet")}
    assert imported == {"scratchnet.names"}


def test_short_hash_is_pinned():
    """Cached results are named by these hashes: a change would orphan every one of them.
    The recipe: SHA-1 of [CACHE_VERSION, data] as sorted JSON, first 8 hex digits."""
    from compare.problem1.experiment import Problem1Config
    from compare.runs import Run, augment_of

    data = {"b": [2, 3], "a": 1}
    assert short_hash(data) == hashlib.sha1(b'[2, {"a": 1, "b": [2, 3]}]').hexdigest()[:8]
    assert short_hash({"a": 1, "b": [2, 3]}) == short_hash(data)
    assert TrainConfig().short_hash() == "360dbc55"
    assert TrainConfig(sizes=(784, 100, 10), lr=0.1).short_hash() == "4093fe25"
    assert Run(2, "a", "x", TrainConfig()).short_hash() == "93edbaf1"
    augmented = Run(2, "a", "y", TrainConfig(), "torch",
                    augment_of(max_shift=2.0, max_rotation=10.0, max_scale=0.1))
    assert augmented.short_hash() == "a1b0fa32"
    assert Problem1Config().short_hash() == "3d7125d5"


def test_every_field_is_in_the_dict_and_changes_the_hash():
    """to_dict() holds every field, so the config round-trips and any change renames
    its results; raising CACHE_VERSION renames them all."""
    config = TrainConfig()
    assert set(config.to_dict()) == set(TrainConfig.field_names())
    assert TrainConfig(**config.to_dict()) == config
    changed = {"input_dropout": 0.2, "max_norm": 3.0, "lr": 0.01, "seed": 1, "dropout": 0.5,
               "batchnorm": True, "validation": True, "epochs": 2}
    hashes = {config.replace(**{name: value}).short_hash() for name, value in changed.items()}
    assert len(hashes) == len(changed) and config.short_hash() not in hashes
    old = hashlib.sha1(json.dumps([1, {"class": "TrainConfig", **config.to_dict()}],
                                  sort_keys=True).encode()).hexdigest()[:8]
    assert cachekey.CACHE_VERSION == 2 and config.short_hash() != old
