"""The last check: the student's whole network trained in lock-step with torchnet.

Runs only when exercises 1–8 pass. Nothing of the reference is patched in
here: the student's backprop, derivatives, optimizers and StepLR train a
network in float64 on MNIST batches, torchnet trains a copy made with
torchnet.convert (the same weights to the last bit) with torch.optim, step for
step, and the largest weight difference is reported, as `compare lockstep`
does for scratchnet itself. Dropout is left out: the two draw their masks from
different generators.
"""
from __future__ import annotations

import numpy as np
import torch

from .grading import quiet, raised
from .table import LOCKSTEP_BOUND

STEPS, BATCH, EPOCH = 300, 10, 100      # StepLR steps every EPOCH steps
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
    from torchvision.datasets import MNIST

    data = MNIST(str(root), train=True, download=False)
    n = EPOCH * BATCH
    return (data.data[:n].reshape(n, -1).to(torch.float64).numpy() / 255.0,
            data.targets[:n].numpy().astype(np.int64))


def largest_difference(snet, tnet) -> float:
    return max(float(np.abs(p - q.detach().numpy()).max())
               for p, q in zip(snet.parameters(), tnet.parameters()))


def run_setting(ctx, label, X, y) -> tuple[float, int]:
    """(largest weight difference over the run, the step where it was largest)."""
    from torchnet.convert import to_torch

    options, kind, opt_options, schedule = SETTINGS[label]
    snet = ctx.student("Network.backprop")(**options)
    tnet = to_torch(snet)
    sopt = ctx.student(f"{kind}._update")(snet.parameters(), **opt_options)
    topt = getattr(torch.optim, kind)(tnet.parameters(), **opt_options)
    schedulers = []
    if schedule:
        schedulers = [ctx.student("StepLR.step")(sopt, *schedule),
                      torch.optim.lr_scheduler.StepLR(topt, *schedule)]
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    worst, at = 0.0, 0
    for step in range(STEPS):
        idx = np.arange(step % EPOCH * BATCH, step % EPOCH * BATCH + BATCH)
        with quiet():
            _, grads = snet.backprop(X[idx], y[idx])
            sopt.step(grads)
        topt.zero_grad()
        tnet.loss(Xt[idx], yt[idx]).backward()
        topt.step()
        if (step + 1) % EPOCH == 0:
            for scheduler in schedulers:
                scheduler.step()
        difference = largest_difference(snet, tnet)
        if not difference <= worst:                     # NaN counts as the worst
            worst, at = difference, step + 1
    return worst, at


def lockstep_row(ctx) -> dict:
    """The row of the last check: passed when every setting stays within LOCKSTEP_BOUND."""
    row = {"status": "passed", "error": 0.0, "case": None, "diagnosis": None, "detail": None}
    X, y = mnist_batches(ctx.data_root)
    notes = []
    for label in SETTINGS:
        try:
            worst, at = run_setting(ctx, label, X, y)
        except (Exception, SystemExit) as err:
            return dict(row, status="wrong", case=label, diagnosis=raised(err, ctx.folder))
        notes.append(f"{label}: {worst:.1e}")
        if not worst <= LOCKSTEP_BOUND:
            return dict(row, status="wrong", error=worst, case=f"{label}, step {at}",
                        diagnosis=f"the weights drift apart: largest difference {worst:.2g} "
                                  f"(bound {LOCKSTEP_BOUND:g}) at step {at} of {STEPS}")
        row["error"] = max(row["error"], worst)
    return dict(row, detail=f"largest weight difference after {STEPS} steps: " + "; ".join(notes))
