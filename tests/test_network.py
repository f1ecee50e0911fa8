"""scratchnet.Network: backprop against finite differences, stability, save/load.

All numerical checks run in float64 with the finite-difference step h = 1e-5.
Backprop and central differences must agree to a relative error below 1e-7,
the usual bar for smooth functions in float64: central differences are off by
about h²·|C‴|/6 ≈ 2e-11·|C‴| (C‴ the third derivative along the entry), far
below 1e-7 of any gradient entry that is not tiny (for tiny ones, see
assert_backprop_matches_fd).
"""
from __future__ import annotations

import copy
import itertools

import numpy as np
import pytest

from scratchnet import Network, activations, costs, saving
from scratchnet.network import ForwardCache
from scratchnet.gradcheck import (compare, frozen, gradcheck, max_relative_error,
                                  numerical_gradient, relative_error, sample_indices)

H = 1e-5      # the finite-difference step
RTOL = 1e-7   # relative error bar for backprop vs central differences
EPS = np.finfo(np.float64).eps

ACTIVATIONS = list(activations.ACTIVATIONS)
COSTS = list(costs.COSTS)
INITS = ["nielsen", "large", "xavier_normal", "kaiming_uniform", "kaiming_normal"]


# ---------------------------------------------------------------- helpers
def parameter_names(net) -> list[str]:
    names = [f"{k}{l}" for l in range(len(net.weights)) for k in ("W", "b")]
    return names + [f"{k}{l}" for l in range(len(net.norms)) for k in ("gamma", "beta")]


def assert_backprop_matches_fd(net, X, y):
    """Every gradient entry: backprop and central differences agree to RTOL.

    Exception, for entries whose gradient is tiny (say 1e-7, deep in a
    sigmoid net): central differences cannot resolve them to 7 digits, as the
    round-off of the two cost evaluations, about ε·|C| each, becomes an
    absolute error of about ε·|C|/h. Such an entry passes if the two
    estimates agree within 4·ε·|C|/h (≈ 2e-10 for C ≈ 2.3; the worst seen is
    about 1.2·ε·|C|/h), still far tighter than any real mistake in a
    derivative. The two bars meet near |∂C/∂θ| ≈ 1e-3; above it the
    relative one decides.
    """
    cost, _ = frozen(net, X, y)
    floor = 4 * EPS * abs(cost()) / H
    for name, (idx, a, n) in zip(parameter_names(net), compare(net, X, y, H)):
        err = relative_error(a, n)
        bad = (err >= RTOL) & (np.abs(a - n) > floor)
        assert not bad.any(), (f"{name}: backprop {a[bad][:3]} vs finite differences "
                               f"{n[bad][:3]} (relative error {err[bad].max():.2e})")


def random_net(depth, activation, cost, init, seed, **options):
    """A small random net with `depth` weight layers, and a batch for it."""
    rng = np.random.default_rng(seed)
    sizes = [int(s) for s in rng.integers(2, 7, depth)] + [int(rng.integers(2, 6))]
    net = Network(sizes, activation, cost, init, seed=seed, **options)
    X = rng.normal(size=(6, sizes[0]))
    y = rng.integers(0, sizes[-1], 6)
    return net, X, y


def hidden_preactivations(net, X):
    """z of every hidden layer of a plain net (no dropout, no batch norm), by hand."""
    a, zs = X, []
    for W, b in zip(net.weights[:-1], net.biases[:-1]):
        z = a @ W.T + b
        zs.append(z)
        a = net.f(z)
    return zs


def relu_net_away_from_kink(depth, cost, init, seed, margin=1e-3, batch=6):
    """A random ReLU net and a batch whose hidden pre-activations all lie more than
    `margin` from the kink at 0, so a step of ±h (≪ margin) never crosses it.

    Pre-activations exactly at 0 happen (a hidden unit all of whose inputs are
    dead, with a zero bias), so the net is redrawn until a batch exists.
    """
    for attempt in range(50):
        net, _, _ = random_net(depth, "relu", cost, init, seed=1000 * seed + attempt)
        rng = np.random.default_rng([seed, attempt])
        X = rng.normal(size=(200, net.sizes[0]))
        keep = np.ones(len(X), bool)
        for z in hidden_preactivations(net, X):
            keep &= (np.abs(z) > margin).all(axis=1)
        if keep.sum() >= batch:
            return net, X[keep][:batch], rng.integers(0, net.sizes[-1], batch)
    raise AssertionError("no ReLU net with a batch away from the kink")


# ---------------------------------------------------------------- the gradcheck tools
def test_relative_error_by_hand():
    assert relative_error(1.0, 1.0) == 0.0
    assert relative_error(0.0, 0.0) == 0.0                 # both exactly zero: agreement
    assert relative_error(1.0, -1.0) == 1.0                # opposite signs: the worst
    assert relative_error([2.0, 1.0], [1.0, 1.0]) == pytest.approx([1 / 3, 0.0])
    assert max_relative_error([2.0, 1.0, 0.0], [1.0, 1.0, 1e-300]) == 1.0


def test_central_differences_of_a_cubic():
    """For C = Σ p³ central differences give 3p² + h², exactly up to round-off."""
    p = np.array([[0.5, -1.0, 2.0]])
    grad = numerical_gradient(lambda: float((p ** 3).sum()), p, h=1e-3)
    assert grad == pytest.approx(3 * p.ravel() ** 2 + 1e-6, rel=1e-9)
    assert np.array_equal(p, [[0.5, -1.0, 2.0]])           # every entry restored exactly


def test_sample_indices():
    rng = np.random.default_rng(0)
    idx = sample_indices(100, 10, rng)
    assert len(set(idx)) == 10 and idx.min() >= 0 and idx.max() < 100
    assert np.array_equal(idx, np.sort(idx))
    assert np.array_equal(sample_indices(100, 10, np.random.default_rng(0)), idx)  # seeded
    assert np.array_equal(sample_indices(5, 10, rng), np.arange(5))
    assert np.array_equal(sample_indices(5, None, rng), np.arange(5))


def test_gradcheck_catches_a_wrong_derivative():
    net, X, y = random_net(3, "sigmoid", "cross_entropy", "xavier_normal", seed=1)
    assert_backprop_matches_fd(net, X, y)
    net.f_prime = lambda z, a: a * (1.0 - a) * 1.01         # a 1% mistake in σ'
    assert max(gradcheck(net, X, y)) > 1e-3
    with pytest.raises(AssertionError, match="W0"):
        assert_backprop_matches_fd(net, X, y)


def test_gradcheck_samples_entries():
    net, X, y = random_net(2, "tanh", "cross_entropy", "nielsen", seed=2)
    checked = compare(net, X, y, samples=3, seed=5)
    assert [len(idx) for idx, _, _ in checked] == [min(3, p.size) for p in net.parameters()]
    again = compare(net, X, y, samples=3, seed=5)
    assert all(np.array_equal(i, j) for (i, _, _), (j, _, _) in zip(checked, again))


def test_gradcheck_leaves_the_network_as_it_was():
    net, X, y = random_net(3, "sigmoid", "cross_entropy", "xavier_normal", seed=3,
                           dropout=0.3, batchnorm=True)
    before = {k: v.copy() for k, v in net.state().items()}
    rng_before = net.dropout_rng.bit_generator.state
    compare(net, X, y)
    assert all(np.array_equal(before[k], v) for k, v in net.state().items())
    assert net.dropout_rng.bit_generator.state == rng_before


def test_frozen_cost_replays_the_dropout_mask():
    net, X, y = random_net(3, "sigmoid", "cross_entropy", "xavier_normal", seed=4, dropout=0.5)
    cost, backprop = frozen(net, X, y)
    assert cost() == cost() == backprop()[0]
    assert net.loss(X, y) != net.loss(X, y)                  # fresh masks: a different cost


# ---------------------------------------------------------------- backprop vs finite differences
@pytest.mark.parametrize("depth", [2, 3, 4, 5])
@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("cost", COSTS)
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_backprop_smooth(activation, cost, init, depth):
    seed = 100 * depth + 10 * INITS.index(init) + COSTS.index(cost)
    net, X, y = random_net(depth, activation, cost, init, seed=seed)
    assert_backprop_matches_fd(net, X, y)


@pytest.mark.parametrize("depth", [2, 3, 4, 5])
@pytest.mark.parametrize("init", INITS)
@pytest.mark.parametrize("cost", COSTS)
def test_backprop_relu_away_from_kink(cost, init, depth):
    seed = 100 * depth + 10 * INITS.index(init) + COSTS.index(cost)
    net, X, y = relu_net_away_from_kink(depth, cost, init, seed)
    assert_backprop_matches_fd(net, X, y)


@pytest.mark.parametrize("depth", [2, 3, 4])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_backprop_batchnorm_training(activation, depth):
    """Training mode: the batch statistics depend on z, and backprop follows them.

    Every hidden bias then has a zero gradient (batch norm subtracts it again
    with the mean); backprop gives round-off, and so do finite differences.
    """
    net, _, _ = random_net(depth, activation, "cross_entropy", "xavier_normal", seed=depth,
                           batchnorm=True)
    rng = np.random.default_rng(depth)
    for bn in net.norms:                                    # γ, β away from 1, 0
        bn.gamma[...] = rng.uniform(0.5, 1.5, bn.gamma.shape)
        bn.beta[...] = rng.normal(0.0, 0.5, bn.beta.shape)
    X, y = rng.normal(size=(8, net.sizes[0])), rng.integers(0, net.sizes[-1], 8)
    assert_backprop_matches_fd(net, X, y)
    _, grads = frozen(net, X, y)[1]()
    for l in range(depth - 1):
        assert np.abs(grads[2 * l + 1]).max() < 1e-12       # ∂C/∂b_l of a hidden layer


@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_backprop_batchnorm_eval(activation):
    net, X, y = random_net(4, activation, "quadratic", "nielsen", seed=7, batchnorm=True)
    for _ in range(3):                                      # move the running statistics
        net.loss(np.random.default_rng(_).normal(1.0, 2.0, X.shape), y)
    net.eval()
    assert_backprop_matches_fd(net, X, y)


@pytest.mark.parametrize("batchnorm", [False, True])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_backprop_dropout(activation, batchnorm):
    net, X, y = random_net(4, activation, "cross_entropy", "kaiming_normal", seed=8,
                           dropout=0.4, batchnorm=batchnorm)
    X = np.random.default_rng(8).normal(size=(8, net.sizes[0]))
    assert_backprop_matches_fd(net, X, y[:1].repeat(8))


@pytest.mark.parametrize("dropout, batchnorm", [(0.0, False), (0.4, False), (0.4, True)])
@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
def test_backprop_input_dropout(activation, dropout, batchnorm):
    """Input dropout changes only a[0], the input of W_1's BP4: backprop, unchanged, still
    matches finite differences of the cost with the same (replayed) input and hidden masks."""
    net, X, y = random_net(4, activation, "cross_entropy", "kaiming_normal", seed=10,
                           dropout=dropout, batchnorm=batchnorm, input_dropout=0.5)
    X = np.random.default_rng(10).normal(size=(8, net.sizes[0]))
    assert_backprop_matches_fd(net, X, y[:1].repeat(8))
    _, cache = net.forward(X)                               # the masks the check used
    assert (cache.input_mask == 0).any()                    # some inputs were dropped


def test_backprop_input_dropout_fails_without_the_dropped_input():
    """The check can fail: BP4 of W_1 fed the raw X instead of X ⊙ mask is caught."""
    net, _, y = random_net(3, "tanh", "cross_entropy", "xavier_normal", seed=11,
                           input_dropout=0.5)
    X, y = np.random.default_rng(11).normal(size=(8, net.sizes[0])), y[:1].repeat(8)
    forward = net.forward

    def raw_input_forward(X):                               # a[0] = X, the mask forgotten
        z_L, cache = forward(X)
        return z_L, cache._replace(a=[np.asarray(X)] + cache.a[1:])

    net.forward = raw_input_forward
    with pytest.raises(AssertionError, match="W0"):
        assert_backprop_matches_fd(net, X, y)


def test_masks_are_drawn_input_first_then_layer_by_layer():
    """The documented order: one generator, dropout_rng, gives the input's mask first,
    then each hidden layer's, first to last; evaluation mode draws none."""
    net = Network([5, 4, 3, 2], "tanh", seed=2, dropout=0.3, input_dropout=0.2)
    X = np.random.default_rng(2).normal(size=(6, 5))
    rng = copy.deepcopy(net.dropout_rng)
    _, cache = net.forward(X)
    expected_input = (rng.random((6, 5)) >= 0.2) / 0.8
    np.testing.assert_array_equal(cache.input_mask, expected_input)
    np.testing.assert_array_equal(cache.a[0], X * expected_input)
    for n, mask in zip((4, 3), cache.masks):
        np.testing.assert_array_equal(mask, (rng.random((6, n)) >= 0.3) / 0.7)
    state = copy.deepcopy(net.dropout_rng.bit_generator.state)
    _, cache = net.eval().forward(X)
    assert cache.input_mask is None and np.array_equal(cache.a[0], X)
    assert net.dropout_rng.bit_generator.state == state


def test_input_dropout_is_a_no_op_in_evaluation_mode():
    X = np.random.default_rng(3).normal(size=(6, 5))
    plain = Network([5, 4, 2], seed=3).eval()
    dropped = Network([5, 4, 2], seed=3, input_dropout=0.5).eval()
    assert np.array_equal(dropped.feedforward(X), plain.feedforward(X))
    assert not np.array_equal(dropped.train().feedforward(X), plain.feedforward(X))
    with pytest.raises(ValueError, match=r"input_dropout must be in \[0, 1\), got 1.0"):
        Network([5, 4, 2], input_dropout=1.0)


def test_batch_backprop_is_the_mean_of_per_sample_backprops():
    """The vectorized backprop of N samples equals the mean of N one-sample backprops."""
    net, X, y = random_net(4, "tanh", "cross_entropy", "xavier_normal", seed=9)
    X, y = np.random.default_rng(9).normal(size=(7, net.sizes[0])), np.arange(7) % net.sizes[-1]
    loss, grads = net.backprop(X, y)
    singles = [net.backprop(X[i:i + 1], y[i:i + 1]) for i in range(len(X))]
    assert loss == pytest.approx(np.mean([s[0] for s in singles]), rel=1e-14)
    for k, g in enumerate(grads):
        mean = np.mean([s[1][k] for s in singles], axis=0)
        # same sums in a different order: agreement to round-off of the largest entry
        np.testing.assert_allclose(g, mean, rtol=0, atol=1e-14 * np.abs(mean).max())


def test_backprop_returns_parameters_order_and_shapes():
    net = Network([5, 4, 3, 2], seed=0, batchnorm=True)
    X, y = np.zeros((4, 5)), np.array([0, 1, 0, 1])
    _, grads = net.backprop(X, y)
    assert [g.shape for g in grads] == [p.shape for p in net.parameters()]
    assert [p.shape for p in net.parameters()] == [(4, 5), (4,), (3, 4), (3,), (2, 3), (2,),
                                                   (4,), (4,), (3,), (3,)]


@pytest.mark.parametrize("dropout, input_dropout, batchnorm, training", [
    (0.0, 0.0, False, True), (0.3, 0.0, True, True), (0.3, 0.0, True, False),
    (0.3, 0.2, False, True), (0.0, 0.2, True, False)])
def test_forward_cache_is_the_documented_contract(dropout, input_dropout, batchnorm, training):
    """Network.forward(X) -> (z_L, ForwardCache): named fields with the shapes its
    docstring states, z_L what feedforward builds on, and the masks what backprop uses."""
    net = Network([5, 4, 3, 2], "tanh", seed=1, dropout=dropout, batchnorm=batchnorm,
                  input_dropout=input_dropout)
    net.train(training)
    X = np.random.default_rng(1).normal(size=(6, 5))
    rng_state = copy.deepcopy(net.dropout_rng.bit_generator.state)
    z_L, cache = net.forward(X)
    assert isinstance(cache, ForwardCache)
    assert cache._fields == ("z", "f_z", "masks", "bn", "a", "input_mask")
    assert z_L.shape == (6, 2)
    assert [a.shape for a in cache.a] == [(6, 5), (6, 4), (6, 3)]   # the input of each W_l
    if input_dropout and training:                  # a[0] = X ⊙ input_mask
        assert cache.input_mask.shape == (6, 5)
        assert np.array_equal(cache.a[0], X * cache.input_mask)
    else:
        assert cache.input_mask is None and np.array_equal(cache.a[0], X)
    for name in ("z", "f_z"):
        assert [v.shape for v in getattr(cache, name)] == [(6, 4), (6, 3)]
    assert all(np.array_equal(f_z, np.tanh(z)) for z, f_z in zip(cache.z, cache.f_z))
    dropped = dropout and training
    assert all((m is not None) == dropped for m in cache.masks) and len(cache.masks) == 2
    assert all((bn is not None) == batchnorm for bn in cache.bn) and len(cache.bn) == 2
    for l in range(2):                      # a = f(z), then the dropout mask if one was drawn
        mask = cache.masks[l] if dropped else 1.0
        assert np.array_equal(cache.a[l + 1], cache.f_z[l] * mask)
    assert np.array_equal(cache.a[-1] @ net.weights[-1].T + net.biases[-1], z_L)
    y = np.array([0, 1, 0, 1, 1, 0])
    _, delta = net.cost.value_and_delta(z_L, y)        # BP1
    net.dropout_rng.bit_generator.state = rng_state   # backprop draws the same masks again
    _, grads = net.backprop(X, y)
    np.testing.assert_allclose(grads[4], delta.T @ cache.a[-1], rtol=1e-14)  # BP4, W_3


# ---------------------------------------------------------------- numerical stability
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_softmax_log_softmax_are_stable(dtype):
    """Pre-activations of ±1e4: no overflow or divide warnings (warnings are errors)."""
    z = np.array([[-1e4, -1.0, 0.0, 1.0, 1e4]], dtype=dtype)
    s = activations.sigmoid(z)
    expected = [0.0, 1 / (1 + np.e), 0.5, 1 / (1 + np.exp(-1)), 1.0]
    assert s.dtype == dtype and s.ravel() == pytest.approx(expected, rel=1e-6)
    log_p = costs.log_softmax(z)
    assert np.isfinite(log_p).all()
    assert log_p.ravel() == pytest.approx(z.ravel().astype(np.float64) - 1e4, rel=1e-6)
    assert costs.softmax(z).sum() == pytest.approx(1.0)
    for cost in (costs.CrossEntropy, costs.Quadratic):
        for label in (0, 4):                               # the worst and the best class
            value, delta = cost.value_and_delta(z, np.array([label]))
            assert np.isfinite(value) and np.isfinite(delta).all()
            assert value == pytest.approx(cost.value(z, np.array([label])))
    assert costs.CrossEntropy.value(z, np.array([0])) == pytest.approx(2e4)


@pytest.mark.parametrize("activation, cost", list(itertools.product(ACTIVATIONS, COSTS)))
def test_backprop_with_huge_preactivations_is_finite(activation, cost):
    net = Network([4, 3, 3], activation, cost, seed=0)
    for W in net.weights:
        W *= 1e4 / np.abs(W).max()                          # pre-activations reach ~1e4
    X = np.random.default_rng(0).uniform(-1, 1, (5, 4))
    loss, grads = net.backprop(X, np.arange(5) % 3)
    assert np.isfinite(loss) and all(np.isfinite(g).all() for g in grads)


# ---------------------------------------------------------------- save / load
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trip_is_lossless(tmp_path, dtype):
    net = Network([6, 5, 4, 3], "relu", "quadratic", "kaiming_uniform", seed=3, dropout=0.25,
                  batchnorm=True, dtype=dtype, input_dropout=0.1)
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(10, 6)), rng.integers(0, 3, 10)
    for _ in range(3):                                      # change every array, stats too
        _, grads = net.backprop(X, y)
        for p, g in zip(net.parameters(), grads):
            p -= 0.1 * g
    saving.save(net, tmp_path / "net.npz")
    loaded = saving.load(tmp_path / "net.npz")
    assert loaded.options() == net.options() and loaded.input_dropout == 0.1
    state, loaded_state = net.state(), loaded.state()
    assert set(loaded_state) == set(state) and any(k.startswith("running_var") for k in state)
    for name, value in state.items():
        assert loaded_state[name].dtype == value.dtype
        assert np.array_equal(loaded_state[name], value), name
    assert np.array_equal(loaded.predict(X), net.predict(X))
    assert not list(tmp_path.glob("*.tmp"))                 # written under a temporary name


def test_load_state_copies_in_place_and_checks_shapes():
    net, other = Network([3, 2, 2], seed=0), Network([3, 2, 2], seed=1)
    W0 = net.weights[0]
    net.load_state(other.state())
    assert net.weights[0] is W0 and np.array_equal(W0, other.weights[0])
    with pytest.raises(ValueError, match="shape"):
        net.load_state(Network([3, 4, 2], seed=0).state())


def test_numpy_integer_seed_can_be_saved(tmp_path):
    net = Network([3, 2], seed=np.int64(5))
    saving.save(net, tmp_path / "net.npz")
    assert saving.load(tmp_path / "net.npz").seed == 5


def test_a_file_saved_before_input_dropout_existed_still_loads(tmp_path):
    """Older .npz files have no input_dropout in their options: it is 0, as it was then."""
    import json

    net = Network([4, 3, 2], seed=1)
    options = net.options()
    del options["input_dropout"]
    np.savez(tmp_path / "old.npz", __options__=np.array(json.dumps(options)), **net.state())
    loaded = saving.load(tmp_path / "old.npz")
    assert loaded.input_dropout == 0.0 and loaded.options() == net.options()
    assert all(np.array_equal(a, loaded.state()[k]) for k, a in net.state().items())
