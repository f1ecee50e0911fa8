"""The last check: the student's whole network trained in lock-step with torchnet.

Runs only when exercises 1–8 pass. Nothing of the reference is patched in:
the student's backprop, derivatives, optimizers and StepLR train a network in
float64 on MNIST batches from the reference's starting weights, and the child
sends the weights back every EVERY steps. The grader trains a torchnet copy
of the same start (torchnet.convert, the same weights to the last bit) with
torch.optim and compares. Dropout is left out: the two draw their masks from
different generators.

When a setting drifts apart, `culprit_cases` runs it again with one
exercise's functions at a time put back to the reference's: the exercise
whose swap brings the weights back within the bound is the one that causes it.
The freedom a correct copy has: its weights within 1e-9 of torchnet's.
"""
from __future__ import annotations

import types

import numpy as np
import torch

from .code import reference
from .derivatives import COSTS
from .grading import Case
from .loop import mnist_head
from .table import BY_NUMBER, LOCKSTEP_BOUND
from .verdict import row

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


def mnist_batches(root) -> tuple[np.ndarray, np.ndarray]:
    """The first EPOCH·BATCH training images (one epoch, visited in order), float64 in [0, 1]."""
    return tuple(t.numpy() for t in mnist_head(root, "train", EPOCH * BATCH))


def swaps(label: str) -> list[int]:
    """The exercises whose functions a setting runs."""
    options, kind, _, schedule = SETTINGS[label]
    return [1, 2, 3] + [5] * bool(options.get("batchnorm")) + [6 if kind == "SGD" else 7] + \
        [8] * bool(schedule)


def _swap(code, number, net, optimizer, scheduler) -> None:
    """Put exercise `number`'s functions back to the reference's on these objects."""
    real = code.real
    if number == 1:
        net.f_prime = real.get(f"{net.activation}_prime")
    elif number == 2:
        net.cost = real.get(f"{COSTS[net.cost_name]}.value_and_delta")
    elif number == 3:
        net.backprop = types.MethodType(real.function("Network.backprop"), net)
    elif number == 5:
        for bn in net.norms:
            bn.backward = types.MethodType(real.function("BatchNorm.backward"), bn)
    elif number in (6, 7):
        optimizer._update = types.MethodType(real.function(f"{type(optimizer).__name__}._update"),
                                             optimizer)
    elif number == 8:
        scheduler.step = types.MethodType(real.function("StepLR.step"), scheduler)


def student_run(code, label, root, swap=None) -> list:
    """The weights every EVERY steps (row 0: the start), one stacked array per parameter."""
    options, kind, opt_options, schedule = SETTINGS[label]
    X, y = mnist_batches(root)
    net = code.get("Network.backprop")(**options)
    for mine, true in zip(net.parameters(), reference().top("Network.backprop")(**options).parameters()):
        mine[...] = true
    optimizer = code.get(f"{kind}._update")(net.parameters(), **opt_options)
    scheduler = code.get("StepLR.step")(optimizer, *schedule) if schedule else None
    if swap:
        _swap(code, swap, net, optimizer, scheduler)
    snapshots = [[p.copy() for p in net.parameters()]]
    for step in range(STEPS):
        at = step % EPOCH * BATCH
        _, grads = net.backprop(X[at:at + BATCH], y[at:at + BATCH])
        optimizer.step(grads)
        if scheduler and (step + 1) % EPOCH == 0:
            scheduler.step()
        if (step + 1) % EVERY == 0:
            snapshots.append([p.copy() for p in net.parameters()])
    return [np.stack([s[i] for s in snapshots]) for i in range(len(snapshots[0]))]


def torch_run(label, root) -> list:
    """The same with torchnet and torch.optim: [(name, weights every EVERY steps)]."""
    from torchnet.convert import to_torch

    options, kind, opt_options, schedule = SETTINGS[label]
    X, y = (torch.from_numpy(a) for a in mnist_batches(root))
    net = to_torch(reference().top("Network.backprop")(**options))
    optimizer = getattr(torch.optim, kind)(net.parameters(), **opt_options)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, *schedule) if schedule else None
    snapshots = [[p.detach().numpy().copy() for p in net.parameters()]]
    for step in range(STEPS):
        at = step % EPOCH * BATCH
        optimizer.zero_grad()
        net.loss(X[at:at + BATCH], y[at:at + BATCH]).backward()
        optimizer.step()
        if scheduler and (step + 1) % EPOCH == 0:
            scheduler.step()
        if (step + 1) % EVERY == 0:
            snapshots.append([p.detach().numpy().copy() for p in net.parameters()])
    return [(f"parameter {i + 1}", np.stack([s[i] for s in snapshots]))
            for i in range(len(snapshots[0]))]


def lockstep_cases(root) -> list[Case]:
    return [Case(label, "Network.backprop", lambda code, label=label: student_run(code, label, root),
                 lambda label=label: torch_run(label, root), LOCKSTEP_BOUND, "step")
            for label in SETTINGS]


def culprit_cases(label, root) -> list[Case]:
    return [Case(f"{label}, exercise {k} from the reference", "Network.backprop",
                 lambda code, k=k: student_run(code, label, root, swap=k),
                 lambda: torch_run(label, root), LOCKSTEP_BOUND, "step") for k in swaps(label)]


def drift(case: Case, outputs) -> tuple[float, int | None]:
    """(the largest weight difference, the step by which it first passed the bound; None: never)."""
    try:
        diffs = np.max([np.abs(np.asarray(got, np.float64) - want).reshape(len(want), -1).max(axis=1)
                        for got, (_, want) in zip(outputs, case.expected, strict=True)], axis=0)
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
        return "no one exercise's functions cause it alone: with each put back in turn, it still drifts"
    names = "; ".join(f"exercise {k} ({BY_NUMBER[k].title})" for k in fixed)
    return (f"caused by {names}: with {'its' if len(fixed) == 1 else 'either one’s'} functions "
            "taken from the reference, the weights stay in bound; its own cases pass, so look at "
            "what they do not vary (a longer run, larger arrays)")
