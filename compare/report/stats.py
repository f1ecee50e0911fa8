"""The report's statistics over seeds: mean, sample sd, the tie rule, orders, z. Pure Python."""
from __future__ import annotations

import math
from dataclasses import dataclass

MIN_SEEDS_FOR_Z = 3      # fewer seeds give too rough a standard deviation to measure by
ONE_SEED_MARGIN = 0.01   # with one seed, an order needs at least 1 percentage point


@dataclass(frozen=True)
class Spread:
    """n values: their mean and sample standard deviation (None when n < 2)."""
    n: int
    mean: float
    sd: float | None


def spread(values) -> Spread | None:
    """The Spread of the numbers in values (None ignored); None if there are none."""
    xs = [float(x) for x in values if x is not None]
    if not xs:
        return None
    n, mean = len(xs), math.fsum(xs) / len(xs)
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None
    return Spread(n, mean, sd)


def noise(a: Spread, b: Spread) -> float | None:
    """The tie limit 2·sqrt(sd₁²/n₁ + sd₂²/n₂); None unless both have a sd."""
    if a is None or b is None or a.sd is None or b.sd is None:
        return None
    return 2.0 * math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n)


def z_score(x: float | None, s: Spread | None) -> float | None:
    """How many sds x lies from the mean of s; None without x, MIN_SEEDS_FOR_Z values or sd > 0."""
    if x is None or s is None or s.n < MIN_SEEDS_FOR_Z or not s.sd:
        return None
    return (x - s.mean) / s.sd


def order(a: Spread, b) -> str:
    """a against b (a Spread, or an exact published number): "higher", "lower", "tie" (means
    closer than the noise, or equal) or "close" (no sd on a side, and under ONE_SEED_MARGIN)."""
    if isinstance(b, Spread):
        mean_b, limit = b.mean, noise(a, b)
    else:
        mean_b, limit = b, None if a.sd is None else 2.0 * a.sd / math.sqrt(a.n)
    if limit is None:
        if abs(a.mean - mean_b) < ONE_SEED_MARGIN:
            return "close"
    elif a.mean == mean_b or abs(a.mean - mean_b) < limit:
        return "tie"
    return "higher" if a.mean > mean_b else "lower"


def seeded(a: Spread, b=None) -> bool:
    """Whether the tie rule (not the one-seed margin) decides between a and b."""
    return a.sd is not None and (not isinstance(b, Spread) or b.sd is not None)
