"""benchmarks/edge_snap.py: the guided filter, edge snapping, and the cache -> screen replay."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from script_loader import load_script

from ntclick.clicks import Click

edge_snap = load_script("benchmarks/edge_snap.py")


def _step_image() -> np.ndarray:
    """A dark left half and a bright right half (edge between columns 29 and 30), a little noise."""
    image = np.full((40, 60, 3), 40, np.uint8)
    image[:, 30:] = 210
    noise = np.random.default_rng(0).integers(-6, 7, image.shape)
    return np.clip(image.astype(int) + noise, 0, 255).astype(np.uint8)


def test_guided_filter_keeps_a_constant_and_refuses_bad_arguments():
    guide = np.random.default_rng(1).random((20, 30, 3), dtype=np.float32)
    out = edge_snap.guided_filter(guide, np.full((20, 30), 0.7, np.float32), 3, 1e-3)
    np.testing.assert_allclose(out, 0.7, atol=1e-4)
    with pytest.raises(ValueError, match="radius must be >= 1"):
        edge_snap.guided_filter(guide, np.zeros((20, 30), np.float32), 0, 1e-3)
    with pytest.raises(ValueError, match="guide must be"):
        edge_snap.guided_filter(guide[..., 0], np.zeros((20, 30), np.float32), 2, 1e-3)


@pytest.mark.parametrize("shift", [-2, -1, 1, 2])
def test_snap_moves_a_misplaced_edge_towards_the_image_edge(shift):
    image = _step_image()
    truth = np.zeros((40, 60), bool)
    truth[:, 30:] = True
    misplaced = np.zeros_like(truth)
    misplaced[:, 30 + shift :] = True
    snapped = edge_snap.snap(image, misplaced, [], radius=4, eps=1e-4)
    before, after = misplaced != truth, snapped != truth
    assert before.sum() == abs(shift) * 40
    assert not (after & ~before).any()  # no new error
    if abs(shift) == 1:
        assert not after.any()  # one pixel off: back on the edge
    else:
        assert after.sum() <= before.sum() * 0.6  # two off: most of the way


def test_snap_keeps_fg_and_bg_click_pixels():
    image = _step_image()
    mask = np.zeros((40, 60), bool)
    mask[:, 30:] = True
    clicks = [Click(5.6, 10.2, "fg"), Click(50, 20, "bg"), Click(10, 30, "nt")]
    out = edge_snap.snap(image, mask, clicks, radius=4, eps=1e-4)
    assert out[10, 5] and not out[20, 50]  # clicks on the other side of the edge win there
    assert not out[30, 10]  # an nt click claims nothing
    assert (out != mask).sum() == 2


def test_variant_names():
    assert edge_snap.variant("gf-r2-e0.001") is not None and edge_snap.variant("band-lab") is not None
    with pytest.raises(ValueError, match="gf-rR-eEPS"):
        edge_snap.variant("gf-2-0.1")
    with pytest.raises(ValueError, match="unknown variant 'sharpen'"):
        edge_snap.variant("sharpen")


def test_cache_replays_a_stored_run_and_screen_pairs_against_it(tiny_weights, tmp_path, capsys):
    from ntclick import NTClickPredictor
    from ntclick.eval import evaluate, open_dataset

    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    gt = np.zeros((48, 64), np.uint8)
    cv2.rectangle(gt, (18, 12), (44, 34), 255, -1)
    image = np.where(gt[..., None] > 0, 200, 40).astype(np.uint8).repeat(3, axis=2)
    cv2.imwrite(str(data / "images" / "box.png"), image)
    cv2.imwrite(str(data / "masks" / "box.png"), gt)
    jsonl = tmp_path / "run.jsonl"
    evaluate(
        NTClickPredictor.from_pretrained(tiny_weights),
        open_dataset("folder", str(data)),
        "standard",
        max_clicks=3,
        jsonl_path=jsonl,
        progress=False,
    )
    cache = tmp_path / "cache"
    edge_snap.cache(str(jsonl), f"folder={data}", str(cache), weights=str(tiny_weights))  # checks the IoUs
    z = np.load(cache / "box.npz")
    assert z["final"].shape == (3, 48, 64) and z["ecp"].shape == (3, 48, 64) and z["clicks"].shape == (3, 3)
    rows = edge_snap.screen(str(cache), ["cached", "gf-r2-e0.001"])
    assert [r["variant"] for r in rows] == ["cached", "gf-r2-e0.001"]
    assert rows[0]["delta"] == 0 and rows[0]["clicks"] == 3 and rows[0]["objects"] == 1
    assert rows[0]["changed_max"] == 0 and 0 <= rows[1]["changed_mean"] <= rows[1]["changed_max"] <= 100
    assert rows[1]["better"] + rows[1]["worse"] <= 3
    text = edge_snap.figure(str(cache), "box", str(tmp_path / "fig.png"), radius=2, eps=1e-3)
    assert text.startswith("box, click ") and "snapped" in text
    from ntclick.image_io import load_image

    picture = load_image(tmp_path / "fig.png")
    assert picture.shape[2] == 3 and picture.shape[1] > 2 * picture.shape[0] - 20  # two panels side by side
    with pytest.raises(FileNotFoundError, match="no cached objects"):
        edge_snap.screen(str(tmp_path), ["cached"])
    capsys.readouterr()
