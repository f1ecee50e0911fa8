"""Where results and figures go, and the per-config result cache.

A run is described by a config dataclass with a short_hash(); its result is
stored as results/<problem>/<name>-<hash>.json, written atomically. Quick
(smoke) runs live under results/quick/ and figures/quick/ so they never mix
with full runs. Re-running a problem re-plots from the cache and trains only
what changed or is missing.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

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
