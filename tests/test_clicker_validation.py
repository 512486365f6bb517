"""Clicker validation during ECP training: NoC logged, the fewest-clicks checkpoint kept (CPU, tiny)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from ntclick import NTClickPredictor
from ntclick.eval import evaluate, open_dataset, summarize
from ntclick.image_io import save_image
from ntclick.modeling import build_hrr
from ntclick.train.checkpoint import load_checkpoint, model_from_checkpoint
from ntclick.train.clicker_validation import BEST_CHECKPOINT, ClickerValidator, is_better
from ntclick.train.config import TrainConfig
from ntclick.train.trainer import train
from tests.test_train import TINY_ECP, _few_threads, make_bsds, tiny_config  # noqa: F401 (autouse fixture)

SETTINGS = {"zoom_in": True, "grabcut_iterations": 1}


def make_val_folder(root: Path, count: int = 3) -> Path:
    """Held-out objects in the ``folder`` layout: a coloured disk on a noisy background."""
    rng = np.random.default_rng(1)
    yy, xx = np.mgrid[:48, :64]
    for i in range(count):
        mask = (yy - 24) ** 2 + (xx - 20 - 10 * i) ** 2 < (8 + 2 * i) ** 2
        image = rng.integers(60, 100, (48, 64, 3)).astype(np.uint8)
        image[mask] = (210, 60 + 40 * i, 40)
        save_image(root / "images" / f"obj{i}.png", image)
        save_image(root / "masks" / f"obj{i}.png", (mask * 255).astype(np.uint8))
    return root


def _records(path: Path, split: str) -> list[dict]:
    return [r for r in map(json.loads, path.read_text().splitlines()) if r["split"] == split]


def test_training_logs_noc_keeps_the_fewest_clicks_checkpoint_and_resumes(tmp_path: Path) -> None:
    data, val = make_bsds(tmp_path / "bsds"), make_val_folder(tmp_path / "val")
    config = tiny_config(
        "ecp",
        data,
        steps=6,
        val_every=2,
        val_clicker_data=f"folder={val}",
        val_clicker_settings=SETTINGS,
    )
    train(config, tmp_path / "run", progress=False, stop_at_step=3)
    result = train(config, tmp_path / "run", resume=True, progress=False)

    records = _records(tmp_path / "run" / "metrics.jsonl", "val_clicker")
    assert [r["step"] for r in records] == [2, 4, 6]  # step 2 survived the resume
    for r in records:
        assert r["objects"] == 3 and 1 <= r["noc"] <= 20 and 0 <= r["nof"] <= 3
        assert 0 <= r["miou1"] <= 1 and 0 <= r["miou5"] <= 1
    expected = min(records, key=lambda r: (r["noc"], -r["miou5"], r["step"]))
    assert result.best is not None and result.best["step"] == expected["step"]
    assert result.best["noc"] == expected["noc"]
    assert result.model.training  # validation put the network back in train mode

    best = load_checkpoint(tmp_path / "run" / BEST_CHECKPOINT, "ecp")
    assert best["step"] == expected["step"] and best["best"]["noc"] == expected["noc"]
    # The logged score is what `ntclick eval` measures for the kept checkpoint.
    ecp = model_from_checkpoint(tmp_path / "run" / BEST_CHECKPOINT, "ecp")
    predictor = NTClickPredictor(ecp, build_hrr("tiny"), refine=False, **SETTINGS)
    results = evaluate(
        predictor, open_dataset("folder", str(val)), "standard", target_iou=0.9, progress=False
    )
    assert summarize(results).noc["90"] == pytest.approx(expected["noc"])


def test_validation_does_not_change_what_is_trained(tmp_path: Path) -> None:
    """Selecting checkpoints must not perturb the run: the same weights with and without it."""
    data, val = make_bsds(tmp_path / "bsds"), make_val_folder(tmp_path / "val")
    common = dict(
        steps=4,
        iterative_prob=1.0,
        max_extra_clicks=2,
        model_overrides={**TINY_ECP, "prior": "grabcut", "prior_iterations": 1},
    )
    plain = train(tiny_config("ecp", data, **common), tmp_path / "plain", progress=False)
    validated = train(
        tiny_config(
            "ecp",
            data,
            val_every=2,
            val_clicker_data=f"folder={val}",
            val_clicker_settings=SETTINGS,
            val_data=[{"type": "bsds", "root": str(data), "max_area": 0.6}],
            val_samples=2,
            **common,
        ),
        tmp_path / "validated",
        progress=False,
    )
    assert len(_records(tmp_path / "validated" / "metrics.jsonl", "val_clicker")) == 2
    a, b = (load_checkpoint(r.checkpoint, "ecp")["model"] for r in (plain, validated))
    assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_validator_matches_evaluate_and_splits_objects_over_ranks(tmp_path: Path, monkeypatch) -> None:
    val = make_val_folder(tmp_path / "val", count=3)
    config = tiny_config(
        "ecp",
        make_bsds(tmp_path / "bsds"),
        val_clicker_data=f"folder={val}",
        val_clicker_settings=SETTINGS,
        val_clicker_objects=2,
    )
    validator = ClickerValidator(config)
    assert [s.name for s in validator.samples] == ["obj0", "obj1"]
    torch.manual_seed(0)
    from ntclick.train.trainer import build_model

    ecp = build_model(config).train()
    scores = validator(ecp, torch.device("cpu"))
    assert ecp.training
    predictor = NTClickPredictor(ecp, build_hrr("tiny"), refine=False, **SETTINGS)
    results = evaluate(
        predictor, open_dataset("folder", str(val)), "standard", target_iou=0.9, limit=2, progress=False
    )
    summary = summarize(results)
    assert scores["objects"] == 2 and scores["noc"] == pytest.approx(summary.noc["90"])
    assert scores["nof"] == summary.nof["90"]
    # Rank 1 of 2 runs only the second object; the reduction (identity here: one process)
    # would add rank 0's sums.
    reduced = []
    monkeypatch.setattr(torch.distributed, "all_reduce", lambda t: reduced.append(t.clone()))
    share = validator(ecp, torch.device("cpu"), rank=1, world_size=2)
    assert len(reduced) == 1 and share["objects"] == 1
    assert share["noc"] == pytest.approx(summarize(results[1:]).noc["90"])


def test_both_protocols_choose_on_their_mean_and_log_each(tmp_path: Path) -> None:
    val = make_val_folder(tmp_path / "val", count=2)
    common = dict(val_clicker_data=f"folder={val}", val_clicker_settings=SETTINGS)
    data = make_bsds(tmp_path / "bsds")
    both = ClickerValidator(tiny_config("ecp", data, val_clicker_protocols=["standard", "nt"], **common))
    assert both.spec()["protocols"] == ["standard", "nt"]
    assert "protocols" not in ClickerValidator(tiny_config("ecp", data, **common)).spec()  # old runs resume
    torch.manual_seed(0)
    from ntclick.train.trainer import build_model

    ecp = build_model(tiny_config("ecp", data, **common)).eval()
    scores = both(ecp, torch.device("cpu"))
    predictor = NTClickPredictor(ecp, build_hrr("tiny"), refine=False, **SETTINGS)
    per = {}
    for protocol in ("standard", "nt"):
        results = evaluate(
            predictor, open_dataset("folder", str(val)), protocol, target_iou=0.9, progress=False
        )
        per[protocol] = summarize(results)
        assert scores[f"noc_{protocol}"] == pytest.approx(per[protocol].noc["90"])
        assert scores[f"nof_{protocol}"] == per[protocol].nof["90"]
        assert scores[f"miou5_{protocol}"] == pytest.approx(per[protocol].miou_at_5)
    assert scores["noc"] == pytest.approx((per["standard"].noc["90"] + per["nt"].noc["90"]) / 2)
    assert scores["nof"] == per["standard"].nof["90"] + per["nt"].nof["90"]
    assert scores["objects"] == 2
    only_nt = ClickerValidator(tiny_config("ecp", data, val_clicker_protocols=["nt"], **common))
    assert only_nt(ecp, torch.device("cpu"))["noc"] == pytest.approx(per["nt"].noc["90"])


def test_prev_mask_validation_matches_evaluate_with_the_previous_mask(tmp_path: Path, monkeypatch) -> None:
    from ntclick.eval.protocol import ClickProtocol
    from ntclick.train.trainer import build_model

    val = tmp_path / "val"
    rng = np.random.default_rng(3)
    yy, xx = np.mgrid[:48, :64]
    for i in range(2):  # disks with no colour of their own: no prior finds them in one click
        save_image(val / "images" / f"obj{i}.png", rng.integers(0, 256, (48, 64, 3)).astype(np.uint8))
        disk = (yy - 24) ** 2 + (xx - 24 - 12 * i) ** 2 < 12**2
        save_image(val / "masks" / f"obj{i}.png", (disk * 255).astype(np.uint8))
    prior = {**TINY_ECP, "prior": "grabcut", "prior_iterations": 1}
    # A target the untrained network does not reach at the first click: objects take several.
    common = dict(
        val_clicker_data=f"folder={val}",
        val_clicker_settings=SETTINGS,
        model_overrides=prior,
        val_clicker_target=0.999,
    )
    data = make_bsds(tmp_path / "bsds")
    chained = ClickerValidator(tiny_config("ecp", data, val_clicker_prev_mask=True, **common))
    plain = ClickerValidator(tiny_config("ecp", data, **common))
    assert chained.spec()["prev_mask"] is True and "prev_mask" not in plain.spec()  # old runs resume
    torch.manual_seed(0)
    ecp = build_model(tiny_config("ecp", data, **common)).eval()
    predictor = NTClickPredictor(ecp, build_hrr("tiny"), refine=False, **SETTINGS)
    passed = []  # per predict call of the validators: was a previous mask given?
    real_predict = NTClickPredictor.predict

    def spy(self, *args, **kwargs):
        passed.append(kwargs.get("prev_mask") is not None)
        return real_predict(self, *args, **kwargs)

    for validator, prev in ((chained, True), (plain, False)):
        protocol = ClickProtocol("standard", target_iou=0.999, prev_mask=prev)
        results = evaluate(predictor, open_dataset("folder", str(val)), protocol, progress=False)
        assert all(r.protocol == protocol.name for r in results)
        monkeypatch.setattr(NTClickPredictor, "predict", spy)
        passed.clear()
        scores = validator(ecp, torch.device("cpu"))
        monkeypatch.setattr(NTClickPredictor, "predict", real_predict)
        assert scores["noc"] == pytest.approx(np.mean([len(r.ious) for r in results]))
        assert scores["miou5"] == pytest.approx(summarize(results).miou_at_5)
        # The previous mask from the second click of each object on, exactly when asked for.
        assert sum(passed) == (len(passed) - len(results) if prev else 0) and len(passed) > len(results)


def test_is_better_prefers_fewer_clicks_then_higher_iou() -> None:
    assert is_better({"noc": 5.0, "miou5": 0.1}, None)
    assert is_better({"noc": 4.0, "miou5": 0.1}, {"noc": 5.0, "miou5": 0.9})
    assert not is_better({"noc": 6.0, "miou5": 0.9}, {"noc": 5.0, "miou5": 0.1})
    assert is_better({"noc": 5.0, "miou5": 0.8}, {"noc": 5.0, "miou5": 0.7})
    assert not is_better({"noc": 5.0, "miou5": 0.7}, {"noc": 5.0, "miou5": 0.7})


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"task": "hrr"}, "for ECP runs only"),
        ({"val_clicker_target": 0.0}, r"val_clicker_target must be in \(0, 1\]"),
        ({"val_clicker_objects": -1}, "val_clicker_objects must be >= 0"),
        ({"val_clicker_settings": [1]}, "val_clicker_settings must be a JSON object"),
        ({"val_clicker_protocols": []}, "val_clicker_protocols must be a non-empty list"),
        ({"val_clicker_protocols": ["standard", "noisy"]}, "from standard, nt, got"),
        ({"val_clicker_protocols": ["nt", "nt"]}, "distinct protocols"),
        ({"val_clicker_protocols": "nt"}, "val_clicker_protocols must be"),
    ],
)
def test_config_rejects_bad_clicker_validation(overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{"val_clicker_data": "folder=x", **overrides})


def test_validator_rejects_test_sets_unknown_options_and_empty_folders(tmp_path: Path) -> None:
    data = make_bsds(tmp_path / "bsds")
    with pytest.raises(ValueError, match="berkeley is a benchmark test set"):
        ClickerValidator(tiny_config("ecp", data, val_clicker_data="berkeley"))
    val = make_val_folder(tmp_path / "val", count=1)
    with pytest.raises(ValueError, match=r"unknown predictor option\(s\) \['zoom'\]"):
        ClickerValidator(
            tiny_config("ecp", data, val_clicker_data=f"folder={val}", val_clicker_settings={"zoom": True})
        )
    with pytest.raises(ValueError, match="refine must be false"):
        ClickerValidator(
            tiny_config("ecp", data, val_clicker_data=f"folder={val}", val_clicker_settings={"refine": True})
        )
    (tmp_path / "empty" / "images").mkdir(parents=True)
    (tmp_path / "empty" / "masks").mkdir()
    with pytest.raises(FileNotFoundError, match="val_clicker_data='folder=.*': no objects found"):
        ClickerValidator(tiny_config("ecp", data, val_clicker_data=f"folder={tmp_path / 'empty'}"))


def test_loss_curve_shows_the_validation_clicks(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    from ntclick.image_io import load_image
    from ntclick.train.metrics_log import plot_loss_curve

    train_rows = [{"step": s, "split": "train", "loss": 1.0 / s} for s in range(1, 21)]
    clicker_rows = [{"step": s, "split": "val_clicker", "noc": 14.0 - s / 5} for s in (5, 10, 15, 20)]
    plain, with_clicks = tmp_path / "plain.jsonl", tmp_path / "clicks.jsonl"
    plain.write_text("".join(json.dumps(r) + "\n" for r in train_rows))
    with_clicks.write_text("".join(json.dumps(r) + "\n" for r in train_rows + clicker_rows))
    a = load_image(plot_loss_curve(plain, tmp_path / "plain.png"))
    b = load_image(plot_loss_curve(with_clicks, tmp_path / "clicks.png"))
    red = (b[..., 0] > 180) & (b[..., 1] < 80) & (b[..., 2] < 80)  # matplotlib's tab:red
    assert red.sum() > 50 and not ((a[..., 0] > 180) & (a[..., 1] < 80) & (a[..., 2] < 80)).any()


def test_progress_line_names_each_protocol_behind_the_mean():
    from ntclick.train.clicker_validation import progress_line

    best = {"noc": 12.95, "step": 1200}
    one = {"noc": 11.95, "objects": 20.0, "miou5": 0.642}
    assert progress_line(1200, 0.9, one, best) == (
        "step 1200: NoC@90 11.95 on 20 objects, 5-mIoU 64.2 (best 12.95 at step 1200)"
    )
    two = {**one, "noc": 12.95, "noc_standard": 11.95, "noc_nt": 13.95, "nof_nt": 10.0}
    line = progress_line(1200, 0.9, two, best)
    assert "NoC@90 12.95 (mean of standard 11.95, nt 13.95) on 20 objects" in line
