"""Input preparation for the networks: normalization, size checks and padding to a multiple."""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

__all__ = ["normalize_image", "check_image_batch", "check_unit_range", "padded_size", "pad_to_multiple"]


def normalize_image(image: Tensor, pixel_mean: Sequence[float], pixel_std: Sequence[float]) -> Tensor:
    """``(x - pixel_mean) / pixel_std`` per channel.

    Args:
        image: (B, 3, H, W) uint8, or float on the 0..255 scale.
        pixel_mean, pixel_std: three values each on the 0..255 scale (``config.pixel_mean/std``).
    Returns:
        (B, 3, H, W) float32 (float64 stays float64), on the image's device.
    """
    if image.ndim != 4 or image.shape[1] != 3:
        raise ValueError(f"normalize_image expects a (B, 3, H, W) tensor, got shape {tuple(image.shape)}")
    if not (image.dtype == torch.uint8 or image.is_floating_point()):
        raise ValueError(f"normalize_image expects uint8 or float values on 0..255, got {image.dtype}")
    dtype = torch.float64 if image.dtype == torch.float64 else torch.float32
    mean = torch.as_tensor(pixel_mean, dtype=dtype, device=image.device).view(1, 3, 1, 1)
    std = torch.as_tensor(pixel_std, dtype=dtype, device=image.device).view(1, 3, 1, 1)
    return (image.to(dtype) - mean) / std


def check_image_batch(image: Tensor, multiple: int, network: str) -> tuple[int, int, int]:
    """Validate a normalized (B, 3, H, W) float image batch; return (B, H, W).

    Raises ``ValueError`` naming the problem: wrong rank/channels, non-float dtype, or H / W not a
    multiple of ``multiple`` (with the padded size that would work).
    """
    if not isinstance(image, Tensor) or image.ndim != 4 or image.shape[1] != 3:
        shape = tuple(image.shape) if isinstance(image, Tensor) else type(image).__name__
        raise ValueError(f"{network} expects a normalized image tensor of shape (B, 3, H, W), got {shape}")
    if not image.is_floating_point():
        raise ValueError(f"{network} expects a float image normalized by normalize_image, got {image.dtype}")
    b, _, h, w = image.shape
    if h % multiple or w % multiple or h == 0 or w == 0:
        ph, pw = padded_size(h, w, multiple)
        raise ValueError(
            f"{network} input height and width must be multiples of {multiple}, got {h}x{w} "
            f"(pad to {ph}x{pw}, e.g. with ntclick.modeling.pad_to_multiple)"
        )
    return b, h, w


def check_unit_range(x: Tensor, name: str, hint: str) -> None:
    """Raise ``ValueError`` unless ``x`` is a float tensor with values in [0, 1].

    Catches the common mistake of passing 0..255 maps (one reduction pass; cheap next to a forward).
    """
    if not x.is_floating_point():
        raise ValueError(f"{name} must be float in [0, 1] ({hint}), got {x.dtype}")
    if x.device.type == "meta":  # shape-only runs (FLOP counting) have no values to check
        return
    lo, hi = torch.aminmax(x.detach())
    if lo.item() < 0 or hi.item() > 1:
        raise ValueError(
            f"{name} values must be in [0, 1] ({hint}), got range [{lo.item():g}, {hi.item():g}]"
        )


def padded_size(h: int, w: int, multiple: int) -> tuple[int, int]:
    """The smallest (H', W') >= (h, w) that are multiples of ``multiple`` (1000x800, 128 -> 1024x896)."""
    return max(1, math.ceil(h / multiple)) * multiple, max(1, math.ceil(w / multiple)) * multiple


def pad_to_multiple(x: Tensor, multiple: int, value: float = 0.0) -> Tensor:
    """Pad the last two dims of ``x`` (..., H, W) at the bottom and right up to multiples of ``multiple``.

    The original content stays at ``[..., :H, :W]``; crop the network output back with it.
    """
    h, w = x.shape[-2:]
    ph, pw = padded_size(h, w, multiple)
    if (ph, pw) == (h, w):
        return x
    return F.pad(x, (0, pw - w, 0, ph - h), value=value)
