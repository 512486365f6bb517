"""Tests for ntclick.clicks: Click, SAM-style arrays, validation and disk maps."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntclick.clicks import (
    Click,
    ClickKind,
    as_click,
    click_pixel,
    clicks_from_arrays,
    clicks_to_arrays,
    encode_disks,
    validate_clicks,
)

SETTINGS = settings(max_examples=50, deadline=None)

kinds = st.sampled_from(list(ClickKind))
coords = st.floats(-1e4, 1e4, allow_nan=False, allow_infinity=False)


def test_click_kind_values_labels_and_channels():
    assert [k.value for k in ClickKind] == ["fg", "bg", "nt"]
    assert (ClickKind.FG.label, ClickKind.BG.label, ClickKind.NT.label) == (1, 0, 2)
    assert (ClickKind.FG.channel, ClickKind.BG.channel, ClickKind.NT.channel) == (0, 1, 2)
    assert ClickKind.from_label(2) is ClickKind.NT
    assert ClickKind.parse(" BG ") is ClickKind.BG


def test_click_accepts_strings_and_stores_floats():
    c = Click(3, 4, "nt")
    assert c.kind is ClickKind.NT and isinstance(c.x, float) and c.x == 3.0
    assert Click(np.int64(1), np.float32(2.5)) == Click(1.0, 2.5, ClickKind.FG)
    assert str(Click(1.5, 2, "bg")) == "bg:1.5,2"
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.x = 5.0  # type: ignore[misc]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, 2, "positive"), "unknown click kind"),
        ((1, 2, 1), "unknown click kind"),
        (("1", 2, "fg"), "x must be a number"),
        ((1, True, "fg"), "y must be a number"),
    ],
)
def test_click_rejects_bad_fields(args, message):
    with pytest.raises(ValueError, match=message):
        Click(*args)


def test_as_click_and_click_pixel():
    assert as_click((2.9, 7.2, "fg")) == Click(2.9, 7.2, "fg")
    assert click_pixel(Click(2.9, 7.2)) == (7, 2)  # (row, col)
    with pytest.raises(ValueError, match="cannot read"):
        as_click((1, 2))


@SETTINGS
@given(st.lists(st.tuples(coords, coords, kinds), max_size=10))
def test_sam_arrays_round_trip(raw):
    clicks = [Click(*c) for c in raw]
    point_coords, point_labels = clicks_to_arrays(clicks)
    assert point_coords.shape == (len(clicks), 2) and point_coords.dtype == np.float64
    assert point_labels.shape == (len(clicks),) and point_labels.dtype == np.int64
    assert clicks_from_arrays(point_coords, point_labels) == clicks


def test_sam_arrays_hand_example():
    point_coords, point_labels = clicks_to_arrays([Click(10, 20, "fg"), (5.5, 1, "bg"), Click(0, 0, "nt")])
    np.testing.assert_array_equal(point_coords, [[10, 20], [5.5, 1], [0, 0]])
    np.testing.assert_array_equal(point_labels, [1, 0, 2])
    assert clicks_from_arrays(np.zeros((0, 2)), np.zeros(0, int)) == []
    assert clicks_from_arrays([[1, 2]], [1.0]) == [Click(1, 2, "fg")]


@pytest.mark.parametrize(
    ("point_coords", "point_labels", "message"),
    [
        (np.zeros((2, 3)), np.zeros(2, int), r"shape \(N, 2\)"),
        (np.zeros((2, 2)), np.zeros(3, int), r"point_labels must have shape \(2,\)"),
        (np.zeros((1, 2)), np.array([5]), "unknown click label 5"),
        (np.zeros((1, 2)), np.array([0.5]), "integers"),
    ],
)
def test_clicks_from_arrays_rejects_bad_arrays(point_coords, point_labels, message):
    with pytest.raises(ValueError, match=message):
        clicks_from_arrays(point_coords, point_labels)


def test_validate_clicks_names_the_offending_click():
    shape = (10, 20, 3)
    ok = validate_clicks([(0, 0, "fg"), Click(19.99, 9.5, "bg")], shape)
    assert ok == [Click(0, 0, "fg"), Click(19.99, 9.5, "bg")]
    with pytest.raises(ValueError, match=r"click 1 \(fg:20,0\) is outside the image"):
        validate_clicks([Click(0, 0), Click(20, 0)], shape)
    with pytest.raises(ValueError, match="click 0 .* outside"):
        validate_clicks([Click(-0.5, 3)], shape)
    with pytest.raises(ValueError, match="click 0 .*non-finite"):
        validate_clicks([Click(float("nan"), 3)], shape)


@SETTINGS
@given(st.floats(-5, 25, allow_nan=False), st.floats(-5, 15, allow_nan=False))
def test_validate_clicks_accepts_exactly_the_image(x, y):
    inside = 0 <= x < 20 and 0 <= y < 10
    if inside:
        assert validate_clicks([Click(x, y)], (10, 20)) == [Click(x, y)]
    else:
        with pytest.raises(ValueError, match="outside"):
            validate_clicks([Click(x, y)], (10, 20))


# ----------------------------------------------------------------------------- disk maps


def test_encode_disks_hand_example():
    maps = encode_disks([Click(5, 4, "fg"), Click(12, 2, "nt")], (10, 16), radius=2)
    assert maps.shape == (3, 10, 16) and maps.dtype == np.float32
    assert set(np.unique(maps).tolist()) == {0.0, 1.0}
    # Lattice points with dx^2 + dy^2 <= 4: 13.
    assert maps[0].sum() == 13 and maps[0, 4, 5] == 1 and maps[0, 4, 7] == 1 and maps[0, 4, 8] == 0
    assert maps[1].sum() == 0
    # The nt disk at row 2 just touches the top row (2 - 2 = 0): all 13 points are inside.
    assert maps[2].sum() == 13 and maps[2, 2, 12] == 1
    assert encode_disks([], (3, 4)).sum() == 0


def test_encode_disks_clips_disks_at_the_border_and_ignores_far_clicks():
    maps = encode_disks([Click(0, 0, "bg")], (8, 8), radius=2)
    assert maps[1].sum() == 6  # the quarter of the 13-point disk with dx, dy >= 0: 1 + 2 + 2 + 1
    assert encode_disks([Click(50, 50, "fg")], (8, 8), radius=2).sum() == 0


def test_encode_disks_scale_maps_original_pixels_to_the_network_input():
    # Pixel centres are aligned like cv2.resize: x -> (x + 0.5) * s - 0.5, so 20.5 -> 10 at s = 0.5.
    maps = encode_disks([Click(20.5, 10.5, "fg")], (16, 24), radius=1, scale=0.5)
    assert maps[0].sum() == 5 and maps[0, 5, 10] == 1
    # Anisotropic scale (sx, sy).
    maps = encode_disks([Click(20.5, 10, "fg")], (16, 24), radius=0, scale=(0.5, 1.0))
    assert np.argwhere(maps[0]).tolist() == [[10, 10]]


@SETTINGS
@given(
    # Multiples of 1/8 with binary scales keep every coordinate exact, so both sides agree bit for bit.
    st.lists(
        st.tuples(st.integers(0, 511).map(lambda v: v / 8), st.integers(0, 383).map(lambda v: v / 8), kinds),
        max_size=5,
    ),
    st.sampled_from([0.25, 0.5, 2.0, (0.5, 0.75)]),
    st.integers(0, 6),
)
def test_encode_disks_with_scale_equals_encoding_the_scaled_clicks(raw, scale, radius):
    clicks = [Click(*c) for c in raw]
    sx, sy = (scale, scale) if np.isscalar(scale) else scale
    shape = (int(48 * sy), int(64 * sx))
    moved = [Click((c.x + 0.5) * sx - 0.5, (c.y + 0.5) * sy - 0.5, c.kind) for c in clicks]
    np.testing.assert_array_equal(
        encode_disks(clicks, shape, radius=radius, scale=scale), encode_disks(moved, shape, radius=radius)
    )


@SETTINGS
@given(st.floats(0, 31.9), st.floats(0, 23.9), kinds, st.floats(0, 6))
def test_encode_disks_marks_exactly_the_disk(x, y, kind, radius):
    maps = encode_disks([Click(x, y, kind)], (24, 32), radius=radius)
    rows, cols = np.mgrid[:24, :32]
    d2 = (rows - y) ** 2 + (cols - x) ** 2
    # float32 arithmetic inside encode_disks: only pixels clearly inside / outside are checked.
    assert maps[kind.channel][d2 < radius**2 - 1e-3].all()
    assert not maps[kind.channel][d2 > radius**2 + 1e-3].any()
    others = [c for c in range(3) if c != kind.channel]
    assert maps[others].sum() == 0


@pytest.mark.parametrize(
    ("shape", "radius", "scale", "message"),
    [
        ((0, 4), 5, 1.0, "shape"),
        ((4, 4), -1, 1.0, "radius"),
        ((4, 4), float("nan"), 1.0, "radius"),
        ((4, 4), 5, 0.0, "scale"),
        ((4, 4), 5, (1.0, -2.0), "scale"),
    ],
)
def test_encode_disks_rejects_bad_arguments(shape, radius, scale, message):
    with pytest.raises(ValueError, match=message):
        encode_disks([Click(1, 1)], shape, radius=radius, scale=scale)


def test_scale_clicks_maps_like_scale_point_and_clips_into_the_grid():
    from ntclick.clicks import scale_clicks, scale_point

    clicks = [Click(10, 20, "fg"), (99, 0, "nt"), Click(99.0, 49.0, "bg")]
    out = scale_clicks(clicks, (0.5, 0.25), (12, 50))
    assert [c.kind for c in out] == [ClickKind.FG, ClickKind.NT, ClickKind.BG]
    assert (out[0].x, out[0].y) == scale_point(10, 20, (0.5, 0.25))
    assert out[1].y == 0.0  # -0.375 on the grid: clipped at 0
    assert (out[2].x, out[2].y) == (49.0, 11.0)  # (49.25, 11.875): clipped at the last column and row
