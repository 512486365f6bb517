"""The click-seeded GrabCut baseline."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from ntclick.baselines import GrabCutPredictor
from ntclick.clicks import Click
from ntclick.fbu import fbu_from_mask

H, W = 60, 80


@pytest.fixture
def scene():
    """A bright textured square on a dark textured background."""
    rng = np.random.default_rng(0)
    image = rng.integers(0, 60, (H, W, 3), dtype=np.uint8)
    gt = np.zeros((H, W), bool)
    gt[15:45, 20:60] = True
    image[gt] = rng.integers(180, 255, (int(gt.sum()), 3), dtype=np.uint8)
    return image, gt


def _iou(a, b):
    return (a & b).sum() / (a | b).sum()


def test_fg_and_bg_click_segment_an_easy_object(scene):
    image, gt = scene
    p = GrabCutPredictor()
    p.set_image(image)
    pred = p.predict([Click(40, 30, "fg"), Click(5, 5, "bg")])
    assert pred.mask.dtype == np.bool_ and pred.mask.shape == (H, W)
    assert _iou(pred.mask, gt) > 0.9
    assert pred.soft.dtype == np.float32 and set(np.unique(pred.soft)) <= {0.0, 1.0}
    np.testing.assert_array_equal(pred.soft > 0.5, pred.mask)
    np.testing.assert_array_equal(pred.fbu, fbu_from_mask(pred.mask))


def test_clicks_are_respected_even_against_the_colours(scene):
    image, _ = scene
    p = GrabCutPredictor(click_radius=3)
    p.set_image(image)
    fg_on_background = Click(70, 55, "fg")
    bg_on_object = Click(40, 30, "bg")
    pred = p.predict([Click(25, 20, "fg"), fg_on_background, bg_on_object])
    assert pred.mask[55, 70] and not pred.mask[30, 40]
    # The whole definite disk keeps its label.
    yy, xx = np.mgrid[:H, :W]
    assert pred.mask[(yy - 55) ** 2 + (xx - 70) ** 2 <= 9].all()
    assert not pred.mask[(yy - 30) ** 2 + (xx - 40) ** 2 <= 9].any()


def test_later_click_wins_on_its_own_pixel(scene):
    image, _ = scene
    p = GrabCutPredictor()
    p.set_image(image)
    pred = p.predict([Click(40, 30, "fg"), Click(42, 30, "bg")])  # overlapping disks
    assert pred.mask[30, 40] and not pred.mask[30, 42]


def test_no_fg_seed_gives_an_empty_mask(scene):
    image, _ = scene
    p = GrabCutPredictor()
    p.set_image(image)
    assert not p.predict([]).mask.any()
    assert not p.predict(None).mask.any()
    assert not p.predict([Click(5, 5, "bg")]).mask.any()


def test_nt_click_is_a_probable_foreground_disk(scene):
    image, gt = scene
    p = GrabCutPredictor(click_radius=4, nt_radius=10, init="background")
    p.set_image(image)
    seeds = p.seed_map([Click(40, 30, "nt")])
    assert (seeds == cv2.GC_PR_FGD).sum() == pytest.approx(np.pi * 100, rel=0.1)
    assert set(np.unique(seeds)) == {cv2.GC_PR_BGD, cv2.GC_PR_FGD}
    # nt pixels are only probable: GrabCut decides them, and finds the object from them.
    pred = p.predict([Click(40, 30, "nt"), Click(5, 5, "bg")])
    assert _iou(pred.mask, gt) > 0.8


def test_nearest_init_splits_the_image_between_fg_clicks_and_bg_clicks_or_border(scene):
    image, _ = scene
    p = GrabCutPredictor(click_radius=0)
    p.set_image(image)
    seeds = p.seed_map([Click(40, 30, "fg"), Click(70, 30, "bg")])
    yy, xx = np.mgrid[:H, :W]
    d_fg = np.hypot(xx - 40, yy - 30)
    d_other = np.minimum.reduce([np.hypot(xx - 70, yy - 30), xx + 1.0, yy + 1.0, W - xx, H - yy])
    clear = np.abs(d_fg - d_other) > 1  # away from the exact Voronoi edges
    probable_fg = np.isin(seeds, [cv2.GC_PR_FGD, cv2.GC_FGD])
    np.testing.assert_array_equal(probable_fg[clear], (d_fg < d_other)[clear])
    assert seeds[30, 40] == cv2.GC_FGD and seeds[30, 70] == cv2.GC_BGD
    # bg clicks only: nothing is foreground, whatever the init.
    assert not np.isin(p.seed_map([Click(70, 30, "bg")]), [cv2.GC_PR_FGD, cv2.GC_FGD]).any()
    with pytest.raises(ValueError, match="init"):
        GrabCutPredictor(init="box")


def test_same_clicks_same_mask(scene):
    image, _ = scene
    p = GrabCutPredictor()
    p.set_image(image)
    clicks = [Click(30, 25, "fg"), Click(70, 10, "bg"), Click(50, 40, "fg")]
    a = p.predict(clicks).mask
    cv2.setRNGSeed(12345)  # disturbing OpenCV's global random state must not matter
    np.random.default_rng(3).random(10)
    b = p.predict(clicks).mask
    np.testing.assert_array_equal(a, b)


def test_describe_names_every_setting_that_changes_the_mask():
    d = GrabCutPredictor().describe()
    assert d == {
        "predictor": "GrabCutPredictor",
        "iterations": 5,
        "click_radius": 5,
        "nt_radius": 15,
        "seed": 0,
        "init": "nearest",
    }
    assert GrabCutPredictor(iterations=2, nt_radius=7, init="background").describe() == {
        **d,
        "iterations": 2,
        "nt_radius": 7,
        "init": "background",
    }


def test_bad_input_gives_clear_errors(scene):
    image, _ = scene
    p = GrabCutPredictor()
    with pytest.raises(RuntimeError, match="set_image"):
        p.predict([Click(1, 1, "fg")])
    p.set_image(image)
    with pytest.raises(ValueError, match="outside the image"):
        p.predict([Click(W, 5, "fg")])
    with pytest.raises(ValueError, match="non-finite"):
        p.predict([Click(float("nan"), 5, "fg")])
    with pytest.raises(ValueError, match="unknown click kind"):
        p.predict([(3, 3, "maybe")])
    with pytest.raises(ValueError, match="uint8"):
        p.set_image(image.astype(np.float32))
    with pytest.raises(ValueError, match="iterations"):
        GrabCutPredictor(iterations=0)


def test_grayscale_image_and_tuple_clicks(scene):
    image, gt = scene
    p = GrabCutPredictor()
    p.set_image(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY))
    assert p.original_size == (H, W)
    pred = p.predict([(40, 30, "fg"), (5, 5, "bg")])
    assert _iou(pred.mask, gt) > 0.8


def test_baseline_does_not_import_torch():
    code = "import sys, ntclick.baselines, ntclick.eval; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
