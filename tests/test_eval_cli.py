"""``ntclick eval`` end to end on a tiny fixture dataset with the GrabCut baseline."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from ntclick.cli import main
from ntclick.eval.report import summarize_jsonl


@pytest.fixture
def data_root(tmp_path):
    rng = np.random.default_rng(0)
    root = tmp_path / "tiny"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(2):
        gt = np.zeros((48, 64), np.uint8)
        gt[10 + 4 * i : 38, 12 : 40 + 6 * i] = 255
        img = rng.integers(0, 70, (48, 64, 3), dtype=np.uint8)
        img[gt > 0] = rng.integers(170, 255, (int((gt > 0).sum()), 3), dtype=np.uint8)
        cv2.imwrite(str(root / "images" / f"o{i}.jpg"), img)
        cv2.imwrite(str(root / "masks" / f"o{i}.png"), gt)
    return root


def _argv(dataset, out, *extra):
    return ["eval", "--baseline", "grabcut", "--dataset", dataset, "--out", str(out), *extra]


def _tiny_ecp_only_argv(weights, data_root, out, *extra):
    """Tiny weights, ECP alone at 32 px, 2 clicks on the first object: an eval in a second."""
    argv = ["eval", "--weights", str(weights), "--dataset", f"folder={data_root}", *extra]
    return argv + [
        "--no-refine",
        "--ecp-size",
        "32",
        "--max-clicks",
        "2",
        "--limit",
        "1",
        "--out",
        str(out),
        "--quiet",
    ]


def test_eval_cli_grabcut_baseline_both_protocols(data_root, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(_argv(f"folder={data_root}", out, "--protocol", "standard,nt", "--max-clicks", "3")) == 0
    table = capsys.readouterr().out
    assert "| grabcut | folder | standard | 2 |" in table and "| grabcut | folder | nt | 2 |" in table
    summary = json.loads((out / "summary.json").read_text())
    groups = [(s["protocol"], s["objects"], s["max_clicks"]) for s in summary]
    assert groups == [("standard", 2, 3), ("nt", 2, 3)]
    assert (out / "summary.md").read_text().count("| grabcut |") == 2
    csv_header = (out / "summary.csv").read_text().splitlines()[0]
    assert csv_header.startswith("model,dataset,protocol,objects,NoC@85")
    for s in summary:
        jsonl = out / f"grabcut_folder_{s['protocol']}.jsonl"
        rebuilt = summarize_jsonl(jsonl)[0].to_dict()
        assert rebuilt["noc"] == s["noc"] and rebuilt["miou"] == pytest.approx(s["miou"])
        assert 0.0 < s["miou_at_5"] <= 1.0
    pytest.importorskip("matplotlib")
    assert (out / "miou_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_eval_cli_user_errors_are_one_line(data_root, tmp_path, capsys):
    assert main(_argv(f"nope={data_root}", tmp_path)) == 2
    assert "unknown dataset 'nope'" in capsys.readouterr().err
    assert main(_argv(f"folder={data_root}", tmp_path, "--protocol", "wild")) == 2
    assert "unknown --protocol 'wild'" in capsys.readouterr().err
    assert main(_argv(f"berkeley={tmp_path / 'absent'}", tmp_path)) == 2
    assert "folder not found" in capsys.readouterr().err
    assert main(_argv(f"folder={data_root}", tmp_path, "--no-refine")) == 2
    assert "predictor settings (--no-refine) apply to --weights" in capsys.readouterr().err
    assert (
        main(_argv(f"folder={data_root}", tmp_path, "--zoom-in", "--brs-steps", "3", "--no-click-guard")) == 2
    )
    assert (
        "predictor settings (--zoom-in, --brs-steps, --no-click-guard) apply to --weights"
        in capsys.readouterr().err
    )


def test_eval_cli_weights_loads_the_predictor_lazily(data_root, tmp_path, monkeypatch):
    import sys
    import types

    from ntclick.baselines import GrabCutPredictor

    calls = []

    class FakeNTClickPredictor:
        @classmethod
        def from_pretrained(cls, name_or_path, *, device=None, **kwargs):
            calls.append((name_or_path, device))
            return GrabCutPredictor()

    fake = types.ModuleType("ntclick.predictor")
    fake.NTClickPredictor = FakeNTClickPredictor
    monkeypatch.setitem(sys.modules, "ntclick.predictor", fake)
    out = tmp_path / "w"
    argv = [
        "eval",
        "--weights",
        str(tmp_path / "my-model"),
        "--device",
        "cpu",
        "--dataset",
        f"folder={data_root}",
        "--max-clicks",
        "2",
        "--out",
        str(out),
        "--quiet",
    ]
    assert main(argv) == 0
    assert calls == [(str(tmp_path / "my-model"), "cpu")]
    assert json.loads((out / "summary.json").read_text())[0]["model"] == "my-model"
    assert (out / "my-model_folder_standard.jsonl").is_file()


def test_plot_without_matplotlib_names_the_extra(monkeypatch, tmp_path):
    import sys

    from ntclick.eval.plot import plot_miou_curves

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(RuntimeError, match=r'pip install "ntclick\[plot\]"'):
        plot_miou_curves([], tmp_path / "x.png")


def test_eval_cli_with_a_tiny_random_ntclick_model(data_root, tmp_path, tiny_weights):
    """The harness drives the real predictor: recorded IoUs are those of its masks at threshold 0.49."""
    pytest.importorskip("torch")
    from ntclick.clicks import Click
    from ntclick.eval import open_dataset, read_jsonl
    from ntclick.metrics import iou
    from ntclick.predictor import NTClickPredictor

    weights = tiny_weights
    out = tmp_path / "out"
    argv = ["eval", "--weights", str(weights), "--device", "cpu", "--dataset", f"folder={data_root}"]
    assert (
        main([*argv, "--protocol", "nt", "--max-clicks", "2", "--limit", "1", "--out", str(out), "--quiet"])
        == 0
    )
    (record,) = read_jsonl(out / "ntclick-tiny_folder_nt.jsonl")
    assert len(record.clicks) == len(record.ious) == 2

    sample = open_dataset("folder", data_root)[0].load()
    predictor = NTClickPredictor.from_pretrained(weights, device="cpu")
    predictor.set_image(sample.image)
    prediction = predictor.predict([Click(c.x, c.y, c.kind) for c in record.clicks[:1]])
    assert record.ious[0] == pytest.approx(iou(prediction.soft > 0.49, sample.gt))


def test_eval_cli_no_refine_evaluates_ecp_alone(data_root, tmp_path, tiny_weights):
    """--no-refine and --ecp-size reach the predictor; the label says ECP only."""
    from ntclick.clicks import Click
    from ntclick.eval import open_dataset, read_jsonl
    from ntclick.metrics import iou
    from ntclick.predictor import NTClickPredictor

    out = tmp_path / "out"
    argv = ["eval", "--weights", str(tiny_weights), "--dataset", f"folder={data_root}", "--no-refine"]
    argv += ["--ecp-size", "96", "--max-clicks", "2", "--limit", "1", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    (record,) = read_jsonl(out / "ntclick-tiny-ecp-only_folder_standard.jsonl")

    sample = open_dataset("folder", data_root)[0].load()
    predictor = NTClickPredictor.from_pretrained(tiny_weights, refine=False, ecp_size=96)
    predictor.set_image(sample.image)
    prediction = predictor.predict([Click(c.x, c.y, c.kind) for c in record.clicks[:1]])
    assert record.ious[0] == pytest.approx(iou(prediction.soft > 0.49, sample.gt))
    predictor.refine = True  # the refined mask differs, so the flag was not ignored
    refined = predictor.predict([Click(c.x, c.y, c.kind) for c in record.clicks[:1]])
    assert not np.array_equal(refined.soft, prediction.soft)


def test_eval_cli_refine_turns_hrr_on_for_weights_stored_without_it(data_root, tmp_path, tiny_weights):
    """--refine overrides a stored ``refine: false``; the label says HRR."""
    from ntclick.clicks import Click
    from ntclick.eval import open_dataset, read_jsonl
    from ntclick.metrics import iou
    from ntclick.predictor import NTClickPredictor

    stored = NTClickPredictor.from_pretrained(tiny_weights, refine=False).save_pretrained(tmp_path / "w")
    out = tmp_path / "out"
    argv = ["eval", "--weights", str(stored), "--dataset", f"folder={data_root}", "--refine"]
    argv += ["--max-clicks", "1", "--limit", "1", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    (record,) = read_jsonl(out / "w-hrr_folder_standard.jsonl")
    sample = open_dataset("folder", data_root)[0].load()
    predictor = NTClickPredictor.from_pretrained(stored)
    assert predictor.refine is False
    predictor.set_image(sample.image)
    clicks = [Click(c.x, c.y, c.kind) for c in record.clicks[:1]]
    ecp_alone = predictor.predict(clicks)
    predictor.refine = True
    refined = predictor.predict(clicks)
    assert record.ious[0] == pytest.approx(iou(refined.soft > 0.49, sample.gt))
    assert not np.array_equal(refined.soft, ecp_alone.soft)


def test_eval_cli_zoom_in_reaches_the_predictor(data_root, tmp_path, tiny_weights, monkeypatch):
    """--zoom-in: the label says so, the second click zooms, and its IoU is a zooming predictor's."""
    from ntclick.clicks import Click
    from ntclick.eval import open_dataset, read_jsonl
    from ntclick.metrics import iou
    from ntclick.predictor import NTClickPredictor

    sample = open_dataset("folder", data_root)[0].load()
    h, w = sample.gt.shape
    boxes = []

    def fixed_box(self, classes, clicks):  # the random tiny ECP's own box may be the whole image
        boxes.append(len(clicks))
        return 0, h // 2, 0, w // 2

    monkeypatch.setattr(NTClickPredictor, "zoom_box", fixed_box)
    out = tmp_path / "out"
    argv = _tiny_ecp_only_argv(tiny_weights, data_root, out, "--zoom-in")
    assert main(argv) == 0
    assert boxes == [2]  # asked only at the second click
    (record,) = read_jsonl(out / "ntclick-tiny-ecp-only-zoom_folder_standard.jsonl")
    predictor = NTClickPredictor.from_pretrained(tiny_weights, refine=False, ecp_size=32, zoom_in=True)
    predictor.set_image(sample.image)
    clicks = [Click(c.x, c.y, c.kind) for c in record.clicks[:2]]
    zoomed = predictor.predict(clicks).soft
    assert record.ious[1] == pytest.approx(iou(zoomed > 0.49, sample.gt))
    predictor.clamp_to_fbu = False  # the raw ECP probabilities show the second pass
    raw_zoomed = predictor.predict(clicks).soft
    predictor.zoom_in = False
    assert not np.allclose(predictor.predict(clicks).soft[: h // 2, : w // 2], raw_zoomed[: h // 2, : w // 2])


@pytest.mark.parametrize(
    "method, setting, flag, suffix",
    [
        ("_run_ecp", "brs_steps", "--brs-steps", "brs2"),  # once per ECP pass
        ("_grabcut_band", "grabcut_iterations", "--grabcut-iterations", "gc2"),  # once per click
    ],
)
def test_eval_cli_predictor_settings_reach_the_predictor(
    method, setting, flag, suffix, data_root, tmp_path, tiny_weights, monkeypatch, capsys
):
    from ntclick.eval import read_jsonl
    from ntclick.predictor import NTClickPredictor

    seen = []
    real = getattr(NTClickPredictor, method)

    def spy(self, *args):
        seen.append(getattr(self, setting))
        return real(self, *args)

    monkeypatch.setattr(NTClickPredictor, method, spy)
    out = tmp_path / "out"
    assert main(_tiny_ecp_only_argv(tiny_weights, data_root, out, flag, "2")) == 0
    assert seen == [2, 2]  # two clicks, ECP without zoom: one call per click, each with the setting
    (record,) = read_jsonl(out / f"ntclick-tiny-ecp-only-{suffix}_folder_standard.jsonl")
    assert len(record.ious) == 2
    assert main(_argv(f"folder={data_root}", tmp_path, flag, "2")) == 2
    assert flag in capsys.readouterr().err


def test_eval_cli_prev_mask_needs_a_prior_ecp_and_reaches_it(
    data_root, tmp_path, tiny_weights, monkeypatch, capsys
):
    import torch
    from tiny_models import ECP_TINY, HRR_TINY

    from ntclick.eval import open_dataset, read_jsonl
    from ntclick.hub import save_pretrained
    from ntclick.metrics import iou
    from ntclick.modeling import build_ecp, build_hrr
    from ntclick.predictor import NTClickPredictor

    assert main(_tiny_ecp_only_argv(tiny_weights, data_root, tmp_path / "x", "--prev-mask")) == 2
    assert "--prev-mask needs an ECP with a prior channel" in capsys.readouterr().err
    torch.manual_seed(0)
    weights = save_pretrained(
        tmp_path / "prior", build_ecp("tiny", **ECP_TINY, prior="grabcut"), build_hrr("tiny", **HRR_TINY)
    )
    # An object of the background's colours: the first answer cannot be perfect, so a second click comes.
    hard = tmp_path / "hard"
    (hard / "images").mkdir(parents=True)
    (hard / "masks").mkdir()
    gt = np.zeros((48, 64), np.uint8)
    gt[10:38, 12:40] = 255
    cv2.imwrite(
        str(hard / "images" / "o0.png"), np.random.default_rng(1).integers(0, 256, (48, 64, 3), np.uint8)
    )
    cv2.imwrite(str(hard / "masks" / "o0.png"), gt)
    given = []
    real = NTClickPredictor._working_mask

    def spy(self, prev_mask):
        given.append(prev_mask.copy())
        return real(self, prev_mask)

    monkeypatch.setattr(NTClickPredictor, "_working_mask", spy)
    out = tmp_path / "out"
    assert main(_tiny_ecp_only_argv(weights, hard, out, "--prev-mask")) == 0
    (record,) = read_jsonl(out / "prior-ecp-only_folder_standard-prev.jsonl")
    assert len(record.ious) == 2 and record.settings["prev_mask"] is True
    # Once, at the second click, with the first click's scored mask (its IoU is the record's).
    assert len(given) == 1 and given[0].dtype == bool
    sample = open_dataset("folder", hard)[0].load()
    assert iou(given[0], sample.gt) == pytest.approx(record.ious[0])


@pytest.mark.parametrize(
    "setting, on, off",
    [
        ("click_components", "cc", "no-cc"),
        ("click_guard", "guard", "no-guard"),
        ("zoom_in", "zoom", "no-zoom"),
    ],
)
def test_eval_cli_on_off_flags_reach_the_predictor(
    data_root, tmp_path, tiny_weights, monkeypatch, capsys, setting, on, off
):
    from ntclick.eval import read_jsonl
    from ntclick.predictor import NTClickPredictor

    seen = []
    real = NTClickPredictor.predict

    def spy(self, *args, **kwargs):
        seen.append(getattr(self, setting))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(NTClickPredictor, "predict", spy)
    flag = "--" + setting.replace("_", "-")
    for arg, suffix, value in ((flag, on, True), (flag.replace("--", "--no-"), off, False)):
        seen.clear()
        out = tmp_path / suffix
        assert main(_tiny_ecp_only_argv(tiny_weights, data_root, out, arg)) == 0
        assert seen == [value, value]
        (record,) = read_jsonl(out / f"ntclick-tiny-ecp-only-{suffix}_folder_standard.jsonl")
        # stored with the result, so resumes tell the two apart
        assert record.predictor[setting] is value
    assert main(_argv(f"folder={data_root}", tmp_path, flag)) == 2
    assert flag in capsys.readouterr().err


def test_label_suffix_keeps_the_order_of_earlier_result_files():
    """Result files are named after the settings given; the order must stay as it was before the
    options were shared with ``ntclick predict`` (stored runs are found by these names)."""
    import argparse

    from ntclick.commands._predictor_options import add_predictor_options, label_suffix, predictor_overrides

    parser = argparse.ArgumentParser()
    add_predictor_options(parser, labelled=True)
    argv = ["--click-guard", "--no-click-components", "--grabcut-iterations", "0", "--brs-steps", "20"]
    args = parser.parse_args([*argv, "--zoom-in", "--no-refine", "--ecp-size", "320"])
    assert label_suffix(args) == "-ecp-only-zoom-brs20-gc0-no-cc-guard"
    assert predictor_overrides(args) == {
        "refine": False,
        "zoom_in": True,
        "brs_steps": 20,
        "grabcut_iterations": 0,
        "click_components": False,
        "click_guard": True,
        "ecp_size": 320,
    }
    assert label_suffix(parser.parse_args(["--brs-steps", "0"])) == ""  # 0 is off: no suffix
    assert predictor_overrides(parser.parse_args([])) == {}
