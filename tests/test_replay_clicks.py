"""benchmarks/replay_clicks.py: one object's stored clicks replayed, with the FBU map's composition."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from script_loader import load_script

from ntclick.fbu import BG, FG, UNCERTAIN

replay = load_script("benchmarks/replay_clicks.py")


def test_composition_shares_of_the_image():
    gt = np.zeros((10, 10), bool)
    gt[:, :5] = True
    fbu = np.full((10, 10), BG, np.uint8)
    fbu[:, :4] = FG
    fbu[:, 4:7] = UNCERTAIN  # 30 band pixels, 20 on background
    fbu[0, 9] = FG  # one certain fg pixel on background
    mask = np.zeros_like(gt)
    mask[:, :6] = True  # 10 false positives
    c = replay.composition(fbu, mask, gt)
    assert (
        c["fg"] == pytest.approx(41.0) and c["band"] == pytest.approx(30.0) and c["bg"] == pytest.approx(29.0)
    )
    assert c["band on gt bg"] == pytest.approx(20.0)
    assert c["fg on gt bg"] == pytest.approx(1.0)
    assert c["mask on gt bg"] == pytest.approx(10.0)


def test_replay_reproduces_the_stored_ious(tiny_weights, tmp_path, capsys):
    from ntclick import NTClickPredictor
    from ntclick.eval import evaluate, open_dataset

    data = tmp_path / "data"
    (data / "images").mkdir(parents=True)
    (data / "masks").mkdir()
    gt = np.zeros((72, 96), np.uint8)
    cv2.circle(gt, (48, 36), 16, 255, -1)
    image = np.where(gt[..., None] > 0, 190, 50).astype(np.uint8).repeat(3, axis=2)
    cv2.imwrite(str(data / "images" / "disk.png"), image)
    cv2.imwrite(str(data / "masks" / "disk.png"), gt)
    jsonl = tmp_path / "run.jsonl"
    dataset = open_dataset("folder", str(data))
    evaluate(
        NTClickPredictor.from_pretrained(tiny_weights),
        dataset,
        "nt",
        max_clicks=4,
        jsonl_path=jsonl,
        progress=False,
    )
    record = replay.stored_record(jsonl, "disk")
    rows = replay.replay(NTClickPredictor.from_pretrained(tiny_weights), dataset[0].load(), record)
    assert [r["kind"] for r in rows] == [c["kind"] for c in record["clicks"]]
    assert [r["iou"] for r in rows] == pytest.approx(record["ious"])
    assert all(r["fg"] + r["band"] + r["bg"] == pytest.approx(100.0) for r in rows)
    argv = [
        "--weights",
        str(tiny_weights),
        "--dataset",
        f"folder={data}",
        "--jsonl",
        str(jsonl),
        "--object",
        "disk",
    ]
    assert replay.main(argv + ["--clicks", "2"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert len(table) == 2 + 2 and table[2].startswith("| 1 | ")
    with pytest.raises(KeyError, match="not in"):
        replay.stored_record(jsonl, "missing")


def test_prev_mask_records_are_refused():
    record = {"settings": {"prev_mask": True}, "clicks": [], "ious": []}
    with pytest.raises(ValueError, match="prev-mask"):
        replay.replay(None, None, record)


def test_drop_clicks_and_their_replay_with_steps_switched_off():
    from types import SimpleNamespace

    from ntclick.prediction import Prediction

    assert replay.drop_clicks([0.5, 0.9, 0.4, 0.45, 0.1], 0.3) == [2, 4]
    assert replay.drop_clicks([0.5, 0.3], 0.3) == []  # a fall of exactly the threshold is no drop

    gt = np.zeros((10, 10), bool)
    gt[2:6, 2:6] = True

    class Scripted:
        """Floods at the third click unless the band step is off; zoom-in changes nothing."""

        grabcut_iterations, zoom_in = 3, True

        def set_image(self, image):
            pass

        def predict(self, clicks):
            mask = np.ones((10, 10), bool) if len(clicks) == 3 and self.grabcut_iterations else gt
            return Prediction(
                mask=mask, soft=mask.astype(np.float32), fbu=np.where(mask, 255, 0).astype(np.uint8)
            )

    record = {
        "clicks": [
            {"x": 3, "y": 3, "kind": "fg"},
            {"x": 8, "y": 8, "kind": "bg"},
            {"x": 4, "y": 4, "kind": "fg"},
        ],
        "ious": [1.0, 1.0, 0.16],
    }
    predictor = Scripted()
    sample = SimpleNamespace(image=np.zeros((10, 10, 3), np.uint8), gt=gt, ignore=None)
    (row,) = replay.replay_drops(predictor, sample, record, 0.3)
    assert (row["click"], row["kind"], row["before"], row["stored"]) == (3, "fg", 1.0, 0.16)
    assert row["growth"] == pytest.approx(100 / 16)  # the flood: 16 px -> the whole 10 x 10 image
    assert row["as stored"] == pytest.approx(0.16) and row["zoom-in off"] == pytest.approx(0.16)
    assert row["band step off"] == row["both off"] == 1.0
    assert (predictor.grabcut_iterations, predictor.zoom_in) == (3, True)  # settings restored
