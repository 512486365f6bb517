"""Clicks: the user's input, its array form and its disk-map encoding.

Coordinate convention (SAM's): ``x`` is the column, ``y`` the row, both in pixels of the
*original* image, pixel centres at integer coordinates.  A click is inside an image of
shape ``(H, W)`` when ``0 <= x < W`` and ``0 <= y < H``; the pixel it falls on is row ``int(y)``,
column ``int(x)`` (:func:`click_pixel` returns ``(row, col)``).

Array form (SAM's, plus one label): ``point_coords`` float (N, 2) of ``(x, y)`` and
``point_labels`` int (N,) with 1 = foreground, 0 = background, 2 = noise-tolerant.

This module imports NumPy only, never torch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Union

import numpy as np

__all__ = [
    "ClickKind",
    "Click",
    "ClickLike",
    "as_click",
    "clicks_to_arrays",
    "clicks_from_arrays",
    "validate_clicks",
    "encode_disks",
    "click_pixel",
    "scale_point",
    "scale_clicks",
]


class ClickKind(str, Enum):
    """The three kinds of click; the value is the short name used in files and on the CLI."""

    FG = "fg"  # foreground: "this pixel is the object"
    BG = "bg"  # background: "this pixel is not the object"
    NT = "nt"  # noise-tolerant: "fine structure somewhere around here"

    @property
    def label(self) -> int:
        """SAM-style integer label: 1 = fg, 0 = bg, 2 = nt."""
        return _KIND_TO_LABEL[self]

    @property
    def channel(self) -> int:
        """Channel of this kind in the disk maps (order fg, bg, nt)."""
        return _KIND_TO_CHANNEL[self]

    @classmethod
    def from_label(cls, label: int) -> ClickKind:
        try:
            return _LABEL_TO_KIND[int(label)]
        except (KeyError, ValueError, TypeError):
            raise ValueError(f"unknown click label {label!r}: expected 1 (fg), 0 (bg) or 2 (nt)") from None

    @classmethod
    def parse(cls, kind: ClickKind | str) -> ClickKind:
        """Accept a ``ClickKind`` or one of the strings ``"fg"``, ``"bg"``, ``"nt"`` (any case)."""
        if isinstance(kind, ClickKind):
            return kind
        if isinstance(kind, str):
            try:
                return cls(kind.strip().lower())
            except ValueError:
                pass
        raise ValueError(f"unknown click kind {kind!r}: expected one of 'fg', 'bg', 'nt'")


_KIND_TO_LABEL = {ClickKind.FG: 1, ClickKind.BG: 0, ClickKind.NT: 2}
_LABEL_TO_KIND = {v: k for k, v in _KIND_TO_LABEL.items()}
_KIND_TO_CHANNEL = {ClickKind.FG: 0, ClickKind.BG: 1, ClickKind.NT: 2}


@dataclass(frozen=True)
class Click:
    """One click at ``(x, y)`` (column, row; original-image pixels) of a given kind.

    ``kind`` may be given as a string (``"fg"``, ``"bg"``, ``"nt"``); it is stored as a
    :class:`ClickKind`.
    """

    x: float
    y: float
    kind: ClickKind = ClickKind.FG

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", ClickKind.parse(self.kind))
        for name in ("x", "y"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
                raise ValueError(f"click {name} must be a number, got {value!r}")
            object.__setattr__(self, name, float(value))

    @property
    def is_finite(self) -> bool:
        return math.isfinite(self.x) and math.isfinite(self.y)

    def __str__(self) -> str:
        return f"{self.kind.value}:{self.x:g},{self.y:g}"


ClickLike = Union[Click, tuple[float, float, Union[ClickKind, str]]]  # noqa: UP007 (a runtime alias)


def as_click(click: ClickLike) -> Click:
    """Turn a :class:`Click` or an ``(x, y, kind)`` tuple into a :class:`Click`."""
    if isinstance(click, Click):
        return click
    if isinstance(click, (tuple, list)) and len(click) == 3:
        return Click(click[0], click[1], click[2])
    raise ValueError(f"cannot read {click!r} as a click: expected Click(x, y, kind) or (x, y, kind)")


def click_pixel(click: Click) -> tuple[int, int]:
    """The ``(row, col)`` pixel a click falls on."""
    return int(click.y), int(click.x)


def scale_clicks(
    clicks: Iterable[ClickLike], scale: tuple[float, float], shape: Sequence[int]
) -> list[Click]:
    """Clicks in original pixels -> the same clicks on a grid of ``shape`` = (h, w) resized by
    ``scale`` = (sx, sy) (:func:`scale_point`), clipped into it: a click on the last original
    pixel may land a hair outside."""
    h, w = int(shape[0]), int(shape[1])
    out = []
    for c in map(as_click, clicks):
        x, y = scale_point(c.x, c.y, scale)
        out.append(Click(float(np.clip(x, 0, w - 1)), float(np.clip(y, 0, h - 1)), c.kind))
    return out


def scale_point(x: float, y: float, scale: tuple[float, float]) -> tuple[float, float]:
    """``(x, y)`` in original pixels -> the same point on a grid resized by ``scale`` = (sx, sy).

    Pixel centres are aligned, as ``cv2.resize`` does: ``x -> (x + 0.5) * sx - 0.5``.  Every
    coordinate transform of clicks (disk maps, the predictor's working and ECP grids) uses it.
    """
    return (x + 0.5) * scale[0] - 0.5, (y + 0.5) * scale[1] - 0.5


def clicks_to_arrays(clicks: Iterable[ClickLike]) -> tuple[np.ndarray, np.ndarray]:
    """Clicks -> SAM-style ``(point_coords float64 (N, 2) of x, y, point_labels int64 (N,))``."""
    cs = [as_click(c) for c in clicks]
    coords = np.array([[c.x, c.y] for c in cs], dtype=np.float64).reshape(-1, 2)
    labels = np.array([c.kind.label for c in cs], dtype=np.int64)
    return coords, labels


def clicks_from_arrays(
    point_coords: np.ndarray | Sequence, point_labels: np.ndarray | Sequence
) -> list[Click]:
    """SAM-style arrays -> clicks.  ``point_coords`` (N, 2) of ``(x, y)``; labels 1/0/2."""
    coords = np.asarray(point_coords, dtype=np.float64)
    labels = np.asarray(point_labels)
    if coords.size == 0 and labels.size == 0:
        return []
    if coords.ndim != 2 or coords.shape[1] != 2:
        raise ValueError(f"point_coords must have shape (N, 2) of (x, y), got shape {coords.shape}")
    if labels.ndim != 1 or labels.shape[0] != coords.shape[0]:
        raise ValueError(
            f"point_labels must have shape ({coords.shape[0]},) to match point_coords, got shape {labels.shape}"
        )
    if not (np.issubdtype(labels.dtype, np.integer) or np.all(np.mod(labels, 1) == 0)):
        raise ValueError(f"point_labels must be integers 1 (fg), 0 (bg) or 2 (nt), got {labels.tolist()}")
    return [Click(x, y, ClickKind.from_label(int(lab))) for (x, y), lab in zip(coords, labels, strict=True)]


def validate_clicks(clicks: Iterable[ClickLike], image_shape: Sequence[int]) -> list[Click]:
    """Check that every click is finite and inside an image of shape ``(H, W, ...)``.

    Returns the clicks as :class:`Click` objects; raises ``ValueError`` naming the first
    offending click and its index.
    """
    h, w = int(image_shape[0]), int(image_shape[1])
    out = []
    for i, c in enumerate(clicks):
        c = as_click(c)
        if not c.is_finite:
            raise ValueError(f"click {i} ({c}) has a non-finite coordinate")
        if not (0 <= c.x < w and 0 <= c.y < h):
            raise ValueError(
                f"click {i} ({c}) is outside the image: x must be in [0, {w}) and y in [0, {h}) "
                f"for an image of height {h} and width {w}"
            )
        out.append(c)
    return out


def encode_disks(
    clicks: Iterable[ClickLike],
    shape: Sequence[int],
    radius: float = 5,
    scale: float | tuple[float, float] = 1.0,
) -> np.ndarray:
    """Encode clicks as binary disk maps, one channel per kind in the order fg, bg, nt.

    Args:
        clicks: clicks in original-image pixels.
        shape: ``(H, W)`` of the network input the maps are for.
        radius: disk radius in pixels of the network input.
        scale: network-input size over original size, one number or ``(sx, sy)``; a click
            at original ``x`` lands at ``(x + 0.5) * sx - 0.5`` (pixel centres aligned, as
            ``cv2.resize`` does), likewise for ``y``.

    Returns:
        float32 array (3, H, W) with 1 inside a disk of that kind and 0 elsewhere.  Clicks
        whose centre falls outside ``shape`` (for example in padding) still draw the part of
        their disk that is inside.
    """
    h, w = int(shape[0]), int(shape[1])
    if h <= 0 or w <= 0:
        raise ValueError(f"shape must be a positive (H, W), got {tuple(shape)}")
    if not radius >= 0:  # also catches NaN
        raise ValueError(f"radius must be >= 0, got {radius}")
    sx, sy = (scale, scale) if np.isscalar(scale) else scale
    if not (np.isfinite(sx) and np.isfinite(sy) and sx > 0 and sy > 0):
        raise ValueError(f"scale must be positive and finite, one number or (sx, sy), got {scale!r}")
    maps = np.zeros((3, h, w), dtype=np.float32)
    rows = np.arange(h, dtype=np.float32)[:, None]
    cols = np.arange(w, dtype=np.float32)[None, :]
    r2 = float(radius) ** 2
    for c in clicks:
        c = as_click(c)
        cx, cy = scale_point(c.x, c.y, (sx, sy))
        # Only the disk's bounding box is touched: encoding stays cheap on large inputs.
        r0, r1 = max(int(math.floor(cy - radius)), 0), min(int(math.ceil(cy + radius)) + 1, h)
        c0, c1 = max(int(math.floor(cx - radius)), 0), min(int(math.ceil(cx + radius)) + 1, w)
        if r0 >= r1 or c0 >= c1:
            continue
        inside = (rows[r0:r1] - cy) ** 2 + (cols[:, c0:c1] - cx) ** 2 <= r2
        maps[c.kind.channel, r0:r1, c0:c1][inside] = 1.0
    return maps
