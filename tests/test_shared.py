"""What the two packages share on purpose: the name tables and the hash of a config."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from scratchnet import activations, costs, init as inits, names
from scratchnet.config import ADDED_LATER, TrainConfig, short_hash


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
    """Cached results are named by these hashes: a change would orphan every one of them."""
    from compare.problem1.experiment import Problem1Config
    from compare.runs import Run, augment_of

    assert short_hash({"a": 1, "b": [2, 3]}) == short_hash({"b": [2, 3], "a": 1})
    assert TrainConfig().short_hash() == "6f4edd30"
    assert TrainConfig(sizes=(784, 100, 10), lr=0.1).short_hash() == "d2dc386a"
    assert Run(2, "a", "x", TrainConfig()).short_hash() == "67192ec6"
    augmented = Run(2, "a", "y", TrainConfig(), "torch",
                    augment_of(max_shift=2.0, max_rotation=10.0, max_scale=0.1))
    assert augmented.short_hash() == "ef3bb8ab"
    assert Problem1Config().short_hash() == "0cdfcc9b"


# A value other than the default for each field added after results were cached.
SET_LATER = {"input_dropout": 0.2, "max_norm": 3.0}


def test_fields_added_later_keep_every_old_hash_at_their_defaults():
    """A config with every ADDED_LATER field at its default has the dict, and so the hash,
    it had before those fields existed: the pinned hashes above, and compare's cache (which
    also compares the stored dict) still finds its results. Set, a field changes the hash."""
    from compare.runs import Run

    assert set(SET_LATER) == set(ADDED_LATER)
    defaults = {name: getattr(TrainConfig(), name) for name in ADDED_LATER}
    pinned = {"6f4edd30": TrainConfig(**defaults),
              "d2dc386a": TrainConfig(sizes=(784, 100, 10), lr=0.1, **defaults)}
    for old, config in pinned.items():
        assert config.short_hash() == old
        assert not set(ADDED_LATER) & set(config.to_dict())
    assert Run(2, "a", "x", TrainConfig(**defaults)).short_hash() == "67192ec6"
    seen = {"6f4edd30"}
    for name, value in SET_LATER.items():
        config = TrainConfig(**{name: value})
        assert config.to_dict()[name] == value and TrainConfig(**config.to_dict()) == config
        assert config.short_hash() not in seen and Run(2, "a", "x", config).short_hash() != "67192ec6"
        seen.add(config.short_hash())
        assert config.replace(**{name: defaults[name]}).short_hash() == "6f4edd30"
