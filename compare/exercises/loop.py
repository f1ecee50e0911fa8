"""Check of exercise 10: the student's training loop, watched while it runs.

The loop trains the homework's network (in float64) on the first few hundred
MNIST images, through DataLoaders over Subsets as the homework builds them,
once per optimizer type. Hooks record what happens, in order: each pass over
train_loader (an epoch), each forward pass with its mode, each parameter's
gradient as backward computes it (was .grad already non-zero: not zeroed?),
each optimizer step with its settings. From that record: one step per batch,
gradients zeroed before every backward, train() while training and eval()
while testing, the homework's optimizer settings. Then the weights and the
accuracies must equal those of the reference loop on the same batches.
"""
from __future__ import annotations

import copy
import functools
from pathlib import Path

import numpy as np
import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from .grading import ROUND_OFF, quiet, raised, relative_error, scale_of
from .mistakes import BY_KEY
from .table import LOCKSTEP_BOUND

TRAIN_IMAGES, TEST_IMAGES, BATCH = 200, 100, 10
SIZES = [784, 16, 10]
RUNS = (("SGD", 2, 0.1), ("Adam", 1, 1e-3))        # optimizer_type, epochs, eta
EXPECTED = {"SGD": dict(momentum=0.8, nesterov=True, weight_decay=1e-4, dampening=0.0),
            "Adam": dict(betas=(0.9, 0.999), weight_decay=1e-4)}


def _to_vector(image: torch.Tensor) -> torch.Tensor:
    return image.reshape(-1).to(torch.float64)


@functools.lru_cache(maxsize=2)
def mnist_subsets(root: Path):
    """(train, test): Subsets of the first TRAIN_IMAGES and TEST_IMAGES images, as vectors."""
    from torch.utils.data import Subset
    from torchvision import datasets, transforms

    to_vector = transforms.Compose([transforms.ToTensor(), transforms.Lambda(_to_vector)])
    try:
        train = datasets.MNIST(str(root), train=True, download=False, transform=to_vector)
        test = datasets.MNIST(str(root), train=False, download=False, transform=to_vector)
    except RuntimeError as err:
        raise FileNotFoundError(f"MNIST not found under {root}/MNIST/raw (run `make data`): "
                                f"{err}") from None
    return Subset(train, range(TRAIN_IMAGES)), Subset(test, range(TEST_IMAGES))


class Recorder:
    """Hooks on one network and on every optimizer step; `events` in the order they happen."""

    def __init__(self, net: torch.nn.Module):
        self.events, self.phase = [], None
        self.params = [p for p in net.parameters()]
        self.handles = [net.register_forward_pre_hook(self._forward)]
        self.handles += [p.register_hook(functools.partial(self._grad, p)) for p in self.params]
        self.handles.append(register_optimizer_step_pre_hook(self._step))

    def _forward(self, module, args):
        self.events.append(("forward", self.phase, module.training, torch.is_grad_enabled()))

    def _grad(self, p, grad):
        self.events.append(("grad", p.grad is not None and bool(p.grad.any())))

    def _step(self, optimizer, args, kwargs):
        mine = {id(p) for p in self.params}
        if any(id(p) in mine for group in optimizer.param_groups for p in group["params"]):
            settings = {k: v for k, v in optimizer.param_groups[0].items() if k != "params"}
            has_grad = any(p.grad is not None and bool(p.grad.any()) for p in self.params)
            self.events.append(("step", type(optimizer).__name__, settings, has_grad))

    def watch(self, loader, phase: str):
        return Watched(loader, self, phase)

    def close(self):
        for handle in self.handles:
            handle.remove()


class Watched:
    """A DataLoader that tells the recorder when an epoch starts and which loop is running."""

    def __init__(self, loader, recorder: Recorder, phase: str):
        self.loader, self.recorder, self.phase = loader, recorder, phase

    def __iter__(self):
        if self.phase == "train":
            self.recorder.events.append(("epoch",))
        for batch in self.loader:
            self.recorder.phase = self.phase
            yield batch
        self.recorder.phase = None

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):
        return getattr(self.loader, name)


def loaders(root: Path):
    from torch.utils.data import DataLoader

    train, test = mnist_subsets(root)
    shuffle = torch.Generator().manual_seed(0)       # the same batches for student and reference
    return (DataLoader(train, batch_size=BATCH, shuffle=True, generator=shuffle),
            DataLoader(test, batch_size=50))


def network(reference_module, seed: int = 0) -> torch.nn.Module:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return reference_module.Network(SIZES).to(torch.float64)


def _problem(key, message):
    mistake = BY_KEY.get(key)
    return f"{mistake.name}: {message}; {mistake.fix}" if mistake else message


def analyse(events, epochs: int, n_batches: int, optimizer_type: str, eta: float) -> list[str]:
    """What the record shows went wrong, most telling first."""
    problems, segments = [], []
    for event in events:
        if event[0] == "epoch":
            segments.append([])
        elif segments:
            segments[-1].append(event)
    steps_per_epoch = [sum(e[0] == "step" for e in seg) for seg in segments]
    if len(segments) != epochs:
        problems.append(f"train_loader was gone through {len(segments)} times for epochs={epochs}")
    for steps in steps_per_epoch:
        if steps != n_batches:
            text = f"{steps} optimizer step{'' if steps == 1 else 's'} in an epoch of {n_batches} batches"
            problems.append(_problem("step_once_per_epoch" if steps == 1 else None, text))
            break
    if any(e[0] == "grad" and e[1] for e in events):
        problems.append(_problem("zero_grad_missing", "a backward pass found .grad not zeroed"))
    if any(e[0] == "step" and not e[3] for e in events):
        problems.append("the optimizer stepped with no gradients: zero_grad() ran between "
                        "backward() and step()")
    if any(e[0] == "forward" and e[1] == "test" and e[2] for e in events):
        problems.append(_problem("eval_never_set", "the test images went through the network in "
                                                   "training mode"))
    if any(e[0] == "forward" and e[1] == "train" and e[3] and not e[2] for e in events):
        problems.append(_problem("train_not_reset", "training batches went through the network in "
                                                    "evaluation mode"))
    steps = [e for e in events if e[0] == "step"]
    if steps:
        problems += _settings(steps[0][1], steps[0][2], optimizer_type, eta)
    return problems


def _settings(kind: str, settings: dict, optimizer_type: str, eta: float) -> list[str]:
    """The homework's optimizer for optimizer_type, or what differs from it."""
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


def _run(train_fn, net, optimizer_type, epochs, eta, root, recorder=None):
    train_loader, test_loader = loaders(root)
    if recorder is not None:
        train_loader, test_loader = recorder.watch(train_loader, "train"), recorder.watch(test_loader, "test")
    return train_fn(net, train_loader, test_loader, epochs, eta, optimizer_type)


def _compare_runs(got, net, ref_acc, ref_net, epochs) -> tuple[list[str], float]:
    """Problems with the returned accuracies and the final weights, and the weights' worst error."""
    problems = []
    if (not isinstance(got, (list, tuple)) or len(got) != epochs
            or not all(isinstance(a, (int, float)) and not isinstance(a, bool) for a in got)):
        problems.append(f"returned {got!r:.80}, expected a list of {epochs} accuracies (floats)")
    elif not np.allclose(got, ref_acc, rtol=0, atol=1e-12):
        problems.append(f"returned accuracies {list(got)}, but the test accuracy after each "
                        f"epoch is {ref_acc}")
    mine = [p.detach().numpy() for p in net.parameters()]
    true = [p.detach().numpy() for p in ref_net.parameters()]
    floor = ROUND_OFF * scale_of(true)
    errors = [float(relative_error(a, b, floor).max(initial=0.0)) for a, b in zip(mine, true)]
    worst = max(errors)
    if worst > LOCKSTEP_BOUND:
        names = [n for n, _ in net.named_parameters()]
        k = int(np.argmax(errors))
        problems.append(f"after training, {names[k]} differs from the reference loop's "
                        f"(worst relative error {worst:.2g})")
    return problems, worst


def loop_row(ctx) -> dict:
    """Exercise 10's row, in the shape grading.grade gives."""
    row = {"status": "passed", "error": None, "case": None, "diagnosis": None, "detail": None}
    for optimizer_type, epochs, eta in RUNS:
        label = (f"optimizer_type {optimizer_type!r}, {epochs} epoch{'s' if epochs > 1 else ''} "
                 f"of {TRAIN_IMAGES // BATCH} batches, eta {eta:g}")
        reference_net = network(ctx.loop_reference)
        net, recorder = copy.deepcopy(reference_net), None
        reference_acc = _run(ctx.loop_reference.train, reference_net, optimizer_type, epochs, eta,
                             ctx.data_root)
        try:
            recorder = Recorder(net)
            with quiet():
                got = _run(ctx.loop.train, net, optimizer_type, epochs, eta, ctx.data_root, recorder)
        except NotImplementedError:
            return dict(row, status="not written yet", detail="train not written yet")
        except (Exception, SystemExit) as err:
            return dict(row, status="wrong", case=label, diagnosis=raised(err, ctx.folder))
        finally:
            if recorder is not None:
                recorder.close()
        problems = analyse(recorder.events, epochs, TRAIN_IMAGES // BATCH, optimizer_type, eta)
        more, worst = _compare_runs(got, net, reference_acc, reference_net, epochs)
        row["error"] = max(row["error"] or 0.0, worst)
        if problems or more:
            problems += more
            detail = "also: " + "; ".join(problems[1:]) if len(problems) > 1 else None
            return dict(row, status="wrong", case=label, diagnosis=problems[0], detail=detail)
    return row
