"""Augmentations that keep image and target aligned exactly.

Geometric transforms (flip, scale, crop, pad) are applied with the same parameters to the
image and to its float32 (H, W) target in [0, 1]; the target is resized with bilinear
interpolation, which keeps an alpha matte a coverage fraction, and thresholded later by
whoever needs a binary mask.  Photometric transforms touch the image only.

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["random_hflip", "resize_pair", "random_crop_pair", "pad_pair", "color_jitter"]


def random_hflip(
    image: np.ndarray, target: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Mirror both left-right with probability 0.5."""
    if rng.random() < 0.5:
        return np.ascontiguousarray(image[:, ::-1]), np.ascontiguousarray(target[:, ::-1])
    return image, target


def resize_pair(image: np.ndarray, target: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """Resize both by ``scale`` (area filter when shrinking, bilinear when enlarging)."""
    h, w = target.shape
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    if size == (w, h):
        return image, target
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    return cv2.resize(image, size, interpolation=interp), cv2.resize(target, size, interpolation=interp)


def random_crop_pair(
    image: np.ndarray, target: np.ndarray, size: int, rng: np.random.Generator, object_prob: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """A random window of at most ``size`` x ``size`` (smaller sides are kept whole).

    With probability ``object_prob`` the window is placed so it contains a random object
    pixel (``target >= 0.5``), so crops of large images rarely miss the object entirely.
    """
    h, w = target.shape
    ch, cw = min(size, h), min(size, w)
    if (ch, cw) == (h, w):
        return image, target
    ys, xs = np.nonzero(target >= 0.5)
    if ys.size and rng.random() < object_prob:
        k = int(rng.integers(ys.size))
        y0 = int(rng.integers(max(0, ys[k] - ch + 1), min(ys[k], h - ch) + 1))
        x0 = int(rng.integers(max(0, xs[k] - cw + 1), min(xs[k], w - cw) + 1))
    else:
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return image[y0 : y0 + ch, x0 : x0 + cw], target[y0 : y0 + ch, x0 : x0 + cw]


def pad_pair(image: np.ndarray, target: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pad bottom/right to ``size`` x ``size``; returns (image, target, valid bool (size, size)).

    The image is padded with zeros (normalised later to a constant), the target with 0;
    ``valid`` is False in the padding, which losses and click sampling ignore.
    """
    h, w = target.shape
    if h > size or w > size:
        raise ValueError(f"cannot pad a {h}x{w} array to {size}x{size}")
    img = np.zeros((size, size, 3), dtype=np.uint8)
    img[:h, :w] = image
    tgt = np.zeros((size, size), dtype=np.float32)
    tgt[:h, :w] = target
    valid = np.zeros((size, size), dtype=bool)
    valid[:h, :w] = True
    return img, tgt, valid


def color_jitter(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Random brightness, contrast and saturation, each a factor in [1 - strength, 1 + strength]."""
    if strength <= 0:
        return image
    b, c, s = rng.uniform(1 - strength, 1 + strength, size=3)
    x = image.astype(np.float32) * b
    mean = x.mean()
    x = (x - mean) * c + mean
    gray = x.mean(axis=2, keepdims=True)
    x = (x - gray) * s + gray
    return np.rint(x).clip(0, 255).astype(np.uint8)
