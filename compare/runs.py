"""Where results and figures go, the per-config result cache, and one training run.

A run is described by a config dataclass with a short_hash(); its result is
stored as results/<problem>/<name>-<hash>.json, written atomically. Quick
(smoke) runs live under results/quick/ and figures/quick/ so they never mix
with full runs. Re-running a problem re-plots from the cache and trains only
what changed or is missing.
"""
from __future__ import annotations

import hashlib
import json
import os
import platform
import time
from dataclasses import dataclass, field
from pathlib import Path

from scratchnet.config import TrainConfig
from scratchnet.train import write_json_atomic

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
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def cached(problem: str, name: str, config, compute, quick: bool = False,
           force: bool = False) -> dict:
    """The cached result for (name, config), computing and storing it if needed.

    compute() returns a JSON-serializable dict; the config is stored beside it.
    """
    path = result_path(problem, name, config, quick)
    if not force:
        hit = load_result(path)
        if hit is not None:
            return hit
    result = {"name": name, "config": config.to_dict(), **compute()}
    write_json_atomic(path, result)
    return result


def save_figure(fig, path: Path) -> Path:
    """Save a matplotlib figure atomically (temporary name, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=110, bbox_inches="tight")
    os.replace(tmp, path)
    return path


# ---------------------------------------------------------------- a training run (problems 2, 3)
IMPLS = ("torch", "scratch")


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
        blob = json.dumps(self.to_dict(), sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:8]

    @property
    def cost(self) -> float:
        """Rough relative training cost, to start the longest runs first."""
        sizes = self.config.sizes
        weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
        steps = self.config.epochs * 60000 / self.config.batch_size
        return self.config.epochs * 60000 * weights + steps * 2e4 * len(sizes)


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
