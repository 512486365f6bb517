"""GrabCut on the uncertain band (``ntclick.band_grabcut``): the trimap rules, the colour
decision at the image's resolution, the guarantees on clicks and definite pixels, the errors."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ntclick.band_grabcut import band_seeds, grabcut_band
from ntclick.clicks import Click
from ntclick.fbu import BG, FG, UNCERTAIN


def disk_scene(h: int = 96, w: int = 128, radius: int = 28, seed: int = 0):
    """A noisy red disk on a noisy blue background, and a network-like guess of it: a soft mask
    of a disk 6 px too large, blurred, with an FBU map whose uncertain ring covers the edge."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:h, :w]
    cy, cx = h // 2, w // 2
    r = np.hypot(yy - cy, xx - cx)
    truth = r <= radius
    image = np.where(truth[..., None], [200, 40, 40], [40, 60, 200]).astype(np.int16)
    image = np.clip(image + rng.integers(-25, 26, image.shape), 0, 255).astype(np.uint8)
    soft = np.clip((radius + 6 - r) / 8.0 + 0.5, 0.0, 1.0).astype(np.float32)
    fbu = np.full((h, w), UNCERTAIN, np.uint8)
    fbu[r < radius - 8] = FG
    fbu[r > radius + 14] = BG
    return image, truth, soft, fbu, (cx, cy)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


def test_grabcut_band_moves_a_blurred_edge_onto_the_colour_edge():
    image, truth, soft, fbu, (cx, cy) = disk_scene()
    clicks = [Click(cx, cy, "fg")]
    before = iou(soft > 0.5, truth)
    after = iou(grabcut_band(image, soft, fbu, clicks), truth)
    assert before < 0.85  # the guess is 6 px too large
    assert after > 0.97 and after > before + 0.1


def test_a_large_image_is_cut_to_the_object_box_and_shrunk():
    image, truth, soft, fbu, (cx, cy) = disk_scene(h=192, w=256, radius=56)
    clicks = [Click(cx, cy, "fg")]
    full = grabcut_band(image, soft, fbu, clicks)
    small = grabcut_band(image, soft, fbu, clicks, max_side=48)
    assert iou(small, truth) > 0.9
    assert iou(small, full) > 0.9
    assert small[fbu == FG].all() and not small[fbu == BG].any()


def test_above_max_side_grabcut_sees_the_object_box_grown_by_its_size(monkeypatch):
    image, truth, soft, fbu, (cx, cy) = disk_scene(h=200, w=600, radius=20)
    boxes = []
    real = cv2.grabCut

    def spy(img, mask, *args):
        boxes.append(img.shape[:2])
        return real(img, mask, *args)

    monkeypatch.setattr(cv2, "grabCut", spy)
    clicks = [Click(cx, cy, "fg")]
    cut = grabcut_band(image, soft, fbu, clicks, max_side=256)
    whole = grabcut_band(image, soft, fbu, clicks)  # max_side 1024 >= 600: the whole image
    side = int((fbu != BG).any(axis=0).sum())  # the box of what is not definite bg: 69 px
    assert boxes == [(200, 3 * side), (200, 600)]
    assert iou(cut, truth) > 0.95 and iou(whole, truth) > 0.95


def test_seeds_follow_the_trimap_rules():
    soft = np.zeros((40, 50), np.float32)
    soft[:, 25:] = 0.9
    fbu = np.full((40, 50), UNCERTAIN, np.uint8)
    fbu[:, :5] = BG
    fbu[:, 45:] = FG
    clicks = [Click(10, 20, "fg"), Click(40, 20, "bg"), Click(20, 5, "nt")]
    seeds = band_seeds(soft, fbu, clicks, click_radius=2, nt_radius=3)
    assert (seeds[30:, :5] == cv2.GC_BGD).all() and (seeds[:, 46:] == cv2.GC_FGD).all()
    assert seeds[35, 15] == cv2.GC_PR_BGD and seeds[35, 35] == cv2.GC_PR_FGD
    assert seeds[20, 10] == cv2.GC_FGD and seeds[20, 12] == cv2.GC_FGD and seeds[20, 13] == cv2.GC_PR_BGD
    assert seeds[20, 40] == cv2.GC_BGD and seeds[22, 40] == cv2.GC_BGD
    assert seeds[5, 20] == cv2.GC_PR_FGD and seeds[5, 23] == cv2.GC_PR_FGD
    # margin shrinks the certain regions away from the band but not from the image frame
    wide = band_seeds(soft, fbu, [], margin=2)
    assert (wide[:, :3] == cv2.GC_BGD).all() and (wide[:, 3:5] == cv2.GC_PR_BGD).all()
    assert (wide[:, 47:] == cv2.GC_FGD).all() and (wide[:, 45:47] == cv2.GC_PR_FGD).all()


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**16),
    kinds=st.lists(st.sampled_from(["fg", "bg", "nt"]), min_size=1, max_size=6),
    margin=st.integers(0, 3),
)
def test_clicks_and_definite_pixels_are_kept_whatever_the_colours(seed, kinds, margin):
    rng = np.random.default_rng(seed)
    h, w = 24, 32
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    soft = rng.random((h, w), dtype=np.float32)
    fbu = rng.choice(np.array([BG, UNCERTAIN, FG], np.uint8), size=(h, w), p=[0.4, 0.3, 0.3])
    clicks = [Click(float(rng.integers(0, w)), float(rng.integers(0, h)), k) for k in kinds]
    mask = grabcut_band(image, soft, fbu, clicks, margin=margin, click_radius=1, iterations=1)
    assert mask.shape == (h, w) and mask.dtype == bool
    seeds = band_seeds(soft, fbu, clicks, margin=margin, click_radius=1)
    assert mask[seeds == cv2.GC_FGD].all() and not mask[seeds == cv2.GC_BGD].any()
    last = {}
    for c in clicks:  # a later click on the same pixel wins
        last[(int(c.y), int(c.x))] = c.kind.value
    for pixel, kind in last.items():
        if kind == "fg":
            assert mask[pixel]
        elif kind == "bg":
            assert not mask[pixel]
    again = grabcut_band(image, soft, fbu, clicks, margin=margin, click_radius=1, iterations=1)
    assert np.array_equal(mask, again)  # seeded: same input, same mask


def test_nothing_to_decide_returns_the_seeds():
    image, _, soft, _, (cx, cy) = disk_scene()
    fbu = np.where(soft > 0.5, FG, BG).astype(np.uint8)
    assert np.array_equal(grabcut_band(image, soft, fbu, [Click(cx, cy, "fg")]), fbu == FG)
    # bg clicks only: no foreground for a colour model, so nothing is fg
    empty = np.full(fbu.shape, UNCERTAIN, np.uint8)
    assert not grabcut_band(image, np.zeros_like(soft), empty, [Click(3, 3, "bg")]).any()


def test_bad_inputs_raise_clear_errors():
    image, _, soft, fbu, _ = disk_scene(h=32, w=40)
    ok = [Click(5, 5, "fg")]
    with pytest.raises(ValueError, match="image must be uint8"):
        grabcut_band(image.astype(np.float32), soft, fbu, ok)
    with pytest.raises(ValueError, match="soft must be"):
        grabcut_band(image, soft[:10], fbu, ok)
    with pytest.raises(ValueError, match="soft must be a float"):
        grabcut_band(image, (soft > 0.5).astype(np.uint8), fbu, ok)
    with pytest.raises(ValueError, match="fbu must be uint8"):
        grabcut_band(image, soft, fbu.astype(np.int32), ok)
    with pytest.raises(ValueError, match="other than 0 / 128 / 255"):
        grabcut_band(image, soft, np.full_like(fbu, 7), ok)
    with pytest.raises(ValueError, match="outside"):
        grabcut_band(image, soft, fbu, [Click(500, 5, "fg")])
    with pytest.raises(ValueError, match="iterations"):
        grabcut_band(image, soft, fbu, ok, iterations=0)
    with pytest.raises(ValueError, match="max_side"):
        grabcut_band(image, soft, fbu, ok, max_side=4)
    with pytest.raises(ValueError, match="margin"):
        band_seeds(soft, fbu, ok, margin=-1)


# --------------------------------------------------------------------------- the predictor's step


def _tiny_predictor(**kwargs):
    from tiny_models import tiny_networks

    from ntclick.predictor import NTClickPredictor

    ecp, hrr = tiny_networks(1)
    return NTClickPredictor(ecp, hrr, ecp_size=64, refine=False, **kwargs)


def test_predictor_grabcut_step_is_grabcut_band_of_the_network_answer(tmp_path):
    from ntclick.predictor import NTClickPredictor

    image, _, _, _, (cx, cy) = disk_scene()
    clicks = [Click(cx, cy, "fg"), Click(5, 5, "bg")]
    plain, banded = _tiny_predictor(), _tiny_predictor(grabcut_iterations=2)
    plain.set_image(image)
    banded.set_image(image)
    net = plain.predict(clicks)
    got = banded.predict(clicks)
    expected = grabcut_band(image, net.soft, net.fbu, clicks, iterations=2, threshold=plain.mask_threshold)
    np.testing.assert_array_equal(got.mask, expected)
    np.testing.assert_array_equal(got.fbu, net.fbu)
    for t in (banded.mask_threshold, 0.49, 0.1, 0.9):  # GrabCut's answer is hard in the band
        np.testing.assert_array_equal(got.mask[net.fbu == UNCERTAIN], got.soft[net.fbu == UNCERTAIN] > t)
    np.testing.assert_array_equal(got.mask, got.soft > banded.mask_threshold)
    assert got.mask[cy, cx] and not got.mask[5, 5]
    # The setting travels with saved weights and shows in repr.
    banded.save_pretrained(tmp_path / "w")
    assert NTClickPredictor.from_pretrained(tmp_path / "w").grabcut_iterations == 2
    assert NTClickPredictor.from_pretrained(tmp_path / "w", grabcut_iterations=0).grabcut_iterations == 0
    assert "grabcut_iterations=2" in repr(banded)


def test_predictor_grabcut_step_works_above_the_hrr_working_size():
    """An image larger than hrr.config.max_size: GrabCut runs on the working image and its mask
    comes back at the original size."""
    p = _tiny_predictor(grabcut_iterations=1)
    max_size = int(p.hrr.config.max_size)
    image, truth, _, _, _ = disk_scene(h=max_size // 2, w=max_size + 64, radius=max_size // 6)
    p.set_image(image)
    assert p.hrr_scale < 1.0
    cy, cx = image.shape[0] // 2, image.shape[1] // 2
    # Clicks are moved onto the halved working image and the mask back: a bg click just inside
    # the disk's edge and an fg click on an odd pixel keep their kind (the 5 px click disks
    # survive the nearest-neighbour upsampling).
    r = max_size // 6
    clicks = [Click(cx, cy, "fg"), Click(cx + r - 1, cy, "bg"), Click(cx - r + 1, cy + 1, "fg")]
    pred = p.predict(clicks)
    assert pred.mask.shape == truth.shape
    assert pred.mask[cy, cx] and not pred.mask[cy, cx + r - 1] and pred.mask[cy + 1, cx - r + 1]


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_grabcut_iterations_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="grabcut_iterations must be a non-negative int"):
        _tiny_predictor(grabcut_iterations=bad)
