"""`scratchnet train`: options, usage errors, outputs, and the homework's baseline (slow)."""
from __future__ import annotations

import json

import click
import numpy as np
import pytest
from click.testing import CliRunner

from scratchnet import saving
from scratchnet.cli import main
from scratchnet.cli_options import config_from_options, config_options
from scratchnet.config import TrainConfig

SMOKE = ["--train-subset", "300", "--epochs", "1", "--lr", "0.1"]


def invoke(*args):
    return CliRunner().invoke(main, ["train", *map(str, args)])


@click.command()
@config_options
def echo_config(**options):
    """A stand-in command: the TrainConfig the shared options describe."""
    return config_from_options(options)


def parse(*args) -> TrainConfig:
    result = CliRunner().invoke(echo_config, list(args), standalone_mode=False)
    assert result.exception is None, result.output
    return result.return_value


# ---------------------------------------------------------------- options
def test_defaults_are_trainconfig_defaults():
    assert parse() == TrainConfig()


def test_options_map_one_to_one_onto_trainconfig():
    names = {p.name for p in echo_config.params}
    assert names == set(TrainConfig.field_names())
    config = parse("--sizes", "784,20,20,10", "--activation", "relu", "--cost", "quadratic",
                   "--init", "kaiming_uniform", "--dropout", "0.2", "--input-dropout", "0.1",
                   "--batchnorm", "--optimizer", "adam", "--lr", "0.01", "--momentum", "0",
                   "--dampening", "0.1", "--no-nesterov", "--weight-decay", "0", "--max-norm", "3",
                   "--beta1", "0.8", "--beta2", "0.99", "--eps", "1e-6", "--step-size", "2",
                   "--gamma", "0.7", "--batch-size", "32", "--epochs", "3", "--seed", "5",
                   "--dtype", "float32", "--validation", "--train-subset", "100")
    assert config == TrainConfig(
        sizes=(784, 20, 20, 10), activation="relu", cost="quadratic", init="kaiming_uniform",
        dropout=0.2, input_dropout=0.1, batchnorm=True, optimizer="adam", lr=0.01,
        momentum=0.0, dampening=0.1, nesterov=False, weight_decay=0.0, max_norm=3.0, beta1=0.8,
        beta2=0.99, eps=1e-6, step_size=2, gamma=0.7, batch_size=32, epochs=3, seed=5,
        dtype="float32", validation=True, train_subset=100)


def test_config_options_can_skip_a_field():
    @click.command()
    @config_options(skip=("dtype",))
    @click.option("--dtype", default="float32")
    def command(**options):
        return config_from_options({**options, "dtype": options["dtype"]})

    result = CliRunner().invoke(command, [], standalone_mode=False)
    assert result.return_value.dtype == "float32"


def test_help_shows_the_baseline_defaults():
    result = invoke("--help")
    assert result.exit_code == 0
    for text in ("784,30,10", "sigmoid", "xavier_normal", "0.001", "0.8", "nesterov", "0.0001",
                 "float64", "--out", "--save", "--quiet", "--data"):
        assert text in result.output


# ---------------------------------------------------------------- usage errors
@pytest.mark.parametrize("args, expected", [
    (["--sizes", "784,0,10"], ["'784,0,10'", "positive", "got 0"]),
    (["--sizes", "784,abc"], ["'abc'", "not an integer"]),
    (["--sizes", "784"], ["at least two"]),
    (["--sizes", "100,30,10"], ["784", "first"]),
    (["--sizes", "784,30,5"], ["10", "last"]),
    (["--lr", "-0.1"], ["--lr", "-0.1", "x>0"]),
    (["--lr", "0"], ["--lr", "0.0", "x>0"]),
    (["--lr", "nan"], ["--lr", "'nan'", "not a finite number"]),
    (["--lr", "inf"], ["--lr", "'inf'", "not a finite number"]),
    (["--activation", "swish"], ["--activation", "'swish'", "sigmoid", "relu", "tanh"]),
    (["--init", "he"], ["--init", "'he'", "kaiming_uniform"]),
    (["--optimizer", "rmsprop"], ["--optimizer", "'rmsprop'", "sgd", "adam"]),
    (["--dropout", "1"], ["--dropout", "0<=x<1"]),
    (["--input-dropout", "1.0"], ["--input-dropout", "1.0", "0<=x<1"]),
    (["--input-dropout", "nan"], ["--input-dropout", "'nan'", "not a finite number"]),
    (["--max-norm", "-1"], ["--max-norm", "-1", "x>=0"]),
    (["--max-norm", "nan"], ["--max-norm", "'nan'", "not a finite number"]),
    (["--max-norm", "inf"], ["--max-norm", "'inf'", "not a finite number"]),
    (["--epochs", "0"], ["--epochs", "x>=1"]),
    (["--seed", "-1"], ["--seed", "0<=x<9223372036854775808"]),
    (["--momentum", "0"], ["nesterov", "momentum > 0"]),
])
def test_bad_values_are_usage_errors(args, expected):
    result = invoke(*args)
    assert result.exit_code == 2                            # click's usage error, no traceback
    assert isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    for text in expected:
        assert text in result.output, result.output


def test_missing_data_folder_says_make_data(tmp_path):
    result = invoke("--data", tmp_path / "nowhere", *SMOKE)
    assert result.exit_code == 2 and "make data" in result.output


def test_damaged_data_is_a_usage_error(tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    (raw / "train-images-idx3-ubyte").write_bytes(b"\0\0\x08\x03")
    result = invoke("--data", tmp_path, *SMOKE)
    assert result.exit_code == 2
    assert "train-images-idx3-ubyte" in result.output and "Traceback" not in result.output


# ---------------------------------------------------------------- runs
def test_train_writes_history_and_network(mnist_root, tmp_path):
    out, saved = tmp_path / "runs" / "history.json", tmp_path / "net.npz"
    result = invoke("--data", mnist_root, *SMOKE, "--sizes", "784,16,10", "--out", out,
                    "--save", saved)
    assert result.exit_code == 0, result.output
    assert "epoch 1/1" in result.output and "test accuracy" in result.output
    assert "grad ratio first/last" in result.output
    record = json.loads(out.read_text())
    assert record["package"] == "scratchnet"
    assert TrainConfig(**record["config"]) == TrainConfig(sizes=(784, 16, 10), epochs=1, lr=0.1,
                                                          train_subset=300)
    history = record["history"]
    assert history["diverged_at"] is None and len(history["test_accuracy"]) == 1
    assert f"test accuracy {history['test_accuracy'][0]:.4f}" in result.output.splitlines()[-1]
    net = saving.load(saved)
    assert net.sizes == [784, 16, 10] and net.predict(np.zeros((2, 784))).shape == (2,)
    assert not list(tmp_path.rglob("*.tmp"))


def test_quiet_prints_only_the_summary(mnist_root):
    result = invoke("--data", mnist_root, *SMOKE, "--sizes", "784,8,10", "--quiet")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "784-8-10" in lines[0] and "test accuracy" in lines[0]


def test_divergence_is_a_result_not_an_error(mnist_root, tmp_path):
    """lr·λ = 1000 blows the weights up by ~1000× a step: non-finite loss in epoch 2
    (with the quadratic cost, at most 5, only a non-finite loss can stop the run)."""
    out = tmp_path / "history.json"
    result = invoke("--data", mnist_root, "--train-subset", "1000", "--epochs", "3",
                    "--lr", "1e4", "--weight-decay", "0.1", "--momentum", "0", "--no-nesterov",
                    "--cost", "quadratic", "--out", out)
    assert result.exit_code == 0, result.output
    assert "epoch 1/3" in result.output and "epoch 2/3" not in result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("diverged") and "non-finite at epoch 2, step 1" in last
    assert json.loads(out.read_text())["history"]["diverged_at"]["epoch"] == 2


# ---------------------------------------------------------------- the homework's baseline
@pytest.mark.slow
def test_homework_baseline_reaches_94_percent(mnist_root, tmp_path):
    """784-30-10 sigmoid, Xavier normal, SGD lr 0.001, Nesterov 0.8, weight decay 1e-4,
    batch 10, 30 epochs: the defaults. Homework 7 reports about 0.94-0.95."""
    out = tmp_path / "history.json"
    result = invoke("--data", mnist_root, "--quiet", "--out", out)
    assert result.exit_code == 0, result.output
    accuracy = json.loads(out.read_text())["history"]["test_accuracy"]
    assert len(accuracy) == 30
    assert 0.935 <= accuracy[-1] <= 0.955
