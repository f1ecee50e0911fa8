"""Where results and figures go, the per-config result cache, and one training run.

A run is described by a config dataclass with a short_hash(); its result is
stored as results/<problem>/<name>-<hash>.json, written atomically, and
checked when read: a damaged or incomplete file is trained again. Quick
(smoke) runs live under results/quick/ and figures/quick/ so they never mix
with full runs. Re-running a problem re-plots from the cache and trains only
what changed or is missing.
"""
from __future__ import annotations

import os
import platform
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from scratchnet.atomic import write_atomic, write_json_atomic
from scratchnet.cachekey import short_hash
from scratchnet.config import TrainConfig

from . import schema
from .schema import _missing, read_json

RESULTS = Path("results")
FIGURES = Path("figures")


def quick_mode(flag: bool = False) -> bool:
    """--quick on the command line, or QUICK=1 in the environment."""
    return bool(flag) or os.environ.get("QUICK", "") not in ("", "0")


def results_dir(problem: str, quick: bool = False) -> Path:
    return (RESULTS / "quick" / problem) if quick else (RESULTS / problem)


def figures_dir(problem: str, quick: bool = False) -> Path:
    folder = (FIGURES / "quick" / problem) if quick else (FIGURES / problem)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def result_path(problem: str, name: str, config, quick: bool = False) -> Path:
    return results_dir(problem, quick) / f"{name}-{config.short_hash()}.json"


def load_result(path: Path) -> dict | None:
    """The cached result at path, or None if it is missing or unreadable."""
    result, _ = read_json(path)
    return result if isinstance(result, dict) else None


def read_result(path: Path, problem=None) -> tuple[dict | None, str | None]:
    """(result, None) if the file at path is usable, (None, None) if there is none,
    (None, why) if it is damaged: unreadable, not a JSON object, or problem(result)
    names what is wrong."""
    result, why = read_json(path)
    if why or result is None:
        return None, why
    if not isinstance(result, dict):
        return None, "not a JSON object"
    why = problem(result) if problem is not None else None
    return (None, why) if why else (result, None)


def run_result_problem(result: dict, run: Run | None = None) -> str | None:
    """Why a stored result of a training run cannot be used, or None (compare.schema)."""
    if run is None:
        return schema.run_result_problem(result)
    return schema.run_result_problem(result, run.to_dict(), run.name)


def cached(problem: str, name: str, config, compute, quick: bool = False,
           force: bool = False, on_damaged=None) -> dict:
    """The cached result for (name, config), computing and storing it if needed.

    compute() returns a JSON-serializable dict; the config is stored beside it.
    A stored result that is damaged, or holds another name or config, is
    computed again (on_damaged(path, why) is told first).
    """
    path = result_path(problem, name, config, quick)
    if not force:
        def problem_of(r):
            return (_missing(r, ("name", "config"))
                    or (None if r["name"] == name and r["config"] == config.to_dict()
                        else "it holds another name or config"))
        hit, why = read_result(path, problem_of)
        if hit is not None:
            return hit
        if why and on_damaged is not None:
            on_damaged(path, why)
    result = {"name": name, "config": config.to_dict(), **compute()}
    write_json_atomic(path, result)
    return result


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure atomically (unique temporary name, fsync, rename)."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    return write_atomic(path, lambda f: fig.savefig(f, format=fmt, dpi=110, bbox_inches="tight"))


# ---------------------------------------------------------------- a training run (problems 2, 3)
IMPLS = ("torch", "scratch")
IMPL_CHOICES = ("auto",) + IMPLS        # what --impl accepts: auto picks per part of a plan
IMPL_NAMES = {"torch": "torchnet", "scratch": "scratchnet"}


def resolve_impl(impl: str, auto: str) -> str:
    """The implementation a part of a plan trains in: `impl` when it names one, else `auto`,
    the one that part is faster in (each plan says which, and why)."""
    if impl not in IMPL_CHOICES:
        raise ValueError(f"impl={impl!r} is invalid: choose one of {', '.join(IMPL_CHOICES)}")
    return auto if impl == "auto" else impl


@dataclass(frozen=True)
class Run:
    name: str
    config: TrainConfig
    impl: str = "torch"
    augment: tuple = field(default=())   # sorted (name, value) pairs of torchnet.augment.Augment
    label: str = ""                      # legend text; defaults to the name

    def __post_init__(self):
        if self.impl not in IMPLS:
            raise ValueError(f"impl={self.impl!r} is invalid: choose one of {', '.join(IMPLS)}")
        if self.augment and self.impl != "torch":
            raise ValueError("on-the-fly augmentation is implemented in torchnet only")

    def to_dict(self) -> dict:
        return {"config": self.config.to_dict(), "impl": self.impl,
                "augment": dict(self.augment)}

    def short_hash(self) -> str:
        return short_hash(self.to_dict())

    @property
    def cost(self) -> float:
        """Rough relative training cost, to start the longest runs first.

        Per image: its multiply-adds; per step: a fixed cost per layer; per augmented image:
        distorting it, which costs about as much as a 784-500-10 net's pass (elastic
        distortions add ~2.5 s to a 60,000-image epoch on one core, against ~4 s for the
        multiply-adds of 784-1024-10).
        """
        sizes = self.config.sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        images = self.config.epochs * 60000
        steps = images / self.config.batch_size
        return images * (weights + (5e5 if self.augment else 0)) + steps * 2e4 * len(sizes)


# ---------------------------------------------------------------- seeds
# `make all` trains every run once, with seed 0, under its plain name. `make study` adds
# siblings that differ only in the seed (initial weights, batch order, dropout masks and
# augmentation draws), named <name>-seed<k>, so the report can give a mean and a spread.
STUDY_SEEDS = (1, 2)            # recipes and study candidates: three seeds in all
SPREAD_SEEDS = (1, 2, 3, 4)     # the baseline and each sweep rate: five seeds in all
_SEED_SUFFIX = re.compile(r"^(?P<base>.+)-seed(?P<seed>[1-9][0-9]*)$")


def seed_name(name: str, seed: int) -> str:
    """The run name of seed `seed` of run `name` (seed 0 keeps the plain name)."""
    return name if seed == 0 else f"{name}-seed{seed}"


def split_seed(name: str) -> tuple[str, int]:
    """(base name, seed) of a run name: ('b-sgd-lr0.01', 2) for 'b-sgd-lr0.01-seed2'."""
    m = _SEED_SUFFIX.match(name)
    return (m["base"], int(m["seed"])) if m else (name, 0)


def with_seed(run: Run, seed: int) -> Run:
    """The same run with another seed: its own name, config (and so hash) and label."""
    label = f"{run.label}, seed {seed}" if run.label else ""
    return Run(seed_name(run.name, seed), run.config.replace(seed=seed), run.impl,
               run.augment, label)


def seed_zero(results: dict) -> dict:
    """{name: result} without the seed siblings: what the figures draw."""
    return {k: v for k, v in results.items() if split_seed(k)[1] == 0}


def trained_by(results) -> str:
    """Which implementation, in which precision, trained these results (dicts as stored), for
    a figure's title: 'scratchnet, float64', or each kind found, joined by ' and '."""
    kinds = []
    for r in results:
        dtype = ((r.get("run") or {}).get("config") or r.get("config") or {}).get("dtype")
        kind = IMPL_NAMES.get(r.get("impl"), str(r.get("impl"))) + (f", {dtype}" if dtype else "")
        if kind not in kinds:
            kinds.append(kind)
    return " and ".join(kinds)


def augment_of(**kwargs) -> tuple:
    """The hashable form of torchnet.augment.Augment's arguments."""
    return tuple(sorted(kwargs.items()))


def execute(run: Run, root="data", device="cpu") -> dict:
    """Train one run in this process; return its JSON-serializable result."""
    import scratchnet

    config = run.config
    start = time.perf_counter()
    initial = scratchnet.Network(**config.network_options())  # the weights both impls start from
    if run.impl == "scratch":
        from scratchnet.train import load_data, run as train_run

        train_data, eval_data = load_data(config, root)
        net, history = train_run(config, train_data, eval_data, net=initial)
        device_name = "cpu"
    else:
        from torchnet.augment import Augment
        from torchnet.convert import to_torch
        from torchnet.train import load_data, run as train_run

        train_data, eval_data = load_data(config, root, device)
        net = to_torch(initial, train_data[0].device)
        augment = Augment(**dict(run.augment)) if run.augment else None
        net, history = train_run(config, train_data, eval_data, net=net, augment=augment)
        device_name = str(train_data[0].device)
    accuracies = [a for a in history.test_accuracy if a is not None]
    return {
        "impl": run.impl,
        "device": device_name,
        "evaluated_on": "validation" if config.validation else "test",
        "history": history.to_dict(),
        "final_accuracy": accuracies[-1] if accuracies else None,
        "best_accuracy": max(accuracies) if accuracies else None,
        "diverged_at": history.diverged_at,
        "wall_seconds": time.perf_counter() - start,
        "machine": machine(),
    }


def machine() -> dict:
    import numpy

    info = {"platform": platform.platform(), "processor": platform.machine(),
            "cpus": os.cpu_count(), "python": platform.python_version(),
            "numpy": numpy.__version__}
    try:
        import torch
        info["torch"] = torch.__version__
        info["torch_threads"] = torch.get_num_threads()
    except ImportError:
        pass
    return info
