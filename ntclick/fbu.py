"""FBU maps: foreground / background / uncertain, the interface between ECP and HRR.

An FBU map is a uint8 (H, W) array with exactly three values: :data:`BG` = 0,
:data:`UNCERTAIN` = 128 and :data:`FG` = 255 (the supplementary's values).  ECP predicts
one as three logits over the classes ``(bg, uncertain, fg)`` = indices ``(0, 1, 2)``; HRR
reads it as one channel with values ``(0, 0.5, 1)``.

Two morphology recipes turn a ground-truth mask into an FBU map, different on purpose
(supplementary section 1.3): :func:`fbu_from_mask` for evaluation (fixed, reproducible)
and :func:`random_fbu_from_mask` for training (random elliptical kernel).

This module imports NumPy and OpenCV only, never torch.
"""

from __future__ import annotations

import cv2
import numpy as np

__all__ = [
    "BG",
    "UNCERTAIN",
    "FG",
    "FBU_VALUES",
    "as_binary_mask",
    "as_bool_mask",
    "validate_fbu",
    "fbu_from_mask",
    "random_fbu_from_mask",
    "fbu_to_classes",
    "fbu_from_classes",
    "fbu_to_unit",
]

BG = 0
UNCERTAIN = 128
FG = 255
FBU_VALUES = (BG, UNCERTAIN, FG)  # class index i <-> FBU_VALUES[i]

_CLASS_LUT = np.full(256, 255, dtype=np.uint8)  # 255 marks "not an FBU value"
_CLASS_LUT[BG], _CLASS_LUT[UNCERTAIN], _CLASS_LUT[FG] = 0, 1, 2


def _check_2d(array: np.ndarray, name: str) -> None:
    if array.ndim != 2:
        raise ValueError(f"{name} must be a 2-D (H, W) array, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} is empty: shape {array.shape}")


def _uint8_values(m: np.ndarray) -> list[int]:
    """The distinct values of a 2-D uint8 array, by a 256-bin histogram (far faster than np.unique)."""
    if m.size == 0:
        return []
    hist = cv2.calcHist([np.ascontiguousarray(m)], [0], None, [256], [0, 256])
    return np.flatnonzero(hist.ravel()).tolist()


def as_binary_mask(mask: np.ndarray, name: str = "mask") -> np.ndarray:
    """Read a binary mask given as bool, 0/1 or 0/255 (any numeric dtype) as uint8 0/255.

    Returns:
        uint8 (H, W) array with values 0 and 255 (the input itself when it already is one).

    Raises:
        ValueError: the array is not 2-D, or holds values other than {0, 1} or {0, 255}.
    """
    m = np.asarray(mask)
    _check_2d(m, name)
    if m.dtype == np.bool_:
        return m.view(np.uint8) * np.uint8(255)
    if not (np.issubdtype(m.dtype, np.integer) or np.issubdtype(m.dtype, np.floating)):
        raise ValueError(f"{name} must be bool or numeric, got dtype {m.dtype}")
    if m.dtype == np.uint8:
        values = set(_uint8_values(m))
        is_01, is_0255 = values <= {0, 1}, values <= {0, 255}
    else:  # two vectorised passes; np.unique (a sort) only for the error message
        nonzero = m != 0
        is_01 = not np.any(nonzero & (m != 1))
        is_0255 = not is_01 and not np.any(nonzero & (m != 255))
    if is_01:
        return (m != 0).view(np.uint8) * np.uint8(255)
    if is_0255:
        return m if m.dtype == np.uint8 else m.astype(np.uint8)
    if m.dtype != np.uint8:
        values = set(np.unique(m).tolist())
    shown = sorted(values)[:6]
    raise ValueError(
        f"{name} must be binary (bool, 0/1 or 0/255), got values {shown}{'...' if len(values) > 6 else ''} "
        f"(dtype {m.dtype}); threshold it first, e.g. mask > 127"
    )


def as_bool_mask(mask: np.ndarray, name: str = "mask", shape: tuple[int, int] | None = None) -> np.ndarray:
    """Read a binary mask given as bool, 0/1 or 0/255 as a bool (H, W) array.

    A bool array is returned as is (no copy), so this is free on the common path.  With
    ``shape`` (the image's (H, W)), a mask of another shape is a ``ValueError``.
    """
    m = np.asarray(mask)
    if m.dtype == np.bool_:
        _check_2d(m, name)
    else:
        m = as_binary_mask(m, name) != 0
    if shape is not None and m.shape != tuple(shape):
        raise ValueError(f"{name} has shape {m.shape}, expected the image's {tuple(shape)}")
    return m


def validate_fbu(fbu: np.ndarray, name: str = "fbu") -> np.ndarray:
    """Check that ``fbu`` is a uint8 (H, W) array with values in {0, 128, 255}; return it."""
    f = np.asarray(fbu)
    _check_2d(f, name)
    if f.dtype != np.uint8:
        raise ValueError(f"{name} must be uint8 with values 0/128/255, got dtype {f.dtype}")
    bad = sorted(set(_uint8_values(f)) - set(FBU_VALUES))
    if bad:
        raise ValueError(f"{name} holds values {bad[:6]} that are not 0 (bg), 128 (uncertain) or 255 (fg)")
    return f


def fbu_from_mask(mask: np.ndarray, kernel_size: int = 5, iterations: int = 3) -> np.ndarray:
    """The evaluation recipe (supplementary 1.3): square kernel of ones, dilate and erode.

    ``eroded == 255`` -> FG, ``dilated == 0`` -> BG, everything else UNCERTAIN.

    Args:
        mask: binary (H, W) mask (bool, 0/1 or 0/255).
        kernel_size: side of the square structuring element.
        iterations: dilation and erosion iterations.

    Returns:
        uint8 (H, W) FBU map.
    """
    if kernel_size < 1 or iterations < 0:
        raise ValueError(f"kernel_size must be >= 1 and iterations >= 0, got {kernel_size}, {iterations}")
    m = as_binary_mask(mask)
    kernel = np.ones((kernel_size, kernel_size), np.uint8)
    dilated = cv2.dilate(m, kernel, iterations=iterations)
    eroded = cv2.erode(m, kernel, iterations=iterations)
    # eroded <= mask <= dilated (the square kernel contains its anchor), so one OR of two bit
    # masks gives 0 | 0 = BG, 128 | 0 = UNCERTAIN and 128 | 255 = FG without any fancy indexing.
    # NumPy, not cv2.bitwise_*: OpenCV 5.1 turns the scalar 128 into a (4, 1) array and then
    # broadcasts a 1x1 mask to (4, 1).
    out = np.bitwise_and(dilated, UNCERTAIN)
    out |= eroded
    return out


def random_fbu_from_mask(
    mask: np.ndarray,
    rng: np.random.Generator,
    size_range: tuple[int, int] = (15, 30),
) -> np.ndarray:
    """The training recipe (supplementary 1.3): elliptical kernel of random size.

    The kernel size is drawn uniformly from the closed range ``size_range``; the eroded mask
    becomes FG, everything outside the dilated mask BG, the band between UNCERTAIN.

    Returns:
        uint8 (H, W) FBU map.
    """
    lo, hi = int(size_range[0]), int(size_range[1])
    if not 1 <= lo <= hi:
        raise ValueError(f"size_range must satisfy 1 <= low <= high, got {size_range}")
    m = as_binary_mask(mask)
    size = int(rng.integers(lo, hi + 1))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))
    fg_mask = cv2.erode(m, kernel) == 255
    bg_mask = cv2.dilate(m, kernel) == 0
    fbumap = np.full(m.shape, UNCERTAIN, dtype=np.uint8)
    fbumap[fg_mask] = FG
    fbumap[bg_mask] = BG
    return fbumap


def fbu_to_classes(fbu: np.ndarray) -> np.ndarray:
    """FBU map (0/128/255) -> class indices uint8 (0 = bg, 1 = uncertain, 2 = fg)."""
    f = validate_fbu(fbu)
    return cv2.LUT(f, _CLASS_LUT)


def fbu_from_classes(classes: np.ndarray) -> np.ndarray:
    """Class indices (0 = bg, 1 = uncertain, 2 = fg), e.g. an argmax of ECP logits -> FBU map."""
    c = np.asarray(classes)
    if c.ndim != 2:
        raise ValueError(f"classes must be a 2-D (H, W) array, got shape {c.shape}")
    if c.size and (c.min() < 0 or c.max() > 2):
        raise ValueError(f"classes must be 0, 1 or 2, got values in [{c.min()}, {c.max()}]")
    return np.asarray(FBU_VALUES, dtype=np.uint8)[c.astype(np.intp)]


def fbu_to_unit(fbu: np.ndarray) -> np.ndarray:
    """FBU map -> float32 (H, W) with 0, 0.5, 1: the form HRR reads."""
    f = validate_fbu(fbu)
    return cv2.LUT(f, _UNIT_LUT)


_UNIT_LUT = np.zeros(256, dtype=np.float32)
_UNIT_LUT[UNCERTAIN], _UNIT_LUT[FG] = 0.5, 1.0
