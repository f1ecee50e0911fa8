"""Problem 2: shallow nets (784-h-10) on MNIST: the baseline, two learning-rate sweeps, the best recipe."""

PROBLEM = "problem2"   # results/problem2/, figures/problem2/


def best_of(results: dict, part: str | None = None) -> str | None:
    """The name of the run with the highest final accuracy, among those of the homework's
    part `part` (all when None) that did not diverge; None if there is none.
    results: {name: result as stored}.

    The one definition of "the best rate" for the figures and the report alike
    (pure: the report imports it without torch or matplotlib). Ties go to the
    first in results' order.
    """
    scored = {k: r["final_accuracy"] for k, r in results.items()
              if part in (None, r["run"]["part"])
              and r.get("final_accuracy") is not None and not r.get("diverged_at")}
    return max(scored, key=scored.get, default=None)
