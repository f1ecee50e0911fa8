"""Exercise 10's row, from what the child recorded. A mistake is named only when the counted
calls prove it; with every call in place, the row compares the weights with the reference loop's
on the same batches, and the returned accuracies with what the student's network scored.
"""
from __future__ import annotations

import numpy as np
import torch

from .source import reference
from .grading import ROUND_OFF, relative_error, row, scale_of
from .loop import BATCH, RUNS, SIZES, TEST_IMAGES, TRAIN_IMAGES, mnist_head
from .mistakes import MISTAKES
from .table import LOCKSTEP_BOUND

ACCURACY_TOLERANCE = 1e-6       # float32 counts are off by 1e-8
EXPECTED = {"SGD": dict(momentum=0.8, nesterov=True, weight_decay=1e-4, dampening=0.0),
            "Adam": dict(betas=(0.9, 0.999), weight_decay=1e-4)}


def _named(key: str, fact: str) -> str:
    mistake = next(m for m in MISTAKES if m.key == key)
    return f"{mistake.name}: {fact}; {mistake.fix}"


def passes(events) -> list[dict]:
    """The record cut into passes: {loader, batches (lists of events), after, index, training}."""
    out = []
    for event in events:
        if event[0] == "pass":
            out.append({"loader": event[1], "batches": [], "after": [], "open": True,
                        "index": len(out)})
        elif out and event[0] == "batch":
            out[-1]["batches"].append([])
        elif out and event[0] == "end":
            out[-1]["open"] = False
        elif out:
            inside = out[-1]["open"] and out[-1]["batches"]
            (out[-1]["batches"][-1] if inside else out[-1]["after"]).append(event)
    for p in out:
        p["training"] = any(e[0] == "backward" for b in p["batches"] for e in b)
    return out


def batch_problems(training: list[dict], n_batches: int) -> list[str]:
    """What the counted calls of the training batches prove, first proof first."""
    letter = {"zero_grad": "Z", "backward": "B", "step": "S"}
    where = [(e, k, "".join(letter.get(ev[0], "") for ev in b))
             for e, p in enumerate(training, 1) for k, b in enumerate(p["batches"], 1)]
    if where and all("S" not in o for _, _, o in where) and \
            all(sum(ev[0] == "step" for ev in p["after"]) == 1 for p in training):
        return [_named("step_once_per_epoch", f"1 optimizer step in an epoch of {n_batches} "
                                              "batches, after the batch loop")]
    for count, what in (("B", "loss.backward()"), ("S", "optimizer.step()")):
        for e, k, o in where:
            if o.count(count) != 1:
                again = ": a second backward adds the same gradient again" * (o.count("B") > 1)
                return [f"{what} ran {o.count(count)} times in batch {k} of epoch {e} (once per "
                        f"batch is right{again})"]
    for e, k, o in where:
        if o.index("S") < o.index("B"):
            used = ("after zero_grad(), so no step had a gradient to take"
                    if "Z" in o[:o.index("S")] else
                    "so each step used the gradient left from the batch before")
            return [f"optimizer.step() ran before loss.backward() in batch {k} of epoch {e}, "
                    + used]
        if "Z" in o[o.index("B"):o.index("S")]:
            return [f"zero_grad() ran between loss.backward() and optimizer.step() in batch {k} "
                    f"of epoch {e}: the step found the gradient zeroed"]
    stale = [(e, k) for e, p in enumerate(training, 1) for k, b in enumerate(p["batches"], 1)
             if any(ev[0] == "backward" and ev[1] for ev in b)]
    if stale and not any("Z" in o for _, _, o in where) and \
            not any(ev[0] == "zero_grad" for p in training for ev in p["after"]):
        return [_named("zero_grad_missing", "no zero_grad() ran, and every backward after the "
                                             "first added onto the gradients before it")]
    return [f"the backward pass of batch {stale[0][1]} of epoch {stale[0][0]} found .grad not "
            "zeroed"] if stale else []


def mode_problems(training: list[dict], evaluations: list[dict], epochs: int) -> list[str]:
    """What the loaders read and the modes of the forward passes prove."""
    def modes(ps):
        return [e[1] for p in ps for b in p["batches"] for e in b if e[0] == "forward"]

    problems, tests = [], [p for p in evaluations if p["loader"] == "test"]
    if not tests:
        problems.append("test_loader was never read" + (": the evaluation ran on train_loader, "
                        "so the accuracies are not the test images'" if evaluations else ""))
    elif len(tests) != epochs:
        problems.append(f"test_loader was read {len(tests)} times for epochs={epochs}")
    if evaluations and all(modes(evaluations)) and all(modes(training)):
        problems.append(_named("eval_never_set", "every forward pass ran in training mode, the "
                                                 "evaluation's too"))
    elif any(modes(evaluations)):
        problems.append("the evaluation's forward passes ran in training mode")
    late = [e for e, p in enumerate(training, 1) if not all(modes([p]))]
    if late and all(modes(training[:1])) and late == list(range(2, len(training) + 1)):
        problems.append(_named("train_not_reset", f"epoch {late[0]} trained in evaluation mode"))
    elif late:
        problems.append(f"training batches of epoch {late[0]} went through the network in "
                        "evaluation mode")
    return problems


def settings_problems(events, optimizer_type: str, eta: float) -> list[str]:
    """The first optimizer step's type and settings against the homework's."""
    step = next((e for e in events if e[0] == "step"), None)
    if step is None:
        return []
    kind, settings = step[1], step[2]
    if kind != optimizer_type:
        return [f"optimizer_type {optimizer_type!r} built a {kind} optimizer"]
    wrong = [f"{name} {settings.get(name)!r} (expected {value!r})"
             for name, value in {"lr": eta, **EXPECTED[kind]}.items()
             if _differs(settings.get(name), value)]
    return [f"{kind} built with " + ", ".join(wrong)] if wrong else []


def _differs(got, want) -> bool:
    if isinstance(want, tuple):
        return not isinstance(got, (tuple, list)) or list(map(float, got)) != list(want)
    return got != want


def weight_error(mine, true) -> float:
    if len(mine) != len(true) or any(np.shape(a) != np.shape(b) for a, b in zip(mine, true)):
        return float("inf")
    floor = ROUND_OFF * scale_of(true)
    return max(float(relative_error(a, b, floor).max(initial=0.0)) for a, b in zip(mine, true))


def accuracy_problems(returned, tests, snapshots, epochs, root) -> list[str]:
    """The returned accuracies against the student's own network at each evaluation."""
    if not isinstance(returned, (list, tuple)) or len(returned) != epochs or not all(
            isinstance(a, (int, float, np.number)) and not isinstance(a, (bool, np.bool_))
            for a in returned):
        return [f"returned {returned!r:.80}, expected a list of {epochs} accuracies (floats)"]
    net = reference().module("loop").Network(SIZES).to(torch.float64)
    images, labels = mnist_head(root, "test", TEST_IMAGES)
    for e, (got, p) in enumerate(zip(returned, tests if len(tests) == epochs else []), 1):
        with torch.no_grad():
            for param, value in zip(net.parameters(), snapshots[p["index"]]):
                param.copy_(torch.from_numpy(np.asarray(value, dtype=np.float64)))
            correct = int((net(images).argmax(dim=1) == labels).sum())
        if not abs(float(got) - correct / len(labels)) <= ACCURACY_TOLERANCE:
            return [f"returned {float(got)!r} after epoch {e}, but the network as your loop "
                    f"evaluated it classifies {correct} of the {len(labels)} test images "
                    f"correctly ({correct / len(labels):g})"]
    return []


def run_problems(run, record, truth, root) -> tuple[list[str], float]:
    """(what is wrong with one run, the final weights' worst relative error)."""
    optimizer_type, epochs, eta = run
    every = passes(record["events"])
    training = [p for p in every if p["training"]]
    tests = [p for p in every if p["loader"] == "test"]
    problems = [] if len(training) == epochs else \
        [f"train_loader was trained on {len(training)} times for epochs={epochs}"]
    if tests and training and tests[0]["index"] < training[0]["index"]:
        problems.append("test_loader was read before epoch 1's training batches: each epoch's "
                        "accuracy is measured after its training")
    problems += batch_problems(training, TRAIN_IMAGES // BATCH)
    problems += mode_problems(training, [p for p in every if not p["training"]], epochs)
    problems += settings_problems(record["events"], optimizer_type, eta)
    error = weight_error(record["final"], truth["final"])
    if not problems and error > LOCKSTEP_BOUND:
        true_tests = [p for p in passes(truth["events"]) if p["loader"] == "test"]
        errors = [weight_error(record["snapshots"][p["index"]], truth["snapshots"][q["index"]])
                  for p, q in zip(tests, true_tests)] + [error]
        e = next(k for k, err in enumerate(errors, 1) if err > LOCKSTEP_BOUND)
        when = f"after epoch {e}" if e <= len(tests) else "at the end"
        problems.append(f"{when} the weights differ from the reference loop's on the same batches "
                        f"(worst relative error {errors[e - 1]:.2g}), though every batch ran "
                        "zero_grad(), backward() and step() once each, in that order")
    return problems + accuracy_problems(record["returned"], tests, record["snapshots"], epochs,
                                        root), error


def judge(cases, results, root) -> dict:
    """Exercise 10's row."""
    worst = 0.0
    for run, case, result in zip(RUNS, cases, results):
        if "unwritten" in result:
            return row("not written yet", detail="train not written yet")
        if "outputs" not in result:
            return row("wrong", case=case.label, diagnosis=result.get("raised") or
                       result.get("malformed") or "no answer came back")
        try:
            problems, error = run_problems(run, result["outputs"][0], case.expected, root)
        except (KeyError, IndexError, TypeError, ValueError, AttributeError):
            return row("wrong", case=case.label,
                       diagnosis="the record of the run came back malformed")
        worst = max(worst, error)
        if problems:
            detail = "also: " + "; ".join(problems[1:]) if len(problems) > 1 else None
            return row("wrong", error if error > LOCKSTEP_BOUND else None, case.label,
                       problems[0], detail)
    return row("passed", worst)
