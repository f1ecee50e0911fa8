"""scratchnet.train: learning on MNIST, determinism, divergence, History."""
from __future__ import annotations

import json
import warnings
from dataclasses import asdict

import numpy as np
import pytest

from scratchnet import SGD, Adam, History, Network, StepLR, evaluate
from scratchnet.atomic import write_json_atomic
from scratchnet.config import TrainConfig
from scratchnet.train import (Recorder, batches, divergence, epoch_order, frobenius, run,
                              train)


def subset(data, n):
    return tuple(a[:n] for a in data)


def without_seconds(history: History) -> dict:
    data = asdict(history)
    del data["seconds"]                                     # wall-clock time is never identical
    return data


def test_learns_mnist_subset(mnist_small):
    """784-30-10 sigmoid on 2,000 images, 5 epochs: far above chance (0.1)."""
    train_data, test_data = mnist_small
    net = Network([784, 30, 10], seed=0)
    opt = SGD(net.parameters(), lr=0.1, momentum=0.8, nesterov=True, weight_decay=1e-4)
    history = train(net, train_data, test_data, epochs=5, batch_size=10, optimizer=opt)
    assert history.diverged_at is None
    assert history.test_accuracy[-1] >= 0.85
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_accuracy[-1] == evaluate(net, test_data)
    assert len(history.grad_norms) == 5 and all(len(g) == 2 for g in history.grad_norms)


@pytest.mark.parametrize("options", [dict(), dict(dropout=0.2, batchnorm=True),
                                     dict(input_dropout=0.2)],
                         ids=["plain", "dropout_batchnorm", "input_dropout"])
def test_same_seed_same_history(mnist_small, options):
    train_data, test_data = subset(mnist_small[0], 500), subset(mnist_small[1], 200)
    config = TrainConfig(sizes=(784, 16, 16, 10), epochs=2, lr=0.05, seed=7, **options)
    (net1, h1), (net2, h2) = (run(config, train_data, test_data) for _ in range(2))
    assert without_seconds(h1) == without_seconds(h2)       # bit-identical, not approximately
    assert all(np.array_equal(a, b) for a, b in zip(net1.parameters(), net2.parameters()))
    _, h3 = run(config.replace(seed=8), train_data, test_data)
    assert without_seconds(h3) != without_seconds(h1)


def test_run_applies_the_configs_max_norm(mnist_small):
    """max_norm caps every row of every W_l after each step; biases are left alone."""
    train_data = subset(mnist_small[0], 200)
    config = TrainConfig(sizes=(784, 12, 10), lr=0.1, epochs=1, max_norm=0.8)
    net, _ = run(config, train_data, None)
    assert max(float(np.linalg.norm(W, axis=1).max()) for W in net.weights) <= 0.8
    free, _ = run(config.replace(max_norm=0.0), train_data, None)
    assert max(float(np.linalg.norm(W, axis=1).max()) for W in free.weights) > 0.8


def test_batch_order_is_a_seeded_permutation():
    order = epoch_order(3, 1, 25)
    assert sorted(order) == list(range(25))
    assert np.array_equal(order, epoch_order(3, 1, 25))
    assert not np.array_equal(order, epoch_order(3, 2, 25))
    parts = batches(25, 10, seed=3, epoch=1)
    assert [len(b) for b in parts] == [10, 10, 5] and np.array_equal(np.concatenate(parts), order)


def test_huge_learning_rate_diverges_cleanly(mnist_small):
    """lr·λ = 1e4·0.1 = 1000: each step's weight decay multiplies θ by about (1 − 1000),
    so the weights overflow after about 100 steps (in epoch 2 of 100 steps each) and
    the loss becomes nan. The quadratic cost is at most 5, so only that can stop it:
    recorded in diverged_at, with no warning or exception.
    """
    train_data, test_data = subset(mnist_small[0], 1000), subset(mnist_small[1], 100)
    net = Network([784, 30, 10], cost="quadratic", seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # any warning fails the test
        history = train(net, train_data, test_data, epochs=3, batch_size=10,
                        optimizer=SGD(net.parameters(), lr=1e4, weight_decay=0.1))
    assert history.diverged_at is not None
    assert history.diverged_at["epoch"] == 2 and 100 < history.diverged_at["step"] <= 200
    assert history.diverged_at["reason"] == "the training loss became non-finite"
    assert len(history.test_accuracy) == len(history.train_loss) == 1   # epoch 1 only
    json.dumps(history.to_dict(), allow_nan=False)          # still plain JSON


def test_a_loss_grown_a_thousandfold_is_a_divergence(mnist_small):
    """The homework's sigmoid net at SGD lr 1000 never overflows: its loss sits near
    1e4 with accuracy at chance. It passes 1000 × the first batch's loss (about 2.7)
    within a few steps, and that stops it as a divergence."""
    train_data, test_data = subset(mnist_small[0], 1000), subset(mnist_small[1], 100)
    net = Network([784, 30, 10], seed=0)
    history = train(net, train_data, test_data, epochs=2, batch_size=10,
                    optimizer=SGD(net.parameters(), lr=1000, momentum=0.8, nesterov=True,
                                  weight_decay=1e-4))
    where = history.diverged_at
    assert where is not None and where["epoch"] == 1 and where["step"] <= 5
    assert "over 1000× the first batch's" in where["reason"]
    assert history.train_loss == [] and history.test_accuracy == []


def test_a_divergence_in_a_later_epoch_keeps_the_earlier_ones(mnist_small):
    """StepLR with γ = 10⁴ turns lr 0.1 into 1000 after epoch 1: epoch 1 is healthy and
    kept, epoch 2 diverges by the loss's growth within a few steps."""
    train_data, test_data = subset(mnist_small[0], 1000), subset(mnist_small[1], 100)
    net = Network([784, 30, 10], seed=0)
    opt = SGD(net.parameters(), lr=0.1)
    history = train(net, train_data, test_data, epochs=3, batch_size=10, optimizer=opt,
                    scheduler=StepLR(opt, step_size=1, gamma=1e4))
    assert history.diverged_at["epoch"] == 2 and 100 < history.diverged_at["step"] <= 110
    assert len(history.train_loss) == 1 and history.test_accuracy[0] > 0.5


@pytest.mark.parametrize("loss, first, diverged", [
    (2.3, 2.3, False), (2300.0, 2.3, False), (2301.0, 2.3, True),   # 1000 × 2.3 = 2300
    (float("nan"), 2.3, True), (float("inf"), 2.3, True), (-float("inf"), 2.3, True),
    (999.0, 0.01, False), (1001.0, 0.01, True),                     # the first counts as ≥ 1
    (4.9, 1.2, False)])                                             # quadratic: at most 5
def test_the_divergence_rule(loss, first, diverged):
    assert (divergence(loss, first) is not None) == diverged


def test_recorder_means_and_steps():
    """Recorder: per-epoch means of the loss and of ‖∂C/∂W_l‖ (frobenius); steps
    counted over the whole run; diverged_at names epoch, step and reason."""
    recorder = Recorder(2)
    W0, W1 = np.full((2, 2), 0.5), np.array([3.0, 4.0])    # norms 1 and 5
    for loss in (2.0, 4.0):
        recorder.record(loss, [frobenius(W0), frobenius(W1)])
        assert recorder.diverged_at is None
    assert recorder.epoch_means() == (3.0, [1.0, 5.0])
    recorder.record(float("nan"), [1.0, 5.0])
    assert recorder.diverged_at == {"epoch": 2, "step": 3,
                                    "reason": "the training loss became non-finite"}


def test_overflow_in_an_epochs_last_step_raises_no_warning(mnist_small):
    """One step with lr 1e308 leaves huge but finite weights after a finite loss;
    evaluating them overflows to inf. That must stay quiet too: the run has not
    diverged by its loss yet, the next step would record it.
    """
    train_data, test_data = subset(mnist_small[0], 10), subset(mnist_small[1], 100)
    net = Network([784, 30, 10], seed=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = train(net, train_data, test_data, epochs=1, batch_size=10,
                        optimizer=SGD(net.parameters(), lr=1e308))
    assert history.diverged_at is None and len(history.test_accuracy) == 1
    assert max(np.abs(W).max() for W in net.weights) > 1e306


def test_history_records_the_schedule_and_round_trips(mnist_small, tmp_path):
    train_data, test_data = subset(mnist_small[0], 200), subset(mnist_small[1], 100)
    net = Network([784, 8, 10], seed=0)
    opt = Adam(net.parameters(), lr=0.01)
    history = train(net, train_data, test_data, epochs=4, batch_size=20, optimizer=opt,
                    scheduler=StepLR(opt, step_size=2, gamma=0.5))
    assert history.lr == pytest.approx([0.01, 0.01, 0.005, 0.005])
    assert history.grad_ratio == pytest.approx([a / b for a, b in history.grad_norms])
    write_json_atomic(tmp_path / "history.json", history.to_dict())
    loaded = History.from_dict(json.loads((tmp_path / "history.json").read_text()))
    assert loaded == history


def test_callback_sees_every_epoch(mnist_small):
    train_data = subset(mnist_small[0], 100)
    seen = []
    net = Network([784, 5, 10], seed=0)
    train(net, train_data, None, epochs=3, batch_size=50, optimizer=SGD(net.parameters(), lr=0.1),
          callback=lambda epoch, history: seen.append((epoch, len(history.train_loss))))
    assert seen == [(0, 1), (1, 2), (2, 3)]


def test_config_refuses_a_negative_seed():
    """NumPy's generators take seeds >= 0: refused up front, not deep inside a run."""
    with pytest.raises(ValueError, match="seed"):
        TrainConfig(seed=-1)


def test_the_train_module_keeps_its_name():
    """`scratchnet.train` is the module, not the training function it holds."""
    import scratchnet.train as module

    assert module.epoch_order is epoch_order and module.train is train
    import scratchnet
    assert scratchnet.train is module
