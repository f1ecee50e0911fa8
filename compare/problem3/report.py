"""REPORT.md's Problem 3 sections: the deep dense net and its vanishing gradient.

The deep sigmoid net's gradient ratio and the student's frozen numbers (a),
ReLU + Kaiming and batch norm with their per-layer gradient norms (b), and the
best deep dense nets against their targets and Problem 2's best (c).
"""
from __future__ import annotations

import math

from ..runs import IMPLS
from ..report.base import (FAIL_ACCURACY, IMPL_NAMES, Figures, Section, Sources, accuracies,
                          augment_of, best_epoch, config_of, describe, failed, magnitude,
                          make_command, make_section, minutes, n_updates, newest_mtime, outcome,
                          pct, plural, pts, ratios, sci, table)
from ..problem2.report import best_shallow, study_table

# ---------------------------------------------------------------- what Problem 3 measures against
P3_TARGET = 0.987                             # best deep dense net, no augmentation
P3_AUG_TARGET, P3_AUG_STRETCH = 0.992, 0.994  # best deep dense net, augmented
P3_BUDGET_S = 20 * 60                         # training time per recipe on a 2-core CPU

# The student's Problem 3 printout: the same ratio and accuracy in all five epochs.
STUDENT_P3_RATIO, STUDENT_P3_ACCURACY = 0.000046, 0.1135
VARIANTS = {"sigmoid": "sigmoid + Xavier normal", "relu": "ReLU + Kaiming uniform",
            "sigmoid-bn": "sigmoid + batch norm"}


def variant_of(name: str) -> str:
    """'deep-sigmoid-bn-torch' -> 'sigmoid-bn'."""
    return name.removeprefix("deep-").rsplit("-", 1)[0]


def orders(a: float, b: float) -> float | None:
    """log10(a / b), or None when either is zero or not finite."""
    if not (a > 0 and b > 0 and math.isfinite(a) and math.isfinite(b)):
        return None
    return math.log10(a / b)


def _variant(p3: dict, variant: str, impl: str):
    e = p3.get(f"deep-{variant}-{impl}")
    return e if e is not None and e.ok else None


def _layer_table(p3: dict, which: int) -> list[str]:
    cols = [(v, i) for v in VARIANTS for i in IMPLS if _variant(p3, v, i)]
    if not cols:
        return []
    norms = {c: _variant(p3, *c).result["history"]["grad_norms"] for c in cols}
    depth = max(len(n[which]) for n in norms.values() if n)
    rows = []
    for layer in range(depth):
        rows.append([f"{layer + 1}" + (" (input)" if layer == 0 else " (output)"
                                        if layer == depth - 1 else "")] +
                    [sci(norms[c][which][layer]) if norms[c] and layer < len(norms[c][which])
                     else "—" for c in cols])
    return table(["layer"] + [f"{VARIANTS[v]} ({IMPL_NAMES[i]})" for v, i in cols], rows)


def _impl_agreement(p3: dict, variant: str, which: int) -> float | None:
    """Largest relative difference of per-layer norms between torch and scratch."""
    t, s = _variant(p3, variant, "torch"), _variant(p3, variant, "scratch")
    if not (t and s):
        return None
    a, b = t.result["history"]["grad_norms"], s.result["history"]["grad_norms"]
    if not a or not b:
        return None
    return max(abs(x - y) / max(abs(x), abs(y), 1e-300) for x, y in zip(a[which], b[which]))


def p3_sections(src: Sources, fig: Figures) -> list[Section]:
    p3, quick = src.problem3, src.quick
    command = make_command("problem3", quick)

    def image(name, alt, entries):
        return fig.image(f"problem3/{name}.png", alt, command, newest_mtime(entries))

    sig = [p3[k] for k in ("deep-sigmoid-torch", "deep-sigmoid-scratch") if k in p3]
    fixes = [e for k, e in p3.items() if k.startswith("deep-")]
    best = [e for k, e in p3.items() if k.startswith("best")]

    def part_a():
        ok = [e for e in sig if e.ok]
        config = config_of(ok[0].result)
        lines = [f"The homework's deep net: {describe(config)}. The homework's gradient ratio is "
                 "the mean over an epoch's batches of ‖∂C/∂W‖ for the first (input) layer "
                 "divided by the same mean for the last (output) layer.", ""]
        per_epoch = {IMPL_NAMES[e.run.impl]: (ratios(e.result), accuracies(e.result)) for e in ok}
        n = max(len(v[0]) for v in per_epoch.values())
        impls = list(per_epoch)
        rows = [[str(k + 1)] + [sci(per_epoch[i][0][k]) if k < len(per_epoch[i][0]) else "—"
                                for i in impls]
                + [pct(per_epoch[i][1][k]) if k < len(per_epoch[i][1]) else "—" for i in impls]
                for k in range(n)]
        lines += table(["epoch"] + [f"ratio ({i})" for i in impls] +
                       [f"test accuracy ({i})" for i in impls], rows)
        main = ok[0]
        r, acc = ratios(main.result), accuracies(main.result)
        vanishes = bool(r) and 0 < r[0] < 1
        text = [f"In the first epoch the input layer's gradient is {sci(r[0] if r else None)} "
                f"times the output layer's ({IMPL_NAMES[main.run.impl]})"]
        if vanishes:
            text[0] += (f": it learns about {magnitude(r[0])} more slowly — the vanishing "
                        "gradient: on its way back each sigmoid layer multiplies the error by "
                        "σ′(z) ≤ 1/4.")
        else:
            text[0] += ": no vanishing gradient in this run."
        if len(r) > 1:
            f = r[-1] / r[0]
            text.append(f"Over {plural(len(r), 'epoch')} the ratio "
                        + ("stays about the same" if 0.5 < f < 2 else
                           f"{'rises' if f > 1 else 'falls'} by a factor of {max(f, 1 / f):.1f}")
                        + f" ({sci(r[-1])} in the last epoch).")
        lines += [" ".join(text), ""]
        steps = n_updates(config)
        bug = [f"**The student's solution** reports a ratio of {STUDENT_P3_RATIO:f} and a test "
               f"accuracy of {STUDENT_P3_ACCURACY} in every epoch. Both are artefacts of an "
               "indentation slip: `optimizer.step()` sits after the batch loop, so each epoch "
               "made one update (from the last batch's gradient) instead of one per batch, and "
               "the evaluation sits after the epoch loop. With five updates in all the weights "
               f"barely move, so the ratio cannot change; {pct(STUDENT_P3_ACCURACY)} is what a "
               "net that answers \"1\" for every image scores (1,135 of the 10,000 test images "
               "are ones). "
               f"Our runs step after every batch: {plural(steps, 'update')} in "
               f"{plural(config['epochs'], 'epoch')}."]
        if acc:
            final = acc[-1]
            if final <= FAIL_ACCURACY:
                bug.append(f"Even so the net does not learn: {pct(final)} after "
                           f"{plural(len(acc), 'epoch')} (chance is about 10%). Here the "
                           "vanishing gradient, not only the bug, stops plain SGD at this rate.")
            else:
                bug.append(f"Stepped correctly, the net does learn: {pct(final)} after "
                           f"{plural(len(acc), 'epoch')} — the student's "
                           f"{pct(STUDENT_P3_ACCURACY)} came from the slip"
                           + (", though the small gradients of the first layers slow it down."
                              if vanishes else "."))
        lines += [" ".join(bug), ""]
        return lines + [image("grad_ratio", "Gradient ratio per epoch, all variants", fixes), ""]

    def part_b():
        lines = ["The same 784-30×8-10 net and training, with the homework's fix (ReLU with "
                 "Kaiming uniform initialization) and with the normalization it mentions "
                 "(sigmoid with batch normalization after each hidden linear layer), in both "
                 "implementations from the same initial weights.", ""]
        rows = []
        for e in fixes:
            if not e.ok:
                rows.append((e.name, "", e.why(), ""))
                continue
            r = e.result
            rows.append((VARIANTS[variant_of(e.name)], IMPL_NAMES[e.run.impl],
                         " → ".join(sci(x) for x in ratios(r)), pct(r["final_accuracy"])))
        lines += table(("variant", "implementation", "gradient ratio per epoch",
                        "final test accuracy"), rows)
        text = []
        for variant in ("relu", "sigmoid-bn"):
            pairs = [(impl, ratios(s.result), ratios(o.result)) for impl in IMPLS
                     if (s := _variant(p3, "sigmoid", impl))
                     and (o := _variant(p3, variant, impl))]
            if not pairs or not pairs[0][1] or not pairs[0][2]:
                continue
            impl, rs, ro = pairs[0]
            first, last = orders(ro[0], rs[0]), orders(ro[-1], rs[-1])
            sentence = f"With {VARIANTS[variant]} the ratio is {sci(ro[0])}"
            if len(ro) > 1:
                sentence += f" in the first epoch and {sci(ro[-1])} in the last"
            if first is not None:
                sentence += (f" ({IMPL_NAMES[impl]}): {abs(first):.1f} orders of magnitude "
                             f"{'above' if first > 0 else 'below'} the sigmoid net's")
                if len(ro) > 1 and last is not None:
                    sentence += (f" in the first epoch and {abs(last):.1f} "
                                 f"{'above' if last > 0 else 'below'} it in the last")
                others = [(i, orders(b[0], a[0])) for i, a, b in pairs[1:] if a and b]
                sentence += "".join(f" ({IMPL_NAMES[i]}: {abs(k):.1f})" for i, k in others
                                    if k is not None)
            text.append(sentence + ".")
        near = sorted({VARIANTS[variant_of(e.name)] for e in fixes
                       if e.ok and ratios(e.result) and 0.1 < ratios(e.result)[-1] < 10})
        if near:
            text.append(f"A ratio within a factor of 10 of 1 ({', '.join(near)}) means the "
                        "first layer learns about as fast as the last.")
        lines += [" ".join(text), ""]
        agree = []
        for v in VARIANTS:
            first, last = _impl_agreement(p3, v, 0), _impl_agreement(p3, v, -1)
            if first is not None:
                epochs = len(_variant(p3, v, "torch").result["history"]["grad_norms"])
                agree.append(f"{sci(first)} for {VARIANTS[v]}" + (
                    f" in the first epoch and {sci(last)} in the last" if epochs > 1 else ""))
        if agree:
            lines += ["**Both implementations measure the same gradients**: the largest relative "
                      "difference between torchnet's and scratchnet's per-layer norms is "
                      + "; ".join(agree) + " (both start from the same weights and see the "
                      "same batches).", ""]
        lines += ["Per-layer gradient norms (mean over the epoch's batches of ‖∂C/∂W_l‖), "
                  "first epoch — Nielsen's \"speed of learning\" of each layer:", ""]
        lines += _layer_table(p3, 0)
        if any(len(e.result["history"]["grad_norms"]) > 1 for e in fixes if e.ok):
            lines += ["Last epoch:", ""] + _layer_table(p3, -1)
        lines.append(image("layer_norms", "Per-layer gradient norms, first and last epoch", fixes))
        lines.append("")
        lines += _vs_shallow(p3, src)
        alt = "Test accuracy per epoch of the deep variants"
        return lines + [image("accuracy", alt, fixes), ""]

    def part_c():
        lines = []
        shallow = best_shallow(src)
        rows = []
        for e in best:
            if not e.ok:
                rows.append((e.name, e.why(), "", "", "", ""))
                continue
            r = e.result
            augmented = bool(augment_of(r))
            target = P3_AUG_TARGET if augmented else P3_TARGET
            final = r["final_accuracy"]
            if final is None or failed(r):
                rows.append((e.name, describe(config_of(r), augment_of(r)),
                             outcome(r) or "no accuracy", "", pct(target, 1), ""))
                continue
            verdict = ("met" if final >= target else f"missed by {pts(target - final)}")
            if augmented:
                verdict += (f"; stretch {pct(P3_AUG_STRETCH, 1)} "
                            + ("met" if final >= P3_AUG_STRETCH
                               else f"missed by {pts(P3_AUG_STRETCH - final)}"))
            top, at = best_epoch(r)
            rows.append((e.name, describe(config_of(r), augment_of(r)), f"**{pct(final)}**",
                         f"{pct(top)} (epoch {at})", f"{pct(target, 1)}: {verdict}",
                         f"{minutes(r.get('wall_seconds'))} on {r.get('device', 'cpu')}"))
        lines += table(("run", "recipe", "test accuracy (final)", "best epoch", "target",
                        "training time"), rows)
        text = []
        for e in best:
            if e.ok and shallow is not None and e.result["final_accuracy"] is not None:
                d = e.result["final_accuracy"] - shallow.result["final_accuracy"]
                kind = " (with augmentation)" if augment_of(e.result) else ""
                text.append(f"`{e.name}`{kind} is {pts(d)} "
                            f"{'above' if d > 0 else 'below' if d < 0 else 'level with'} "
                            f"Problem 2's best shallow net (`{shallow.name}`, "
                            f"{pct(shallow.result['final_accuracy'])}): "
                            + ("the deep dense net beats it." if d > 0
                               else "it does not beat it."))
        slow = [e for e in best if e.ok and (e.result.get("wall_seconds") or 0) > P3_BUDGET_S]
        if slow:
            text.append("Over the budget of " + minutes(P3_BUDGET_S) + " per recipe on a 2-core "
                        "CPU: " + ", ".join(f"`{e.name}`" for e in slow) + ".")
        if text:
            lines += [" ".join(text), ""]
        lines += study_table(src.problem3_study, [e.result for e in best if e.ok], "problem3",
                             quick)
        return lines + [image("best", "Test accuracy of the best dense networks", best), ""]

    return [make_section("p3a", "Problem 3 (a): the deep sigmoid net and its gradient ratio",
                         sig, part_a),
            make_section("p3b", "Problem 3 (b): ReLU + Kaiming, and batch norm", fixes, part_b),
            make_section("p3c", "Problem 3 (c): how good can a deep dense network get?", best,
                         part_c)]


def _vs_shallow(p3: dict, src: Sources) -> list[str]:
    """The homework's question: deep ReLU test accuracy against Problem 2's shallow nets."""
    relu = _variant(p3, "relu", "torch") or _variant(p3, "relu", "scratch")
    base = src.problem2.get("a-baseline-torch")
    shallow = best_shallow(src)
    if not relu:
        return []
    final = relu.result["final_accuracy"]
    if final is None:
        return [f"**Against the shallow net.** The deep ReLU net has no accuracy to compare "
                f"({outcome(relu.result)}).", ""]
    text = [f"**Against the shallow net.** The deep ReLU net ends at {pct(final)} after "
            f"{plural(config_of(relu.result)['epochs'], 'epoch')} of plain SGD."]
    if base is not None and base.ok and base.result["final_accuracy"] is not None:
        b = base.result["final_accuracy"]
        text.append(f"Problem 2's baseline 784-30-10 net reached {pct(b)} after "
                    f"{plural(config_of(base.result)['epochs'], 'epoch')}: the deep net is "
                    f"{pts(final - b)} {'above' if final > b else 'below'} it.")
    if shallow is not None:
        s = shallow.result["final_accuracy"]
        text.append(f"The best shallow net of Problem 2 (`{shallow.name}`) reached {pct(s)}, "
                    f"{pts(s - final)} {'above' if s > final else 'below'} the deep ReLU net.")
    else:
        text.append("Problem 2's results are not available for comparison "
                    f"(run `{make_command('problem2', src.quick)}`).")
    return [" ".join(text), ""]
