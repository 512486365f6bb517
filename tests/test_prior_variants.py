"""benchmarks/prior_variants.py: the guards against a flooding GrabCut prior (fifteenth round)."""

from __future__ import annotations

import numpy as np
import pytest
from script_loader import load_script

import ntclick.prior as prior_module
from ntclick.clicks import Click

variants = load_script("benchmarks/prior_variants.py")


def test_prior_jump_needs_both_the_ratio_and_the_floor():
    small, big = np.zeros((10, 10)), np.zeros((10, 10))
    small[:2, :5] = 1  # 10%
    big[:8] = 1  # 80%
    assert variants.prior_jump(small, big, 3, 0.05) and variants.prior_jump(big, small, 3, 0.05)
    assert not variants.prior_jump(small, big, 10, 0.05)  # 8 times: under the ratio
    tiny, less_tiny = np.zeros((100, 100)), np.zeros((100, 100))
    tiny[0, :10], less_tiny[0, :60] = 1, 1  # 0.1% -> 0.6% of the map: under the floor
    assert not variants.prior_jump(tiny, less_tiny, 3, 0.05)


@pytest.fixture
def flooding_prior(monkeypatch):
    """click_prior that floods the image at the second click; records its ``previous`` starts."""
    starts = []

    def fake(
        image,
        clicks,
        *,
        kind="grabcut",
        iterations=3,
        click_radius=5,
        scale=1.0,
        shape=None,
        previous=None,
        long_side=0,
    ):
        h, w = image.shape[:2]
        out = np.zeros(shape or (h, w), np.float32)
        if previous is not None:
            starts.append(previous.copy())
            out[:h, :w] = previous
        elif len(clicks) == 1:
            out[10:20, 10:20] = 1
        else:
            out[:h, :w] = 1
        return out

    monkeypatch.setattr(prior_module, "click_prior", fake)
    return starts


def test_keep_guard_keeps_the_last_prior_and_paints_the_new_click(flooding_prior):
    guard = variants.GuardedPrior("keep", ratio=3)
    image = np.zeros((40, 60, 3), np.uint8)
    clicks = [Click(15, 15, "fg"), Click(40, 30, "fg")]
    maps = guard(image, clicks, radius=2, prior="grabcut", shape=(48, 64))
    assert maps.shape == (4, 48, 64)
    expected = np.zeros((48, 64), np.float32)
    expected[10:20, 10:20] = 1
    expected[maps[0] > 0] = 1  # both fg disks
    np.testing.assert_array_equal(maps[3], expected)
    assert guard.counts == {"priors": 2, "replaced": 1}
    guard(image, clicks, radius=2, prior="grabcut", shape=(48, 64))
    assert guard.counts["priors"] == 2  # memoised: nothing computed again
    # A bg click on the kept prior clears its disk.
    maps = guard(image, [clicks[0], Click(15, 15, "bg")], radius=2, prior="grabcut", shape=(48, 64))
    assert maps[3][15, 15] == 0 and maps[3][11, 11] == 1


def test_chain_guard_starts_grabcut_from_the_last_prior(flooding_prior):
    guard = variants.GuardedPrior("chain", ratio=3)
    image = np.zeros((40, 60, 3), np.uint8)
    maps = guard(image, [Click(15, 15, "fg"), Click(40, 30, "fg")], radius=2, prior="grabcut")
    assert (
        len(flooding_prior) == 1 and flooding_prior[0][10:20, 10:20].all() and flooding_prior[0].sum() == 100
    )
    assert maps[3].sum() == 100 and guard.counts["replaced"] == 1


def test_guards_pass_one_click_a_previous_mask_and_a_prior_size_through(flooding_prior):
    guard = variants.GuardedPrior("keep", ratio=3)
    image = np.zeros((40, 60, 3), np.uint8)
    two = [Click(15, 15, "fg"), Click(40, 30, "fg")]
    assert guard(image, two[:1], radius=2, prior="grabcut")[3].sum() == 100
    assert guard(image, two, radius=2, prior="grabcut", prior_size=20)[3].all()
    previous = np.zeros((40, 60), bool)
    assert not guard(image, two, radius=2, prior="grabcut", previous=previous)[3].any()
    assert guard.counts["priors"] == 0
    with pytest.raises(ValueError, match="rule must be"):
        variants.GuardedPrior("drop", ratio=3)


def test_variants_need_a_value(capsys):
    with pytest.raises(SystemExit):
        variants.main(["--variant", "guard-keep"])
    assert "needs --value" in capsys.readouterr().err


def test_drop_rows_measure_the_prior_around_each_collapse():
    class Sample:
        name = "obj"

        def load(self):
            return type("Loaded", (), {"image": np.zeros((10, 10, 3), np.uint8)})()

    class FakePredictor:
        def set_image(self, image):
            self.image = image

        def click_maps(self, clicks):
            maps = np.zeros((4, 10, 10), np.float32)
            maps[3, : 1 if len(clicks) < 3 else 6] = 1  # 10% of the image, then 60% at click 3
            return maps

    clicks = [{"x": 1.0, "y": 1.0, "kind": k} for k in ("fg", "bg", "fg", "bg")]
    record = {"name": "obj", "ious": [0.5, 0.9, 0.3, 0.4], "clicks": clicks}
    calm = {"name": "obj", "ious": [0.5, 0.6, 0.7], "clicks": clicks[:3]}
    rows = variants.drop_rows(FakePredictor(), [Sample()], [record, calm])
    assert rows == [
        {
            "object": "obj",
            "click": 3,
            "kind": "fg",
            "iou_before": 0.9,
            "iou_after": 0.3,
            "prior_before": pytest.approx(0.1),
            "prior_after": pytest.approx(0.6),
            "jump": True,
        }
    ]


def test_components_prior_keeps_the_clicked_blob_of_the_colour_model():
    image = np.full((48, 64, 3), 30, np.uint8)
    image[8:24, 6:22] = (220, 40, 40)  # two red squares on grey: GrabCut's colour model takes both
    image[26:42, 40:56] = (220, 40, 40)
    clicks = [Click(28, 32, "fg"), Click(60, 2, "bg")]  # fg on the left square, on a 2x grid
    plain = prior_module.click_prior(image, clicks, scale=0.5)
    assert plain[8:24, 6:22].mean() > 0.9 and plain[26:42, 40:56].mean() > 0.9
    kept = variants.components_prior(prior_module.click_prior)(image, clicks, scale=0.5, shape=(64, 64))
    assert kept.shape == (64, 64) and not kept[48:].any()  # padding stays 0
    np.testing.assert_array_equal(kept[8:24, 6:22], plain[8:24, 6:22])
    assert not kept[26:42, 40:56].any()
