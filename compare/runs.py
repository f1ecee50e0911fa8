"""A run of Problems 2 and 3 (one row of compare.table), its stored result, and training it.

A result is stored as results/problem<N>/<name>-<hash>.json, atomically, with every field
of its run; it is used again only if it passes compare.schema and holds the same fields.
"""
from __future__ import annotations

import os
import platform
import time
from dataclasses import dataclass, replace
from pathlib import Path

import click

from scratchnet.atomic import write_atomic, write_json_atomic  # noqa: F401 (used via runs.)
from scratchnet.cachekey import short_hash
from scratchnet.config import TrainConfig

from . import schema
from .schema import IMPLS, read_json

RESULTS = Path("results")
FIGURES = Path("figures")
SWITCH = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False, "": False}
IMPL_CHOICES = ("auto",) + IMPLS        # what --impl accepts: auto picks per part of the table
IMPL_NAMES = {"torch": "torchnet", "scratch": "scratchnet"}
# How a run's name begins, by (problem, part) (study candidates: "study-", others "<part>-");
# the parts trained in both implementations end with the impl.
STEMS = {(3, "a"): "deep-", (3, "b"): "deep-", (3, "c"): ""}
BOTH_IMPLS = {(2, "a"), (3, "a"), (3, "b")}


def quick_mode(flag: bool = False) -> bool:
    """--quick, or QUICK in the environment (1/0/true/false/yes/no, any case; empty = off)."""
    value = os.environ.get("QUICK", "")
    if value.strip().lower() not in SWITCH:
        raise click.UsageError(f"QUICK={value!r} is invalid: use 1, 0, true, false, yes or no "
                               "(any case; empty means off)")
    return bool(flag) or SWITCH[value.strip().lower()]


def results_dir(problem: str, quick: bool = False, base: Path | None = None) -> Path:
    """results/<problem>, or results/quick/<problem> (base: another folder than results)."""
    base = RESULTS if base is None else base
    return (base / "quick" / problem) if quick else (base / problem)


def figures_dir(problem: str, quick: bool = False) -> Path:
    """figures/<problem> or figures/quick/<problem>, made if need be."""
    folder = results_dir(problem, quick, FIGURES)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_result(path: Path, problem=None) -> tuple[dict | None, str | None]:
    """(result, None) if usable, (None, None) if absent, (None, why) if damaged: unreadable,
    not a JSON object, or problem(result) names what is wrong."""
    result, why = read_json(path)
    if not why and result is not None and not isinstance(result, dict):
        why = "not a JSON object"
    why = why or (problem(result) if problem is not None and result is not None else None)
    return (None, why) if why else (result, None)


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure atomically."""
    fmt = Path(path).suffix.lstrip(".").lower() or "png"
    return write_atomic(path, lambda f: fig.savefig(f, format=fmt, dpi=110, bbox_inches="tight"))


def resolve_impl(impl: str, auto: str) -> str:
    """The implementation a part trains in: `impl`, or for "auto" the table's choice `auto`."""
    if impl not in IMPL_CHOICES:
        raise ValueError(f"impl={impl!r} is invalid: choose one of {', '.join(IMPL_CHOICES)}")
    return auto if impl == "auto" else impl


@dataclass(frozen=True)
class Run:
    problem: int                         # 2 or 3
    part: str                            # the homework question it answers: "a", "b", ...
    variant: str                         # what tells it apart within its part
    config: TrainConfig
    impl: str = "torch"
    augment: tuple = ()                  # sorted (name, value) pairs of torchnet.augment.Augment
    seed: int = 0                        # equals config.seed
    homework: bool = False               # the homework specifies it
    study: bool = False                  # a candidate, trained on the validation split
    label: str = ""                      # legend text; defaults to the name

    def __post_init__(self):
        if self.problem not in (2, 3):
            raise ValueError(f"problem={self.problem!r} is invalid: choose 2 or 3")
        if self.impl not in IMPLS:
            raise ValueError(f"impl={self.impl!r} is invalid: choose one of {', '.join(IMPLS)}")
        if self.augment and self.impl != "torch":
            raise ValueError("on-the-fly augmentation is implemented in torchnet only")
        if self.seed != self.config.seed:
            raise ValueError(f"seed={self.seed} differs from the config's {self.config.seed}")

    @property
    def name(self) -> str:
        key = (self.problem, self.part)
        stem = "study-" if self.study else STEMS.get(key, f"{self.part}-")
        impl = f"-{self.impl}" if key in BOTH_IMPLS and not self.study else ""
        return f"{stem}{self.variant}{impl}" + (f"-seed{self.seed}" if self.seed else "")

    @property
    def folder(self) -> str:
        return f"problem{self.problem}"

    def to_dict(self) -> dict:
        """What a stored result records in its "run" object, and what the cache key hashes."""
        return {"problem": self.problem, "part": self.part, "variant": self.variant,
                "seed": self.seed, "homework": self.homework, "study": self.study,
                "config": self.config.to_dict(), "impl": self.impl, "augment": dict(self.augment)}

    def short_hash(self) -> str:
        return short_hash(self.to_dict())

    def with_seed(self, seed: int) -> Run:
        label = f"{self.label}, seed {seed}" if self.label else ""
        return replace(self, config=self.config.replace(seed=seed), seed=seed, label=label)

    @property
    def cost(self) -> float:
        """Rough relative training cost, to start the longest runs first: multiply-adds per
        image (an elastic distortion costs about a 784-500-10 pass), a fixed cost per step
        and layer."""
        sizes = self.config.sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        images = self.config.epochs * 60000
        steps = images / self.config.batch_size
        return images * (weights + (5e5 if self.augment else 0)) + steps * 2e4 * len(sizes)


def augment_of(**kwargs) -> tuple:
    """The hashable form of torchnet.augment.Augment's arguments."""
    return tuple(sorted(kwargs.items()))


def result_path(run: Run, quick: bool = False) -> Path:
    return results_dir(run.folder, quick) / f"{run.name}-{run.short_hash()}.json"


def stored(run: Run, quick: bool = False, on_damaged=None) -> dict | None:
    """run's stored result if it passes compare.schema for run, else None (on_damaged(path,
    why) is told why a file there cannot be used)."""
    path = result_path(run, quick)
    result, why = read_result(
        path, lambda r: schema.run_result_problem(r, run.to_dict(), run.name))
    if why is not None and on_damaged is not None:
        on_damaged(path, why)
    return result


def store(run: Run, result: dict, quick: bool = False) -> dict:
    """Write a trained run's result (as execute returns it) atomically; return it as stored."""
    result = {"name": run.name, "run": run.to_dict(), **result}
    write_json_atomic(result_path(run, quick), result)
    return result


def trained_by(results) -> str:
    """'scratchnet, float64' (each kind found, joined by ' and '), for a figure's title."""
    kinds = []
    for r in results:
        dtype = ((r.get("run") or {}).get("config") or r.get("config") or {}).get("dtype")
        kind = IMPL_NAMES.get(r.get("impl"), str(r.get("impl"))) + (f", {dtype}" if dtype else "")
        kinds += [kind] if kind not in kinds else []
    return " and ".join(kinds)


def execute(run: Run, root="data", device="cpu") -> dict:
    """Train one run in this process; return its JSON-serializable result."""
    import scratchnet

    config, start = run.config, time.perf_counter()
    initial = scratchnet.Network(**config.network_options())  # the weights both impls start from
    if run.impl == "scratch":
        from scratchnet.train import load_data, run as train_run

        train_data, eval_data = load_data(config, root)
        net, augment = initial, {}
    else:
        from torchnet.augment import Augment
        from torchnet.convert import to_torch
        from torchnet.train import load_data, run as train_run

        train_data, eval_data = load_data(config, root, device)
        net = to_torch(initial, train_data[0].device)
        augment = {"augment": Augment(**dict(run.augment)) if run.augment else None}
    net, history = train_run(config, train_data, eval_data, net=net, **augment)
    accuracies = [a for a in history.test_accuracy if a is not None]
    return {"impl": run.impl, "device": str(getattr(train_data[0], "device", "cpu")),
            "evaluated_on": "validation" if config.validation else "test",
            "history": history.to_dict(),
            "final_accuracy": accuracies[-1] if accuracies else None,
            "best_accuracy": max(accuracies) if accuracies else None,
            "diverged_at": history.diverged_at,
            "wall_seconds": time.perf_counter() - start, "machine": machine()}


def machine() -> dict:
    import numpy
    import torch

    return {"platform": platform.platform(), "processor": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__, "torch": torch.__version__,
            "torch_threads": torch.get_num_threads()}
