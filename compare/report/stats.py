"""The report's statistics over seeds: mean, sample standard deviation, the tie rule, the
order between two results, z.

Pure Python (no NumPy, no torch): the report imports it, and every number here
can be checked by hand. Every order the report states between two accuracies
comes from order(); report.md.j2 states its rule to the reader.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

MIN_SEEDS_FOR_Z = 3      # fewer seeds give too rough a standard deviation to measure by
ONE_SEED_MARGIN = 0.01   # with one seed, an order needs at least 1 percentage point


@dataclass(frozen=True)
class Spread:
    """n values summarised: their mean and sample standard deviation (n − 1 in the
    denominator; None when n < 2, where it is not defined)."""
    n: int
    mean: float
    sd: float | None


def spread(values) -> Spread | None:
    """The Spread of the numbers in values (None ignored); None if there are none."""
    xs = [float(x) for x in values if x is not None]
    if not xs:
        return None
    n = len(xs)
    mean = math.fsum(xs) / n
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in xs) / (n - 1)) if n > 1 else None
    return Spread(n, mean, sd)


def noise(a: Spread, b: Spread) -> float | None:
    """How far apart two means may be and still count as a tie: twice the standard error
    of their difference, 2·sqrt(sd₁²/n₁ + sd₂²/n₂). None unless both have n ≥ 2."""
    if a is None or b is None or a.sd is None or b.sd is None:
        return None
    return 2.0 * math.sqrt(a.sd ** 2 / a.n + b.sd ** 2 / b.n)


def tie(a: Spread, b: Spread) -> bool | None:
    """Whether two means differ by less than noise(a, b) (equal means always tie);
    None when either has fewer than two values, so the rule cannot be applied."""
    limit = noise(a, b)
    if limit is None:
        return None
    return a.mean == b.mean or abs(a.mean - b.mean) < limit


def z_score(x: float | None, s: Spread | None, min_n: int = MIN_SEEDS_FOR_Z) -> float | None:
    """How many standard deviations x lies above (+) or below (−) the mean of s; None when x
    is missing, s has fewer than min_n values, or its standard deviation is 0."""
    if x is None or s is None or s.n < min_n or not s.sd:
        return None
    return (x - s.mean) / s.sd


def order(a: Spread, b) -> str:
    """How a compares with b: "higher", "lower", "tie" (within noise) or "close" (one seed,
    too close to call).

    b is a Spread, or a number measured without noise (a published result). With
    two seeds or more on every side that has noise, the tie rule decides (noise:
    twice the standard error of the difference); otherwise an order needs the
    accuracies ONE_SEED_MARGIN apart.
    """
    exact = not isinstance(b, Spread)
    mean_b = b if exact else b.mean
    limit = (2.0 * a.sd / math.sqrt(a.n) if a.sd is not None else None) if exact \
        else noise(a, b)
    if limit is None:
        if abs(a.mean - mean_b) < ONE_SEED_MARGIN:
            return "close"
    elif a.mean == mean_b or abs(a.mean - mean_b) < limit:
        return "tie"
    return "higher" if a.mean > mean_b else "lower"


def seeded(a: Spread, b=None) -> bool:
    """Whether the tie rule (not the one-seed margin) decides between a and b."""
    return a.sd is not None and (b is None or not isinstance(b, Spread) or b.sd is not None)
