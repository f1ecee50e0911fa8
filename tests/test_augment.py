"""torchnet.augment: on-the-fly affine / elastic distortion of MNIST batches."""
from __future__ import annotations

import pytest
import torch

from torchnet.augment import Augment, affine_matrices, warp


def bordered_batch(n: int = 5, dtype=torch.float32, seed: int = 0) -> torch.Tensor:
    """(n, 784) random images whose outer 3-pixel border is empty, like MNIST."""
    g = torch.Generator().manual_seed(seed)
    images = torch.zeros(n, 28, 28, dtype=dtype)
    images[:, 3:-3, 3:-3] = torch.rand(n, 22, 22, generator=g, dtype=dtype)
    return images.reshape(n, 784)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_zero_magnitudes_are_the_identity(dtype):
    x = bordered_batch(dtype=dtype)
    aug = Augment(max_shift=0, max_rotation=0, max_scale=0, elastic_alpha=0)
    out = aug(x, torch.Generator().manual_seed(1))
    atol = 1e-5 if dtype == torch.float32 else 1e-12  # sampling-grid round-off
    torch.testing.assert_close(out, x, atol=atol, rtol=0)


@pytest.mark.parametrize("right, down", [(1, 0), (0, 1), (-1, 0), (2, -1)])
def test_integer_shift_moves_the_image_by_whole_pixels(right, down):
    x = bordered_batch(n=3)
    n = len(x)
    theta = affine_matrices(torch.zeros(n), torch.ones(n),
                            torch.tensor([[right, down]] * n, dtype=torch.float32))
    out = warp(x, theta)
    expected = torch.roll(x.reshape(n, 28, 28), shifts=(down, right), dims=(1, 2))
    torch.testing.assert_close(out, expected.reshape(n, 784), atol=1e-5, rtol=0)


def test_quarter_turn_matches_rot90():
    x = bordered_batch(n=2, dtype=torch.float64)
    theta = affine_matrices(torch.full((2,), 90.0, dtype=torch.float64),
                            torch.ones(2, dtype=torch.float64),
                            torch.zeros(2, 2, dtype=torch.float64))
    out = warp(x, theta).reshape(2, 28, 28)
    # counter-clockwise on screen, as torch.rot90 turns (rows, cols)
    expected = torch.rot90(x.reshape(2, 28, 28), 1, dims=(1, 2))
    torch.testing.assert_close(out, expected, atol=1e-9, rtol=0)


@pytest.mark.parametrize("elastic_alpha", [0.0, 8.0])
def test_same_seed_same_batch_new_draw_differs(elastic_alpha):
    x = bordered_batch()
    aug = Augment(max_shift=2, max_rotation=10, max_scale=0.1,
                  elastic_alpha=elastic_alpha, elastic_sigma=4)
    first = aug(x, torch.Generator().manual_seed(7))
    again = aug(x, torch.Generator().manual_seed(7))
    other = aug(x, torch.Generator().manual_seed(8))
    assert torch.equal(first, again)
    assert not torch.allclose(first, other)
    assert not torch.allclose(first, x)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_shape_dtype_and_device_preserved(dtype):
    x = bordered_batch(n=4, dtype=dtype)
    out = Augment(elastic_alpha=5.0)(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == dtype and out.device == x.device
    assert torch.isfinite(out).all()


def test_draw_does_not_depend_on_dtype():
    x = bordered_batch(n=4, dtype=torch.float64)
    aug = Augment(max_shift=2.5, max_rotation=15, max_scale=0.15)
    out64 = aug(x, torch.Generator().manual_seed(3))
    out32 = aug(x.float(), torch.Generator().manual_seed(3))
    torch.testing.assert_close(out32, out64.float(), atol=1e-5, rtol=0)


def test_empty_batch():
    out = Augment()(torch.zeros(0, 784), torch.Generator().manual_seed(0))
    assert out.shape == (0, 784)


@pytest.mark.parametrize("kwargs, name", [
    (dict(max_shift=-1.0), "max_shift"),
    (dict(max_shift=float("nan")), "max_shift"),
    (dict(max_rotation=180.0), "max_rotation"),
    (dict(max_scale=1.0), "max_scale"),
    (dict(max_scale="big"), "max_scale"),
    (dict(elastic_alpha=-2.0), "elastic_alpha"),
    (dict(elastic_sigma=0.0), "elastic_sigma"),
])
def test_bad_arguments_raise_naming_the_value(kwargs, name):
    with pytest.raises(ValueError, match=name) as info:
        Augment(**kwargs)
    assert repr(next(iter(kwargs.values()))) in str(info.value)


def test_bad_inputs_raise():
    aug = Augment()
    g = torch.Generator().manual_seed(0)
    with pytest.raises(ValueError, match=r"\(N, 784\)"):
        aug(torch.zeros(3, 28, 28), g)
    with pytest.raises(ValueError, match="floating-point"):
        aug(torch.zeros(3, 784, dtype=torch.uint8), g)
    with pytest.raises(ValueError, match="Generator"):
        aug(torch.zeros(3, 784), 0)


def test_elastic_distortion_through_a_compare_run(mnist_root, tmp_path, monkeypatch):
    """compare's Run passes any Augment arguments on: with elastic_alpha the training
    batches are distorted (other losses than without), and the run's hash tells them apart."""
    from compare import runs
    from scratchnet.config import TrainConfig

    monkeypatch.chdir(tmp_path)
    config = TrainConfig(sizes=(784, 8, 10), epochs=1, train_subset=200, dtype="float32")
    plain = runs.Run(2, "x", "plain", config)
    elastic = runs.Run(2, "x", "elastic", config, augment=runs.augment_of(
        max_shift=0.0, max_rotation=0.0, max_scale=0.0, elastic_alpha=34.0, elastic_sigma=4.0))
    assert plain.short_hash() != elastic.short_hash()
    a, b = (runs.execute(run, root=mnist_root) for run in (plain, elastic))
    assert a["history"]["train_loss"] != b["history"]["train_loss"]
    assert b["diverged_at"] is None


@pytest.mark.gpu
def test_cuda_batch_with_cpu_generator(cuda):
    x = bordered_batch().to(cuda)
    aug = Augment(elastic_alpha=5.0)
    out = aug(x, torch.Generator().manual_seed(0))
    assert out.device == x.device
    cpu = aug(x.cpu(), torch.Generator().manual_seed(0))
    torch.testing.assert_close(out.cpu(), cpu, atol=1e-5, rtol=0)
