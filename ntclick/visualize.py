"""Pictures people look at: mask overlays with clicks, and FBU maps in colour.  Torch-free."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from ntclick.clicks import ClickKind, ClickLike, as_click
from ntclick.fbu import BG, FG, UNCERTAIN, validate_fbu

__all__ = ["CLICK_COLORS", "overlay_mask", "draw_clicks", "colorize_fbu"]

# RGB colours per click kind: green fg, red bg, yellow nt.
CLICK_COLORS = {ClickKind.FG: (40, 200, 40), ClickKind.BG: (230, 40, 40), ClickKind.NT: (250, 210, 0)}


def draw_clicks(image: np.ndarray, clicks: Iterable[ClickLike], radius: int | None = None) -> np.ndarray:
    """Draw clicks as filled circles with a white rim on a copy of an (H, W, 3) uint8 RGB image."""
    out = np.ascontiguousarray(image.copy())
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
    """Blend a mask (bool or soft float in [0, 1], (H, W)) over an RGB image, outline it, draw clicks.

    Returns a new (H, W, 3) uint8 RGB image.
    """
    img = np.asarray(image)
    m = np.asarray(mask)
    if m.shape != img.shape[:2]:
        raise ValueError(f"mask shape {m.shape} does not match image shape {img.shape[:2]}")
    a = (m.astype(np.float32) if m.dtype != np.bool_ else m.astype(np.float32)) * alpha
    out = img.astype(np.float32) * (1 - a[..., None]) + np.asarray(color, np.float32) * a[..., None]
    out = out.clip(0, 255).astype(np.uint8)
    binary = (m > 0.5).astype(np.uint8) if m.dtype != np.bool_ else m.astype(np.uint8)
    contours, _ = cv2.findContours(binary, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(out, contours, -1, (255, 255, 255), max(1, round(max(img.shape[:2]) / 500)), cv2.LINE_AA)
    return draw_clicks(out, clicks)


def colorize_fbu(fbu: np.ndarray) -> np.ndarray:
    """FBU map -> (H, W, 3) uint8 RGB: background dark blue, uncertain orange, foreground white."""
    f = validate_fbu(fbu)
    out = np.zeros((*f.shape, 3), dtype=np.uint8)
    out[f == BG] = (20, 30, 70)
    out[f == UNCERTAIN] = (245, 150, 40)
    out[f == FG] = (250, 250, 250)
    return out
