"""benchmarks/band_variants.py: the ring rule that the sixth round's selection measured."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from script_loader import load_script

from ntclick.fbu import BG, FG, UNCERTAIN

variants = load_script("benchmarks/band_variants.py")


def _scene():
    fbu = np.full((60, 60), BG, np.uint8)
    fbu[25:35, 25:35] = UNCERTAIN
    fbu[28:32, 28:32] = FG
    seeds = np.where(fbu == FG, cv2.GC_FGD, np.where(fbu == BG, cv2.GC_BGD, cv2.GC_PR_FGD)).astype(np.uint8)
    return seeds, fbu


def test_ring_frees_only_certain_background_near_the_object():
    seeds, fbu = _scene()
    out = variants.ring_seeds(seeds, fbu, 1.0)
    radius = np.sqrt(100 / np.pi)  # the non-bg region is 10 x 10
    freed = (out == cv2.GC_PR_BGD) & (seeds == cv2.GC_BGD)
    assert freed.any() and (out == cv2.GC_BGD).any()
    ys, xs = np.nonzero(freed)
    gap = np.maximum(np.maximum(25 - ys, ys - 34), np.maximum(25 - xs, xs - 34))  # Chebyshev gap to the box
    assert gap.max() <= radius + 1  # nothing freed beyond the ring
    assert out[30, 2] == cv2.GC_BGD and out[30, 24] == cv2.GC_PR_BGD
    np.testing.assert_array_equal(out[fbu != BG], seeds[fbu != BG])  # only certain bg changes
    np.testing.assert_array_equal(_scene()[0], seeds)  # the input is untouched


@pytest.mark.parametrize("factor", [0.0, -1.0])
def test_ring_of_zero_width_changes_nothing(factor):
    seeds, fbu = _scene()
    np.testing.assert_array_equal(variants.ring_seeds(seeds, fbu, factor), seeds)


def test_wider_ring_frees_more():
    seeds, fbu = _scene()
    counts = [(variants.ring_seeds(seeds, fbu, f) == cv2.GC_PR_BGD).sum() for f in (0.5, 1.0, 2.0)]
    assert counts[0] < counts[1] < counts[2]


def test_variants_needing_a_value_refuse_to_run_without_it(capsys):
    with pytest.raises(SystemExit):
        variants.main(["--variant", "ring"])
    assert "needs --value" in capsys.readouterr().err


def test_release_frees_only_the_opposite_class_near_each_click():
    from ntclick.clicks import Click, ClickKind

    seeds, fbu = _scene()
    clicks = [Click(5, 5, ClickKind.FG), Click(30, 30, ClickKind.BG)]
    out = variants.release_seeds(seeds, clicks, 3)
    yy, xx = np.mgrid[:60, :60]
    near_fg = (xx - 5) ** 2 + (yy - 5) ** 2 <= 9
    near_bg = (xx - 30) ** 2 + (yy - 30) ** 2 <= 9
    assert (out[near_fg] == cv2.GC_PR_BGD).all()  # certain bg freed, kept as bg-like
    assert (out[near_bg & (seeds == cv2.GC_FGD)] == cv2.GC_PR_FGD).all()
    untouched = ~(near_fg | near_bg)
    np.testing.assert_array_equal(out[untouched], seeds[untouched])
    to_click = variants.release_seeds(seeds, clicks, 3, to_click_class=True)
    assert (to_click[near_fg] == cv2.GC_PR_FGD).all() and (
        to_click[near_bg & (seeds == cv2.GC_FGD)] == cv2.GC_PR_BGD
    ).all()
    nt_only = variants.release_seeds(seeds, [Click(5, 5, ClickKind.NT)], 3)
    np.testing.assert_array_equal(nt_only, seeds)


def test_uncertain_bias_shifts_only_the_uncertain_logit_of_every_ecp_pass(tiny_weights):
    import torch

    from ntclick import NTClickPredictor
    from ntclick.fbu import FBU_VALUES

    plain = NTClickPredictor.from_pretrained(tiny_weights)
    biased = NTClickPredictor.from_pretrained(tiny_weights)
    variants._bias_uncertain(biased, 0.75)
    image = torch.rand(1, 3, 128, 128)
    maps = torch.zeros(1, plain.ecp.config.click_channels, 128, 128)
    maps[:, 0, 60:66, 60:66] = 1.0
    with torch.no_grad():
        before, after = plain.ecp(image, maps), biased.ecp(image, maps)
    u = FBU_VALUES.index(UNCERTAIN)
    torch.testing.assert_close(after[:, u], before[:, u] - 0.75)
    others = [i for i in range(3) if i != u]
    torch.testing.assert_close(after[:, others], before[:, others])
    # A large bias leaves no uncertain pixel in the predictor's FBU map.
    variants._bias_uncertain(biased, 1e4)
    rgb = np.random.default_rng(0).integers(0, 255, (96, 128, 3), dtype=np.uint8)
    biased.set_image(rgb)
    assert not (biased.predict([(64, 48, "fg")]).fbu == UNCERTAIN).any()


def test_flip_averages_ecp_with_its_mirror_image(tiny_weights):
    import torch

    from ntclick import NTClickPredictor

    plain = NTClickPredictor.from_pretrained(tiny_weights)
    flipped = NTClickPredictor.from_pretrained(tiny_weights)
    variants._flip_ecp(flipped)
    image = torch.rand(1, 3, 128, 128)
    maps = torch.zeros(1, plain.ecp.config.click_channels, 128, 128)
    maps[:, 0, 60:66, 20:26] = 1.0
    with torch.no_grad():
        out = flipped.ecp(image, maps)
        expected = (plain.ecp(image, maps) + plain.ecp(image.flip(-1), maps.flip(-1)).flip(-1)) / 2
        # The mean of a pass and its mirror is itself mirror-equivariant.
        mirrored = flipped.ecp(image.flip(-1), maps.flip(-1)).flip(-1)
    torch.testing.assert_close(out, expected)
    torch.testing.assert_close(mirrored, out, rtol=1e-4, atol=1e-4)
    assert flipped.ecp.config is plain.ecp.config or flipped.ecp.config == plain.ecp.config


def test_reach_removes_only_band_far_from_the_core():
    from ntclick.clicks import Click, ClickKind

    fbu = np.full((80, 80), BG, np.uint8)
    fbu[10:70, 10:70] = UNCERTAIN  # a band far wider than the object
    fbu[36:44, 36:44] = FG  # an 8 x 8 core: equivalent radius 4.5
    seeds = np.where(fbu == FG, cv2.GC_FGD, np.where(fbu == BG, cv2.GC_BGD, cv2.GC_PR_FGD)).astype(np.uint8)
    out = variants.reach_seeds(seeds, fbu, [], 2.0)
    radius = 2.0 * np.sqrt(64 / np.pi)
    assert out[40, 46] == cv2.GC_PR_FGD  # 3 px from the core: kept
    assert out[40, 60] == cv2.GC_BGD  # 17 px away: definite bg now
    removed = out != seeds
    assert removed.any() and (fbu[removed] == UNCERTAIN).all()
    distance = cv2.distanceTransform(1 - (fbu == FG).astype(np.uint8), cv2.DIST_L2, 3)
    assert (distance[removed] > radius).all()
    # A fg click far out in the band makes a core of its own there; a bg click does not.
    with_fg = variants.reach_seeds(seeds, fbu, [Click(62, 40, ClickKind.FG)], 2.0)
    assert with_fg[40, 60] == cv2.GC_PR_FGD
    with_bg = variants.reach_seeds(seeds, fbu, [Click(62, 40, ClickKind.BG)], 2.0)
    assert with_bg[40, 60] == cv2.GC_BGD
    np.testing.assert_array_equal(variants.reach_seeds(seeds, fbu, [], 0.0), seeds)


def _two_blobs():
    mask = np.zeros((40, 60), bool)
    mask[5:15, 5:15] = True  # blob A, with a hole at (9..10, 9..10)
    mask[9:11, 9:11] = False
    mask[20:30, 40:50] = True  # blob B
    return mask


def test_components_keep_only_blobs_holding_a_foreground_or_nt_click():
    from ntclick.clicks import Click, ClickKind

    mask = _two_blobs()
    out = variants.click_components(mask, [Click(6, 6, ClickKind.FG), Click(45, 25, ClickKind.BG)], 0)
    assert out[5:15, 5:15].sum() == mask[5:15, 5:15].sum() and not out[20:30, 40:50].any()
    out = variants.click_components(mask, [Click(6, 6, ClickKind.FG), Click(45, 33, ClickKind.NT)], 5)
    np.testing.assert_array_equal(out, mask)  # the nt click's disk reaches blob B
    out = variants.click_components(mask, [Click(6, 6, ClickKind.FG), Click(45, 33, ClickKind.NT)], 2)
    assert not out[20:30, 40:50].any()  # ... a smaller one does not
    np.testing.assert_array_equal(mask, _two_blobs())  # the input is untouched


def test_components_without_an_anchor_leave_the_mask_alone():
    from ntclick.clicks import Click, ClickKind

    mask = _two_blobs()
    np.testing.assert_array_equal(variants.click_components(mask, [Click(1, 1, ClickKind.BG)], 5), mask)
    np.testing.assert_array_equal(variants.click_components(mask, [Click(30, 35, ClickKind.FG)], 1), mask)


def test_holes_are_filled_unless_a_bg_click_or_the_image_edge_holds_them():
    from ntclick.clicks import Click, ClickKind

    mask = _two_blobs()
    filled = variants.click_components(
        mask, [Click(6, 6, ClickKind.FG), Click(45, 25, ClickKind.FG)], 0, True
    )
    assert filled[9:11, 9:11].all() and filled.sum() == mask.sum() + 4
    kept = variants.click_components(
        mask, [Click(6, 6, ClickKind.FG), Click(45, 25, ClickKind.FG), Click(9, 9, ClickKind.BG)], 0, True
    )
    np.testing.assert_array_equal(kept, mask)
    edge = np.ones((20, 20), bool)
    edge[0:5, 8:12] = False  # a bay open to the top edge is not a hole
    out = variants.click_components(edge, [Click(10, 10, ClickKind.FG)], 0, True)
    np.testing.assert_array_equal(out, edge)


def test_seed_components_free_only_unclicked_foreground_seeds():
    from ntclick.clicks import Click, ClickKind

    seeds = np.full((40, 60), cv2.GC_BGD, np.uint8)
    seeds[5:15, 5:15] = cv2.GC_FGD
    seeds[8:12, 8:12] = cv2.GC_PR_FGD
    seeds[20:30, 40:50] = cv2.GC_PR_FGD  # nobody clicked here
    out = variants.seed_components(seeds, [Click(6, 6, ClickKind.FG)], 5)
    np.testing.assert_array_equal(out[:, :30], seeds[:, :30])
    assert (out[20:30, 40:50] == cv2.GC_PR_BGD).all() and (out[:20, 30:] == cv2.GC_BGD).all()


def test_zoom_components_frame_only_the_clicked_object():
    import torch

    from ntclick.clicks import Click, ClickKind

    class Box:  # the predictor's zoom_box, recording the classes it is given
        hrr_scale = 1.0  # working pixels are original pixels

        def __init__(self):
            self.seen = []

        def zoom_box(self, classes, clicks):
            self.seen.append(classes.clone())
            return None

    p = Box()
    variants._zoom_components(p, 5)
    classes = torch.zeros((40, 60), dtype=torch.long)
    classes[5:15, 5:15] = 2
    classes[8:12, 8:12] = 1
    classes[20:30, 40:50] = 1  # a stray uncertain piece
    assert p.zoom_box(classes, [Click(6, 6, ClickKind.FG)]) is None
    (seen,) = p.seen
    assert torch.equal(seen[:, :30], classes[:, :30]) and not seen[:, 30:].any()


def test_guarded_components_undo_only_what_ecp_was_not_sure_of():
    from ntclick.clicks import Click, ClickKind

    mask = _two_blobs()
    mask[30:36, 5:11] = True  # blob C, ECP sure of none of it
    fbu = np.where(mask, UNCERTAIN, BG).astype(np.uint8)
    fbu[22:24, 42:44] = FG  # ECP is sure of a bit of blob B
    fbu[9:11, 9:11] = UNCERTAIN  # blob A's hole is in the band,
    fbu[9, 9] = BG  # ... but ECP is sure one pixel of it is background
    out = variants.guarded_components(mask, fbu, [Click(6, 6, ClickKind.FG)], 5)
    assert out[20:30, 40:50].all()  # blob B stays: it holds certain foreground
    assert not out[30:36, 5:11].any()  # blob C goes
    assert not out[9:11, 9:11].any()  # the hole stays open: it holds certain background
    fbu[9, 9] = UNCERTAIN
    assert variants.guarded_components(mask, fbu, [Click(6, 6, ClickKind.FG)], 5)[9:11, 9:11].all()


def _two_halves():
    """A dark left half and a bright right half, one known pixel column in each."""
    image = np.zeros((20, 30, 3), np.uint8)
    image[:, 15:] = 220
    known = np.zeros((20, 30), bool)
    known[:, 2] = known[:, 27] = True
    values = np.zeros((20, 30), np.float32)
    values[:, 27] = 1.0
    return image, known, values


def test_random_walk_labels_each_side_of_an_edge_from_its_own_seed():
    image, known, values = _two_halves()
    x = variants.random_walk(image, known, values, np.full((20, 30), 0.5, np.float32), lam=0.0)
    assert (x[:, :15] < 0.1).all() and (x[:, 15:] > 0.9).all()  # the edge stops the walk
    np.testing.assert_array_equal(x[known], values[known])  # known pixels keep their values


def test_random_walk_prior_term_pulls_towards_the_prior():
    image, known, values = _two_halves()
    image[:] = 128  # no edge: without a prior the walk is a ramp between the seed columns
    ramp = variants.random_walk(image, known, values, np.zeros((20, 30), np.float32), lam=0.0)
    assert np.all(np.diff(ramp[10, 2:28]) > 0)
    pulled = variants.random_walk(image, known, values, np.ones((20, 30), np.float32), lam=1.0)
    assert (pulled[:, 3:27] > ramp[:, 3:27]).all()  # a prior of 1 raises every unknown pixel
