"""Masks as COCO run-length encodings, boxes and polygons: what annotation tools and datasets store.

- :func:`mask_to_rle` / :func:`rle_to_mask`: COCO's compressed RLE, ``{"size": [h, w],
  "counts": str}``, the ``segmentation`` of a COCO annotation with ``iscrowd`` or of SAM's
  ``coco_rle`` output. Runs go down the columns (column-major), starting with a run of
  background; ``counts`` is pycocotools' string encoding (``pycocotools.mask.encode`` gives the
  same characters as bytes, and ``pycocotools.mask.decode`` reads this dict back).
  :func:`rle_to_mask` also reads uncompressed RLE (``counts`` a list of run lengths).
- :func:`mask_bbox`: COCO's ``[x, y, width, height]`` box of the foreground.
- :func:`mask_to_polygons`: the outer boundary of each foreground component as an (N, 2) float
  array of ``(x, y)`` vertices, for tools that store polygons. A polygon cannot hold a hole, so
  holes are lost: use RLE where the mask must survive exactly.

Masks are (H, W) bool, 0/1 or 0/255, as everywhere in ntclick. Torch-free: NumPy and OpenCV.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from ntclick.fbu import as_bool_mask

__all__ = ["mask_bbox", "mask_to_polygons", "mask_to_rle", "rle_to_mask"]


def _run_lengths(mask: np.ndarray) -> list[int]:
    """Column-major run lengths, the first one of background (0 when the first pixel is fg)."""
    flat = mask.ravel(order="F")
    if flat.size == 0:
        return []
    changes = np.flatnonzero(flat[1:] != flat[:-1]) + 1
    bounds = np.concatenate(([0], changes, [flat.size]))
    runs = np.diff(bounds).tolist()
    return [0, *runs] if flat[0] else runs


def _encode_counts(runs: list[int]) -> str:
    """pycocotools' ``rleToString``: each count (minus the one two back, from the fourth on) in
    5-bit groups, low first, 0x20 = more follows, sign-extended from bit 0x10, plus 48."""
    out = []
    for i, run in enumerate(runs):
        x = run - runs[i - 2] if i > 2 else run
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = x != -1 if c & 0x10 else x != 0
            out.append(chr((c | 0x20 if more else c) + 48))
    return "".join(out)


def _decode_counts(text: str) -> list[int]:
    runs: list[int] = []
    p = 0
    while p < len(text):
        x = k = 0
        more = True
        while more:
            if p >= len(text):
                raise ValueError("RLE counts string ends in the middle of a number")
            c = ord(text[p]) - 48
            if not 0 <= c < 64:
                raise ValueError(f"RLE counts string holds {text[p]!r}, not a COCO RLE character")
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and c & 0x10:
                x |= -1 << (5 * k)
        if len(runs) > 2:
            x += runs[-2]
        runs.append(x)
    return runs


def mask_to_rle(mask: np.ndarray) -> dict[str, Any]:
    """COCO compressed RLE of a binary (H, W) mask: ``{"size": [H, W], "counts": str}``.

    Raises:
        ValueError: not a 2-D binary mask (bool, 0/1 or 0/255).
    """
    m = as_bool_mask(mask)
    h, w = m.shape
    return {"size": [int(h), int(w)], "counts": _encode_counts(_run_lengths(m))}


def rle_to_mask(rle: dict[str, Any]) -> np.ndarray:
    """The bool (H, W) mask of a COCO RLE: ``counts`` a compressed string (str or bytes) or a
    list of run lengths (uncompressed RLE).

    Raises:
        ValueError: no ``size`` / ``counts``, a malformed counts string, a negative run, or runs
            that do not add up to H x W.
    """
    if not isinstance(rle, dict) or "size" not in rle or "counts" not in rle:
        raise ValueError("an RLE is a dict with 'size' [H, W] and 'counts'")
    try:
        h, w = (int(v) for v in rle["size"])
    except (TypeError, ValueError):
        raise ValueError(f"RLE 'size' must be [H, W], got {rle['size']!r}") from None
    if h < 0 or w < 0:
        raise ValueError(f"RLE 'size' must be non-negative, got {[h, w]}")
    counts = rle["counts"]
    if isinstance(counts, bytes):
        counts = counts.decode("ascii")
    if isinstance(counts, str):
        runs = _decode_counts(counts)
    else:
        try:
            runs = [int(c) for c in counts]
        except (TypeError, ValueError):
            raise ValueError("RLE 'counts' must be a COCO string or a list of run lengths") from None
    if any(r < 0 for r in runs):
        raise ValueError("RLE counts hold a negative run length")
    if sum(runs) != h * w:
        raise ValueError(f"RLE runs cover {sum(runs)} pixels, but size {[h, w]} has {h * w}")
    values = np.arange(len(runs)) % 2 == 1  # runs alternate, background first
    flat = np.repeat(values, runs)
    return flat.reshape((w, h)).T.copy()


def mask_bbox(mask: np.ndarray) -> list[int]:
    """COCO's ``[x, y, width, height]`` of the foreground pixels (``[0, 0, 0, 0]`` when empty)."""
    m = as_bool_mask(mask)
    rows, cols = np.flatnonzero(m.any(axis=1)), np.flatnonzero(m.any(axis=0))
    if rows.size == 0:
        return [0, 0, 0, 0]
    return [int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)]


def mask_to_polygons(mask: np.ndarray, *, tolerance: float = 0.0, min_area: float = 0.0) -> list[np.ndarray]:
    """The outer boundary of each foreground component (8-connected) as a polygon.

    Args:
        mask: binary (H, W).
        tolerance: Douglas-Peucker simplification in pixels (0 keeps every boundary pixel).
        min_area: polygons enclosing less than this many square pixels are dropped.

    Returns:
        float32 (N, 2) arrays of ``(x, y)`` vertices through the boundary pixels' centres,
        largest area first; a polygon has at least 3 vertices (a component of one or two pixels
        has none), and holes are not represented.
    """
    if tolerance < 0 or min_area < 0:
        raise ValueError(f"tolerance and min_area must be >= 0, got {tolerance}, {min_area}")
    m = as_bool_mask(mask).astype(np.uint8)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    polygons = []
    for contour in contours:
        if tolerance > 0:
            contour = cv2.approxPolyDP(contour, tolerance, True)
        if len(contour) < 3:
            continue
        area = cv2.contourArea(contour)
        if area < min_area:
            continue
        polygons.append((area, contour[:, 0, :].astype(np.float32)))
    polygons.sort(key=lambda item: -item[0])
    return [p for _, p in polygons]
