"""Training samples for the two networks, built from one (image, target) pair.

- :func:`make_ecp_sample`: the image downsampled so its long side is ``input_size`` (times a
  random scale), randomly cropped and padded to ``input_size`` squared; the ground-truth FBU
  map from the training recipe (:func:`training_fbu`); initial clicks of
  each kind sampled from their FBU regions (fg in 255, bg in 0, nt in 128).
- :func:`make_hrr_sample`: a random ``crop_size`` squared crop at full resolution, the FBU
  map from the training recipe, optionally degraded (:func:`degrade_fbu`) to imitate the
  mistakes of ECP, whose prediction HRR refines at inference.

Padding (bottom/right) is marked by ``valid = False``: losses ignore it and no click is
sampled there.  All coordinates are pixels of the sample (x = column, y = row).

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ntclick.clicker import sample_fbu_clicks
from ntclick.clicks import Click, ClickKind
from ntclick.fbu import BG, FG, UNCERTAIN, random_fbu_from_mask
from ntclick.train.augment import color_jitter, pad_pair, random_crop_pair, random_hflip, resize_pair
from ntclick.train.config import TrainConfig

__all__ = [
    "ECPSample",
    "HRRSample",
    "make_ecp_sample",
    "make_hrr_sample",
    "sample_initial_clicks",
    "degrade_fbu",
]


@dataclass
class ECPSample:
    """One ECP training sample at the network's input size S = ``config.input_size``.

    Attributes:
        image: uint8 (S, S, 3) RGB, zero in the padding.
        gt_fbu: uint8 (S, S) ground-truth FBU map (0 / 128 / 255), 0 in the padding.
        valid: bool (S, S), False in the padding.
        clicks: initial clicks in sample pixels; each lies in the FBU region of its kind.
    """

    image: np.ndarray
    gt_fbu: np.ndarray
    valid: np.ndarray
    clicks: list[Click]


@dataclass
class HRRSample:
    """One HRR training sample at C = ``config.crop_size``.

    Attributes:
        image: uint8 (C, C, 3) RGB, zero in the padding.
        fbu: uint8 (C, C) input FBU map (training recipe, maybe degraded), 0 in the padding.
        target: float32 (C, C) ground-truth alpha in [0, 1].
        valid: bool (C, C), False in the padding.
        clicks: initial clicks drawn from the undegraded FBU map (only when
            ``config.fbu_from_ecp`` is set: they are ECP's input), else empty.
    """

    image: np.ndarray
    fbu: np.ndarray
    target: np.ndarray
    valid: np.ndarray
    clicks: list[Click]


def sample_initial_clicks(fbu: np.ndarray, rng: np.random.Generator, config: TrainConfig) -> list[Click]:
    """The clicks a sample starts with: fg in [1, max_fg], bg in [0, max_bg], nt in [0, max_nt].

    Always at least one click: when the drawn regions are empty (a thin object has no FBU
    foreground after erosion) one click of the first non-empty kind is taken (nt, bg, fg order).
    """
    clicks = sample_fbu_clicks(
        fbu,
        rng,
        num_fg=int(rng.integers(1, config.max_fg_clicks + 1)),
        num_bg=int(rng.integers(0, config.max_bg_clicks + 1)),
        num_nt=int(rng.integers(0, config.max_nt_clicks + 1)),
    )
    if not clicks:
        for kind in (ClickKind.NT, ClickKind.BG, ClickKind.FG):
            counts = {"num_fg": 0, "num_bg": 0, "num_nt": 0, f"num_{kind.value}": 1}
            clicks = sample_fbu_clicks(fbu, rng, **counts)
            if clicks:
                break
    return clicks


def training_fbu(
    target: np.ndarray, rng: np.random.Generator, size_range: tuple[int, int] = (15, 30)
) -> np.ndarray:
    """The training-recipe FBU map of a soft target (float32 (H, W) in [0, 1]); uint8 (H, W).

    :func:`ntclick.fbu.random_fbu_from_mask` on ``target >= 0.5``, plus one addition for soft
    targets: structure the 0.5 threshold loses (0.1 < alpha < 0.5, e.g. a wire thinner than a
    pixel once the image is downsampled for ECP) and its dilation by the same kernel become
    uncertain instead of background, since that is where an nt click belongs.  Binary targets
    get exactly the recipe.
    """
    lo, hi = int(size_range[0]), int(size_range[1])
    size = int(rng.integers(lo, hi + 1))
    fbu = random_fbu_from_mask(target >= 0.5, rng, (size, size))
    faint = ((target > 0.1) & (target < 0.5)).astype(np.uint8)
    if faint.any():
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
        band = cv2.dilate(faint, kernel) > 0
        fbu[band & (fbu == BG)] = UNCERTAIN
    return fbu


def _augment(
    image: np.ndarray,
    target: np.ndarray,
    rng: np.random.Generator,
    config: TrainConfig,
    base_scale: float,
    size: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Flip, rescale by ``base_scale`` times a random factor, crop to ``size``, jitter colours."""
    if image.shape[:2] != target.shape:
        raise ValueError(
            f"image {image.shape[:2]} and target {target.shape} must have the same height and width"
        )
    if config.hflip:
        image, target = random_hflip(image, target, rng)
    scale = base_scale * float(rng.uniform(*config.scale_range))
    image, target = resize_pair(image, target, scale)
    image, target = random_crop_pair(image, target, size, rng)
    image = color_jitter(image, rng, config.color_jitter)
    return image, target.clip(0.0, 1.0)


def make_ecp_sample(
    image: np.ndarray, target: np.ndarray, rng: np.random.Generator, config: TrainConfig
) -> ECPSample:
    """An :class:`ECPSample` from an image (uint8 (H, W, 3)) and its target (float32 (H, W) in [0, 1])."""
    size = config.input_size
    image, target = _augment(image, target, rng, config, size / max(target.shape), size)
    fbu = training_fbu(target, rng, config.fbu_kernel_range)
    clicks = sample_initial_clicks(fbu, rng, config)  # before padding: never in the padding
    image, fbu_padded, valid = pad_pair(image, fbu.astype(np.float32), size)
    return ECPSample(image=image, gt_fbu=fbu_padded.astype(np.uint8), valid=valid, clicks=clicks)


def make_hrr_sample(
    image: np.ndarray, target: np.ndarray, rng: np.random.Generator, config: TrainConfig
) -> HRRSample:
    """An :class:`HRRSample`: full-resolution random crop (images smaller than the crop are padded)."""
    size = config.crop_size
    image, target = _augment(image, target, rng, config, 1.0, size)
    fbu = training_fbu(target, rng, config.fbu_kernel_range)
    clicks = sample_initial_clicks(fbu, rng, config) if config.fbu_from_ecp else []
    if rng.random() < config.fbu_degrade_prob:
        fbu = degrade_fbu(fbu, rng)
    image, target, valid = pad_pair(image, target, size)
    fbu_padded = np.zeros((size, size), dtype=np.uint8)
    fbu_padded[: fbu.shape[0], : fbu.shape[1]] = fbu
    return HRRSample(image=image, fbu=fbu_padded, target=target, valid=valid, clicks=clicks)


def degrade_fbu(
    fbu: np.ndarray, rng: np.random.Generator, ecp_size_range: tuple[int, int] = (112, 448)
) -> np.ndarray:
    """Imitate ECP's errors on a uint8 (H, W) FBU map; returns a new FBU map.

    1. Coarse resolution: ECP predicts at a long side of a few hundred pixels and its
       argmax is upsampled, so the map is resized (nearest) down to a long side drawn from
       ``ecp_size_range`` and back up: blocky, shifted class boundaries.
    2. Blobs: 0-4 random disks centred on the uncertain band, each set to uncertain (an
       over-cautious ECP, 60%), or whose uncertain pixels are set to fg or bg (an
       over-confident ECP that decides part of the fine structure wrongly, 40%).
    """
    h, w = fbu.shape
    long_side = int(rng.integers(ecp_size_range[0], ecp_size_range[1] + 1))
    if long_side < max(h, w):
        s = long_side / max(h, w)
        small = cv2.resize(fbu, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_NEAREST)
        fbu = cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)
    else:
        fbu = fbu.copy()
    band = np.flatnonzero(fbu == UNCERTAIN)
    if band.size:
        for _ in range(int(rng.integers(0, 5))):
            row, col = divmod(int(band[int(rng.integers(band.size))]), w)
            radius = max(2, int(rng.uniform(0.01, 0.05) * max(h, w)))
            blob = np.zeros_like(fbu)
            cv2.circle(blob, (col, row), radius, 1, -1)
            if rng.random() < 0.6:
                fbu[blob == 1] = UNCERTAIN
            else:
                fbu[(blob == 1) & (fbu == UNCERTAIN)] = FG if rng.random() < 0.5 else BG
    return fbu
