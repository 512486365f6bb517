"""ntclick.click_guard: the repair of implausible one-click changes (NumPy only)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntclick.click_guard import GuardSettings, guard_mask
from ntclick.clicks import Click


def square(h: int, w: int, y0: int, y1: int, x0: int, x1: int) -> np.ndarray:
    m = np.zeros((h, w), bool)
    m[y0:y1, x0:x1] = True
    return m


def test_bg_click_may_not_grow_the_mask():
    previous = square(40, 40, 10, 30, 10, 30)
    new = square(40, 40, 5, 35, 5, 35)  # grew, and lost a corner where the bg click is
    new[10:14, 10:14] = False
    out = guard_mask(previous, new, Click(11, 11, "bg"))
    np.testing.assert_array_equal(out, new & previous)
    assert not out[11, 11] and out.sum() < previous.sum()


def test_fg_click_may_not_shrink_the_mask():
    previous = square(40, 40, 10, 30, 10, 30)
    new = square(40, 40, 15, 25, 15, 36)  # shrank, and grew right where the fg click is
    out = guard_mask(previous, new, Click(34, 20, "fg"))
    np.testing.assert_array_equal(out, new | previous)


def test_small_changes_in_the_clicks_direction_pass_unchanged():
    previous = square(40, 40, 10, 30, 10, 30)
    grown = square(40, 40, 10, 30, 10, 34)  # 1.2 times: below the flood threshold
    np.testing.assert_array_equal(guard_mask(previous, grown, Click(32, 20, "fg")), grown)
    shrunk = square(40, 40, 10, 30, 10, 20)  # half: bg shrinks are never repaired
    np.testing.assert_array_equal(guard_mask(previous, shrunk, Click(25, 20, "bg")), shrunk)
    empty = np.zeros((40, 40), bool)
    np.testing.assert_array_equal(guard_mask(previous, empty, Click(25, 20, "bg")), empty)


def test_a_flood_keeps_only_the_added_region_around_the_click():
    previous = square(100, 100, 30, 50, 30, 50)  # 400 px: reach 0.5 * 20 = 10 px
    new = previous.copy()
    new[40:46, 50:56] = True  # the missed part the fg click asked for
    new[:, 80:] = True  # and a flood along the right edge, not connected to the click
    new[60:95, 0:30] = True  # and another, far away
    out = guard_mask(previous, new, Click(53, 43, "fg"), GuardSettings(radius=0))  # no click disk
    expected = previous.copy()
    expected[40:46, 50:56] = True
    np.testing.assert_array_equal(out, expected)
    # reach bounds the kept region: a long added arm is cut about 10 px from the click
    arm = previous.copy()
    arm[44:46, 50:100] = True
    arm[:, 0:20] = True  # enough growth to count as a flood
    out = guard_mask(previous, arm, Click(51, 45, "fg"))
    assert out[45, 58] and not out[45, 65] and not out[:, 0:20].any()
    # the click's disk is always foreground, even when the new mask missed it
    out = guard_mask(previous, new, Click(70, 70, "fg"))
    assert out[70, 70] and out[70, 74] and not out[70, 76]


def test_a_nearly_empty_previous_mask_may_grow_freely():
    previous = np.zeros((100, 100), bool)
    previous[50, 50] = True
    new = square(100, 100, 20, 80, 20, 80)  # 3600 times
    np.testing.assert_array_equal(guard_mask(previous, new, Click(50, 50, "fg")), new)


def test_nt_clicks_are_never_guarded():
    previous = square(40, 40, 10, 30, 10, 30)
    for new in (np.ones((40, 40), bool), np.zeros((40, 40), bool)):
        np.testing.assert_array_equal(guard_mask(previous, new, (20, 20, "nt")), new)


def test_inputs_are_untouched_and_the_result_is_new():
    previous = square(40, 40, 10, 30, 10, 30)
    new = np.ones((40, 40), bool)
    out = guard_mask(previous, new, Click(20, 20, "fg"))
    assert out is not new and previous.sum() == 400 and new.all()
    out = guard_mask(previous, previous, Click(20, 20, "fg"))
    assert out is not previous


def test_bad_inputs_raise_clear_errors():
    m = np.zeros((8, 8), bool)
    with pytest.raises(ValueError, match="previous must be a 2-D bool array"):
        guard_mask(m.astype(np.uint8), m, Click(1, 1))
    with pytest.raises(ValueError, match="new must be a 2-D bool array"):
        guard_mask(m, np.zeros((8, 8, 1), bool), Click(1, 1))
    with pytest.raises(ValueError, match="differ in shape"):
        guard_mask(m, np.zeros((8, 9), bool), Click(1, 1))
    with pytest.raises(ValueError, match="unknown click kind"):
        guard_mask(m, m, (1, 1, "maybe"))
    for kwargs, match in (
        ({"wrong": 0.5}, "wrong"),
        ({"flood": 1.0}, "flood"),
        ({"reach": 0.0}, "reach"),
        ({"flood": 60.0}, "empty"),
        ({"radius": -1}, "radius"),
        ({"radius": 2.5}, "radius"),
    ):
        with pytest.raises(ValueError, match=match):
            GuardSettings(**kwargs)


masks = st.integers(0, 2**63 - 1).map(lambda seed: np.random.default_rng(seed).random((24, 24)) < 0.4)


@settings(max_examples=60, deadline=None)
@given(masks, masks, st.integers(0, 23), st.integers(0, 23), st.sampled_from(["fg", "bg", "nt"]))
def test_the_repair_never_goes_against_the_click(previous, new, x, y, kind):
    out = guard_mask(previous, new, Click(x, y, kind))
    if kind == "bg":
        assert not (out & ~new).any()  # a bg click's answer only ever removes from the new mask
    elif kind == "nt":
        np.testing.assert_array_equal(out, new)
    else:
        disk = guard_mask(np.zeros_like(previous), np.zeros_like(previous), Click(x, y, "fg"))
        assert not (out & ~(new | previous | disk)).any()  # nothing neither mask nor the click holds
        assert out.sum() >= min(new.sum(), previous.sum())
