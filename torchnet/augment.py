"""On-the-fly augmentation of flattened MNIST batches ("expanding the data").

Each image of a batch gets its own random affine transform -- a rotation, an
isotropic scaling and a translation measured in pixels -- and, optionally, a
smooth random elastic distortion (Simard, Steinkraus & Platt, 2003). All random
numbers come from the `torch.Generator` passed in, so a run is reproducible
from its seed. The warp is one `F.affine_grid` + `F.grid_sample` call
(bilinear, zero padding, align_corners=False), so it runs on whatever device
the batch lives on.

    aug = Augment(max_shift=2.0, max_rotation=10.0, max_scale=0.1)
    gen = torch.Generator().manual_seed(0)
    xb = aug(xb, gen)            # (N, 784) -> (N, 784), a fresh draw each call

The deterministic building blocks `affine_matrices`, `elastic_displacement`
and `warp` are public too, for tests and for showing a student what happens.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

SIDE = 28  # MNIST images are SIDE x SIDE pixels, flattened row by row


def affine_matrices(rotation: torch.Tensor, scale: torch.Tensor,
                    shift: torch.Tensor, side: int = SIDE) -> torch.Tensor:
    """The (N, 2, 3) `theta` for F.affine_grid of per-image transforms.

    rotation: (N,) degrees, counter-clockwise as displayed (rows downwards).
    scale:    (N,) zoom factors; 1.1 draws the digit 10% larger.
    shift:    (N, 2) translation in pixels as (right, down).

    affine_grid maps each *output* location to the *input* location it reads,
    in normalised coordinates where one pixel is 2 / side; so theta holds the
    inverse of the forward transform "scale, rotate, then shift".
    """
    angle = torch.deg2rad(rotation)                         # (N,)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    t = shift * (2.0 / side)                                # (N, 2) normalised
    tx, ty = t[:, 0], t[:, 1]
    # input = R(angle)^-1 (output - t) / scale, with R^-1 = [[c, -s], [s, c]] in
    # (x right, y down) coordinates for a counter-clockwise turn on screen.
    row_x = torch.stack([cos, -sin, -(cos * tx - sin * ty)], dim=1)   # (N, 3)
    row_y = torch.stack([sin, cos, -(sin * tx + cos * ty)], dim=1)    # (N, 3)
    return torch.stack([row_x, row_y], dim=1)               # (N, 2, 3)


def gaussian_kernel(sigma: float, dtype: torch.dtype, device) -> torch.Tensor:
    """A normalised 1-D Gaussian (2r + 1,) with r = ceil(3 sigma), capped at SIDE."""
    radius = min(int(math.ceil(3.0 * sigma)), SIDE)
    offsets = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    return kernel / kernel.sum()


def elastic_displacement(noise: torch.Tensor, alpha: float, sigma: float) -> torch.Tensor:
    """Smooth displacement fields in pixels from uniform noise (Simard et al.).

    noise: (N, 2, side, side) values in [-1, 1], one field for x and one for y.
    Each field is blurred by a normalised Gaussian of width `sigma` pixels
    (separable, zero padding) and multiplied by `alpha`; returns the same shape.
    """
    n, two, side, _ = noise.shape                           # (N, 2, H, W)
    kernel = gaussian_kernel(sigma, noise.dtype, noise.device)
    k = kernel.numel()
    flat = noise.reshape(n * two, 1, side, side)            # (2N, 1, H, W)
    flat = F.conv2d(flat, kernel.view(1, 1, 1, k), padding=(0, k // 2))  # along x
    flat = F.conv2d(flat, kernel.view(1, 1, k, 1), padding=(k // 2, 0))  # along y
    return alpha * flat.reshape(n, two, side, side)


def warp(x: torch.Tensor, theta: torch.Tensor,
         displacement: torch.Tensor | None = None) -> torch.Tensor:
    """Resample flattened images through an affine map plus optional displacement.

    x:            (N, side * side) images.
    theta:        (N, 2, 3) output -> input maps as for F.affine_grid.
    displacement: (N, 2, side, side) extra input offsets in pixels (x, y), or None.
    Bilinear interpolation; pixels read from outside the image are 0.
    """
    n, d = x.shape
    side = math.isqrt(d)
    if n == 0:                                              # affine_grid refuses N = 0
        return x.clone()
    images = x.reshape(n, 1, side, side)                    # (N, 1, H, W)
    grid = F.affine_grid(theta.to(x.dtype), [n, 1, side, side],
                         align_corners=False)               # (N, H, W, 2)
    if displacement is not None:
        grid = grid + displacement.permute(0, 2, 3, 1) * (2.0 / side)
    out = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros",
                        align_corners=False)                # (N, 1, H, W)
    return out.reshape(n, d)


def _check(name: str, value, low: float, high: float | None = None) -> float:
    """`value` as a float if finite and in [low, high), else ValueError naming it."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(v) or v < low or (high is not None and v >= high):
        bound = f"in [{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be finite and {bound}, got {value!r}")
    return v


@dataclass(frozen=True)
class Augment:
    """Random per-image affine (and optionally elastic) distortion of a batch.

    max_shift:     translation, uniform in [-max_shift, max_shift] pixels per axis.
    max_rotation:  rotation, uniform in [-max_rotation, max_rotation] degrees.
    max_scale:     zoom factor, uniform in [1 - max_scale, 1 + max_scale].
    elastic_alpha: strength of the elastic distortion in pixels (0 turns it
                   off); Simard et al. used alpha = 34, sigma = 4.
    elastic_sigma: smoothness (Gaussian width in pixels) of the elastic field.
    """

    max_shift: float = 2.0
    max_rotation: float = 10.0
    max_scale: float = 0.1
    elastic_alpha: float = 0.0
    elastic_sigma: float = 4.0

    def __post_init__(self) -> None:
        _check("max_shift", self.max_shift, 0.0, SIDE)
        _check("max_rotation", self.max_rotation, 0.0, 180.0)
        _check("max_scale", self.max_scale, 0.0, 1.0)
        _check("elastic_alpha", self.elastic_alpha, 0.0)
        if _check("elastic_sigma", self.elastic_sigma, 0.0) == 0.0:
            raise ValueError(f"elastic_sigma must be > 0, got {self.elastic_sigma!r}")

    def __call__(self, x: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """A distorted copy of x (N, 784) with the same shape, dtype and device.

        The random numbers are drawn on the generator's device in float64, so
        the draw does not depend on x's dtype or device; the transforms are then
        moved to x's device and dtype. One call advances the generator by
        4 N numbers (plus 2 * 784 N with elastic distortion on).
        """
        if not isinstance(x, torch.Tensor) or x.ndim != 2 or x.shape[1] != SIDE * SIDE:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a tensor of shape (N, {SIDE * SIDE}), got {shape}")
        if not x.is_floating_point():
            raise ValueError(f"x must be a floating-point tensor, got {x.dtype}")
        if not isinstance(generator, torch.Generator):
            raise ValueError(f"generator must be a torch.Generator, got {generator!r}")
        n = x.shape[0]

        def uniform(*shape: int) -> torch.Tensor:           # U[-1, 1), float64
            u = torch.rand(shape, generator=generator, dtype=torch.float64,
                           device=generator.device)
            return 2.0 * u - 1.0

        rotation = self.max_rotation * uniform(n)           # (N,) degrees
        scale = 1.0 + self.max_scale * uniform(n)           # (N,)
        shift = self.max_shift * uniform(n, 2)              # (N, 2) pixels
        theta = affine_matrices(rotation, scale, shift)     # (N, 2, 3) float64
        theta = theta.to(device=x.device, dtype=x.dtype)
        displacement = None
        if self.elastic_alpha > 0:
            noise = uniform(n, 2, SIDE, SIDE).to(device=x.device, dtype=x.dtype)
            displacement = elastic_displacement(noise, self.elastic_alpha,
                                                self.elastic_sigma)  # (N, 2, H, W)
        return warp(x, theta, displacement)
