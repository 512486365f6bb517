"""benchmarks/band_oracle.py and band_resolver_probe.py: the band oracle, the error table, the probe."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from script_loader import load_script

from ntclick.fbu import BG, FG, UNCERTAIN

oracle = load_script("benchmarks/band_oracle.py")
probe = load_script("benchmarks/band_resolver_probe.py")


def _disk_folder(root, names=("a", "b")):
    """A folder dataset of bright disks on a dark ground (one per name, different radii)."""
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i, name in enumerate(names):
        gt = np.zeros((64, 80), np.uint8)
        cv2.circle(gt, (40, 32), 12 + 4 * i, 255, -1)
        image = np.where(gt[..., None] > 0, 200, 40).astype(np.uint8).repeat(3, axis=2)
        cv2.imwrite(str(root / "images" / f"{name}.png"), image)
        cv2.imwrite(str(root / "masks" / f"{name}.png"), gt)
    return root


def test_oracle_mask_keeps_certain_regions_and_takes_the_band_from_gt():
    fbu = np.array([[FG, UNCERTAIN, UNCERTAIN, BG]], np.uint8)
    gt = np.array([[False, True, False, True]])
    # certain fg stays fg although gt says bg; the band follows gt; certain bg stays bg.
    assert oracle.oracle_mask(fbu, gt).tolist() == [[True, True, False, False]]


def test_error_shares_by_class_and_distance():
    gt = np.zeros((40, 40), bool)
    gt[10:30, 10:30] = True  # area 400
    fbu = np.full(gt.shape, BG, np.uint8)
    fbu[5:35, 5:35] = UNCERTAIN
    mask = gt.copy()
    mask[10, 10:14] = False  # 4 missed pixels on the boundary row (distance 1), in the band
    mask[0, 0] = True  # a false positive on certain bg, far from the object
    table = oracle.error_shares(mask, fbu, gt)
    expected = np.zeros((3, 4))
    expected[1, 0] = 4 / 400
    expected[0, 3] = 1 / 400
    np.testing.assert_allclose(table, expected)
    ignore = np.zeros_like(gt)
    ignore[0, 0] = True
    assert oracle.error_shares(mask, fbu, gt, ignore)[0, 3] == 0


def test_band_oracle_beats_the_plain_predictor_and_writes_its_curves(tiny_weights, tmp_path):
    from ntclick import Click, NTClickPredictor
    from ntclick.eval import open_dataset
    from ntclick.eval.protocol import ClickProtocol, read_jsonl
    from ntclick.metrics import iou

    dataset = open_dataset("folder", str(_disk_folder(tmp_path / "data")))
    predictor = NTClickPredictor.from_pretrained(tiny_weights, grabcut_iterations=0)
    band_oracle = oracle.BandOracle(predictor)
    sample = dataset[0].load()
    band_oracle.set_image(sample.image)
    with pytest.raises(RuntimeError, match="gt"):
        band_oracle.predict([Click(40, 32, "fg")])
    band_oracle.gt = sample.gt
    clicks = [Click(40, 32, "fg"), Click(5, 5, "bg")]
    plain = predictor.predict(clicks)
    best = band_oracle.predict(clicks)
    # Same certain regions, the band right: never worse than the predictor's own band call.
    assert iou(best.mask, sample.gt) >= iou(plain.mask, sample.gt)
    assert np.array_equal(best.fbu, plain.fbu)

    out = tmp_path / "oracle.jsonl"
    results = oracle.run_oracle(
        predictor, dataset, ClickProtocol("standard", max_clicks=3), out, "band-oracle"
    )
    stored = read_jsonl(out)
    assert [r.name for r in stored] == ["a", "b"] == [r.name for r in results]
    assert [r.ious for r in stored] == [r.ious for r in results]
    assert stored[0].predictor["band"] == "ground truth (oracle)"


def test_error_table_cli_writes_json(tiny_weights, tmp_path):
    from ntclick import NTClickPredictor
    from ntclick.eval import evaluate, open_dataset

    data = _disk_folder(tmp_path / "data")
    runs = tmp_path / "run.jsonl"
    evaluate(
        NTClickPredictor.from_pretrained(tiny_weights),
        open_dataset("folder", str(data)),
        "standard",
        max_clicks=4,
        jsonl_path=runs,
        progress=False,
    )
    out = tmp_path / "out"
    args = ["--weights", str(tiny_weights), "--dataset", f"folder={data}"]
    assert oracle.main([*args, "--errors", str(runs), "--out", str(out)]) == 0
    payload = json.loads((out / "band-errors_folder.json").read_text())
    table = np.array(payload["percent_of_object_area"])
    assert table.shape == (3, 4) and (table >= 0).all()
    assert payload["predictions"] == 2  # each object reached click 3, neither click 6
    assert payload["replayed_iou_mismatches"] == 0  # the run was made by these weights

    # Another run's clicks (its IoUs changed here) are flagged, not silently tabulated.
    from ntclick.eval.protocol import read_jsonl

    edited = tmp_path / "edited.jsonl"
    records = read_jsonl(runs)
    for r in records:
        r.ious = [v - 0.5 if v >= 0.5 else v + 0.5 for v in r.ious]
    edited.write_text("".join(r.to_json() + "\n" for r in records))
    other = tmp_path / "other"
    assert oracle.main([*args, "--errors", str(edited), "--out", str(other)]) == 0
    assert json.loads((other / "band-errors_folder.json").read_text())["replayed_iou_mismatches"] == 2


def test_probe_features_channels():
    image = np.full((20, 30, 3), 100, np.uint8)
    soft = np.full((20, 30), 255, np.uint8)
    fbu = np.full((20, 30), UNCERTAIN, np.uint8)
    fbu[:, :10] = FG
    grabcut = np.zeros((20, 30), bool)
    clicks = np.array([[5, 5, 1], [25, 15, 0], [15, 10, 2]], np.float32)
    x = probe.features(image, soft, fbu, grabcut, clicks, radius=2)
    assert x.shape == (probe.IN_CHANNELS, 20, 30) and x.dtype == np.float32
    assert np.allclose(x[3], 1.0) and x[4, :, :10].all() and not x[5, :, :10].any() and x[5, :, 10:].all()
    assert x[7, 5, 5] == 1 and x[8, 15, 25] == 1  # fg disk, bg disk at the clicks
    assert x[7].sum() == x[8].sum() == 13  # radius-2 disks; the nt click painted nowhere


def test_probe_generate_then_train(tiny_weights, tmp_path):
    from ntclick.band_grabcut import grabcut_band
    from ntclick.eval import open_dataset

    dataset = open_dataset("folder", str(_disk_folder(tmp_path / "data", names=[f"o{i}" for i in range(3)])))
    out = tmp_path / "npz"
    assert probe.generate(str(tiny_weights), dataset, out, shard=1, shards=2) == 1  # only o1
    assert probe.generate(str(tiny_weights), dataset, out, shard=0, shards=2) == 2
    assert probe.generate(str(tiny_weights), dataset, out) == 0  # all written: nothing redone
    d = np.load(out / "o1.npz")
    k = len(d["ious"])
    assert d["soft"].shape == d["fbu"].shape == d["grabcut"].shape == (k, 64, 80) and d["clicks"].shape == (
        k,
        3,
    )
    # The stored answer is the band step's, for the stored ECP maps and clicks.
    clicks = [tuple(c[:2]) + (["bg", "fg", "nt"][int(c[2])],) for c in d["clicks"]]
    again = grabcut_band(d["image"], d["soft"][-1] / np.float32(255), d["fbu"][-1], clicks, iterations=3)
    assert (again != d["grabcut"][-1]).mean() < 0.01  # the soft mask was stored as uint8

    weights = tmp_path / "probe.pt"
    rows = probe.train(out, steps=2, out=weights, check_every=1, batch=2, crop=32)
    assert [r["step"] for r in rows] == [1, 2] and weights.exists()
    for r in rows:
        assert all(0.0 <= r[m] <= 1.0 for m in ("network", "grabcut", "ecp"))

    # The trained probe in the evaluation harness: certain regions stay ECP's, one line per object.
    import torch

    from ntclick import Click, NTClickPredictor
    from ntclick.eval.protocol import read_jsonl

    model = probe.build_unet()
    model.load_state_dict(torch.load(weights, weights_only=True))
    predictor = probe.ProbePredictor(
        NTClickPredictor.from_pretrained(tiny_weights, grabcut_iterations=0), model
    )
    sample = dataset[0].load()
    predictor.set_image(sample.image)
    prediction = predictor.predict([Click(40, 32, "fg"), Click(3, 3, "bg")])
    assert prediction.mask[prediction.fbu == FG].all() and not prediction.mask[prediction.fbu == BG].any()
    folder = tmp_path / "data"
    args = [
        "evaluate",
        "--weights",
        str(tiny_weights),
        "--probe",
        str(weights),
        "--dataset",
        f"folder={folder}",
    ]
    assert probe.main([*args, "--out", str(tmp_path / "eval")]) == 0
    stored = read_jsonl(tmp_path / "eval" / "probe_folder_standard.jsonl")
    assert [r.name for r in stored] == ["o0", "o1", "o2"]
    assert all(r.predictor["band"] == "band_resolver_probe U-Net" for r in stored)
