"""Problem 2: shallow nets (784-h-10) on MNIST: a baseline, two rate sweeps, the best recipe."""

PROBLEM = "problem2"   # results/problem2/, figures/problem2/


def best_of(results: dict, part: str) -> str | None:
    """The seed-0 name of the run of `part` with the highest mean final accuracy over its seeds
    in results ({name: result as stored}), of those whose seed 0 did not fail (the first on a
    tie), or None: the report's best rate (report.facts.top), for figure (d)."""
    from ..report.facts import FAIL_ACCURACY
    from ..report.stats import spread

    finals, names = {}, {}
    for name, r in results.items():
        run, final = r["run"], r.get("final_accuracy")
        if run["part"] == part:
            finals.setdefault(run["variant"], []).append(final)
            if run["seed"] == 0 and final is not None and final > FAIL_ACCURACY \
                    and not r.get("diverged_at"):
                names[run["variant"]] = name
    means = {name: spread(finals[variant]).mean for variant, name in names.items()}
    return max(means, key=means.get, default=None)
