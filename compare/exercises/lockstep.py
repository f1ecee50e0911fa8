"""The last check: the student's whole network trains on MNIST in float64 in lock-step with
torchnet and torch.optim from one start (no dropout: the two draw masks differently). When a
setting drifts apart, the culprit cases rerun it with one exercise at a time from the reference.
"""
from __future__ import annotations

import numpy as np
import torch

from .source import reference
from .derivatives import put_back
from .grading import Case, row
from .loop import mnist_head
from .optimizers import copies, track
from .table import BY_NUMBER, LOCKSTEP_BOUND

STEPS, BATCH, EPOCH, EVERY = 300, 10, 100, 25    # StepLR steps every EPOCH steps
# Batch norm trains with SGD, not Adam: the bias before a batch norm has a gradient that is
# round-off, which Adam would scale up to steps of lr · round-off / ε.
SETTINGS = {   # label -> network options, optimizer, its options, StepLR (step_size, gamma)
    "784-32-16-10 ReLU + batch norm, quadratic, SGD Nesterov + weight decay, StepLR":
        (dict(sizes=(784, 32, 16, 10), activation="relu", cost="quadratic",
              init="kaiming_uniform", batchnorm=True, seed=1),
         "SGD", dict(lr=0.1, momentum=0.8, nesterov=True, weight_decay=1e-4), (1, 0.5)),
    "784-30-10 sigmoid, cross-entropy, Adam + weight decay":
        (dict(sizes=(784, 30, 10), activation="sigmoid", cost="cross_entropy", seed=0),
         "Adam", dict(lr=1e-3, weight_decay=1e-4), None),
}


def swaps(label: str) -> list[int]:
    """The exercises whose functions a setting runs."""
    options, kind, _, schedule = SETTINGS[label]
    return [1, 2, 3] + [5] * bool(options.get("batchnorm")) + [6 if kind == "SGD" else 7] + \
        [8] * bool(schedule)


def run(label, root, code=None, swap=None) -> list:
    """The weights every EVERY steps (row 0: the start), one stacked array per parameter:
    code's network and optimizers, or (no code) torchnet's and torch.optim's."""
    options, kind, opt_options, schedule = SETTINGS[label]
    X, y = (t.numpy() for t in mnist_head(root, "train", EPOCH * BATCH))   # one epoch, in order
    start = reference().top("Network.backprop")(**options)
    if code is None:
        from torchnet.convert import to_torch

        net = to_torch(start)
        optimizer = getattr(torch.optim, kind)(net.parameters(), **opt_options)
        scheduler = schedule and torch.optim.lr_scheduler.StepLR(optimizer, *schedule)
    else:
        net = code.get("Network.backprop")(**options)
        for mine, true in zip(net.parameters(), start.parameters()):
            mine[...] = true
        optimizer = code.get(f"{kind}._update")(net.parameters(), **opt_options)
        scheduler = schedule and code.get("StepLR.step")(optimizer, *schedule)
        if swap:
            put_back(swap, net, optimizer, scheduler)

    def step(t):
        batch = slice(t % EPOCH * BATCH, t % EPOCH * BATCH + BATCH)
        if code is None:
            optimizer.zero_grad()
            net.loss(torch.from_numpy(X[batch]), torch.from_numpy(y[batch])).backward()
            optimizer.step()
        else:
            optimizer.step(net.backprop(X[batch], y[batch])[1])
        if scheduler and (t + 1) % EPOCH == 0:
            scheduler.step()
    return track(lambda: copies(net.parameters()), step, STEPS, EVERY)


def truth(label, root) -> list:
    return [(f"parameter {i}", w) for i, w in enumerate(run(label, root), 1)]


def lockstep_cases(root) -> list[Case]:
    return [Case(label, "Network.backprop", lambda code, label=label: run(label, root, code),
                 lambda label=label: truth(label, root), LOCKSTEP_BOUND, "step")
            for label in SETTINGS]


def culprit_cases(label, root) -> list[Case]:
    return [Case(f"{label}, exercise {k} from the reference", "Network.backprop",
                 lambda code, k=k: run(label, root, code, swap=k),
                 lambda: truth(label, root), LOCKSTEP_BOUND, "step") for k in swaps(label)]


def drift(case: Case, outputs) -> tuple[float, int | None]:
    """(the largest weight difference, the step by which it first passed the bound; None: never)."""
    try:
        pairs = zip(outputs, case.expected, strict=True)
        diffs = np.max([np.abs(np.asarray(got, np.float64) - want).reshape(len(want), -1)
                        .max(axis=1) for got, (_, want) in pairs], axis=0)
    except (TypeError, ValueError):
        return float("nan"), 0
    over = np.flatnonzero(~(diffs <= LOCKSTEP_BOUND))          # NaN counts as over
    return float(np.max(diffs)), (int(over[0]) * EVERY if over.size else None)


def judge(cases, results) -> dict:
    """The last check's row; `drifted` names the index of the first setting that drifted apart."""
    notes, worst = [], 0.0
    for case, result in zip(cases, results):
        if "outputs" not in result:
            return row("wrong", case=case.label, diagnosis=result.get("raised") or
                       result.get("malformed") or result.get("unwritten"))
        largest, at = drift(case, result["outputs"])
        if at is not None:
            return row("wrong", largest, f"{case.label}, by step {at}",
                       f"the weights drift apart: largest difference {largest:.2g} (bound "
                       f"{LOCKSTEP_BOUND:g}) by step {at} of {STEPS}",
                       drifted=list(SETTINGS).index(case.label))
        notes.append(f"{case.label}: {largest:.1e}")
        worst = max(worst, largest)
    return row("passed", worst, detail=f"largest weight difference over {STEPS} steps: "
               + "; ".join(notes))


def culprit(cases, results) -> str:
    """Which exercise's functions, put back to the reference's, bring the weights back in bound."""
    label = cases[0].label.rsplit(", exercise ", 1)[0]
    fixed = [k for k, c, r in zip(swaps(label), cases, results)
             if "outputs" in r and drift(c, r["outputs"])[1] is None]
    if not fixed:
        return ("no one exercise's functions cause it alone: with each put back in turn, "
                "it still drifts")
    names = "; ".join(f"exercise {k} ({BY_NUMBER[k].title})" for k in fixed)
    return (f"caused by {names}: with {'its' if len(fixed) == 1 else 'either one’s'} functions "
            "taken from the reference, the weights stay in bound; its own cases pass, so look at "
            "what they do not vary (a longer run, larger arrays)")
