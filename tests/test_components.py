"""ntclick.components: a mask's connected components made to agree with the clicks."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntclick.clicks import Click, ClickKind
from ntclick.components import click_components


def _two_blobs() -> np.ndarray:
    mask = np.zeros((40, 60), bool)
    mask[5:15, 5:15] = True  # blob A, with a 2 x 2 hole
    mask[9:11, 9:11] = False
    mask[20:30, 40:50] = True  # blob B
    return mask


def test_keeps_only_components_near_a_foreground_click():
    mask = _two_blobs()
    out = click_components(mask, [Click(6, 6, "fg"), Click(45, 25, "bg")], fill_holes=False)
    np.testing.assert_array_equal(out[:, :30], mask[:, :30])
    assert not out[:, 30:].any()
    np.testing.assert_array_equal(mask, _two_blobs())  # the input is untouched
    # 3 px from blob B: within a click radius of 5, not of 2
    near = [Click(6, 6, "fg"), Click(45, 32, "fg")]
    np.testing.assert_array_equal(click_components(mask, near, fill_holes=False), mask)
    assert not click_components(mask, near, click_radius=2, fill_holes=False)[:, 30:].any()


def test_nt_clicks_anchor_with_their_own_radius():
    mask = _two_blobs()
    clicks = [Click(6, 6, "fg"), Click(45, 38, "nt")]  # 9 px below blob B
    np.testing.assert_array_equal(click_components(mask, clicks, fill_holes=False), mask)  # 3 x 5 = 15
    assert not click_components(mask, clicks, nt_radius=8, fill_holes=False)[:, 30:].any()


def test_diagonal_neighbours_are_one_component():
    mask = np.zeros((10, 10), bool)
    mask[2, 2] = mask[3, 3] = mask[4, 4] = True
    np.testing.assert_array_equal(click_components(mask, [Click(2, 2, "fg")], click_radius=0), mask)


@pytest.mark.parametrize(
    "clicks",
    [[], [Click(1, 1, "bg")], [Click(30, 35, "fg")]],  # no anchor; an fg click far from every blob
)
def test_nothing_to_anchor_to_leaves_the_foreground(clicks):
    mask = _two_blobs()
    np.testing.assert_array_equal(click_components(mask, clicks, click_radius=1, fill_holes=False), mask)


def test_holes_are_filled_unless_a_bg_click_or_the_edge_holds_them_open():
    mask = _two_blobs()
    both = [Click(6, 6, "fg"), Click(45, 25, "fg")]
    filled = click_components(mask, both, click_radius=0)
    assert filled[9:11, 9:11].all() and filled.sum() == mask.sum() + 4
    np.testing.assert_array_equal(click_components(mask, [*both, Click(9, 9, "bg")], click_radius=0), mask)
    bay = np.ones((20, 20), bool)
    bay[0:5, 8:12] = False  # open to the top edge: not a hole
    np.testing.assert_array_equal(click_components(bay, [Click(10, 10, "fg")]), bay)


def test_a_diagonal_gap_does_not_close_a_hole():
    # background touching the outside only through a corner is still outside (4- against 8-connectivity)
    mask = np.zeros((9, 9), bool)
    mask[2:7, 2:7] = True
    mask[3:6, 3:6] = False
    mask[2, 2] = False  # the ring's corner opens diagonally onto the outside ...
    mask[3, 3] = True  # ... but not 4-connected: the hole stays a hole
    out = click_components(mask, [Click(4, 2, "fg")])
    assert out[3:6, 3:6].all()


def test_accepts_0_255_masks_and_tuples():
    mask = _two_blobs().astype(np.uint8) * 255
    out = click_components(mask, [(6, 6, "fg")], fill_holes=False)
    assert out.dtype == bool and not out[:, 30:].any()


@pytest.mark.parametrize(
    "mask, clicks, kwargs, message",
    [
        (np.zeros((4, 4, 2), bool), [], {}, "2-D"),
        (np.full((4, 4), 0.5), [], {}, "binary"),
        (np.zeros((4, 4), bool), [Click(9, 1, "fg")], {}, "outside the image"),
        (np.zeros((4, 4), bool), [], {"click_radius": -1}, "click_radius"),
        (np.zeros((4, 4), bool), [], {"nt_radius": 2.5}, "nt_radius"),
    ],
)
def test_bad_input_is_named(mask, clicks, kwargs, message):
    with pytest.raises(ValueError, match=message):
        click_components(mask, clicks, **kwargs)


@st.composite
def masks_and_clicks(draw):
    h, w = draw(st.integers(3, 24)), draw(st.integers(3, 24))
    bits = draw(st.lists(st.booleans(), min_size=h * w, max_size=h * w))
    mask = np.array(bits, bool).reshape(h, w)
    clicks = draw(
        st.lists(
            st.builds(
                Click,
                st.integers(0, w - 1).map(float),
                st.integers(0, h - 1).map(float),
                st.sampled_from(list(ClickKind)),
            ),
            max_size=4,
        )
    )
    return mask, clicks


@settings(max_examples=150, deadline=None)
@given(masks_and_clicks(), st.integers(0, 3), st.booleans())
def test_properties(case, radius, fill):
    mask, clicks = case
    out = click_components(mask, clicks, click_radius=radius, fill_holes=fill)
    assert out.shape == mask.shape and out.dtype == bool
    np.testing.assert_array_equal(click_components(out, clicks, click_radius=radius, fill_holes=fill), out)
    n, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    for label in range(1, n):  # every input component is kept whole or dropped whole
        part = out[labels == label]
        assert part.all() or not part.any()
    if not fill:
        assert not (out & ~mask).any()  # only removes
    for c in clicks:
        row, col = int(c.y), int(c.x)
        if c.kind is ClickKind.FG and mask[row, col]:
            assert out[row, col]  # a clicked component stays
        if c.kind is ClickKind.BG and not mask[row, col]:
            assert not out[row, col]  # nothing fills a bg click's pixel


def test_a_click_in_a_hole_or_on_an_island_in_it_anchors_the_ring():
    ring = np.zeros((20, 20), bool)
    ring[4:16, 4:16] = True
    ring[7:13, 7:13] = False  # the hole
    ring[9:11, 9:11] = True  # an island in it
    for click in (Click(8, 8, "fg"), Click(9, 9, "fg")):  # in the hole; on the island
        out = click_components(ring, [click], click_radius=0)
        assert out[4:16, 4:16].all()  # the hole filled, ring and island kept as one object
    assert not click_components(ring, [Click(9, 9, "fg")], click_radius=0, fill_holes=False)[4, 4]


def test_a_second_call_changes_nothing_when_the_click_sits_in_a_hole():
    # found by hypothesis: dropping before filling left a stray pixel that a second call dropped
    mask = np.zeros((10, 17), bool)
    mask[6, 5] = True  # a stray pixel
    mask[6, 8] = mask[7, 7] = mask[7, 9] = mask[8, 8] = True  # a diamond around (row 7, col 8)
    once = click_components(mask, [Click(8, 7, "fg")], click_radius=0)
    assert once[7, 8] and not once[6, 5]
    np.testing.assert_array_equal(click_components(once, [Click(8, 7, "fg")], click_radius=0), once)
