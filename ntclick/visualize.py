"""Pictures people look at: mask overlays with clicks, and FBU maps in colour.  Torch-free."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from ntclick.clicks import ClickKind, ClickLike, as_click
from ntclick.fbu import BG, FG, UNCERTAIN, as_bool_mask, validate_fbu
from ntclick.image_io import as_rgb_uint8

__all__ = ["CLICK_COLORS", "FBU_COLORS", "overlay_mask", "draw_clicks", "colorize_fbu"]

# RGB colours per click kind: green fg, red bg, yellow nt.
CLICK_COLORS = {ClickKind.FG: (40, 200, 40), ClickKind.BG: (230, 40, 40), ClickKind.NT: (250, 210, 0)}


def draw_clicks(image: np.ndarray, clicks: Iterable[ClickLike], radius: int | None = None) -> np.ndarray:
    """Draw clicks as filled circles with a white rim on a copy of an RGB image.

    Args:
        image: (H, W, 3) uint8 RGB (grayscale and RGBA are converted, see ``as_rgb_uint8``).
        clicks: clicks in image pixels; green = fg, red = bg, yellow = nt (:data:`CLICK_COLORS`).
        radius: circle radius in pixels; default scales with the image (at least 3).

    Returns:
        A new (H, W, 3) uint8 RGB image; the input is not modified.
    """
    out = as_rgb_uint8(image).copy()
    r = radius or max(3, round(max(out.shape[:2]) / 120))
    for c in clicks:
        c = as_click(c)
        centre = (round(c.x), round(c.y))
        cv2.circle(out, centre, r + max(1, r // 3), (255, 255, 255), -1, cv2.LINE_AA)
        cv2.circle(out, centre, r, CLICK_COLORS[c.kind], -1, cv2.LINE_AA)
    return out


def overlay_mask(
    image: np.ndarray,
    mask: np.ndarray,
    clicks: Iterable[ClickLike] = (),
    color: tuple[int, int, int] = (30, 144, 255),
    alpha: float = 0.5,
) -> np.ndarray:
    """Blend a mask over an RGB image, outline it in white and draw the clicks.

    Args:
        image: (H, W, 3) uint8 RGB (grayscale and RGBA are converted).
        mask: (H, W) binary mask (bool, 0/1 or 0/255) or a soft float mask with values in [0, 1].
        clicks: clicks to draw on top.
        color: RGB colour of the mask.
        alpha: opacity of the colour where the mask is 1.

    Returns:
        A new (H, W, 3) uint8 RGB image.
    """
    img = as_rgb_uint8(image)
    m = np.asarray(mask)
    if m.shape != img.shape[:2]:
        raise ValueError(f"mask shape {m.shape} does not match image shape {img.shape[:2]}")
    if np.issubdtype(m.dtype, np.floating):
        if m.size and not (np.nanmin(m) >= 0 and np.nanmax(m) <= 1):
            raise ValueError(f"a soft mask must hold values in [0, 1], got [{np.nanmin(m)}, {np.nanmax(m)}]")
        weight = np.nan_to_num(m.astype(np.float32))
    else:
        weight = as_bool_mask(m).astype(np.float32)  # 0/255 masks must not blend 255 times over
    a = weight[..., None] * np.float32(alpha)
    out = img.astype(np.float32) * (1 - a) + np.asarray(color, np.float32) * a
    out = out.clip(0, 255).astype(np.uint8)
    binary = (weight > 0.5).astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, (255, 255, 255), max(1, round(max(img.shape[:2]) / 500)), cv2.LINE_AA)
    return draw_clicks(out, clicks)


# RGB colour of each FBU class in colorize_fbu.
FBU_COLORS = {BG: (20, 30, 70), UNCERTAIN: (245, 150, 40), FG: (250, 250, 250)}


def colorize_fbu(fbu: np.ndarray) -> np.ndarray:
    """FBU map -> (H, W, 3) uint8 RGB: background dark blue, uncertain orange, foreground white
    (:data:`FBU_COLORS`)."""
    f = validate_fbu(fbu)
    palette = np.zeros((256, 3), dtype=np.uint8)
    for value, rgb in FBU_COLORS.items():
        palette[value] = rgb
    return palette[f]
