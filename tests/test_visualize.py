"""Tests for ntclick.visualize: click drawing, mask overlays and FBU colours."""

from __future__ import annotations

import numpy as np
import pytest

from ntclick.clicks import Click, ClickKind
from ntclick.fbu import BG, FG, UNCERTAIN
from ntclick.visualize import CLICK_COLORS, FBU_COLORS, colorize_fbu, draw_clicks, overlay_mask


def test_colorize_fbu_paints_each_class():
    fbu = np.array([[BG, UNCERTAIN, FG]], np.uint8)
    rgb = colorize_fbu(fbu)
    assert rgb.shape == (1, 3, 3) and rgb.dtype == np.uint8
    assert [tuple(p) for p in rgb[0]] == [FBU_COLORS[BG], FBU_COLORS[UNCERTAIN], FBU_COLORS[FG]]
    assert len(set(FBU_COLORS.values())) == 3
    with pytest.raises(ValueError, match="not 0"):
        colorize_fbu(np.array([[5]], np.uint8))


def test_draw_clicks_paints_kind_colours_and_keeps_the_input():
    image = np.zeros((40, 60, 3), np.uint8)
    out = draw_clicks(image, [Click(10, 20, "fg"), (45, 8, "nt")], radius=9)
    assert image.sum() == 0  # input untouched
    assert tuple(out[20, 10]) == CLICK_COLORS[ClickKind.FG]
    assert tuple(out[8, 45]) == CLICK_COLORS[ClickKind.NT]
    assert tuple(out[20, 21]) == (255, 255, 255)  # the white rim (radius 9 to 12) around the disk
    assert out[30:, 20:40].sum() == 0  # nothing drawn far from the clicks
    gray = draw_clicks(np.zeros((10, 10), np.uint8), [Click(5, 5, "bg")], radius=2)
    assert gray.shape == (10, 10, 3) and tuple(gray[5, 5]) == CLICK_COLORS[ClickKind.BG]


@pytest.mark.parametrize("dtype", [bool, np.uint8])
def test_overlay_mask_blends_inside_and_keeps_outside(dtype):
    image = np.full((50, 50, 3), 100, np.uint8)
    mask = np.zeros((50, 50), dtype)
    mask[10:40, 10:40] = 1 if dtype is bool else 255
    out = overlay_mask(image, mask, color=(0, 0, 200), alpha=0.5)
    assert out.shape == image.shape and out.dtype == np.uint8
    assert tuple(out[25, 25]) == (50, 50, 150)  # 0.5 * 100 + 0.5 * colour
    assert tuple(out[2, 2]) == (100, 100, 100)
    assert (out[10, 15:35].astype(int) > 200).all()  # a (antialiased) white outline on the edge


def test_overlay_mask_soft_mask_and_clicks():
    image = np.zeros((20, 20, 3), np.uint8)
    soft = np.full((20, 20), 0.25, np.float32)
    out = overlay_mask(image, soft, clicks=[Click(15, 15, "fg")], color=(200, 200, 200), alpha=1.0)
    assert tuple(out[2, 2]) == (50, 50, 50)
    assert tuple(out[15, 15]) == CLICK_COLORS[ClickKind.FG]


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.zeros((5, 5), bool), "does not match"),
        (np.full((8, 8), 2.0, np.float32), r"\[0, 1\]"),
        (np.full((8, 8), 3, np.uint8), "binary"),
    ],
)
def test_overlay_mask_rejects_bad_masks(mask, message):
    with pytest.raises(ValueError, match=message):
        overlay_mask(np.zeros((8, 8, 3), np.uint8), mask)
