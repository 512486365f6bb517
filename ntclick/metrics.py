"""Segmentation and interaction metrics: IoU, boundary IoU, NoC, NoF and mIoU@k.

Masks are (H, W) arrays given as bool, 0/1 or 0/255; ``ignore`` is an optional (H, W) mask of
pixels left out of every count (void labels).  An IoU *curve* is the sequence of IoUs after
click 1, 2, ... of one interaction (index 0 = after the first click).

Conventions follow RITM / SimpleClick: NoC@t is the 1-based index of the first click whose IoU
reaches ``t`` (``max_clicks`` when it never does); NoF@t counts the curves that never reach ``t``
within ``max_clicks`` clicks; mIoU@k averages the IoU after click k over curves, a curve that
stopped early keeping its last value.

This module imports NumPy and OpenCV only, never torch.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from ntclick.fbu import as_bool_mask

__all__ = ["iou", "boundary_iou", "mask_boundary", "noc", "nof", "miou_at_k", "miou_curve"]


def _pair(
    pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """pred and gt as bool (H, W) of one shape, and the bool mask of counted pixels (None: all)."""
    p = as_bool_mask(pred, "pred")
    g = as_bool_mask(gt, "gt")
    if p.shape != g.shape:
        raise ValueError(f"pred has shape {p.shape} but gt has shape {g.shape}")
    keep = None
    if ignore is not None:
        ign = as_bool_mask(ignore, "ignore")
        if ign.shape != g.shape:
            raise ValueError(f"ignore has shape {ign.shape}, expected {g.shape}")
        keep = ~ign
    return p, g, keep


def _ratio(a: np.ndarray, b: np.ndarray, keep: np.ndarray | None) -> float:
    """|a & b| / |a | b| over the kept pixels; 1.0 when both are empty there."""
    inter = np.logical_and(a, b)
    union = np.logical_or(a, b)
    if keep is not None:
        inter &= keep
        union &= keep
    n_union = np.count_nonzero(union)
    return 1.0 if n_union == 0 else np.count_nonzero(inter) / n_union


def iou(pred: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None) -> float:
    """Intersection over union of two (H, W) binary masks, ``ignore`` pixels left out.

    Returns a float in [0, 1]; 1.0 when both masks are empty outside ``ignore``.
    """
    p, g, keep = _pair(pred, gt, ignore)
    return _ratio(p, g, keep)


def mask_boundary(mask: np.ndarray, dilation_ratio: float = 0.02) -> np.ndarray:
    """The inner boundary band of a mask used by boundary IoU (Cheng et al., CVPR 2021).

    The band is the mask minus its erosion by a 3x3 square iterated
    ``d = max(1, round(dilation_ratio * sqrt(H^2 + W^2)))`` times, i.e. the mask pixels within
    chessboard distance ``d`` of a non-mask pixel.  As in the authors' reference code the image
    is padded with one pixel of zeros first, so a mask cut by the image border has a boundary
    band along that border too.

    Args:
        mask: (H, W) bool, 0/1 or 0/255.
        dilation_ratio: band width as a fraction of the image diagonal (> 0).

    Returns:
        bool (H, W).
    """
    if not np.isfinite(dilation_ratio) or dilation_ratio <= 0:
        raise ValueError(f"dilation_ratio must be a positive number, got {dilation_ratio!r}")
    m = np.ascontiguousarray(as_bool_mask(mask, "mask"))
    h, w = m.shape
    d = max(1, int(round(dilation_ratio * float(np.hypot(h, w)))))
    band = np.zeros((h, w), dtype=np.bool_)
    x, y, bw, bh = cv2.boundingRect(m.view(np.uint8))
    if bw == 0:
        return band
    # Only the mask's bounding box can hold boundary; padded by one zero pixel it erodes exactly
    # like the whole padded image (a window reaching past the ring always covers a ring zero).
    crop = cv2.copyMakeBorder(
        m[y : y + bh, x : x + bw].view(np.uint8), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0
    )
    # d iterations of a 3x3 erosion = one erosion by a (2d + 1) square = a row then a column pass.
    size = 2 * d + 1
    eroded = cv2.erode(cv2.erode(crop, np.ones((1, size), np.uint8)), np.ones((size, 1), np.uint8))
    band[y : y + bh, x : x + bw] = np.greater(crop[1:-1, 1:-1], eroded[1:-1, 1:-1])
    return band


def boundary_iou(
    pred: np.ndarray, gt: np.ndarray, dilation_ratio: float = 0.02, ignore: np.ndarray | None = None
) -> float:
    """Boundary IoU (Cheng et al., CVPR 2021): IoU of the two masks' boundary bands.

    ``|B(pred) & B(gt)| / |B(pred) | B(gt)|`` with ``B`` = :func:`mask_boundary` (band width
    ``dilation_ratio`` times the image diagonal), ``ignore`` pixels left out.

    Returns a float in [0, 1]; 1.0 when both bands are empty (both masks empty) outside ``ignore``.
    """
    p, g, keep = _pair(pred, gt, ignore)
    return _ratio(mask_boundary(p, dilation_ratio), mask_boundary(g, dilation_ratio), keep)


def _curve(ious: Sequence[float] | np.ndarray, name: str = "ious") -> np.ndarray:
    arr = np.asarray(ious, dtype=np.float64)
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of IoUs after click 1, 2, ..., got shape {arr.shape}"
        )
    if arr.size and (not np.all(np.isfinite(arr)) or arr.min() < 0 or arr.max() > 1):
        raise ValueError(f"{name} must hold IoUs in [0, 1], got values in [{arr.min()}, {arr.max()}]")
    return arr


def _check_max_clicks(max_clicks: int) -> int:
    if int(max_clicks) != max_clicks or max_clicks < 1:
        raise ValueError(f"max_clicks must be a positive integer, got {max_clicks!r}")
    return int(max_clicks)


def noc(ious: Sequence[float] | np.ndarray, threshold: float, max_clicks: int = 20) -> int:
    """Number of clicks: the 1-based index of the first IoU >= ``threshold`` among the first
    ``max_clicks``, or ``max_clicks`` when none reaches it."""
    max_clicks = _check_max_clicks(max_clicks)
    arr = _curve(ious)[:max_clicks]
    reached = np.flatnonzero(arr >= threshold)
    return int(reached[0]) + 1 if reached.size else max_clicks


def nof(curves: Sequence[Sequence[float]], threshold: float, max_clicks: int = 20) -> int:
    """Number of failures: how many curves never reach ``threshold`` within ``max_clicks`` clicks."""
    max_clicks = _check_max_clicks(max_clicks)
    return sum(not np.any(_curve(c, f"curves[{i}]")[:max_clicks] >= threshold) for i, c in enumerate(curves))


def _curves_matrix(curves: Sequence[Sequence[float]], length: int) -> np.ndarray:
    """float64 (N, length): each curve cut or extended with its last value to ``length``."""
    rows = []
    for i, c in enumerate(curves):
        arr = _curve(c, f"curves[{i}]")
        if arr.size == 0:
            raise ValueError(f"curves[{i}] is empty: every curve needs the IoU after at least one click")
        if arr.size < length:
            arr = np.concatenate([arr, np.full(length - arr.size, arr[-1])])
        rows.append(arr[:length])
    if not rows:
        raise ValueError("curves is empty: mIoU needs at least one IoU curve")
    return np.stack(rows)


def miou_at_k(curves: Sequence[Sequence[float]], k: int) -> float:
    """Mean over curves of the IoU after click ``k`` (1-based); a curve shorter than ``k``
    (stopped early) counts with its last value."""
    if int(k) != k or k < 1:
        raise ValueError(f"k must be a positive integer (1 = after the first click), got {k!r}")
    return float(_curves_matrix(curves, int(k))[:, -1].mean())


def miou_curve(curves: Sequence[Sequence[float]], max_clicks: int = 20) -> np.ndarray:
    """mIoU after click 1, 2, ..., ``max_clicks``: float64 (max_clicks,); ``[k - 1]`` = mIoU@k."""
    return _curves_matrix(curves, _check_max_clicks(max_clicks)).mean(axis=0)
