"""Problem 2: shallow nets (784-h-10) on MNIST: the baseline, two learning-rate sweeps, the best recipe."""

PROBLEM = "problem2"   # results/problem2/, figures/problem2/


def best_of(results: dict, prefix: str = "") -> str | None:
    """The name of the run with the highest final accuracy, among those whose names start
    with prefix and that did not diverge; None if there is none. results: {name: result}.

    The one definition of "the best rate" for the figures and the report alike
    (pure: the report imports it without torch or matplotlib). Ties go to the
    first in results' order.
    """
    scored = {k: r["final_accuracy"] for k, r in results.items() if k.startswith(prefix)
              and r.get("final_accuracy") is not None and not r.get("diverged_at")}
    return max(scored, key=scored.get, default=None)
