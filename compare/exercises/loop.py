"""Exercise 10's cases: the student's loop trains the homework's network in float64 on a few
hundred MNIST images, once per optimizer type, while a Recorder notes in order each pass over a
loader and each batch, each forward pass and its mode, each backward (and whether .grad was
already non-zero), each zero_grad and each step with its settings, and the weights at each pass.
"""
from __future__ import annotations

import contextlib
import functools
import importlib
from pathlib import Path

from unittest.mock import patch

import torch
from torch.optim.optimizer import register_optimizer_step_pre_hook

from .source import reference
from .grading import Case
from .optimizers import copies

TRAIN_IMAGES, TEST_IMAGES, BATCH, TEST_BATCH = 200, 100, 10, 50
SIZES = [784, 16, 10]
RUNS = (("SGD", 2, 0.1), ("Adam", 1, 1e-3))        # optimizer_type, epochs, eta
SETTINGS = ("lr", "momentum", "nesterov", "weight_decay", "dampening", "betas")


@functools.lru_cache(maxsize=4)
def mnist_head(root: Path, split: str, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first n images of a split as float64 vectors in [0, 1], and their labels
    (by the reference's own IDX reader: no torchvision to import)."""
    mnist = importlib.import_module(reference().module("scratchnet").__name__ + ".mnist")
    images, labels = mnist.load_raw(split, root)
    return (torch.from_numpy(images[:n].reshape(n, -1) / 255.0),
            torch.from_numpy(labels[:n].astype("int64")))


class Recorder:
    """Hooks on a network, its parameters and every optimizer; `events` in the order they happen."""

    def __init__(self, net: torch.nn.Module):
        self.net, self.events, self.snapshots = net, [], []
        self.params = list(net.parameters())
        self.handles = [net.register_forward_pre_hook(self._forward),
                        self.params[0].register_hook(self._backward),
                        register_optimizer_step_pre_hook(self._step)]

    def _forward(self, module, args):
        self.events.append(("forward", module.training))

    def _backward(self, grad):
        first = self.params[0].grad           # before this backward adds into it
        self.events.append(("backward", first is not None and bool(first.any())))

    def _step(self, optimizer, args, kwargs):
        mine = {id(p) for p in self.params}
        if any(id(p) in mine for group in optimizer.param_groups for p in group["params"]):
            group = optimizer.param_groups[0]
            settings = {k: group[k] for k in SETTINGS if k in group}
            self.events.append(("step", type(optimizer).__name__, settings))

    @contextlib.contextmanager
    def zero_grads(self):
        """Count zero_grad() of any optimizer or module while the loop runs; then unhook."""
        def counting(original):
            def zero_grad(this, *args, **kwargs):
                self.events.append(("zero_grad",))
                return original(this, *args, **kwargs)
            return zero_grad

        with contextlib.ExitStack() as stack:
            for handle in self.handles:
                stack.callback(handle.remove)
            for cls in (torch.optim.Optimizer, torch.nn.Module):
                stack.enter_context(patch.object(cls, "zero_grad", counting(cls.zero_grad)))
            yield


class Watched:
    """A DataLoader that tells the recorder when a pass starts, each batch, and when it ends."""

    def __init__(self, loader, recorder: Recorder, name: str):
        self.loader, self.recorder, self.name = loader, recorder, name

    def __iter__(self):
        self.recorder.events.append(("pass", self.name))
        self.recorder.snapshots.append(copies(self.recorder.net.parameters()))
        for batch in self.loader:
            self.recorder.events.append(("batch",))
            yield batch
        self.recorder.events.append(("end",))

    def __len__(self):
        return len(self.loader)

    def __getattr__(self, name):
        if name == "loader":
            raise AttributeError(name)
        return getattr(self.loader, name)


def record(code, optimizer_type: str, epochs: int, eta: float, root: Path) -> dict:
    """Run code's train() once, watched: what it returned, the events, the weights."""
    from torch.utils.data import DataLoader, TensorDataset

    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        net = reference().module("loop").Network(SIZES).to(torch.float64)
    recorder = Recorder(net)
    # One shuffled order for every pass: the same batches for student and reference, however
    # many times a loop goes through train_loader (to measure training accuracy, say).
    order = torch.randperm(TRAIN_IMAGES, generator=torch.Generator().manual_seed(0)).tolist()
    train = DataLoader(TensorDataset(*mnist_head(root, "train", TRAIN_IMAGES)), BATCH,
                       sampler=order)
    test = DataLoader(TensorDataset(*mnist_head(root, "test", TEST_IMAGES)), TEST_BATCH)
    with recorder.zero_grads():
        got = code.get("train")(net, Watched(train, recorder, "train"),
                                Watched(test, recorder, "test"), epochs, eta, optimizer_type)
    return {"returned": got, "events": recorder.events, "snapshots": recorder.snapshots,
            "final": copies(net.parameters())}


def loop_cases(root: Path) -> list[Case]:
    cases = []
    for optimizer_type, epochs, eta in RUNS:
        label = (f"optimizer_type {optimizer_type!r}, {epochs} epoch{'s' if epochs > 1 else ''} "
                 f"of {TRAIN_IMAGES // BATCH} batches, eta {eta:g}")
        args = (optimizer_type, epochs, eta, Path(root))
        cases.append(Case(label, "train", lambda code, a=args: [record(code, *a)],
                          lambda a=args: record(reference(), *a)))
    return cases
