"""Tests for ntclick.fbu: the FBU map, its two recipes and its conversions."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ntclick.fbu import (
    BG,
    FBU_VALUES,
    FG,
    UNCERTAIN,
    as_binary_mask,
    as_bool_mask,
    fbu_from_classes,
    fbu_from_mask,
    fbu_to_classes,
    fbu_to_unit,
    random_fbu_from_mask,
    validate_fbu,
)

SETTINGS = settings(max_examples=50, deadline=None)

masks = arrays(np.bool_, st.tuples(st.integers(1, 40), st.integers(1, 40)))


def supplementary_fbu(mask_0_255: np.ndarray, kernel_size: int = 5, iterations: int = 3) -> np.ndarray:
    """The supplementary's evaluation code, written out plainly."""
    kernel = np.ones((kernel_size, kernel_size), np.uint8)
    dilated = cv2.dilate(mask_0_255, kernel, iterations=iterations)
    eroded = cv2.erode(mask_0_255, kernel, iterations=iterations)
    fbumap = np.full(mask_0_255.shape, 128, dtype=np.uint8)
    fbumap[eroded == 255] = 255
    fbumap[dilated == 0] = 0
    return fbumap


def boundary_pixels(mask: np.ndarray) -> np.ndarray:
    """Pixels with a 4-neighbour (inside the image) of the other value."""
    out = np.zeros_like(mask)
    out[1:] |= mask[1:] != mask[:-1]
    out[:-1] |= mask[1:] != mask[:-1]
    out[:, 1:] |= mask[:, 1:] != mask[:, :-1]
    out[:, :-1] |= mask[:, 1:] != mask[:, :-1]
    return out


def test_constants():
    assert (BG, UNCERTAIN, FG) == (0, 128, 255) and FBU_VALUES == (0, 128, 255)


def test_fbu_from_mask_hand_example():
    # A 14x14 square in a 30x30 image; kernel 5 with 3 iterations moves edges by 6 px.
    mask = np.zeros((30, 30), bool)
    mask[8:22, 8:22] = True
    fbu = fbu_from_mask(mask)
    assert fbu.dtype == np.uint8 and fbu.shape == (30, 30)
    assert np.argwhere(fbu == FG).tolist() == [[14, 14], [14, 15], [15, 14], [15, 15]]  # rows/cols 14..15
    assert (fbu != BG).sum() == 26 * 26  # rows/cols 2..27
    assert (fbu[2:28, 2:28] != BG).all()
    assert (fbu == UNCERTAIN).sum() == 26 * 26 - 4


def test_fbu_from_mask_full_and_empty_masks():
    # OpenCV's default border does not erode or dilate: a full mask is all foreground.
    assert (fbu_from_mask(np.ones((9, 9), bool)) == FG).all()
    assert (fbu_from_mask(np.zeros((9, 9), bool)) == BG).all()


@SETTINGS
@given(masks, st.integers(1, 7), st.integers(0, 3))
def test_fbu_from_mask_is_the_supplementary_recipe(mask, kernel_size, iterations):
    expected = supplementary_fbu(mask.astype(np.uint8) * 255, kernel_size, iterations)
    np.testing.assert_array_equal(fbu_from_mask(mask, kernel_size, iterations), expected)


@SETTINGS
@given(masks)
def test_fbu_regions_nest_and_the_band_covers_the_boundary(mask):
    fbu = fbu_from_mask(mask)
    assert set(np.unique(fbu).tolist()) <= set(FBU_VALUES)
    fg, non_bg = fbu == FG, fbu != BG
    assert not (fg & ~mask).any()  # FG inside the mask ...
    assert not (mask & ~non_bg).any()  # ... inside the non-BG region
    assert (fbu[boundary_pixels(mask)] == UNCERTAIN).all()


@SETTINGS
@given(masks)
def test_fbu_from_mask_reads_bool_0_1_and_0_255_alike(mask):
    a = fbu_from_mask(mask)
    np.testing.assert_array_equal(a, fbu_from_mask(mask.astype(np.uint8)))
    np.testing.assert_array_equal(a, fbu_from_mask(mask.astype(np.float32) * 255))


@SETTINGS
@given(masks, st.integers(0, 2**32 - 1))
def test_random_fbu_from_mask_nests_and_is_deterministic(mask, seed):
    fbu = random_fbu_from_mask(mask, np.random.default_rng(seed))
    np.testing.assert_array_equal(fbu, random_fbu_from_mask(mask, np.random.default_rng(seed)))
    assert set(np.unique(fbu).tolist()) <= set(FBU_VALUES)
    assert not ((fbu == FG) & ~mask).any()
    assert not (mask & (fbu == BG)).any()
    assert (fbu[boundary_pixels(mask)] == UNCERTAIN).all()


def test_random_fbu_from_mask_uses_an_elliptical_kernel_of_the_drawn_size():
    mask = np.zeros((60, 60), np.uint8)
    mask[15:45, 10:50] = 255
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9))
    fbu = random_fbu_from_mask(mask, np.random.default_rng(0), size_range=(9, 9))
    np.testing.assert_array_equal(fbu == FG, cv2.erode(mask, kernel) == 255)
    np.testing.assert_array_equal(fbu == BG, cv2.dilate(mask, kernel) == 0)
    # Sizes are drawn from the closed range: a wider kernel gives a wider band.
    widths = {
        int((random_fbu_from_mask(mask, np.random.default_rng(s), (3, 30)) == UNCERTAIN).sum())
        for s in range(12)
    }
    assert len(widths) > 3


@pytest.mark.parametrize("size_range", [(0, 5), (10, 5)])
def test_random_fbu_from_mask_rejects_bad_size_range(size_range):
    with pytest.raises(ValueError, match="size_range"):
        random_fbu_from_mask(np.zeros((4, 4), bool), np.random.default_rng(0), size_range)


@pytest.mark.parametrize(
    ("mask", "message"),
    [
        (np.array([[0, 1], [2, 0]], np.uint8), "binary"),
        (np.array([[0, 0.5]]), "binary"),
        (np.zeros((2, 2, 3), np.uint8), "2-D"),
        (np.array([["a", "b"]]), "bool or numeric"),
    ],
)
def test_bad_masks_raise_value_error(mask, message):
    with pytest.raises(ValueError, match=message):
        fbu_from_mask(mask)


def test_as_binary_mask_and_as_bool_mask():
    m01 = np.array([[0, 1], [1, 0]], np.int32)
    np.testing.assert_array_equal(as_binary_mask(m01), [[0, 255], [255, 0]])
    assert as_binary_mask(m01).dtype == np.uint8
    b = np.array([[True, False]])
    assert as_bool_mask(b) is b  # no copy on the common path
    np.testing.assert_array_equal(as_bool_mask(np.array([[0, 255]], np.uint8)), [[False, True]])
    with pytest.raises(ValueError, match="my_mask"):
        as_bool_mask(np.array([[3]]), "my_mask")


def test_invalid_fbu_kernel_arguments_raise():
    with pytest.raises(ValueError, match="kernel_size"):
        fbu_from_mask(np.zeros((4, 4), bool), kernel_size=0)


# ----------------------------------------------------------------------------- conversions


def test_classes_and_unit_hand_example():
    fbu = np.array([[0, 128, 255]], np.uint8)
    np.testing.assert_array_equal(fbu_to_classes(fbu), [[0, 1, 2]])
    np.testing.assert_array_equal(fbu_from_classes(np.array([[2, 0, 1]])), [[255, 0, 128]])
    unit = fbu_to_unit(fbu)
    assert unit.dtype == np.float32
    np.testing.assert_array_equal(unit, [[0.0, 0.5, 1.0]])


@SETTINGS
@given(
    arrays(np.uint8, st.tuples(st.integers(1, 12), st.integers(1, 12)), elements=st.sampled_from(FBU_VALUES))
)
def test_classes_round_trip(fbu):
    classes = fbu_to_classes(fbu)
    assert classes.dtype == np.uint8 and classes.max() <= 2
    np.testing.assert_array_equal(fbu_from_classes(classes), fbu)
    np.testing.assert_array_equal(fbu_to_unit(fbu) * 2, classes.astype(np.float32))


@pytest.mark.parametrize(
    ("fbu", "message"),
    [
        (np.array([[0, 127]], np.uint8), r"values \[127\]"),
        (np.zeros((2, 2), np.float32), "uint8"),
        (np.zeros((2, 2, 1), np.uint8), "2-D"),
    ],
)
def test_validate_fbu_rejects_bad_maps(fbu, message):
    with pytest.raises(ValueError, match=message):
        validate_fbu(fbu)


@pytest.mark.parametrize("classes", [np.array([[0, 3]]), np.array([[-1, 0]]), np.zeros((2,), int)])
def test_fbu_from_classes_rejects_bad_indices(classes):
    with pytest.raises(ValueError, match="classes"):
        fbu_from_classes(classes)


@pytest.mark.parametrize("shape", [(0, 3), (4, 0)])
def test_empty_masks_and_maps_raise(shape):
    with pytest.raises(ValueError, match="empty"):
        fbu_from_mask(np.zeros(shape, bool))
    with pytest.raises(ValueError, match="empty"):
        as_bool_mask(np.zeros(shape, np.uint8))
    with pytest.raises(ValueError, match="empty"):
        validate_fbu(np.zeros(shape, np.uint8))
