"""Mini-batch training with per-epoch measurements: train(), evaluate(), History.

The same History (scratchnet's own class), the same batch order
(scratchnet.train.epoch_order) and the same divergence rule
(scratchnet.train.divergence) as scratchnet/train.py, so a run in either
package can be compared with the other epoch for epoch. The data are tensors
already on the device, batched by index: no DataLoader, no per-sample
transforms. The inner loop is the textbook step (zero_grad, loss, backward,
record, step); the bookkeeping is behind `recorder_for`: on the CPU each step's
numbers are read at once (reading a CPU tensor costs nothing), on a GPU they
stay on the device and are read every `check_every` steps, since every read
waits for the GPU to catch up.
"""
from __future__ import annotations

import contextlib
import time

import torch

from scratchnet.train import SMALL_BATCH, History, Recorder, check_arguments, epoch_order

from .device import resolve
from .network import Network, dtype_of


def evaluate(net: Network, data) -> float:
    """Fraction of samples whose predicted digit equals the label (eval mode, in chunks)."""
    X, y = data
    return int((net.predict(X) == y).sum()) / len(y)  # exactly scratchnet's float


class HostRecorder(Recorder):
    """scratchnet's Recorder, fed from tensors read at every step (the CPU's way)."""

    def record(self, loss: torch.Tensor, weights) -> None:
        """One step: its 0-dim loss, and the W_l whose .grad backward() filled."""
        self.add(loss.item(), [torch.linalg.vector_norm(W.grad).item() for W in weights])


class DeviceRecorder(Recorder):
    """The same bookkeeping with each step's numbers kept on the device (for GPUs).

    Row j of a buffer holds step j's loss and ‖∂C/∂W_l‖; the host reads the new
    losses every `check_every` steps and at the end of the epoch (one
    synchronization each), and judges them in order, so a divergence is noticed
    up to check_every − 1 steps late but recorded at the step where it happened.
    """

    def __init__(self, n_layers: int, steps_per_epoch: int, check_every: int, like: torch.Tensor):
        super().__init__(n_layers)
        self.steps_per_epoch, self.check_every = steps_per_epoch, check_every
        self.rows = torch.empty(steps_per_epoch, 1 + n_layers, dtype=like.dtype,
                                device=like.device)
        self.filled = self.judged = 0                   # rows written, rows read and judged

    def record(self, loss: torch.Tensor, weights) -> None:
        self.rows[self.filled] = torch.stack(
            [loss.detach(), *[torch.linalg.vector_norm(W.grad) for W in weights]])
        self.filled += 1

    def diverged(self) -> bool:
        if self.filled - self.judged < self.check_every and self.filled < self.steps_per_epoch:
            return False
        first_step = self.step + self.judged + 1
        losses = self.rows[self.judged:self.filled, 0].tolist()   # one read of the device
        self.judged = self.filled
        return any(self.judge(loss, first_step + k) for k, loss in enumerate(losses))

    def epoch_means(self) -> tuple[float, list[float]]:
        means = self.rows[:self.filled].mean(dim=0).tolist()      # one read of the device
        self.step += self.filled
        self.filled = self.judged = 0
        self.epoch += 1
        return means[0], means[1:]


def recorder_for(net: Network, steps_per_epoch: int, check_every: int) -> Recorder:
    """A HostRecorder if every step is checked (check_every 1), else a DeviceRecorder."""
    if check_every == 1:
        return HostRecorder(len(net.layers))
    return DeviceRecorder(len(net.layers), steps_per_epoch, check_every, net.layers[0].weight)


@contextlib.contextmanager
def small_batch_threads(batch_size: int, device: torch.device):
    """One CPU thread for small batches, as scratchnet's quiet_numerics: more only add overhead."""
    if device.type != "cpu" or batch_size > SMALL_BATCH:
        yield
        return
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def max_norm_(weights, c: float) -> None:
    """scratchnet.layers.max_norm_ in torch, in place: each row w_j of a W_l (the incoming
    weights of unit j) with ‖w_j‖ > c becomes w_j · c / (‖w_j‖ + 1e-7); the others stay."""
    with torch.no_grad():
        for W in weights:                              # (n_out, n_in)
            W.renorm_(2, 0, c)                         # p = 2, rows (dim 0), max norm c


def _rng_fork(device: torch.device):
    """A context in which torch's generators (dropout masks) can be seeded locally."""
    if device.type == "cuda":
        index = device.index if device.index is not None else torch.cuda.current_device()
        return torch.random.fork_rng(devices=[index], device_type="cuda")
    if device.type == "mps":
        return torch.random.fork_rng(device_type="mps")
    return torch.random.fork_rng(devices=[])           # the CPU generator only


def train(net: Network, train_data, test_data, epochs: int, batch_size: int, optimizer,
          scheduler=None, seed: int = 0, callback=None, max_norm: float = 0.0, augment=None,
          check_every: int | None = None) -> History:
    """Train `net` in place with a torch.optim `optimizer`; return its History.

    callback(epoch, history), if given, is called after every finished epoch.
    max_norm > 0: after every step, each row of every W_l (a unit's incoming
    weights) longer than max_norm is scaled back to it (max_norm_), as in scratchnet.
    augment(x, generator), if given (a torchnet.augment.Augment), distorts each
    training batch on the device, with random numbers from a generator seeded by `seed`.
    The first step that breaks scratchnet's divergence rule ends training, as in
    scratchnet. check_every: how often the host reads the losses (default 1 on
    the CPU, 100 elsewhere); with check_every > 1 up to check_every − 1 more steps
    may have run by then, so the weights are not those of the bad step.
    """
    X, y = train_data                                  # (n, 784) on the device, (n,) int64
    check_arguments(net, len(X), epochs, batch_size)
    if check_every is None:
        check_every = 1 if X.device.type == "cpu" else 100
    weights = [layer.weight for layer in net.layers]
    history = History()
    recorder = recorder_for(net, -(-len(X) // batch_size), check_every)
    generator = torch.Generator(device=X.device).manual_seed(seed) if augment is not None else None
    with _rng_fork(X.device), small_batch_threads(batch_size, X.device):
        torch.manual_seed(seed)                        # dropout masks, reproducible from the seed
        for epoch in range(epochs):
            start = time.perf_counter()
            net.train()
            lr = optimizer.param_groups[0]["lr"]
            order = torch.from_numpy(epoch_order(seed, epoch, len(X))).to(X.device)  # (n,)
            for idx in order.split(batch_size):
                x_batch, y_batch = X.index_select(0, idx), y.index_select(0, idx)  # X[idx], cheaper
                if augment is not None:
                    x_batch = augment(x_batch, generator)
                optimizer.zero_grad()
                loss = net.loss(x_batch, y_batch)      # 0-dim
                loss.backward()
                recorder.record(loss, weights)
                if recorder.diverged():
                    history.diverged_at = recorder.diverged_at
                    return history
                optimizer.step()
                if max_norm:
                    max_norm_(weights, max_norm)
            if scheduler is not None:
                scheduler.step()
            accuracy = evaluate(net, test_data) if test_data is not None else None
            history.add_epoch(*recorder.epoch_means(), lr, accuracy, time.perf_counter() - start)
            if callback is not None:
                callback(epoch, history)
    return history


def optimizer_for(name: str, params, options: dict, device="cpu"):
    """torch.optim.SGD ('sgd') or Adam ('adam') with torch.optim's keyword options.

    On the CPU and CUDA the fused implementation is used: the same update rule
    in one kernel per step instead of a few per parameter, which at batch size
    10 makes the step about three times cheaper (compare lockstep checks it).
    """
    make = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}[name]
    fused = True if torch.device(device).type in ("cpu", "cuda") else None
    return make(params, **options, fused=fused)


def make_optimizer(config, params, device="cpu"):
    """torch.optim.SGD or Adam and (maybe) a StepLR, as a TrainConfig describes."""
    optimizer = optimizer_for(config.optimizer, params, config.optimizer_options(), device)
    scheduler = (torch.optim.lr_scheduler.StepLR(optimizer, config.step_size, config.gamma)
                 if config.step_size else None)
    return optimizer, scheduler


def load_data(config, root="data", device="cpu"):
    """(train_data, eval_data) as the config asks: MNIST from root, tensors on the device.

    With config.validation the last 10,000 training images are held out and
    returned as the evaluation set; otherwise it is the test set.
    """
    from . import data

    device = resolve(device)
    if config.validation:
        train_data = data.load("train", root, config.dtype, validation=True, device=device)
        eval_data = data.load("validation", root, config.dtype, device=device)
    else:
        train_data = data.load("train", root, config.dtype, device=device)
        eval_data = data.load("test", root, config.dtype, device=device)
    config.check_data(len(train_data[0]))    # a subset no larger than the data; no batch of 1
    if config.train_subset:
        train_data = tuple(t[:config.train_subset] for t in train_data)
    return train_data, eval_data


def run(config, train_data, eval_data, callback=None, device=None, net=None, augment=None):
    """Build the network and optimizer a TrainConfig describes, train, return (net, History).

    device: where the network lives; by default the device the data are on.
    net: start from this network instead of a fresh one (it is trained in place).
    augment: on-the-fly augmentation of the training batches (see train()).
    """
    device = train_data[0].device if device is None else resolve(device)
    if dtype_of(config.dtype) != train_data[0].dtype:
        raise ValueError(f"config.dtype={config.dtype!r} but the data are {train_data[0].dtype}")
    if net is None:
        net = Network(**config.network_options())
    net = net.to(device)
    optimizer, scheduler = make_optimizer(config, net.parameters(), device)
    history = train(net, train_data, eval_data, config.epochs, config.batch_size, optimizer,
                    scheduler, seed=config.seed, callback=callback, max_norm=config.max_norm,
                    augment=augment)
    return net, history
