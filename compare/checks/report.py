"""REPORT.md's closing sections: the cross-checks and the timings.

Cross-checks: scratchnet against torchnet, step for step (results/compare/
lockstep.json) and gradient by gradient (results/compare/gradcheck.json).
Timings: `compare bench`'s results/bench.json.
"""
from __future__ import annotations

from datetime import datetime, timezone

from ..report.base import Figures, Section, Sources, machine_words, make_section, plural, sci, table

def checks_section(src: Sources, fig: Figures) -> Section:
    lock, grad = src.lockstep, src.gradcheck

    def body():
        lines = []
        if lock.ok:
            r = lock.result
            rows = []
            worst = 0.0
            for name, s in r.get("settings", {}).items():
                options = ", ".join(f"{k} {v}" for k, v in (s.get("options") or {}).items())
                if s.get("step_lr"):
                    options += f", StepLR({s['step_lr'][0]}, {s['step_lr'][1]})"
                rows.append((name, options, sci(s["max"]), sci(s["final"])))
                worst = max(worst, s["max"])
            bound = r.get("bound")
            lines += [f"**Lock-step training.** Both packages train a "
                      f"{'-'.join(map(str, r.get('sizes', [])))} network from the same float64 "
                      f"weights on the same {r['steps']:,} batches of {r.get('batch_size')} "
                      f"images; after every step the largest weight difference is recorded "
                      f"({r.get('device', 'cpu')}).", ""]
            lines += table(("optimizer", "options", "largest difference", "after the last step"),
                           rows)
            if bound is not None and worst <= bound:
                lines += [f"The worst difference, {sci(worst)}, is within the bound of "
                          f"{bound:g}: the hand-written optimizers follow torch.optim's update "
                          "rules step for step, to round-off.", ""]
            elif bound is not None:
                lines += [f"The worst difference, {sci(worst)}, is **above** the bound of "
                          f"{bound:g}: the two packages drift apart.", ""]
            lines += [fig.image("compare/lockstep.png", "Lock-step weight differences",
                                lock.command, lock.mtime), ""]
        if grad.ok:
            r = grad.result
            rows = r.get("rows", [])
            bad = [x for x in rows if not x.get("ok")]
            lines += [f"**Gradient check.** {plural(len(rows), 'case')}{_cases(rows)} compare "
                      "scratchnet's hand-written backprop with torch autograd and with central "
                      f"finite differences (h = {r.get('fd_h', 0):g}), in float64: worst relative "
                      "error "
                      f"{sci(max((x['autograd'] for x in rows), default=None))} against autograd "
                      f"(tolerance {r.get('autograd_rtol', 0):g}) and "
                      f"{sci(max((x['finite_differences'] for x in rows), default=None))} against "
                      f"finite differences (tolerance {r.get('fd_rtol', 0):g}); "
                      + ("all pass." if not bad else
                         f"**{len(bad)} fail**: " + ", ".join(x['case'] for x in bad) + "."), ""]
        lines += [f"Run them yourself: `{grad.command}` prints the table of every case, "
                  f"`{lock.command}` trains the two packages side by side.", ""]
        return lines

    return make_section("checks", "Cross-checks: scratchnet against torchnet", [lock, grad], body)


def _cases(rows: list) -> str:
    """What the gradient-check cases cover, from their own fields."""
    parts = []
    for key, word in (("activation", "activations"), ("cost", "costs"),
                      ("init", "initializations")):
        values = sorted({str(x[key]) for x in rows if key in x})
        if values:
            parts.append(f"{word} {', '.join(values)}")
    depths = sorted({x["depth"] for x in rows if "depth" in x})
    if depths:
        parts.append(f"{depths[0]} to {depths[-1]} weight layers")
    extras = [w for key, w in (("batchnorm", "batch norm"), ("dropout", "dropout"))
              if any(x.get(key) for x in rows)]
    if extras:
        parts.append("with and without " + " and ".join(extras))
    return f" ({'; '.join(parts)})" if parts else ""


def _when(text: str) -> str:
    """An ISO timestamp as 'YYYY-MM-DD HH:MM UTC' (unchanged if it does not parse)."""
    try:
        return datetime.fromisoformat(text).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except (TypeError, ValueError):
        return str(text)


def timings_section(src: Sources) -> Section:
    bench = src.bench

    def body():
        r = bench.result
        m = r.get("machine", {})
        rows = []
        for x in r.get("rows", []):
            rows.append((x.get("case", ""), x.get("reference") or "—",
                         "—" if x.get("reference_s") is None else f"{x['reference_s']:.3f} s",
                         x.get("ours", ""),
                         "—" if x.get("ours_s") is None else f"{x['ours_s']:.3f} s",
                         "—" if x.get("speedup") is None else f"{x['speedup']:.1f}×"))
        lines = [f"Measured by `{bench.command}` on {machine_words(m)}"
                 + (f", {_when(m['when'])}" if m.get("when") else "")
                 + f"; each time is the median of {plural(r.get('repeats', 0), 'repetition')} "
                 "after a warm-up, and each speed-up is against the reference measured in the "
                 "same run.", ""]
        lines += table(("case", "reference", "reference time", "ours", "our time", "speed-up"),
                       rows)
        slower = [x for x in r.get("rows", []) if x.get("speedup") is not None
                  and x["speedup"] < 1]
        if slower:
            lines += ["Slower than its reference: " + "; ".join(
                f"{x.get('ours', '')} in \"{x.get('case', '')}\" ({x['speedup']:.2f}×)"
                for x in slower) + ".", ""]
        return lines

    return make_section("timings", "Timings", [bench], body)
