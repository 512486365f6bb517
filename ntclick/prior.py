"""Click-conditioned colour priors: an optional fourth input map of ECP.

ntclick trains its networks from scratch on a few hundred real images (no pretrained weights
exist here), and a network that has seen so little data has not learnt what every classical
interactive method knows: the object is the region whose colours look like those under the
fg clicks and unlike those under the bg clicks.  ``ECPConfig.prior = "grabcut"`` hands ECP
that knowledge as an input: a click-seeded GrabCut mask (:mod:`ntclick.baselines.grabcut`, the
same trimap rules as the baseline) computed at ECP's input size for the current clicks, drawn
as one more channel after the (fg, bg, nt) disk maps.  ECP learns where to trust it.

GrabCut's cost is mostly its colour-model fit, which grows with the pixel count: at 256 px it
takes about 0.2 s per prior on one core, which was over half of a CPU training step and a
third of a CPU click.  ``long_side`` (``ECPConfig.prior_size``) runs it on a smaller copy of
the image and scales the mask back up, about 4.5 times faster at 128 px.

Kinds: ``"none"`` (no prior channel, the method as published) and ``"grabcut"``.

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from ntclick.baselines.grabcut import GrabCutPredictor
from ntclick.clicks import ClickLike, as_click, encode_disks, scale_clicks
from ntclick.fbu import as_bool_mask

__all__ = ["PRIOR_KINDS", "click_prior", "ecp_input_maps"]

PRIOR_KINDS = ("none", "grabcut")


def click_prior(
    image: np.ndarray,
    clicks: Iterable[ClickLike],
    *,
    kind: str = "grabcut",
    iterations: int = 3,
    click_radius: int = 5,
    scale: float | tuple[float, float] = 1.0,
    shape: Sequence[int] | None = None,
    previous: np.ndarray | None = None,
    long_side: int = 0,
) -> np.ndarray:
    """The prior map of ``clicks`` on ``image``.

    Args:
        image: uint8 RGB (h, w, 3): the image at the network's input size, without padding.
        clicks: clicks in original-image pixels; ``scale`` maps them onto ``image``
            (:func:`~ntclick.clicks.scale_point`, pixel centres aligned) and they are clipped
            into it.
        kind: one of :data:`PRIOR_KINDS`.
        iterations: GrabCut iterations.
        click_radius: radius in ``image`` pixels of each fg/bg click's definite disk.
        scale: ``image`` size over original size, one number or ``(sx, sy)``.
        shape: ``(H, W)`` of the padded network input (default ``(h, w)``); padding is 0.
        previous: optionally the previous answer as a binary (h, w) mask on ``image``: GrabCut
            starts from it instead of from the clicks' nearest-click split
            (:meth:`GrabCutPredictor.predict`'s ``prev_mask``), so the prior corrects the last
            mask rather than starting over.
        long_side: if above 0 and below the image's long side, GrabCut runs on the image
            downscaled (area filter) to this long side, with ``click_radius`` scaled alike (at
            least 1 px), and its mask is scaled back (bilinear, cut at 0.5); 0 runs it on
            ``image`` as it is.

    Returns:
        float32 (H, W): 1 where the prior says foreground, else 0 (all 0 for ``"none"`` and
        for clicks with no fg or nt click and no ``previous`` foreground).
    """
    if kind not in PRIOR_KINDS:
        raise ValueError(f"unknown prior kind {kind!r}; expected one of {PRIOR_KINDS}")
    if not (
        isinstance(image, np.ndarray) and image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
    ):
        got = f"{image.dtype} {image.shape}" if isinstance(image, np.ndarray) else type(image).__name__
        raise ValueError(f"click_prior needs a uint8 (h, w, 3) RGB image, got {got}")
    if long_side < 0:
        raise ValueError(f"long_side must be >= 0 (0: the image's own size), got {long_side}")
    h, w = image.shape[:2]
    out_h, out_w = (h, w) if shape is None else (int(shape[0]), int(shape[1]))
    if out_h < h or out_w < w:
        raise ValueError(f"shape {(out_h, out_w)} is smaller than the image {(h, w)}")
    out = np.zeros((out_h, out_w), np.float32)
    if kind == "none":
        return out
    sx, sy = (scale, scale) if np.isscalar(scale) else scale
    if 0 < long_side < max(h, w):
        f = long_side / max(h, w)
        sh, sw = max(1, round(h * f)), max(1, round(w * f))
        small_previous = None
        if previous is not None:  # checked at full size, so a wrong shape is named as given
            full = as_bool_mask(previous, "prev_mask", (h, w)).astype(np.uint8)
            small_previous = cv2.resize(full, (sw, sh), interpolation=cv2.INTER_NEAREST) > 0
        small = click_prior(
            cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA),
            clicks,
            kind=kind,
            iterations=iterations,
            click_radius=max(1, round(click_radius * f)),
            scale=(sx * sw / w, sy * sh / h),
            previous=small_previous,
        )
        out[:h, :w] = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) > 0.5
        return out
    grabcut = GrabCutPredictor(iterations=iterations, click_radius=click_radius)
    grabcut.set_image(image)
    out[:h, :w] = grabcut.predict(scale_clicks(clicks, (sx, sy), (h, w)), prev_mask=previous).mask
    return out


def ecp_input_maps(
    image: np.ndarray | None,
    clicks: Iterable[ClickLike],
    *,
    radius: float,
    prior: str = "none",
    prior_iterations: int = 3,
    scale: float | tuple[float, float] = 1.0,
    shape: Sequence[int] | None = None,
    previous: np.ndarray | None = None,
    prior_size: int = 0,
) -> np.ndarray:
    """ECP's click maps: the (fg, bg, nt) disks, then the prior map when ``prior`` is not "none".

    Args:
        image: uint8 RGB (h, w, 3) at ECP's input size, without padding; read only for a
            prior, so it may be None (with ``shape`` given) when ``prior`` is "none".
        clicks: clicks in original-image pixels, mapped onto ``image`` by ``scale``.
        radius: disk radius in ``image`` pixels (``ECPConfig.click_radius``).
        prior, prior_iterations: ``ECPConfig.prior`` and ``ECPConfig.prior_iterations``.
        scale: ``image`` size over original size, one number or ``(sx, sy)``.
        shape: ``(H, W)`` of the padded ECP input (default ``(h, w)``).
        previous: the previous answer on ``image`` for the prior (see :func:`click_prior`);
            refused without a prior, which has nowhere to put it.
        prior_size: ``ECPConfig.prior_size``, :func:`click_prior`'s ``long_side``.

    Returns:
        float32 (C, H, W), C = 3 or 4 (``ECPConfig.click_channels``).
    """
    if image is None and (prior != "none" or shape is None):
        raise ValueError(f"ecp_input_maps needs the image for prior {prior!r} or without a shape")
    if previous is not None and prior == "none":
        raise ValueError(
            "a previous mask needs an ECP with a prior channel (prior 'grabcut'), this one has none"
        )
    clicks = [as_click(c) for c in clicks]
    shape = tuple(image.shape[:2]) if shape is None else (int(shape[0]), int(shape[1]))
    disks = encode_disks(clicks, shape, radius=radius, scale=scale)
    if prior == "none":
        return disks
    radius_px = max(1, int(round(radius)))
    prior_map = click_prior(
        image,
        clicks,
        kind=prior,
        iterations=prior_iterations,
        click_radius=radius_px,
        scale=scale,
        shape=shape,
        previous=previous,
        long_side=prior_size,
    )
    return np.concatenate([disks, prior_map[None]], axis=0)
