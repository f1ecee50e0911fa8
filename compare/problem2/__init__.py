"""Problem 2: shallow nets (784-h-10) on MNIST: a baseline, two rate sweeps, the best recipe."""

PROBLEM = "problem2"   # results/problem2/, figures/problem2/


def best_of(results: dict, part: str | None = None) -> str | None:
    """The name of the run ({name: result as stored}) of part `part` (all when None) with the
    highest final accuracy that did not diverge (the first on a tie), or None: the one
    definition of "the best rate", for figures and report alike."""
    scored = {k: r["final_accuracy"] for k, r in results.items()
              if part in (None, r["run"]["part"])
              and r.get("final_accuracy") is not None and not r.get("diverged_at")}
    return max(scored, key=scored.get, default=None)
