"""Synthetic fine structures over real photographs, with exact alpha masks.

There is no real high-resolution fine-structure data here (DIS5K is not reachable), so the
refine network is trained and tested on thin structures drawn by this module: wires and
cables (Bezier curves of varying width), branches (recursive trees), hair-like strands,
wheel spokes, fences and meshes, and thin text.

How a sample is made (:func:`render_sample`):

1. A background: a photograph scaled to cover the requested size (long side ``size``, the
   photograph's aspect ratio); when that would upscale more than ``MAX_UPSCALE`` times the
   photograph is mirror-tiled instead, so large outputs are not one blurry blow-up.
2. A coverage map: the structures are drawn with anti-aliased OpenCV primitives
   (``cv2.LINE_AA``, sub-pixel coordinates) on a canvas ``supersample`` times larger, then
   area-averaged down.  The result, in [0, 1], is the exact fraction of each pixel covered:
   the **alpha** matte of the object.
3. A foreground colour field (one colour with smooth shading), and the composite
   ``image = alpha * foreground + (1 - alpha) * background``, rounded to uint8.

The binary mask is ``alpha >= 0.5``.  Everything is drawn from one
``numpy.random.Generator``: the same seed gives the same sample, bit for bit.

:func:`write_synthetic_set` writes a fixed held-out set (``images/``, ``masks/``, ``alpha/``,
``manifest.json``) that :class:`ntclick.train.sources.FolderSource` reads back.

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

import json
import math
import os
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ntclick.image_io import atomic_write_bytes, load_image, save_image
from ntclick.progress import track

__all__ = [
    "STRUCTURE_KINDS",
    "MAX_UPSCALE",
    "SyntheticSample",
    "render_background",
    "render_alpha",
    "render_sample",
    "composite",
    "write_synthetic_set",
]

STRUCTURE_KINDS = ("wires", "branches", "hair", "spokes", "mesh", "text")
MAX_UPSCALE = 3.0  # beyond this a photograph is tiled rather than blown up
_SHIFT = 4  # OpenCV fixed-point bits: coordinates are drawn with 1/16 px precision
_ONE = 1 << _SHIFT


@dataclass
class SyntheticSample:
    """One synthetic sample.

    Attributes:
        image: uint8 (H, W, 3) RGB composite.
        alpha: float32 (H, W) in [0, 1], the fraction of each pixel covered by the structures.
        background: uint8 (H, W, 3) RGB photograph the structures were composited over.
        foreground: uint8 (H, W, 3) RGB colour field of the structures, so that
            ``image == rint(alpha * foreground + (1 - alpha) * background)``.
        kinds: the structure kinds drawn.
    """

    image: np.ndarray
    alpha: np.ndarray
    background: np.ndarray
    foreground: np.ndarray
    kinds: tuple[str, ...]

    @property
    def mask(self) -> np.ndarray:
        """bool (H, W) binary mask: ``alpha >= 0.5``."""
        return self.alpha >= 0.5


# ---------------------------------------------------------------------------- background


def _output_shape(photo_shape: Sequence[int], size: int) -> tuple[int, int]:
    h, w = int(photo_shape[0]), int(photo_shape[1])
    scale = size / max(h, w)
    return max(1, round(h * scale)), max(1, round(w * scale))


def render_background(rng: np.random.Generator, photo: np.ndarray, size: int) -> np.ndarray:
    """A uint8 (H, W, 3) background with long side ``size`` and the photograph's aspect ratio.

    Randomly flipped; mirror-tiled (each tile upscaled at most ``MAX_UPSCALE`` times) when
    the photograph is much smaller than the output.
    """
    h, w = _output_shape(photo.shape, size)
    if rng.random() < 0.5:
        photo = photo[:, ::-1]
    scale = max(h / photo.shape[0], w / photo.shape[1])
    if scale > MAX_UPSCALE:
        scale = float(rng.uniform(MAX_UPSCALE / 2, MAX_UPSCALE))
        tile = cv2.resize(
            np.ascontiguousarray(photo),
            (round(photo.shape[1] * scale), round(photo.shape[0] * scale)),
            interpolation=cv2.INTER_CUBIC,
        )
        # Mirror tiling keeps the seams continuous.
        top = np.concatenate([tile, tile[:, ::-1]], axis=1)
        block = np.concatenate([top, top[::-1]], axis=0)
        reps = (math.ceil(h / block.shape[0]) + 1, math.ceil(w / block.shape[1]) + 1, 1)
        big = np.tile(block, reps)
    else:
        scale *= float(rng.uniform(1.0, 1.2))  # a little slack for a random crop
        big = cv2.resize(
            np.ascontiguousarray(photo),
            (max(w, round(photo.shape[1] * scale)), max(h, round(photo.shape[0] * scale))),
            interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA,
        )
    y0 = int(rng.integers(0, big.shape[0] - h + 1))
    x0 = int(rng.integers(0, big.shape[1] - w + 1))
    return np.ascontiguousarray(big[y0 : y0 + h, x0 : x0 + w])


# ---------------------------------------------------------------------------- structures
# Each drawer paints 255 on a uint8 canvas (H * ss, W * ss) with anti-aliased primitives.
# ``px`` is one output pixel in canvas units (= ss); ``unit`` scales sizes with the image.


def _fixed(points: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(points) * _ONE).astype(np.int32)


def _segment(canvas: np.ndarray, p0: np.ndarray, p1: np.ndarray, width: float) -> None:
    """A line ``width`` canvas pixels wide (at least 1: with ``supersample`` 2, half an output pixel).

    Always full intensity: OpenCV blends an anti-aliased line *towards* its colour, so a
    fainter line would darken structures it crosses.
    """
    thickness = max(1, round(width))
    a, b = _fixed(p0), _fixed(p1)
    cv2.line(canvas, (int(a[0]), int(a[1])), (int(b[0]), int(b[1])), 255, thickness, cv2.LINE_AA, _SHIFT)


def _bezier(points: np.ndarray, n: int) -> np.ndarray:
    """Points (n, 2) along a Bezier curve with control points ``points`` (k, 2)."""
    t = np.linspace(0.0, 1.0, n)[:, None]
    k = len(points) - 1
    coeffs = [math.comb(k, i) * (1 - t) ** (k - i) * t**i for i in range(k + 1)]
    return sum(c * p for c, p in zip(coeffs, points, strict=True))


def _curve(canvas: np.ndarray, pts: np.ndarray, widths: np.ndarray) -> None:
    for i in range(len(pts) - 1):
        _segment(canvas, pts[i], pts[i + 1], float(widths[i]))


def _border_point(rng: np.random.Generator, h: float, w: float) -> np.ndarray:
    side = int(rng.integers(4))
    t = float(rng.random())
    return np.array([[t * w, 0.0], [w, t * h], [t * w, h], [0.0, t * h]][side])


def _draw_wires(canvas: np.ndarray, rng: np.random.Generator, px: float, unit: float) -> None:
    h, w = canvas.shape
    for _ in range(int(rng.integers(1, 5))):
        p0, p3 = _border_point(rng, h, w), _border_point(rng, h, w)
        ctrl = rng.uniform([0, 0], [w, h], size=(2, 2))
        pts = _bezier(np.stack([p0, ctrl[0], ctrl[1], p3]), 200)
        base = rng.uniform(1.0, 6.0) * px * unit
        # Width varies smoothly along the wire (sag, perspective).
        t = np.linspace(0, 1, len(pts))
        widths = base * (1 + 0.4 * np.sin(2 * np.pi * (rng.random() + rng.uniform(0.5, 2) * t)))
        _curve(canvas, pts, widths)


def _draw_branches(canvas: np.ndarray, rng: np.random.Generator, px: float, unit: float) -> None:
    h, w = canvas.shape
    start = _border_point(rng, h, w)
    toward = np.array([w / 2, h / 2]) + rng.normal(0, 0.15, 2) * [w, h]
    angle = math.atan2(toward[1] - start[1], toward[0] - start[0])
    length = max(h, w) * rng.uniform(0.25, 0.4)
    width = rng.uniform(4.0, 10.0) * px * unit
    max_depth = int(rng.integers(4, 7))

    def grow(p: np.ndarray, angle: float, length: float, width: float, depth: int) -> None:
        if depth > max_depth or width < 0.3 * px:
            return
        end = p + length * np.array([math.cos(angle), math.sin(angle)])
        bend = (p + end) / 2 + rng.normal(0, 0.08 * length, 2)
        pts = _bezier(np.stack([p, bend, end]), max(8, int(length / (4 * px))))
        _curve(canvas, pts, np.linspace(width, 0.7 * width, len(pts)))
        for _ in range(int(rng.integers(2, 4))):
            grow(
                end,
                angle + math.radians(rng.uniform(15, 45)) * rng.choice([-1, 1]),
                length * rng.uniform(0.55, 0.8),
                width * 0.65,
                depth + 1,
            )

    grow(start, angle, length, width, 0)


def _draw_hair(canvas: np.ndarray, rng: np.random.Generator, px: float, unit: float) -> None:
    h, w = canvas.shape
    root = rng.uniform([0.2 * w, 0.2 * h], [0.8 * w, 0.8 * h])
    mean_angle = rng.uniform(0, 2 * np.pi)
    spread = rng.uniform(0.3, 1.2)
    for _ in range(int(rng.integers(30, 150))):
        a = mean_angle + rng.normal(0, spread)
        length = max(h, w) * rng.uniform(0.15, 0.45)
        p0 = root + rng.normal(0, 0.03 * max(h, w), 2)
        direction = np.array([math.cos(a), math.sin(a)])
        normal = np.array([-direction[1], direction[0]])
        mid = p0 + direction * length / 2 + normal * rng.normal(0, 0.15 * length)
        end = p0 + direction * length + normal * rng.normal(0, 0.2 * length)
        pts = _bezier(np.stack([p0, mid, end]), 60)
        width = rng.uniform(0.5, 1.5) * px * unit
        _curve(canvas, pts, np.linspace(width, 0.5 * width, len(pts)))


def _draw_spokes(canvas: np.ndarray, rng: np.random.Generator, px: float, unit: float) -> None:
    h, w = canvas.shape
    centre = rng.uniform([0.3 * w, 0.3 * h], [0.7 * w, 0.7 * h])
    radius = min(h, w) * rng.uniform(0.2, 0.45)
    squash = rng.uniform(0.55, 1.0)  # a wheel seen at an angle is an ellipse
    tilt = rng.uniform(0, np.pi)
    rot = np.array([[math.cos(tilt), -math.sin(tilt)], [math.sin(tilt), math.cos(tilt)]])

    def on_ellipse(theta: np.ndarray, r: float) -> np.ndarray:
        local = np.stack([r * np.cos(theta), r * squash * np.sin(theta)], axis=-1)
        return centre + local @ rot.T

    rim_width = rng.uniform(3.0, 10.0) * px * unit
    ring = on_ellipse(np.linspace(0, 2 * np.pi, 361), radius)
    _curve(canvas, ring, np.full(len(ring), rim_width))
    hub = on_ellipse(np.linspace(0, 2 * np.pi, 121), radius * 0.08)
    cv2.fillPoly(canvas, [_fixed(hub)], 255, cv2.LINE_AA, _SHIFT)
    n = int(rng.integers(12, 37))
    spoke_width = rng.uniform(0.8, 3.0) * px * unit
    for theta in np.linspace(0, 2 * np.pi, n, endpoint=False) + rng.uniform(0, np.pi):
        _segment(
            canvas,
            on_ellipse(np.array(theta), radius * 0.08),
            on_ellipse(np.array(theta), radius),
            spoke_width,
        )


def _draw_mesh(canvas: np.ndarray, rng: np.random.Generator, px: float, unit: float) -> None:
    h, w = canvas.shape
    diag = math.hypot(h, w)
    layer = np.zeros_like(canvas)
    spacing = rng.uniform(15.0, 60.0) * px * unit
    width = rng.uniform(1.0, 4.0) * px * unit
    theta0 = rng.uniform(0, np.pi)
    for theta in (theta0, theta0 + math.radians(rng.uniform(60, 120))):
        d = np.array([math.cos(theta), math.sin(theta)])
        nrm = np.array([-d[1], d[0]])
        centre = np.array([w / 2, h / 2])
        for off in np.arange(-diag / 2, diag / 2, spacing) + rng.uniform(0, spacing):
            p = centre + nrm * off
            _segment(layer, p - d * diag, p + d * diag, width)
    # The fence covers a random quadrilateral, not necessarily the whole picture.
    corners = rng.uniform([0, 0], [0.45, 0.45], size=(4, 2)) * [w, h]
    corners[1, 0], corners[2] = w - corners[1, 0], [w, h] - corners[2]
    corners[3, 1] = h - corners[3, 1]
    region = np.zeros_like(canvas)
    cv2.fillPoly(region, [_fixed(corners)], 255, cv2.LINE_AA, _SHIFT)
    frame_width = rng.uniform(2.0, 6.0) * px * unit
    closed = np.vstack([corners, corners[:1]])
    np.maximum(canvas, (layer.astype(np.uint16) * region // 255).astype(np.uint8), out=canvas)
    _curve(canvas, closed, np.full(len(closed), frame_width))


def _draw_text(canvas: np.ndarray, rng: np.random.Generator, px: float, unit: float) -> None:
    h, w = canvas.shape
    fonts = (
        cv2.FONT_HERSHEY_SIMPLEX,
        cv2.FONT_HERSHEY_DUPLEX,
        cv2.FONT_HERSHEY_COMPLEX,
        cv2.FONT_HERSHEY_PLAIN,
    )
    alphabet = string.ascii_letters + string.digits
    for _ in range(int(rng.integers(2, 7))):
        text = "".join(rng.choice(list(alphabet), size=int(rng.integers(4, 14))))
        font = int(rng.choice(fonts))
        height = rng.uniform(20.0, 80.0) * px * unit
        scale = height / cv2.getTextSize("Hg", font, 1.0, 1)[0][1]
        thickness = max(1, round(rng.uniform(1.0, 3.0) * px * unit))
        (tw, th), _ = cv2.getTextSize(text, font, scale, thickness)
        x = rng.uniform(0, max(1.0, w - tw))
        y = rng.uniform(th, max(th + 1.0, h))
        cv2.putText(canvas, text, (int(x), int(y)), font, scale, 255, thickness, cv2.LINE_AA)


_DRAWERS: dict[str, Callable[[np.ndarray, np.random.Generator, float, float], None]] = {
    "wires": _draw_wires,
    "branches": _draw_branches,
    "hair": _draw_hair,
    "spokes": _draw_spokes,
    "mesh": _draw_mesh,
    "text": _draw_text,
}


def render_alpha(
    rng: np.random.Generator, shape: Sequence[int], kinds: Sequence[str], supersample: int = 2
) -> np.ndarray:
    """Draw structures of the given kinds; return float32 (H, W) coverage (alpha) in [0, 1].

    The canvas is ``supersample`` times larger than ``shape`` and area-averaged down, so
    sub-pixel strands get fractional alpha.  Structure widths are in output pixels, scaled
    gently (square root) with the image size relative to 1024.
    """
    if supersample < 1:
        raise ValueError(f"supersample must be >= 1, got {supersample}")
    unknown = sorted(set(kinds) - set(_DRAWERS))
    if unknown:
        raise ValueError(f"unknown structure kind(s) {unknown}; known: {STRUCTURE_KINDS}")
    h, w = int(shape[0]), int(shape[1])
    canvas = np.zeros((h * supersample, w * supersample), dtype=np.uint8)
    unit = math.sqrt(max(h, w) / 1024)
    for kind in kinds:
        _DRAWERS[kind](canvas, rng, float(supersample), unit)
    if supersample > 1:
        canvas = cv2.resize(canvas.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA)
    return (canvas.astype(np.float32) / 255.0).clip(0.0, 1.0)


def _foreground_colour(rng: np.random.Generator, background: np.ndarray) -> np.ndarray:
    """A float32 (H, W, 3) colour field contrasting (mostly) with the background's mean."""
    bg_lum = float(background.mean())
    if rng.random() < 0.8:  # usually contrast with the scene, sometimes not (it happens)
        lum = rng.uniform(10, 80) if bg_lum > 110 else rng.uniform(170, 250)
    else:
        lum = rng.uniform(10, 250)
    tint = rng.normal(0, 0.25, 3)
    colour = np.clip(lum * (1 + tint), 0, 255)
    h, w = background.shape[:2]
    # Smooth shading: a random linear ramp of +-20%.
    gy, gx = np.mgrid[0:h, 0:w].astype(np.float32)
    direction = rng.normal(size=2)
    ramp = (gx * direction[0] / max(w, 1) + gy * direction[1] / max(h, 1)).astype(np.float32)
    ramp = 1 + 0.2 * (ramp - ramp.mean()) / (np.abs(ramp).max() + 1e-6)
    return np.clip(ramp[:, :, None] * colour[None, None, :].astype(np.float32), 0, 255)


def render_sample(
    rng: np.random.Generator,
    photo: np.ndarray,
    size: int,
    *,
    kinds: Sequence[str] = STRUCTURE_KINDS,
    supersample: int = 2,
    min_coverage: float = 0.002,
    max_tries: int = 8,
) -> SyntheticSample:
    """One sample: structures of one kind drawn from ``kinds`` (a second one 30% of the time)
    over ``photo`` (uint8 (h, w, 3) RGB) scaled to long side ``size``.

    Draws again (up to ``max_tries``) when the structures cover less than ``min_coverage``
    of the image (e.g. a wire that only grazes a corner).
    """
    if size < 16:
        raise ValueError(f"size must be >= 16, got {size}")
    if not kinds:
        raise ValueError("kinds must name at least one structure kind")
    background = render_background(rng, photo, size)
    h, w = background.shape[:2]
    for _ in range(max_tries):
        chosen = [str(rng.choice(list(kinds)))]
        if len(kinds) > 1 and rng.random() < 0.3:
            chosen.append(str(rng.choice([k for k in kinds if k != chosen[0]])))
        alpha = render_alpha(rng, (h, w), chosen, supersample)
        if alpha.mean() >= min_coverage:
            break
    fg = np.rint(_foreground_colour(rng, background)).astype(np.uint8)
    image = composite(alpha, fg, background)
    return SyntheticSample(
        image=image, alpha=alpha, background=background, foreground=fg, kinds=tuple(chosen)
    )


def composite(alpha: np.ndarray, foreground: np.ndarray, background: np.ndarray) -> np.ndarray:
    """``rint(alpha * foreground + (1 - alpha) * background)`` as uint8 (H, W, 3); alpha float (H, W)."""
    a = alpha[:, :, None]
    blend = a * foreground.astype(np.float32) + (1 - a) * background.astype(np.float32)
    return np.rint(blend).clip(0, 255).astype(np.uint8)


def write_synthetic_set(
    out_dir: str | os.PathLike,
    count: int,
    seed: int,
    size: int,
    backgrounds: str | os.PathLike,
    *,
    kinds: Sequence[str] = STRUCTURE_KINDS,
    supersample: int = 2,
    image_format: str = "jpg",
    progress: bool = True,
    split: str = "all",
) -> Path:
    """Write a fixed synthetic test set; sample ``i`` depends only on ``(seed, i)``.

    Layout (readable by ``FolderSource(out/images, out/masks)``)::

        out/images/synth_<seed>_<i>.<jpg|png>   uint8 RGB composite
        out/masks/synth_<seed>_<i>.png          0/255 binary mask (alpha >= 0.5)
        out/alpha/synth_<seed>_<i>.png          uint8 alpha matte (round(255 * alpha))
        out/manifest.json                       parameters and per-sample kinds and sizes

    Backgrounds are the sorted image files of ``backgrounds``, or with ``split="val"`` /
    ``"train"`` only those of that split (the training sources' split: ``val_fraction`` 0.05,
    ``split_seed`` 0), so a test set on ``"val"`` backgrounds shares no photograph with the
    synthetic training stream (which uses ``"train"``).  Returns ``out_dir``.
    """
    from ntclick.train.sources import _list_images, split_ids  # the same listing the sources use

    if count < 1:
        raise ValueError(f"count must be >= 1, got {count}")
    if size < 16:
        raise ValueError(f"size must be >= 16, got {size}")
    unknown = sorted(set(kinds) - set(STRUCTURE_KINDS)) if kinds else ["(none given)"]
    if unknown:
        raise ValueError(f"unknown structure kind(s) {unknown}; known: {', '.join(STRUCTURE_KINDS)}")
    if image_format not in ("jpg", "png"):
        raise ValueError(f"image_format must be 'jpg' or 'png', got {image_format!r}")
    listing = _list_images(Path(backgrounds))
    if not listing:
        raise ValueError(f"no background photographs in {backgrounds}")
    files = [listing[i] for i in split_ids(list(listing), split, 0.05, 0)]
    if not files:
        raise ValueError(f"the {split!r} split of the backgrounds in {backgrounds} is empty")
    out = Path(out_dir)
    for sub in ("images", "masks", "alpha"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    items = []
    for i in track(range(count), "synthetic", "image", enabled=progress):
        rng = np.random.default_rng([seed, i])
        photo_path = files[int(rng.integers(len(files)))]
        sample = render_sample(rng, load_image(photo_path), size, kinds=kinds, supersample=supersample)
        name = f"synth_{seed}_{i:05d}"
        save_image(out / "images" / f"{name}.{image_format}", sample.image)
        save_image(out / "masks" / f"{name}.png", sample.mask)
        save_image(out / "alpha" / f"{name}.png", np.rint(sample.alpha * 255).astype(np.uint8))
        items.append(
            {
                "name": name,
                "kinds": list(sample.kinds),
                "background": photo_path.name,
                "shape": list(sample.alpha.shape),
            }
        )
    manifest = {
        "generator": "ntclick.train.synthetic",
        "seed": seed,
        "count": count,
        "size": size,
        "supersample": supersample,
        "kinds": list(kinds),
        "background_split": split,
        # Text is drawn with OpenCV's Hershey fonts, whose rasterisation changed between OpenCV
        # 4 and 5: the same seed gives other text masks under another major version.
        "opencv": cv2.__version__,
        "items": items,
    }
    atomic_write_bytes(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return out
