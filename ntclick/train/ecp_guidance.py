"""FBU maps predicted by a frozen ECP, as HRR training input.

At inference HRR refines the FBU map that ECP predicted, not a morphological one; training HRR
on some ECP predictions (DESIGN.md 4: "and optionally from ECP predictions") teaches it ECP's
actual mistakes.  The ECP sees each HRR crop downsampled to its ``input_size`` (the whole crop,
padding included, as ECP's own training pads), with the crop's initial clicks; its argmax is
upsampled (nearest) back to the crop.  This differs from inference, where ECP sees the whole
image, whenever the crop is smaller than the image.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ntclick.clicks import Click
from ntclick.prior import ecp_input_maps
from ntclick.train.checkpoint import load_network

__all__ = ["load_frozen_ecp", "predict_crop_fbu"]


def load_frozen_ecp(name_or_path: str | os.PathLike, device: torch.device) -> nn.Module:
    """An ECP in eval mode without gradients, from a training checkpoint (.pt) or a weights folder / Hub repo."""
    ecp = load_network(name_or_path, "ecp")
    ecp = ecp.to(device).eval()
    for p in ecp.parameters():
        p.requires_grad_(False)
    return ecp


@torch.no_grad()
def predict_crop_fbu(
    ecp: nn.Module, images: Tensor, clicks: list[list[Click]], valid: Tensor, autocast: Any
) -> Tensor:
    """ECP's FBU prediction for square crops, at the crops' resolution.

    Args:
        ecp: a frozen ECP.
        images: uint8 (B, 3, C, C) crops on the ECP's device.
        clicks: per-crop clicks in crop pixels.
        valid: bool (B, 1, C, C), False in padding (set to background in the output).
        autocast: the autocast context factory of the run.

    Returns:
        float32 (B, 1, C, C) with 0 / 0.5 / 1 (bg / uncertain / fg), HRR's FBU input form.
    """
    from ntclick.modeling import normalize_image

    crop = images.shape[-1]
    size = ecp.config.input_size
    small = F.interpolate(
        images.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )
    x = normalize_image(small, ecp.config.pixel_mean, ecp.config.pixel_std)
    scale = size / crop
    c = ecp.config
    pixels = None  # the prior's input only: no device-to-host copy without one
    if c.prior != "none":
        pixels = small.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy()
    maps = torch.stack(
        [
            torch.from_numpy(
                ecp_input_maps(
                    None if pixels is None else np.ascontiguousarray(pixels[i]),
                    clicks[i],
                    radius=c.click_radius,
                    prior=c.prior,
                    prior_iterations=c.prior_iterations,
                    prior_size=c.prior_size,
                    scale=scale,
                    shape=(size, size),
                )
            )
            for i in range(len(clicks))
        ]
    ).to(images.device)
    with autocast():
        logits = ecp(x, maps)
    classes = logits.argmax(1, keepdim=True).float()
    fbu = F.interpolate(classes, size=(crop, crop), mode="nearest") / 2  # class 0/1/2 -> 0/0.5/1
    return fbu * valid
