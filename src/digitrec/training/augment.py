"""Batch augmentation on tensors (CPU or GPU), so data stays in memory with no per-image Python work.

``light`` is the classic MNIST recipe (small affine jitter). ``robust`` imitates what real input does to a
digit: pen thickness (dilate/erode), rotation, shear and scale, elastic wobble, blur and noise. ``objects``
is for upright pictures of things (Fashion-MNIST): a shoe or a shirt mirrored is still one, but rotated or
slanted it is not what the test set holds, so it flips, shifts and hides random patches (random erasing).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Callable

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class AugmentConfig:
    rotate: float = 0.0  # degrees, ±
    shear: float = 0.0  # ±, as a fraction
    scale: tuple[float, float] = (1.0, 1.0)
    translate: float = 0.0  # pixels, ±
    elastic: float = 0.0  # displacement amplitude, pixels
    thickness: float = 0.0  # probability of a dilate or erode
    blur: float = 0.0  # probability of a slight blur
    noise: float = 0.0  # std of additive noise
    hflip: float = 0.0  # probability of a mirror image
    erase: float = 0.0  # probability of a random rectangle filled with noise (2-20 % of the image)


LEVELS = {
    "none": None,
    "light": AugmentConfig(rotate=10, shear=0.1, scale=(0.9, 1.1), translate=2.0),
    # The pipeline already fits every digit to 20 px and centres it, and evens out stroke width, so what is
    # left to learn is shape: slant and rotation, elastic wobble, some thickness, blur and noise.
    "robust": AugmentConfig(rotate=12, shear=0.2, scale=(0.9, 1.1), translate=1.0, elastic=1.2,
                            thickness=0.3, blur=0.2, noise=0.02),
    "objects": AugmentConfig(translate=2.5, hflip=0.5, erase=0.5),
}


def augment(x: torch.Tensor, cfg: AugmentConfig, generator: torch.Generator | None = None) -> torch.Tensor:
    """Augment a batch ``x`` of shape (B, 1, 28, 28) with values in [0, 1]."""
    b, _, h, w = x.shape
    dev, dt = x.device, x.dtype

    # Drawn where the batch is, from a generator on that device: on a GPU no step waits for a host copy.
    def uniform(lo: float, hi: float, *shape: int) -> torch.Tensor:
        return torch.rand(*shape, generator=generator, device=dev, dtype=dt) * (hi - lo) + lo

    if cfg.thickness:
        choice = uniform(0, 1, b, 1, 1, 1)
        thick = F.max_pool2d(x, 3, 1, 1)
        thin = -F.max_pool2d(-x, 3, 1, 1)
        half = cfg.thickness / 2
        x = torch.where(choice < half, thick, torch.where(choice < cfg.thickness, thin, x))
    # One affine warp per image (rotation, shear, anisotropic scale, translation), plus elastic wobble.
    angle = uniform(-cfg.rotate, cfg.rotate, b) * (math.pi / 180)
    shear = uniform(-cfg.shear, cfg.shear, b)
    sx = uniform(*cfg.scale, b)
    sy = sx * uniform(0.92, 1.08, b) if cfg.scale != (1.0, 1.0) else sx
    tx = uniform(-cfg.translate, cfg.translate, b) * (2 / w)
    ty = uniform(-cfg.translate, cfg.translate, b) * (2 / h)
    cos, sin = torch.cos(angle), torch.sin(angle)
    # inverse mapping: output coords -> input coords, so divide by scale; a mirror negates input x.
    # (No draw without flips: the other levels keep their random streams, so their models stay reproducible.)
    mirror = torch.where(uniform(0, 1, b) < cfg.hflip, -1.0, 1.0) if cfg.hflip else 1.0
    theta = torch.stack([
        torch.stack([mirror * cos / sx, (-sin + shear * cos) / sx, tx], 1),
        torch.stack([mirror * sin / sy, (cos + shear * sin) / sy, ty], 1),
    ], 1)
    grid = F.affine_grid(theta, (b, 1, h, w), align_corners=False)
    if cfg.elastic:
        coarse = uniform(-1, 1, b, 2, 4, 4) * (cfg.elastic * 2 / w)
        grid = grid + F.interpolate(coarse, size=(h, w), mode="bicubic", align_corners=False).permute(0, 2, 3, 1)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    if cfg.blur:
        blurred = F.conv2d(x, _blur_kernel(dev, dt), padding=1)
        x = torch.where(uniform(0, 1, b, 1, 1, 1) < cfg.blur, blurred, x)
    if cfg.noise:
        x = x + torch.randn(x.shape, generator=generator, device=dev, dtype=dt) * cfg.noise
    if cfg.erase:
        x = _erase(x, cfg.erase, uniform, generator)
    return x.clamp_(0.0, 1.0)


@functools.lru_cache(maxsize=8)
def _blur_kernel(device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """The 3×3 binomial blur, made once per device rather than copied to it every step."""
    return torch.tensor([[1, 2, 1], [2, 4, 2], [1, 2, 1]], device=device, dtype=dtype).view(1, 1, 3, 3) / 16


def _erase(x: torch.Tensor, p: float, uniform: Callable[..., torch.Tensor],
           generator: torch.Generator | None) -> torch.Tensor:
    """Random erasing (Zhong et al., 2017): with probability ``p`` an image gets one rectangle of 2-20 % of
    its area, aspect 0.3-3.3, filled with noise — the model must not lean on any single part."""
    b, _, h, w = x.shape
    area = uniform(0.02, 0.2, b) * (h * w)
    aspect = torch.exp(uniform(math.log(0.3), math.log(3.3), b))
    half_h, half_w = (area * aspect).sqrt() / 2, (area / aspect).sqrt() / 2
    cy, cx = uniform(0, h, b), uniform(0, w, b)
    rows = torch.arange(h, device=x.device, dtype=x.dtype).view(1, h, 1)
    cols = torch.arange(w, device=x.device, dtype=x.dtype).view(1, 1, w)
    inside = (((rows - cy.view(b, 1, 1)).abs() <= half_h.view(b, 1, 1))
              & ((cols - cx.view(b, 1, 1)).abs() <= half_w.view(b, 1, 1))
              & (uniform(0, 1, b) < p).view(b, 1, 1))
    fill = torch.rand(x.shape, generator=generator, device=x.device, dtype=x.dtype)
    return torch.where(inside.unsqueeze(1), fill, x)
