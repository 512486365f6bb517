"""ntclick.mask_formats: COCO RLE (checked against pycocotools' own strings), boxes, polygons."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ntclick.mask_formats import mask_bbox, mask_to_polygons, mask_to_rle, rle_to_mask


def _block() -> np.ndarray:
    m = np.zeros((4, 5), bool)
    m[1:3, 1:4] = True
    return m


def _large() -> np.ndarray:
    m = np.zeros((40, 70), bool)
    m[5:37, 3:60] = True
    m[10:12, 20:50] = False
    m[0, 69] = True
    return m


def _noise() -> np.ndarray:
    return np.random.default_rng(3).random((6, 7)) > 0.5


# pycocotools.mask.encode(np.asfortranarray(mask.astype(np.uint8)))["counts"] (pycocotools 2.0,
# 2026-12-07) and .toBbox for each mask: the strings COCO tools write and read.
COCO = [
    (_block, "5220003", [1, 1, 3, 2]),
    (lambda: np.zeros((3, 3), bool), "9", [0, 0, 0, 0]),
    (lambda: np.ones((2, 3), bool), "06", [0, 0, 3, 2]),
    (
        _large,
        "m3P1800000000000000000000000000000000UOJd06" + "\\OJd06" * 29 + "7000000000000000000S;QOlE",
        [3, 0, 67, 37],
    ),
    (_noise, "221O010O0031M00O034NLO0000", [0, 0, 7, 6]),
]


@pytest.mark.parametrize("make, counts, bbox", COCO)
def test_rle_is_pycocotools_string(make, counts, bbox):
    mask = make()
    rle = mask_to_rle(mask)
    assert rle == {"size": list(mask.shape), "counts": counts}
    np.testing.assert_array_equal(rle_to_mask(rle), mask)
    np.testing.assert_array_equal(rle_to_mask({"size": rle["size"], "counts": counts.encode()}), mask)
    assert mask_bbox(mask) == bbox


def test_uncompressed_rle_and_mask_encodings():
    # COCO's uncompressed RLE of the block: column-major runs, background first.
    np.testing.assert_array_equal(rle_to_mask({"size": [4, 5], "counts": [5, 2, 2, 2, 2, 2, 5]}), _block())
    # A first pixel in the foreground starts with an empty background run.
    np.testing.assert_array_equal(rle_to_mask({"size": [1, 2], "counts": [0, 1, 1]}), [[True, False]])
    as_255 = _block().astype(np.uint8) * 255
    assert mask_to_rle(as_255) == mask_to_rle(_block()) == mask_to_rle(_block().astype(np.uint8))


@settings(max_examples=150, deadline=None)
@given(arrays(np.bool_, st.tuples(st.integers(1, 24), st.integers(1, 24))))
def test_rle_round_trip(mask):
    rle = mask_to_rle(mask)
    np.testing.assert_array_equal(rle_to_mask(rle), mask)
    assert all(33 <= ord(c) < 48 + 64 for c in rle["counts"])  # printable, JSON-safe


@pytest.mark.parametrize(
    "rle, message",
    [
        ({"counts": "9"}, "'size' [H, W] and 'counts'"),
        ({"size": [3], "counts": "9"}, "'size' must be [H, W]"),
        ({"size": [3, -3], "counts": [9]}, "non-negative"),
        ({"size": [3, 3], "counts": [4, 4]}, "cover 8 pixels, but size [3, 3] has 9"),
        ({"size": [3, 3], "counts": [5, -1, 5]}, "negative run"),
        ({"size": [3, 3], "counts": "9 "}, "not a COCO RLE character"),
        ({"size": [3, 3], "counts": "a"}, "ends in the middle of a number"),
        ({"size": [3, 3], "counts": [4, None, 5]}, "a COCO string or a list of run lengths"),
        ({"size": [3, 3], "counts": 9}, "a COCO string or a list of run lengths"),
    ],
)
def test_bad_rle_is_named(rle, message):
    with pytest.raises(ValueError) as info:
        rle_to_mask(rle)
    assert message in str(info.value)


def test_bad_masks_are_refused():
    with pytest.raises(ValueError, match="mask"):
        mask_to_rle(np.zeros((2, 3, 3), bool))
    with pytest.raises(ValueError, match="mask"):
        mask_to_rle(np.full((2, 3), 7, np.uint8))


def test_polygons_outline_each_component_largest_first():
    mask = np.zeros((50, 80), bool)
    mask[5:25, 10:40] = True  # 20 x 30
    mask[12:18, 20:30] = False  # a hole: not in the polygon
    mask[30:40, 50:60] = True  # 10 x 10
    mask[45, 5] = True  # one pixel: no polygon
    polygons = mask_to_polygons(mask)
    assert len(polygons) == 2 and all(p.dtype == np.float32 and p.shape[1] == 2 for p in polygons)
    big, small = polygons
    assert big[:, 0].min() == 10 and big[:, 0].max() == 39 and big[:, 1].min() == 5 and big[:, 1].max() == 24
    assert small[:, 0].min() == 50 and small[:, 1].max() == 39
    simple = mask_to_polygons(mask, tolerance=1.0)
    assert [len(p) for p in simple] == [4, 4]  # rectangles need only their corners
    assert len(mask_to_polygons(mask, min_area=200)) == 1
    with pytest.raises(ValueError, match="tolerance and min_area must be >= 0"):
        mask_to_polygons(mask, tolerance=-1)
