"""torchnet: the network, training, data, devices, weight transfer and CLI.

Numerical checks run in float64 and compare torchnet with scratchnet on the
same weights (copied by torchnet.convert): both compute the same float64
arithmetic, mostly in the same order, so they agree to round-off.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import scratchnet
from scratchnet import layers, mnist, optim, saving
from scratchnet.config import TrainConfig
from scratchnet.train import train as scratch_train
from torchnet import Network, convert, data as tdata, evaluate
from torchnet.cli import main as cli
from torchnet.device import DeviceError, check_dtype, resolve
from torchnet.train import load_data, max_norm_, optimizer_for, run, train

INITS = ["nielsen", "large", "xavier_normal", "kaiming_uniform", "kaiming_normal"]


def tensors(pair, device="cpu", dtype=torch.float64):
    """(X, y) NumPy arrays -> tensors on the device, X in `dtype`."""
    X, y = pair
    return torch.from_numpy(X).to(device, dtype), torch.from_numpy(y).to(device)


def subset(pair, n):
    return tuple(a[:n] for a in pair)


def random_batchnorm_stats(net, seed=0):
    """Move a scratchnet net's γ, β and running statistics away from 1, 0, 0, 1."""
    rng = np.random.default_rng(seed)
    for bn in net.norms:
        for a in (bn.gamma, bn.beta, bn.running_mean):
            a[...] = rng.normal(size=a.shape)
        bn.running_var[...] = rng.uniform(0.5, 2.0, bn.running_var.shape)


# ---------------------------------------------------------------- network
def test_parameters_in_scratchnet_order():
    s = scratchnet.Network([784, 30, 20, 10], batchnorm=True, seed=0)
    t = Network([784, 30, 20, 10], batchnorm=True, seed=0)
    assert [tuple(p.shape) for p in t.parameters()] == [p.shape for p in s.parameters()]
    assert next(t.parameters()) is t.layers[0].weight
    assert all(p.dtype == torch.float64 for p in t.parameters())


@pytest.mark.parametrize("options", [
    dict(sizes=[784]), dict(sizes=[784, 0, 10]), dict(activation="softplus"),
    dict(cost="hinge"), dict(init="orthogonal"), dict(dropout=1.0), dict(dtype="float16"),
    dict(input_dropout=1.0), dict(input_dropout=-0.1)])
def test_bad_options_give_scratchnet_messages(options):
    options = {"sizes": [784, 30, 10], **options}
    with pytest.raises(ValueError) as scratch_error:
        scratchnet.Network(**options)
    with pytest.raises(ValueError) as torch_error:
        Network(**options)
    assert str(torch_error.value) == str(scratch_error.value)


@pytest.mark.parametrize("init", INITS)
def test_init_formulas(init):
    """Sample std of 100,000 weights: within 2% of the formula (its sampling error is ~0.3%)."""
    n_in, n_out = 500, 200
    net = Network([n_in, n_out, 10], init=init, seed=1)
    W, b = net.layers[0].weight.detach(), net.layers[0].bias.detach()
    std = {"nielsen": n_in ** -0.5, "large": 1.0, "xavier_normal": (2 / (n_in + n_out)) ** 0.5,
           "kaiming_uniform": (2 / n_in) ** 0.5, "kaiming_normal": (2 / n_in) ** 0.5}[init]
    assert float(W.std()) == pytest.approx(std, rel=0.02)
    assert float(W.mean()) == pytest.approx(0.0, abs=0.02 * std)
    if init == "kaiming_uniform":
        assert float(W.abs().max()) <= (6 / n_in) ** 0.5
    if init in ("nielsen", "large"):
        assert float(b.std()) == pytest.approx(1.0, rel=0.25)   # 200 samples: ~5% error
    else:
        assert not b.any()


def test_seeded_init_is_reproducible_and_leaves_the_global_generator_alone():
    before = torch.random.get_rng_state()
    a, b = Network([20, 7, 5], seed=3), Network([20, 7, 5], seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    c = Network([20, 7, 5], seed=4)
    assert not torch.equal(a.layers[0].weight, c.layers[0].weight)


@pytest.mark.parametrize("cost", ["cross_entropy", "quadratic"])
@pytest.mark.parametrize("activation", ["sigmoid", "relu", "tanh"])
def test_forward_and_loss_equal_scratchnet(activation, cost):
    """Same weights, same batch, float64: forward (z_L), feedforward (the output layer's
    output) and the cost agree to 1e-12 relative
    (the same operations; only the order of the matrix products' sums may differ)."""
    s = scratchnet.Network([12, 9, 7, 10], activation, cost, "nielsen", seed=2)
    t = convert.to_torch(s)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(16, 12)), rng.integers(0, 10, 16)
    z_L = t(torch.from_numpy(X)).detach().numpy()                 # net(x) is forward: z_L
    np.testing.assert_allclose(z_L, s.forward(X)[0], rtol=1e-12, atol=1e-15)
    out = t.feedforward(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(out, s.feedforward(X), rtol=1e-12, atol=1e-15)
    assert t.loss(*tensors((X, y))).item() == pytest.approx(s.loss(X, y), rel=1e-12)
    if cost == "quadratic":
        assert (out > 0).all() and (out < 1).all()              # a sigmoid output layer


def test_batchnorm_and_dropout_modes_match_scratchnet():
    """Eval mode: running statistics, no dropout; the same as scratchnet to 1e-12 relative."""
    s = scratchnet.Network([12, 9, 7, 10], "tanh", dropout=0.5, batchnorm=True, seed=2)
    random_batchnorm_stats(s)
    t = convert.to_torch(s).eval()
    X = np.random.default_rng(1).normal(size=(16, 12))
    np.testing.assert_allclose(t.feedforward(torch.from_numpy(X)).detach().numpy(),
                               s.eval().feedforward(X), rtol=1e-12, atol=1e-15)
    t.train()
    assert not torch.equal(t(torch.from_numpy(X)), t(torch.from_numpy(X)))  # fresh masks


def test_input_dropout_drops_pixels_before_the_first_layer():
    """In training mode the first linear layer sees x ⊙ mask, mask ∈ {0, 1/(1 − p)}, with
    about p of the pixels dropped; in evaluation mode it sees x, as scratchnet's does."""
    p = 0.3
    s = scratchnet.Network([200, 9, 10], "tanh", seed=3, input_dropout=p)
    t = convert.to_torch(s)
    seen = []
    t.layers[0].register_forward_pre_hook(lambda module, args: seen.append(args[0].detach()))
    x = torch.from_numpy(np.random.default_rng(3).uniform(0.5, 1.0, (50, 200)))
    t(x)
    ratio = (seen[-1] / x).numpy()
    assert set(np.unique(ratio.round(12))) == {0.0, round(1 / (1 - p), 12)}
    assert abs((ratio == 0).mean() - p) < 0.02             # 10,000 pixels: sd 0.005
    t.eval()
    t(x)
    assert torch.equal(seen[-1], x)
    np.testing.assert_allclose(t.feedforward(x).detach().numpy(),
                               s.eval().feedforward(x.numpy()), rtol=1e-12, atol=1e-15)


def test_input_dropout_adds_no_parameters():
    """nn.Dropout holds none: parameters() and state_dict() are those of the plain net,
    and the option survives both conversions."""
    plain, dropped = Network([12, 5, 10], seed=1), Network([12, 5, 10], seed=1, input_dropout=0.2)
    assert [tuple(p.shape) for p in dropped.parameters()] == \
        [tuple(p.shape) for p in plain.parameters()]
    assert all(torch.equal(p, q) for p, q in zip(dropped.parameters(), plain.parameters()))
    assert list(dropped.state_dict()) == list(plain.state_dict())
    assert plain.input_drop is None and plain.options()["input_dropout"] == 0.0
    back = convert.to_torch(convert.to_scratch(dropped))
    assert back.options() == dropped.options() and back.input_dropout == 0.2


def test_predict_restores_the_mode():
    net = Network([12, 5, 10], dropout=0.2)
    x = torch.randn(30, 12, dtype=torch.float64)
    assert net.predict(x, batch_size=7).shape == (30,) and net.training
    net.eval()
    net.predict(x)
    assert not net.training


# ---------------------------------------------------------------- convert
@pytest.mark.parametrize("batchnorm", [False, True])
def test_convert_round_trips_are_bit_exact(batchnorm):
    s = scratchnet.Network([12, 9, 7, 10], "relu", "quadratic", "large", seed=5,
                           batchnorm=batchnorm)
    random_batchnorm_stats(s)
    back = convert.to_scratch(convert.to_torch(s))
    assert back.options() == s.options()
    assert all(np.array_equal(a, back.state()[k]) for k, a in s.state().items())
    t = Network([12, 9, 7, 10], batchnorm=batchnorm, seed=6)
    t2 = convert.to_torch(convert.to_scratch(t))
    assert all(torch.equal(a, b) for a, b in zip(t.state_dict().values(),
                                                 t2.state_dict().values())
               if a.is_floating_point())


def test_copy_helpers_copy_in_place_and_check_shapes():
    s, t = scratchnet.Network([6, 4, 3], seed=0), Network([6, 4, 3], seed=1)
    W = t.layers[0].weight
    convert.copy_to_torch(s, t)
    assert t.layers[0].weight is W and np.array_equal(W.detach().numpy(), s.weights[0])
    with pytest.raises(ValueError, match="W0"):
        convert.copy_to_torch(scratchnet.Network([6, 5, 3]), t)
    with pytest.raises(ValueError, match="do not match"):
        convert.copy_to_scratch(Network([6, 4, 3], batchnorm=False),
                                scratchnet.Network([6, 4, 3], batchnorm=True))


# ---------------------------------------------------------------- training
def both_trained(train_data, test_data, sizes=(784, 16, 10), epochs=2, kind="sgd",
                 options=None, max_norm=0.0, **net_options):
    """scratchnet and torchnet trained from the same weights on the same batches (float64)."""
    options = options or dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-4)
    s = scratchnet.Network(sizes, seed=0, **net_options)
    t = convert.to_torch(s)
    make = optim.SGD if kind == "sgd" else optim.Adam
    hs = scratch_train(s, train_data, test_data, epochs, 10, make(s.parameters(), **options),
                       seed=7, max_norm=max_norm)
    ht = train(t, tensors(train_data), tensors(test_data), epochs, 10,
               optimizer_for(kind, t.parameters(), options), seed=7, max_norm=max_norm)
    return (s, hs), (t, ht)


@pytest.mark.parametrize("kind, options", [
    ("sgd", None), ("adam", dict(lr=1e-3, weight_decay=1e-4))])
def test_train_equals_scratchnet_epoch_for_epoch(mnist_small, kind, options):
    """Same weights, batches and update rule in float64: History agrees to 1e-10
    relative after 2 epochs of 100 steps (lock-step weights differ by ~1e-15)."""
    (s, hs), (t, ht) = both_trained(subset(mnist_small[0], 1000), subset(mnist_small[1], 500),
                                    kind=kind, options=options)
    assert ht.test_accuracy == hs.test_accuracy and ht.lr == hs.lr
    assert ht.train_loss == pytest.approx(hs.train_loss, rel=1e-10)
    assert np.array(ht.grad_norms) == pytest.approx(np.array(hs.grad_norms), rel=1e-10)
    assert ht.diverged_at is None and len(ht.seconds) == 2


def row_norms(W) -> np.ndarray:
    """‖w_j‖ of every row (a unit's incoming weights), float64, as a NumPy array."""
    W = W.detach().numpy() if isinstance(W, torch.Tensor) else W
    return np.sqrt((np.asarray(W, dtype=np.float64) ** 2).sum(axis=1))


def test_train_with_max_norm_equals_scratchnet(mnist_small):
    """max_norm=2 after every step of both train() loops (SGD, float64, no dropout): the
    constraint binds (Xavier's rows start near norm 1.4, and after 200 steps every row sits
    at c), the weights end far from an unconstrained run's, and the two packages still agree:
    weights to 1e-12 absolute (measured about 1e-15), History to 1e-10 relative."""
    c, data = 2.0, (subset(mnist_small[0], 1000), subset(mnist_small[1], 500))
    options = dict(lr=0.1, momentum=0.9)
    (s, hs), (t, ht) = both_trained(*data, options=options, max_norm=c)
    for W, layer in zip(s.weights, t.layers):
        np.testing.assert_allclose(layer.weight.detach().numpy(), W, rtol=0, atol=1e-12)
    norms = np.concatenate([row_norms(W) for W in s.weights])
    assert norms.max() <= c                                 # c / (‖w‖ + 1e-7) lands just below
    assert np.allclose(norms, c, rtol=0, atol=1e-6)
    (free, _), _ = both_trained(*data, options=options)
    assert max(float(np.abs(W - V).max()) for W, V in zip(s.weights, free.weights)) > 1e-2
    assert ht.test_accuracy == hs.test_accuracy
    assert ht.train_loss == pytest.approx(hs.train_loss, rel=1e-10)
    assert np.array(ht.grad_norms) == pytest.approx(np.array(hs.grad_norms), rel=1e-10)


def test_train_is_deterministic_and_leaves_the_global_generator_alone(mnist_small):
    """Same seed (dropout masks included): identical History except seconds."""
    train_data = tensors(subset(mnist_small[0], 500))
    test_data = tensors(subset(mnist_small[1], 200))
    histories, before = [], torch.random.get_rng_state()
    for _ in range(2):
        net = Network([784, 16, 10], seed=0, dropout=0.3, batchnorm=True)
        opt = optimizer_for("adam", net.parameters(), dict(lr=1e-3))
        histories.append(train(net, train_data, test_data, 2, 10, opt, seed=3).to_dict())
    assert torch.equal(torch.random.get_rng_state(), before)
    for h in histories:
        h.pop("seconds")
    assert histories[0] == histories[1]


DIVERGING = {
    # lr·λ = 1e4·0.1: the weights overflow in epoch 2 (see scratchnet's test); the quadratic
    # cost is at most 5, so the loss turning nan is what stops the run
    "non-finite": (dict(cost="quadratic"), dict(lr=1e4, weight_decay=0.1), None),
    # StepLR turns lr 0.1 into 1000 after epoch 1: the loss passes 1000 × the first one
    "grown": ({}, dict(lr=0.1), (1, 1e4)),
}


@pytest.mark.parametrize("case", list(DIVERGING))
def test_divergence_is_recorded_like_scratchnet(mnist_small, case):
    """Both packages apply scratchnet.train.divergence to the same losses: they stop at
    the same step for the same reason, quietly, and keep only epoch 1."""
    net_options, options, schedule = DIVERGING[case]
    train_data, test_data = subset(mnist_small[0], 1000), subset(mnist_small[1], 100)
    s = scratchnet.Network([784, 30, 10], seed=0, **net_options)
    t = convert.to_torch(s)
    sopt, topt = optim.SGD(s.parameters(), **options), optimizer_for("sgd", t.parameters(), options)
    sched = (optim.StepLR(sopt, *schedule), torch.optim.lr_scheduler.StepLR(topt, *schedule)) \
        if schedule else (None, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        hs = scratch_train(s, train_data, test_data, 3, 10, sopt, sched[0])
        ht = train(t, tensors(train_data), tensors(test_data), 3, 10, topt, sched[1])
    assert ht.diverged_at["epoch"] == hs.diverged_at["epoch"] == 2
    assert ht.diverged_at["step"] == hs.diverged_at["step"]
    reason = hs.diverged_at["reason"]
    assert ("non-finite" in reason) == (case == "non-finite")
    assert ht.diverged_at["reason"].split(",")[0][:30] == reason.split(",")[0][:30]
    assert len(ht.test_accuracy) == len(ht.train_loss) == len(ht.grad_norms) == 1
    json.dumps(ht.to_dict(), allow_nan=False)


def test_evaluate_matches_scratchnet_and_bad_arguments(mnist_small):
    s = scratchnet.Network([784, 16, 10], seed=0)
    t = convert.to_torch(s)
    test_data = subset(mnist_small[1], 1000)
    assert evaluate(t, tensors(test_data)) == scratchnet.evaluate(s, test_data)  # the same float
    with pytest.raises(ValueError, match="positive"):
        train(t, tensors(test_data), None, 0, 10, optimizer_for("sgd", t.parameters(), dict(lr=1)))
    with pytest.raises(ValueError, match="batch norm"):
        train(Network([784, 4, 10], batchnorm=True), tensors(subset(test_data, 21)), None, 1, 10,
              optimizer_for("sgd", t.parameters(), dict(lr=1)))


def test_run_builds_what_the_config_says(mnist_small):
    config = TrainConfig(sizes=(784, 12, 10), optimizer="adam", lr=1e-3, step_size=1,
                         gamma=0.5, epochs=2, seed=1, dtype="float32")
    train_data = tensors(subset(mnist_small[0], 300), dtype=torch.float32)
    test_data = tensors(subset(mnist_small[1], 100), dtype=torch.float32)
    net, history = run(config, train_data, test_data)
    assert net.sizes == [784, 12, 10] and net.layers[0].weight.dtype == torch.float32
    assert history.lr == pytest.approx([1e-3, 5e-4])           # StepLR halves it each epoch
    start = Network(**config.network_options())
    net2, _ = run(config, train_data, test_data, net=start)
    assert net2 is start
    with pytest.raises(ValueError, match="dtype"):
        run(config.replace(dtype="float64"), train_data, test_data)


def test_run_applies_the_configs_max_norm(mnist_small):
    config = TrainConfig(sizes=(784, 12, 10), lr=0.1, epochs=1, max_norm=0.8)
    net, _ = run(config, tensors(subset(mnist_small[0], 200)), None)
    assert max(row_norms(layer.weight).max() for layer in net.layers) <= 0.8


# ---------------------------------------------------------------- max-norm
def test_max_norm_by_hand():
    """A row of norm 5 with c = 1 becomes w · 1/(5 + 1e-7); a row of norm 0.5 stays."""
    W = np.array([[3.0, 4.0], [0.3, 0.4]])
    layers.max_norm_([W], 1.0)
    assert W[0].tolist() == [3.0 * (1.0 / (5.0 + 1e-7)), 4.0 * (1.0 / (5.0 + 1e-7))]
    assert W[1].tolist() == [0.3, 0.4]


@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-15), (np.float32, 1e-6)])
def test_max_norm_equals_torch_renorm(dtype, rtol):
    """scratchnet's max_norm_ and torch's renorm_(2, 0, c) on random matrices, with c the
    median row norm (half the rows above it, half below, one row of zeros): the same to
    round-off, 1e-15 relative in float64 (measured 5e-16: the two sum a row's squares in
    another order) and 1e-6 in float32 (a few ulps); rows at or below c untouched, in place."""
    rng = np.random.default_rng(0)
    for shape in [(30, 784), (10, 30), (7, 1)]:
        W = rng.normal(size=shape).astype(dtype)
        W[1] = 0.0
        c = float(np.median(row_norms(W)))
        expected = torch.from_numpy(W.copy())
        expected.renorm_(2, 0, c)
        below, same_array = row_norms(W) <= c, W
        original = W.copy()
        layers.max_norm_([W], c)
        assert W is same_array and W.dtype == dtype
        np.testing.assert_allclose(W, expected.numpy(), rtol=rtol, atol=0)
        assert np.array_equal(W[below], original[below]) and 0 < below.sum() < len(W)
        assert (row_norms(W)[~below] <= c * (1 + 4 * np.finfo(dtype).eps)).all()
        weight = torch.from_numpy(original.copy()).requires_grad_()   # as a layer's weight
        max_norm_([weight], c)                              # torchnet's helper: renorm_
        np.testing.assert_array_equal(weight.detach().numpy(), expected.numpy())


# ---------------------------------------------------------------- data
def test_data_equals_scratchnet_reader_exactly(mnist_root):
    """torchvision's reader and scratchnet's IDX parser give bit-identical float64 inputs."""
    for split, validation in (("train", False), ("test", False), ("train", True),
                              ("validation", True)):
        X, y = tdata.load(split, mnist_root, "float64", validation=validation)
        Xs, ys = mnist.load(split, mnist_root, np.float64, validation=validation)
        assert X.dtype == torch.float64 and y.dtype == torch.int64
        assert np.array_equal(X.numpy(), Xs) and np.array_equal(y.numpy(), ys)
    X32, _ = tdata.load("test", mnist_root, "float32")
    assert np.array_equal(X32.numpy(), mnist.load("test", mnist_root, np.float32)[0])


def test_load_data_follows_the_config(mnist_root):
    config = TrainConfig(validation=True, train_subset=123, dtype="float32")
    (X, y), (Xv, yv) = load_data(config, mnist_root)
    assert X.shape == (123, 784) and X.dtype == torch.float32 and len(Xv) == 10_000
    with pytest.raises(ValueError, match="split"):
        tdata.load("training", mnist_root)


def test_missing_data_names_the_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="make data"):
        tdata.load("train", tmp_path)


# ---------------------------------------------------------------- devices
def test_device_resolution():
    assert resolve("cpu") == torch.device("cpu") and resolve(torch.device("cpu")).type == "cpu"
    assert resolve("auto").type in ("cpu", "cuda", "mps")
    with pytest.raises(DeviceError, match="'tpu'.*auto, cpu, cuda, mps"):
        resolve("tpu")
    with pytest.raises(DeviceError, match="unknown"):
        resolve("cpu:1")
    if not torch.cuda.is_available():
        with pytest.raises(DeviceError, match="CUDA is not available"):
            resolve("cuda")
    else:
        with pytest.raises(DeviceError, match="cuda:99"):
            resolve("cuda:99")
    with pytest.raises(DeviceError, match="float64"):
        check_dtype(torch.device("mps"), "float64")


# ---------------------------------------------------------------- CLI
@pytest.mark.parametrize("args, words", [
    (["--device", "tpu"], ["tpu", "auto, cpu, cuda, mps"]),
    (["--sizes", "784,0,10"], ["784,0,10", "positive"]),
    (["--sizes", "100,30,10"], ["100,30,10", "784"]),
    (["--lr", "-1"], ["-1", "x>0"]),
    (["--activation", "softplus"], ["softplus", "sigmoid"]),
    (["--dtype", "float16"], ["float16", "float32"]),
    (["--momentum", "0"], ["nesterov", "momentum > 0"]),
    (["--data", "nowhere"], ["nowhere", "make data"]),
    (["--augment-shift", "30"], ["30", "0<=x<28"]),
    (["--input-dropout", "1.0"], ["--input-dropout", "1.0", "0<=x<1"]),
    (["--max-norm", "-1"], ["--max-norm", "-1", "x>=0"]),
    (["--max-norm", "nan"], ["--max-norm", "'nan'", "not a finite number"]),
])
def test_cli_bad_values_are_usage_errors(args, words):
    result = CliRunner().invoke(cli, ["train", *args])
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit)            # not a traceback
    for word in words:
        assert word in result.output


def test_cli_trains_and_writes_history(mnist_root, tmp_path):
    out, save = tmp_path / "h.json", tmp_path / "net.npz"
    result = CliRunner().invoke(cli, [
        "train", "--data", str(mnist_root), "--train-subset", "200", "--epochs", "2",
        "--sizes", "784,8,10", "--device", "cpu", "--out", str(out), "--save", str(save)])
    assert result.exit_code == 0, result.output
    assert "epoch 2/2" in result.output and "test accuracy" in result.output
    written = json.loads(out.read_text())
    assert written["package"] == "torchnet" and written["config"]["dtype"] == "float32"
    assert len(written["history"]["test_accuracy"]) == 2
    assert saving.load(save).sizes == [784, 8, 10]
    quiet = CliRunner().invoke(cli, ["train", "--data", str(mnist_root), "--train-subset", "20",
                                     "--epochs", "1", "--quiet", "--dtype", "float64"])
    assert quiet.exit_code == 0 and quiet.output.count("\n") == 1   # the summary line only


def test_cli_augmentation_changes_training(mnist_root, tmp_path):
    """--augment-* distort the training batches: same seed, other losses; recorded in --out."""
    common = ["train", "--data", str(mnist_root), "--train-subset", "200", "--epochs", "1",
              "--sizes", "784,8,10", "--device", "cpu", "--quiet"]
    plain, augmented = tmp_path / "plain.json", tmp_path / "aug.json"
    assert CliRunner().invoke(cli, [*common, "--out", str(plain)]).exit_code == 0
    result = CliRunner().invoke(cli, [*common, "--out", str(augmented), "--augment-shift", "2",
                                      "--augment-rotation", "10", "--augment-scale", "0.1"])
    assert result.exit_code == 0, result.output
    a, b = json.loads(plain.read_text()), json.loads(augmented.read_text())
    assert b["augment"] == {"max_shift": 2.0, "max_rotation": 10.0, "max_scale": 0.1,
                            "elastic_alpha": 0.0, "elastic_sigma": 4.0}
    assert a["history"]["train_loss"] != b["history"]["train_loss"]


def test_cli_elastic_distortion(mnist_root, tmp_path):
    """--augment-elastic-alpha/-sigma reach Augment's elastic path: on its own it changes
    training too, and both values are recorded in --out; a bad sigma is a usage error."""
    common = ["train", "--data", str(mnist_root), "--train-subset", "200", "--epochs", "1",
              "--sizes", "784,8,10", "--device", "cpu", "--quiet"]
    plain, elastic = tmp_path / "plain.json", tmp_path / "elastic.json"
    assert CliRunner().invoke(cli, [*common, "--out", str(plain)]).exit_code == 0
    result = CliRunner().invoke(cli, [*common, "--out", str(elastic), "--augment-elastic-alpha",
                                      "34", "--augment-elastic-sigma", "4"])
    assert result.exit_code == 0, result.output
    a, b = json.loads(plain.read_text()), json.loads(elastic.read_text())
    assert b["augment"]["elastic_alpha"] == 34.0 and b["augment"]["elastic_sigma"] == 4.0
    assert a["history"]["train_loss"] != b["history"]["train_loss"]
    bad = CliRunner().invoke(cli, [*common, "--augment-elastic-sigma", "0"])
    assert bad.exit_code == 2 and "--augment-elastic-sigma" in bad.output


# ---------------------------------------------------------------- GPU
@pytest.mark.gpu
def test_cuda_train_equals_scratchnet(mnist_small, cuda):
    """On CUDA, float64: History agrees with scratchnet to 1e-9 relative (cuBLAS sums
    in another order than NumPy's BLAS, so a few more ulps than on the CPU)."""
    device = cuda
    s = scratchnet.Network([784, 16, 10], seed=0)
    t = convert.to_torch(s, device)
    options = dict(lr=0.1, momentum=0.9)
    train_data, test_data = subset(mnist_small[0], 1000), subset(mnist_small[1], 500)
    hs = scratch_train(s, train_data, test_data, 2, 10, optim.SGD(s.parameters(), **options))
    ht = train(t, tensors(train_data, device), tensors(test_data, device), 2, 10,
               optimizer_for("sgd", t.parameters(), options, device))
    assert ht.train_loss == pytest.approx(hs.train_loss, rel=1e-9)
    assert np.array(ht.grad_norms) == pytest.approx(np.array(hs.grad_norms), rel=1e-9)
    assert abs(ht.test_accuracy[-1] - hs.test_accuracy[-1]) <= 0.002  # a tie may flip
