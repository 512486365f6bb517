"""Tests for ntclick.clicker: the evaluation clickers, the training samplers and click noise."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from ntclick.clicker import (
    add_click_noise,
    deepest_pixel,
    distance_to_boundary,
    next_click,
    next_fbu_click,
    sample_deep_click,
    sample_fbu_clicks,
)
from ntclick.clicks import Click, ClickKind, click_pixel
from ntclick.fbu import BG, FG, UNCERTAIN, fbu_from_mask

SETTINGS = settings(max_examples=50, deadline=None)

shapes = st.tuples(st.integers(1, 14), st.integers(1, 14))


@st.composite
def mask_pairs(draw, extra: int = 0):
    """(H, W) bool masks of one shape: pred, gt and ``extra`` more (clicked, ignore...)."""
    shape = draw(shapes)
    return [draw(arrays(np.bool_, shape)) for _ in range(2 + extra)]


@st.composite
def fbu_pairs(draw):
    shape = draw(shapes)
    values = st.sampled_from([BG, UNCERTAIN, FG])
    return draw(arrays(np.uint8, shape, elements=values)), draw(arrays(np.uint8, shape, elements=values))


def brute_force_sq_distance(region: np.ndarray) -> np.ndarray:
    """Squared Euclidean distance of each region pixel to the nearest pixel outside it, the image
    surrounded by a ring of outside pixels; computed by enumeration, independent of OpenCV."""
    h, w = region.shape
    outside = [(r, c) for r in range(-1, h + 1) for c in range(-1, w + 1) if not (0 <= r < h and 0 <= c < w)]
    outside += [(r, c) for r in range(h) for c in range(w) if not region[r, c]]
    pts = np.array(outside, dtype=np.int64)
    out = np.zeros((h, w), dtype=np.int64)
    for r, c in zip(*np.nonzero(region), strict=True):
        out[r, c] = ((pts[:, 0] - r) ** 2 + (pts[:, 1] - c) ** 2).min()
    return out


def brute_force_deepest(region: np.ndarray, clicked: np.ndarray | None = None) -> tuple[int, int, int] | None:
    """(row, col, squared distance) of the row-major first deepest pixel, or None.

    ``clicked`` pixels stay in the region for the distances but are never chosen (RITM zeroes
    them after the distance transform)."""
    d2 = brute_force_sq_distance(region) if region.any() else np.zeros(region.shape, np.int64)
    if clicked is not None:
        d2[clicked] = 0
    if not d2.any():
        return None
    flat = int(np.argmax(d2))  # argmax: first maximum in row-major order
    return flat // region.shape[1], flat % region.shape[1], int(d2.flat[flat])


# ----------------------------------------------------------------------------- distances


def test_deepest_pixel_hand_examples():
    region = np.zeros((7, 9), bool)
    region[1:6, 2:7] = True  # 5x5 square: centre (3, 4) at distance 3
    assert deepest_pixel(region) == (3, 4, 3.0)
    # The image border counts as boundary: a full 1x5 row has distance 1 everywhere -> (0, 0).
    assert deepest_pixel(np.ones((1, 5), bool)) == (0, 0, 1.0)
    assert deepest_pixel(np.zeros((4, 4), bool)) is None


def test_deepest_pixel_breaks_exact_ties_in_row_major_order_whatever_the_rounding():
    # Regression: OpenCV's float32 distances for equal true distances (here sqrt(50) in all four
    # corners of a square ring) can differ by one ulp, depending on its SIMD code path.  The
    # row-major first corner must win every time, for every position of the ring in memory.
    for pad in range(0, 9):
        region = np.zeros((40, 40 + pad), bool)
        region[4:36, 4 + pad : 36 + pad] = True
        region[16:24, 16 + pad : 24 + pad] = False
        assert deepest_pixel(region) == (11, 11 + pad, pytest.approx(np.sqrt(50)))


def test_distance_to_boundary_matches_brute_force_on_example():
    region = np.zeros((6, 8), bool)
    region[0:4, 1:8] = True
    region[2, 3] = False
    expected = np.sqrt(brute_force_sq_distance(region)).astype(np.float32)
    np.testing.assert_array_equal(distance_to_boundary(region), expected)


@SETTINGS
@given(arrays(np.bool_, shapes))
def test_deepest_pixel_matches_brute_force(region):
    got = deepest_pixel(region)
    want = brute_force_deepest(region)
    if want is None:
        assert got is None
    else:
        assert got[:2] == want[:2]
        assert got[2] == pytest.approx(np.sqrt(want[2]), rel=1e-6)


# ----------------------------------------------------------------------------- next_click


def reference_next_click(pred, gt, clicked=None, ignore=None):
    """The rule of DESIGN.md section 6 written plainly with the brute-force distances."""
    kept = ~ignore if ignore is not None else np.ones_like(gt)
    fn = brute_force_deepest(gt & ~pred & kept, clicked)
    fp = brute_force_deepest(~gt & pred & kept, clicked)
    if fn is None and fp is None:
        return None
    if fp is None or (fn is not None and fn[2] > fp[2]):
        return Click(fn[1], fn[0], "fg")
    return Click(fp[1], fp[0], "bg")


def test_a_clicked_pixel_keeps_its_place_in_the_distance_transform():
    # A 9x9 false-negative square; its centre (4, 4) was clicked but is still wrong.  RITM zeroes
    # the clicked pixel after the transform, so the next click is a diagonal neighbour of the centre
    # (depth 4, first in row-major order), not a pixel away from a hole punched at the centre.
    gt = np.ones((9, 9), bool)
    pred = np.zeros_like(gt)
    for clicked in ([Click(4, 4, "fg")], np.pad(np.ones((1, 1), bool), 4)):
        click = next_click(pred, gt, clicked=clicked)
        assert click_pixel(click) == (3, 3) and click.kind is ClickKind.FG


@SETTINGS
@given(mask_pairs(extra=2))
def test_next_click_matches_reference_rule(masks):
    pred, gt, clicked, ignore = masks
    assert next_click(pred, gt, clicked=clicked, ignore=ignore) == reference_next_click(
        pred, gt, clicked, ignore
    )


@SETTINGS
@given(mask_pairs(extra=1))
def test_next_click_lands_in_the_error_it_answers_and_never_on_a_clicked_pixel(masks):
    pred, gt, clicked = masks
    click = next_click(pred, gt, clicked=clicked)
    errors = (gt != pred) & ~clicked
    if click is None:
        assert not errors.any()
        return
    r, c = click_pixel(click)
    assert (click.x, click.y) == (float(c), float(r))  # on a pixel centre
    assert not clicked[r, c]
    if click.kind is ClickKind.FG:
        assert gt[r, c] and not pred[r, c]
    else:
        assert click.kind is ClickKind.BG and pred[r, c] and not gt[r, c]


@SETTINGS
@given(mask_pairs())
def test_swapping_pred_and_gt_flips_the_kind_when_there_is_no_tie(masks):
    pred, gt = masks
    fn, fp = deepest_pixel(gt & ~pred), deepest_pixel(pred & ~gt)
    if fn is None or fp is None or fn[2] == fp[2]:
        return
    a, b = next_click(pred, gt), next_click(gt, pred)
    assert (a.x, a.y) == (b.x, b.y)
    assert {a.kind, b.kind} == {ClickKind.FG, ClickKind.BG}


@SETTINGS
@given(
    st.integers(1, 5).map(lambda k: 2 * k + 1),  # odd side: one centre pixel
    st.integers(0, 6),
    st.integers(0, 6),
    st.booleans(),
)
def test_click_on_a_lone_square_error_blob_is_its_centre(side, top, left, as_false_positive):
    gt = np.zeros((20, 20), bool)
    gt[top : top + side, left : left + side] = True
    pred = np.zeros_like(gt)
    if as_false_positive:
        gt, pred = pred, gt
    click = next_click(pred, gt)
    centre = (left + side // 2, top + side // 2)
    assert (click.x, click.y) == centre
    assert click.kind is (ClickKind.BG if as_false_positive else ClickKind.FG)


def test_next_click_hand_examples():
    gt = np.zeros((6, 6), bool)
    gt[1:4, 1:4] = True  # 3x3 square, centre (row 2, col 2)
    empty = np.zeros_like(gt)
    assert next_click(empty, gt) == Click(2, 2, "fg")
    assert next_click(gt, gt) is None
    # The centre already clicked: the rest is at distance 1, so the row-major first pixel (1, 1).
    assert next_click(empty, gt, clicked=[Click(2.7, 2.2, "fg")]) == Click(1, 1, "fg")
    clicked = np.zeros_like(gt)
    clicked[2, 2] = True
    assert next_click(empty, gt, clicked=clicked) == Click(1, 1, "fg")
    # An even square has four central pixels: the row-major first one.
    gt4 = np.zeros((8, 8), bool)
    gt4[2:6, 2:6] = True
    assert next_click(np.zeros((8, 8), bool), gt4) == Click(3, 3, "fg")


def test_next_click_ties_go_to_background():
    gt = np.zeros((5, 9), bool)
    pred = np.zeros((5, 9), bool)
    gt[2, 1] = True  # a one-pixel false negative ...
    pred[2, 7] = True  # ... and a one-pixel false positive: both at distance 1
    assert next_click(pred, gt) == Click(7, 2, "bg")


def test_next_click_larger_error_wins_and_border_counts_as_boundary():
    gt = np.zeros((9, 12), bool)
    pred = np.zeros((9, 12), bool)
    gt[:, :3] = True  # false negative strip along the left border, 3 px wide: depth 2 (col 1)
    pred[2:7, 6:11] = True  # 5x5 false positive square: depth 3
    assert next_click(pred, gt) == Click(8, 4, "bg")
    pred[:] = False
    gt[:, :] = False
    gt[:, :5] = True  # 5 px wide strip touching the border: depth 3 at col 2, first row with it is row 2
    assert next_click(pred, gt) == Click(2, 2, "fg")


def test_next_click_ignore_pixels_are_never_errors():
    gt = np.ones((5, 5), bool)
    pred = np.zeros((5, 5), bool)
    ignore = np.zeros((5, 5), bool)
    ignore[:, :4] = True
    click = next_click(pred, gt, ignore=ignore)
    assert click.x == 4 and click.kind is ClickKind.FG
    assert next_click(pred, gt, ignore=np.ones((5, 5), bool)) is None


def test_next_click_accepts_0_1_and_0_255_masks():
    gt = np.zeros((7, 7), np.uint8)
    gt[1:6, 1:6] = 255
    pred = np.zeros((7, 7), np.uint8)
    assert next_click(pred, gt) == next_click(pred.astype(bool), gt > 0) == Click(3, 3, "fg")
    assert next_click(pred, (gt > 0).astype(np.int64)) == Click(3, 3, "fg")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pred_mask": np.zeros((3, 3), bool), "gt_mask": np.zeros((3, 4), bool)}, "shape"),
        ({"pred_mask": np.zeros((3, 3), bool), "gt_mask": np.full((3, 3), 7)}, "binary"),
        ({"pred_mask": np.zeros((3, 3, 1), bool), "gt_mask": np.zeros((3, 3, 1), bool)}, "2-D"),
        (
            {"pred_mask": np.zeros((3, 3), bool), "gt_mask": np.ones((3, 3), bool), "clicked": [Click(5, 1)]},
            "outside",
        ),
        (
            {
                "pred_mask": np.zeros((3, 3), bool),
                "gt_mask": np.ones((3, 3), bool),
                "ignore": np.ones((2, 2), bool),
            },
            "ignore",
        ),
    ],
)
def test_next_click_bad_inputs_raise_value_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        next_click(kwargs.pop("pred_mask"), kwargs.pop("gt_mask"), **kwargs)


# ----------------------------------------------------------------------------- next_fbu_click

_KIND_OF_VALUE = {BG: ClickKind.BG, UNCERTAIN: ClickKind.NT, FG: ClickKind.FG}


def reference_next_fbu_click(pred, gt, clicked=None):
    best, best_value = None, None
    for value in (BG, UNCERTAIN, FG):  # tie order
        found = brute_force_deepest((gt == value) & (pred != value), clicked)
        if found is not None and (best is None or found[2] > best[2]):
            best, best_value = found, value
    return None if best is None else Click(best[1], best[0], _KIND_OF_VALUE[best_value])


@SETTINGS
@given(fbu_pairs(), st.data())
def test_next_fbu_click_matches_reference_rule(maps, data):
    pred, gt = maps
    clicked = data.draw(arrays(np.bool_, gt.shape))
    click = next_fbu_click(pred, gt, clicked=clicked)
    assert click == reference_next_fbu_click(pred, gt, clicked)
    if click is not None:
        r, c = click_pixel(click)
        assert not clicked[r, c]
        assert pred[r, c] != gt[r, c]
        assert _KIND_OF_VALUE[int(gt[r, c])] is click.kind


def test_next_fbu_click_hand_examples():
    gt_mask = np.zeros((40, 40), bool)
    gt_mask[10:30, 10:30] = True
    gt = fbu_from_mask(gt_mask)
    assert next_fbu_click(gt, gt) is None
    # FBU of a 20x20 square: fg core rows/cols 16..23, uncertain band out to rows/cols 4..35.
    # Everything predicted background: the band (12 px wide) is the deepest error; in its
    # top-left corner min(r - 3, c - 3, distance to the core's corner (16, 16)) peaks at
    # (11, 11) with sqrt(50) -> an nt click there.
    assert next_fbu_click(np.zeros_like(gt), gt) == Click(11, 11, "nt")
    # Everything predicted uncertain: the fg core (depth 4 at (19, 19)) beats the 4 px wide bg
    # frame (depth sqrt(8) at (2, 2)) -> an fg click.
    assert next_fbu_click(np.full_like(gt, UNCERTAIN), gt) == Click(19, 19, "fg")
    # Predicted exactly the mask (no uncertain band): the band is the only error region.
    pred = np.where(gt_mask, FG, BG).astype(np.uint8)
    click = next_fbu_click(pred, gt)
    assert click.kind is ClickKind.NT and gt[int(click.y), int(click.x)] == UNCERTAIN


def test_next_fbu_click_ties_prefer_bg_then_nt_then_fg():
    gt = np.full((3, 9), UNCERTAIN, np.uint8)
    gt[1, 1], gt[1, 7] = FG, BG
    pred = np.full((3, 9), UNCERTAIN, np.uint8)
    pred[1, 1], pred[1, 7] = BG, FG  # fg error and bg error, each one pixel at distance 1
    assert next_fbu_click(pred, gt) == Click(7, 1, "bg")
    pred[1, 7] = BG  # bg error gone: fg error vs. an uncertain error of the same depth
    pred[0, 4] = FG
    assert next_fbu_click(pred, gt) == Click(4, 0, "nt")


def test_next_fbu_click_ignore_and_click_list():
    gt = np.full((5, 5), FG, np.uint8)
    pred = np.full((5, 5), BG, np.uint8)
    ignore = np.ones((5, 5), bool)
    ignore[0, 0] = False
    assert next_fbu_click(pred, gt, ignore=ignore) == Click(0, 0, "fg")
    assert next_fbu_click(pred, gt, ignore=ignore, clicked=[Click(0.4, 0.9, "fg")]) is None


@pytest.mark.parametrize(
    ("pred", "gt", "message"),
    [
        (np.zeros((3, 3), np.uint8), np.zeros((3, 4), np.uint8), "shape"),
        (np.full((3, 3), 7, np.uint8), np.zeros((3, 3), np.uint8), "pred_fbu"),
        (np.zeros((3, 3), np.uint8), np.zeros((3, 3), np.float32), "gt_fbu"),
    ],
)
def test_next_fbu_click_bad_inputs_raise_value_error(pred, gt, message):
    with pytest.raises(ValueError, match=message):
        next_fbu_click(pred, gt)


# ----------------------------------------------------------------------------- training samplers


def _fbu_example() -> np.ndarray:
    mask = np.zeros((48, 48), bool)
    mask[8:40, 12:36] = True
    return fbu_from_mask(mask)


def test_sample_fbu_clicks_regions_counts_and_order():
    fbu = _fbu_example()
    clicks = sample_fbu_clicks(fbu, np.random.default_rng(0), num_fg=3, num_bg=2, num_nt=4)
    assert [c.kind.value for c in clicks] == ["fg"] * 3 + ["bg"] * 2 + ["nt"] * 4
    value = {ClickKind.FG: FG, ClickKind.BG: BG, ClickKind.NT: UNCERTAIN}
    for c in clicks:
        assert fbu[click_pixel(c)] == value[c.kind]
    assert len({(c.x, c.y) for c in clicks}) == len(clicks)  # without replacement


def test_sample_fbu_clicks_is_deterministic_and_handles_small_regions():
    fbu = np.full((6, 6), BG, np.uint8)
    fbu[2, 3] = FG
    a = sample_fbu_clicks(fbu, np.random.default_rng(5), num_fg=4, num_bg=3, num_nt=2)
    b = sample_fbu_clicks(fbu, np.random.default_rng(5), num_fg=4, num_bg=3, num_nt=2)
    assert a == b
    assert a[0] == Click(3, 2, "fg") and len(a) == 1 + 3  # one fg pixel, no uncertain pixel at all


@SETTINGS
@given(st.integers(0, 2**32 - 1), st.integers(1, 5))  # fg core is 12 px wide: radius 6 empties it
def test_sample_fbu_clicks_margin_keeps_clicks_away_from_region_edges(seed, margin):
    fbu = _fbu_example()
    clicks = sample_fbu_clicks(fbu, np.random.default_rng(seed), num_fg=2, num_bg=2, num_nt=0, margin=margin)
    for c in clicks:
        r, col = click_pixel(c)
        value = FG if c.kind is ClickKind.FG else BG
        # The erosion's disk reaches ``margin`` pixels along both axes (the image border does not
        # erode), so those four pixels are of the same kind.
        assert all(
            fbu[rr, cc] == value
            for rr, cc in [(r - margin, col), (r + margin, col), (r, col - margin), (r, col + margin)]
            if 0 <= rr < fbu.shape[0] and 0 <= cc < fbu.shape[1]
        )


def test_sample_fbu_clicks_margin_falls_back_to_thin_regions():
    fbu = np.full((10, 10), BG, np.uint8)
    fbu[5, :] = FG  # one pixel thick: any erosion empties it
    clicks = sample_fbu_clicks(fbu, np.random.default_rng(1), num_fg=1, num_bg=0, margin=3)
    assert len(clicks) == 1 and clicks[0].y == 5


@pytest.mark.parametrize("kwargs", [{"num_fg": -1}, {"num_bg": 1.5}, {"margin": -2}])
def test_sample_fbu_clicks_bad_counts_raise(kwargs):
    with pytest.raises(ValueError, match="non-negative"):
        sample_fbu_clicks(_fbu_example(), np.random.default_rng(0), **kwargs)


@SETTINGS
@given(arrays(np.bool_, shapes), st.integers(0, 2**32 - 1))
def test_sample_deep_click_is_deeper_than_half_the_maximum(region, seed):
    click = sample_deep_click(region, np.random.default_rng(seed), "nt")
    if not region.any():
        assert click is None
        return
    d2 = brute_force_sq_distance(region)
    r, c = click_pixel(click)
    assert click.kind is ClickKind.NT and region[r, c]
    assert 4 * d2[r, c] > d2.max()  # d > max / 2, in squared integers
    assert click == sample_deep_click(region, np.random.default_rng(seed), "nt")


def test_sample_deep_click_square_reaches_every_deep_pixel():
    region = np.zeros((9, 9), bool)
    region[2:7, 2:7] = True  # depths 1 (ring), 2, 3 (centre): deeper than 1.5 -> the inner 3x3
    rng = np.random.default_rng(0)
    seen = {click_pixel(sample_deep_click(region, rng, ClickKind.FG)) for _ in range(200)}
    assert seen == set(itertools.product(range(3, 6), range(3, 6)))


# ----------------------------------------------------------------------------- click noise


def test_add_click_noise_zero_sigma_is_identity():
    clicks = [Click(1.5, 2, "fg"), Click(0, 0, "nt")]
    assert add_click_noise(clicks, 0.0, np.random.default_rng(0), (4, 4)) == clicks


@SETTINGS
@given(
    st.lists(
        st.tuples(st.floats(0, 19.99), st.floats(0, 9.99), st.sampled_from(["fg", "bg", "nt"])), max_size=8
    ),
    st.floats(0.1, 50),
    st.integers(0, 2**32 - 1),
)
def test_add_click_noise_stays_inside_the_image_and_keeps_kinds(raw, sigma, seed):
    clicks = [Click(*c) for c in raw]
    noisy = add_click_noise(clicks, sigma, np.random.default_rng(seed), (10, 20, 3))
    assert [c.kind for c in noisy] == [c.kind for c in clicks]
    assert all(0 <= c.x <= 19 and 0 <= c.y <= 9 for c in noisy)
    assert noisy == add_click_noise(clicks, sigma, np.random.default_rng(seed), (10, 20))


def test_add_click_noise_has_the_requested_spread():
    clicks = [Click(500, 500, "fg")] * 4000
    noisy = add_click_noise(clicks, 3.0, np.random.default_rng(0), (1000, 1000))
    dx = np.array([c.x for c in noisy]) - 500
    dy = np.array([c.y for c in noisy]) - 500
    assert abs(dx.mean()) < 0.2 and abs(dy.mean()) < 0.2
    assert dx.std() == pytest.approx(3.0, rel=0.05) and dy.std() == pytest.approx(3.0, rel=0.05)
    assert np.corrcoef(dx, dy)[0, 1] == pytest.approx(0.0, abs=0.05)


@pytest.mark.parametrize(("sigma", "shape"), [(-1.0, (4, 4)), (float("nan"), (4, 4)), (1.0, (0, 4))])
def test_add_click_noise_bad_inputs_raise(sigma, shape):
    with pytest.raises(ValueError, match="sigma|image_shape"):
        add_click_noise([Click(1, 1)], sigma, np.random.default_rng(0), shape)


# ----------------------------------------------------------------------------- large-region shortcuts


@st.composite
def large_like_regions(draw):
    """Regions mixing thin strands and blobs, in boxes larger than the shortcut tiles."""
    h, w = draw(st.integers(8, 40)), draw(st.integers(8, 40))
    region = np.zeros((h, w), bool)
    for _ in range(draw(st.integers(0, 3))):  # blobs
        r, c = draw(st.integers(0, h - 1)), draw(st.integers(0, w - 1))
        rr, cc = draw(st.integers(1, 12)), draw(st.integers(1, 12))
        region[max(r - rr, 0) : r + rr, max(c - cc, 0) : c + cc] = True
    for _ in range(draw(st.integers(0, 4))):  # strands
        if draw(st.booleans()):
            region[draw(st.integers(0, h - 1)), :] = True
        else:
            region[:, draw(st.integers(0, w - 1))] = True
    holes = draw(arrays(np.bool_, (h, w)))
    return region & ~(holes & draw(arrays(np.bool_, (h, w))))


@settings(max_examples=80, deadline=None)
@given(large_like_regions())
def test_large_region_shortcuts_find_the_same_pixel(region):
    import ntclick.clicker as clicker_module

    want = brute_force_deepest(region)
    with pytest.MonkeyPatch.context() as mp:
        _tiny_shortcuts(mp)
        got = clicker_module._deepest(np.ascontiguousarray(region))
        cropped = clicker_module._padded_crop(np.ascontiguousarray(region))
        thin = None if cropped is None else clicker_module._deepest_thin(cropped[0])
        thick = None if cropped is None else clicker_module._deepest_thick(cropped[0])
    assert got == want
    for shortcut in (thin, thick):
        if shortcut is not None:  # each shortcut, when it applies, agrees with brute force
            crop, y0, x0 = cropped
            assert (y0 + shortcut[0] - 1, x0 + shortcut[1] - 1, shortcut[2]) == want


def test_large_region_shortcuts_on_a_real_sized_example():
    # A 1500x1500 blob with long one-pixel strands: the thick shortcut applies to it, the thin one
    # to the strands alone; both must agree with the plain transform of the whole box.
    import ntclick.clicker as clicker_module

    yy, xx = np.mgrid[:1600, :1700]
    blob = (yy - 700) ** 2 / 500**2 + (xx - 900) ** 2 / 420**2 < 1
    strands = np.zeros_like(blob)
    strands[[50, 1550], 20:1690] = True
    strands[30:1580, [15, 1680]] = True
    for region in (blob | strands, strands):
        region = np.ascontiguousarray(region)
        crop, y0, x0 = clicker_module._padded_crop(region)
        plain = clicker_module._deepest_in_crop(clicker_module._edt(crop))
        fast = clicker_module._deepest_thin(crop) or clicker_module._deepest_thick(crop)
        assert fast is not None and fast == plain
        assert deepest_pixel(region) == (
            y0 + plain[0] - 1,
            x0 + plain[1] - 1,
            pytest.approx(np.sqrt(plain[2])),
        )


def _tiny_shortcuts(mp: pytest.MonkeyPatch) -> None:
    """Make the clicker's large-region shortcuts and depth bounds apply to small test masks."""
    import ntclick.clicker as clicker_module

    mp.setattr(clicker_module, "_SPARSE_MIN_AREA", 0)
    mp.setattr(clicker_module, "_THIN_DEPTHS", (1, 2))
    mp.setattr(clicker_module, "_MIN_TILE", 3)
    mp.setattr(clicker_module, "_COARSE", 2)
    mp.setattr(clicker_module, "_MAX_WORK_FRACTION", float("inf"))


@settings(max_examples=60, deadline=None)
@given(large_like_regions(), large_like_regions(), st.data())
def test_clickers_with_shortcuts_and_depth_bounds_match_the_reference(a, b, data):
    h, w = min(a.shape[0], b.shape[0]), min(a.shape[1], b.shape[1])
    gt, pred = a[:h, :w], b[:h, :w]
    clicked = data.draw(arrays(np.bool_, (h, w))) & data.draw(arrays(np.bool_, (h, w)))
    values = np.array([BG, UNCERTAIN, FG], np.uint8)
    gt_fbu = values[data.draw(arrays(np.uint8, (h, w), elements=st.integers(0, 2)))]
    gt_fbu[gt] = FG  # large same-class areas, so some classes are deep and others thin
    pred_fbu = fbu_from_mask(pred)
    with pytest.MonkeyPatch.context() as mp:
        _tiny_shortcuts(mp)
        click = next_click(pred, gt, clicked=clicked)
        fbu_click = next_fbu_click(pred_fbu, gt_fbu, clicked=clicked)
    assert click == reference_next_click(pred, gt, clicked)
    assert fbu_click == reference_next_fbu_click(pred_fbu, gt_fbu, clicked)
