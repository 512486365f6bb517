"""benchmarks/fbu_errors.py: ECP's band and certain-but-wrong pixels through the clicker."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
import torch
from script_loader import load_script

from ntclick.fbu import BG, FG, UNCERTAIN


def _script():
    return load_script("benchmarks/fbu_errors.py")


def test_fbu_scores_count_band_and_certain_errors():
    gt = np.zeros((10, 10), bool)
    gt[:, :5] = True  # a 50-pixel object
    fbu = np.full((10, 10), BG, np.uint8)
    fbu[:, :4] = FG
    fbu[:, 4:6] = UNCERTAIN  # 20 band pixels, 10 of them object
    fbu[0, 7] = FG  # certain fg on background
    fbu[0, 0] = BG  # certain bg on the object
    scores = _script().fbu_scores(fbu, gt)
    assert scores["band"] == pytest.approx(20.0)
    assert scores["certain_wrong"] == pytest.approx(100.0 * 2 / 50)
    ignore = np.zeros_like(gt)
    ignore[0] = True  # drops both mistakes and one row of everything
    scores = _script().fbu_scores(fbu, gt, ignore)
    assert scores["certain_wrong"] == 0.0 and scores["band"] == pytest.approx(100.0 * 18 / 90)


def test_run_on_saved_random_weights(tmp_path):
    from ntclick.modeling import build_ecp, build_hrr
    from ntclick.predictor import NTClickPredictor

    torch.manual_seed(0)
    NTClickPredictor(build_ecp("tiny"), build_hrr("tiny"), ecp_size=64).save_pretrained(tmp_path / "w")
    (tmp_path / "data" / "images").mkdir(parents=True)
    (tmp_path / "data" / "masks").mkdir()
    gt = np.zeros((64, 80), np.uint8)
    cv2.circle(gt, (40, 32), 15, 255, -1)
    image = np.where(gt[..., None] > 0, 200, 40).astype(np.uint8).repeat(3, axis=2)
    cv2.imwrite(str(tmp_path / "data" / "images" / "disk.png"), image)
    cv2.imwrite(str(tmp_path / "data" / "masks" / "disk.png"), gt)
    out = tmp_path / "fbu.json"
    argv = ["--weights", str(tmp_path / "w"), "--dataset", f"folder={tmp_path / 'data'}", "--out", str(out)]
    assert _script().main(argv) == 0
    payload = json.loads(out.read_text())
    assert payload["objects"] == 1 and [r["clicks"] for r in payload["rows"]] == [1, 3, 5, 10, 20]
    # The rows are the evaluation protocol's own states: replay it and compare click by click.
    from ntclick.eval import open_dataset
    from ntclick.eval.protocol import ClickProtocol, run_object

    sample = open_dataset("folder", str(tmp_path / "data"))[0].load()
    recorder = _script()._Recorder(NTClickPredictor.from_pretrained(tmp_path / "w"))
    result = run_object(recorder, sample, ClickProtocol(max_clicks=20))
    for row in payload["rows"]:
        j = min(row["clicks"], len(result.ious)) - 1
        assert row["iou"] == pytest.approx(100.0 * result.ious[j])
        expected = _script().fbu_scores(recorder.fbus[j], sample.gt, sample.ignore)
        assert row["band"] == pytest.approx(expected["band"])
        assert row["certain_wrong"] == pytest.approx(expected["certain_wrong"])
