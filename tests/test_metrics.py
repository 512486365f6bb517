"""Tests for ntclick.metrics: IoU, boundary IoU, NoC, NoF, mIoU@k."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ntclick.metrics import boundary_iou, iou, mask_boundary, miou_at_k, miou_curve, noc, nof

SETTINGS = settings(max_examples=50, deadline=None)


@st.composite
def mask_pairs(draw):
    shape = draw(st.tuples(st.integers(1, 16), st.integers(1, 16)))
    return draw(arrays(np.bool_, shape)), draw(arrays(np.bool_, shape))


ious = st.floats(0, 1, allow_nan=False)
curves = st.lists(st.lists(ious, min_size=1, max_size=25), min_size=1, max_size=6)


# ----------------------------------------------------------------------------- IoU


def test_iou_hand_examples():
    pred = np.zeros((4, 4), bool)
    gt = np.zeros((4, 4), bool)
    pred[0, 0:2] = True  # 2 px
    gt[0, 1:4] = True  # 3 px, 1 in common
    assert iou(pred, gt) == pytest.approx(1 / 4)
    ignore = np.zeros((4, 4), bool)
    ignore[0, 3] = True  # union 3, intersection 1
    assert iou(pred, gt, ignore=ignore) == pytest.approx(1 / 3)
    assert iou(np.zeros((3, 3), bool), np.zeros((3, 3), bool)) == 1.0
    assert iou(pred, ~pred) == 0.0
    # 0/1 and 0/255 inputs read the same as bool.
    assert iou(pred.astype(np.uint8) * 255, gt.astype(np.int32)) == pytest.approx(1 / 4)


def test_iou_empty_outside_ignore_is_one():
    pred = np.ones((3, 3), bool)
    assert iou(pred, np.zeros((3, 3), bool), ignore=np.ones((3, 3), bool)) == 1.0


@SETTINGS
@given(mask_pairs())
def test_iou_properties(masks):
    a, b = masks
    value = iou(a, b)
    assert 0.0 <= value <= 1.0
    assert value == iou(b, a)
    assert iou(a, a) == 1.0
    union = np.count_nonzero(a | b)
    assert value == (1.0 if union == 0 else np.count_nonzero(a & b) / union)


@pytest.mark.parametrize(
    ("pred", "gt", "ignore", "message"),
    [
        (np.zeros((2, 2), bool), np.zeros((2, 3), bool), None, "shape"),
        (np.zeros((2, 2), bool), np.full((2, 2), 3), None, "binary"),
        (np.zeros((2, 2), bool), np.zeros((2, 2), bool), np.zeros((3, 3), bool), "ignore"),
        (np.zeros((2, 2, 2), bool), np.zeros((2, 2, 2), bool), None, "2-D"),
    ],
)
def test_iou_bad_inputs_raise(pred, gt, ignore, message):
    with pytest.raises(ValueError, match=message):
        iou(pred, gt, ignore)


# ----------------------------------------------------------------------------- boundary IoU


def test_mask_boundary_hand_examples():
    # 10x10 image: d = max(1, round(0.02 * 14.1)) = 1 -> a one-pixel inner ring.
    mask = np.zeros((10, 10), bool)
    mask[2:7, 2:7] = True
    band = mask_boundary(mask)
    expected = mask.copy()
    expected[3:6, 3:6] = False
    np.testing.assert_array_equal(band, expected)  # 25 - 9 = 16 px
    # As in the reference code, the image border counts as boundary: a full mask keeps a ring.
    full_band = mask_boundary(np.ones((10, 10), bool))
    assert full_band.sum() == 100 - 64
    assert full_band[0].all() and full_band[:, -1].all() and not full_band[1:-1, 1:-1].any()
    # A wider band: ratio 0.15 -> d = round(2.12) = 2.
    band2 = mask_boundary(np.ones((10, 10), bool), dilation_ratio=0.15)
    assert band2.sum() == 100 - 36


def test_boundary_iou_hand_example():
    gt = np.zeros((10, 10), bool)
    gt[2:7, 2:7] = True
    pred = np.zeros((10, 10), bool)
    pred[2:7, 3:8] = True  # shifted one column: rings share 8 px, union 16 + 16 - 8 = 24
    assert boundary_iou(pred, gt) == pytest.approx(1 / 3)
    assert iou(pred, gt) == pytest.approx(20 / 30)
    ignore = np.zeros((10, 10), bool)
    ignore[:, 7] = True  # removes pred's right ring column (5 px) from the union
    assert boundary_iou(pred, gt, ignore=ignore) == pytest.approx(8 / 19)


@SETTINGS
@given(mask_pairs(), st.sampled_from([0.01, 0.02, 0.1, 0.3]))
def test_boundary_iou_properties(masks, ratio):
    a, b = masks
    value = boundary_iou(a, b, dilation_ratio=ratio)
    assert 0.0 <= value <= 1.0
    assert value == boundary_iou(b, a, dilation_ratio=ratio)
    assert boundary_iou(a, a, dilation_ratio=ratio) == 1.0
    band = mask_boundary(a, ratio)
    assert not (band & ~a).any()  # the band is inside the mask


@SETTINGS
@given(mask_pairs())
def test_boundary_iou_with_a_band_wider_than_the_image_is_iou(masks):
    a, b = masks
    # dilation_ratio 1 erodes everything (d >= the diagonal), so every band is the whole mask.
    assert boundary_iou(a, b, dilation_ratio=1.0) == iou(a, b)


@SETTINGS
@given(arrays(np.bool_, st.tuples(st.integers(1, 16), st.integers(1, 16))), st.integers(1, 4))
def test_mask_boundary_is_mask_within_chessboard_distance_d_of_outside(mask, d):
    # Independent definition: a mask pixel is in the band iff some pixel within chessboard
    # distance d is outside the mask, the area beyond the image counting as outside.
    h, w = mask.shape
    ratio = (d - 0.4) / np.hypot(h, w)  # rounds to d
    padded = np.pad(mask, d, constant_values=False)
    expected = np.zeros_like(mask)
    for r in range(h):
        for c in range(w):
            expected[r, c] = mask[r, c] and not padded[r : r + 2 * d + 1, c : c + 2 * d + 1].all()
    np.testing.assert_array_equal(mask_boundary(mask, ratio), expected)


@pytest.mark.parametrize("ratio", [0.0, -0.1, float("nan")])
def test_boundary_iou_bad_ratio_raises(ratio):
    with pytest.raises(ValueError, match="dilation_ratio"):
        boundary_iou(np.zeros((3, 3), bool), np.zeros((3, 3), bool), dilation_ratio=ratio)


# ----------------------------------------------------------------------------- NoC / NoF / mIoU


def test_noc_hand_examples():
    assert noc([0.5, 0.86, 0.9], 0.85) == 2
    assert noc([0.5, 0.86, 0.9], 0.9) == 3
    assert noc([0.95], 0.85) == 1
    assert noc([0.5, 0.6], 0.9) == 20
    assert noc([0.5, 0.6], 0.9, max_clicks=5) == 5
    # A threshold reached only after max_clicks does not count.
    assert noc([0.1] * 20 + [0.99], 0.9) == 20
    assert noc(np.array([0.2, 0.3, 0.91]), 0.9, max_clicks=3) == 3


@SETTINGS
@given(st.lists(ious, max_size=30), st.floats(0.01, 1), st.integers(1, 25))
def test_noc_properties(curve, threshold, max_clicks):
    n = noc(curve, threshold, max_clicks)
    assert 1 <= n <= max_clicks
    if not any(v >= threshold for v in curve[:max_clicks]):
        assert n == max_clicks
    else:
        assert curve[n - 1] >= threshold and all(v < threshold for v in curve[: n - 1])


def test_nof_hand_examples():
    curves_ = [[0.5, 0.95], [0.2] * 25, [0.1] * 19 + [0.91], [0.88]]
    assert nof(curves_, 0.9) == 2  # the second and the fourth never reach 0.9
    assert nof(curves_, 0.85) == 1
    assert nof(curves_, 0.9, max_clicks=1) == 4
    assert nof([], 0.9) == 0


@SETTINGS
@given(curves, st.floats(0.01, 1))
def test_nof_counts_curves_whose_noc_is_a_failure(curves_, threshold):
    expected = sum(not any(v >= threshold for v in c[:20]) for c in curves_)
    assert nof(curves_, threshold) == expected


def test_miou_hand_examples():
    curves_ = [[0.5, 0.7, 0.9], [0.3], [0.1, 0.5]]
    assert miou_at_k(curves_, 1) == pytest.approx((0.5 + 0.3 + 0.1) / 3)
    assert miou_at_k(curves_, 2) == pytest.approx((0.7 + 0.3 + 0.5) / 3)  # short curves keep their last value
    assert miou_at_k(curves_, 5) == pytest.approx((0.9 + 0.3 + 0.5) / 3)
    curve = miou_curve(curves_, max_clicks=4)
    assert curve.dtype == np.float64 and curve.shape == (4,)
    np.testing.assert_allclose(curve, [0.3, 0.5, 1.7 / 3, 1.7 / 3])


@SETTINGS
@given(curves, st.integers(1, 25))
def test_miou_curve_agrees_with_miou_at_k(curves_, max_clicks):
    curve = miou_curve(curves_, max_clicks)
    assert curve.shape == (max_clicks,)
    assert np.all((curve >= 0) & (curve <= 1))
    for k in (1, max_clicks):
        assert curve[k - 1] == pytest.approx(miou_at_k(curves_, k))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: noc([0.5, 1.5], 0.9), r"\[0, 1\]"),
        (lambda: noc([0.5, float("nan")], 0.9), r"\[0, 1\]"),
        (lambda: noc([[0.5]], 0.9), "1-D"),
        (lambda: noc([0.5], 0.9, max_clicks=0), "max_clicks"),
        (lambda: miou_at_k([[0.5]], 0), "k must"),
        (lambda: miou_at_k([], 1), "curves is empty"),
        (lambda: miou_curve([[0.5], []]), r"curves\[1\] is empty"),
        (lambda: nof([[0.5], [2.0]], 0.9), r"curves\[1\]"),
    ],
)
def test_curve_metrics_bad_inputs_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
