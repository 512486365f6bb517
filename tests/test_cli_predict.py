"""``ntclick predict`` end to end: with weights saved to a temporary folder, and with GrabCut."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ntclick.cli import main
from ntclick.clicks import Click
from ntclick.image_io import load_image, load_mask, save_image

REPO = Path(__file__).resolve().parents[1]
CHELSEA = REPO / "examples" / "images" / "chelsea.png"


@pytest.fixture()
def weights(tiny_weights) -> Path:
    return tiny_weights


@pytest.fixture()
def image_file(tmp_path) -> Path:
    path = tmp_path / "photo.png"
    save_image(path, np.random.default_rng(0).integers(0, 256, (70, 110, 3), dtype=np.uint8))
    return path


def test_predict_with_weights_writes_every_output(weights, image_file, tmp_path, capsys):
    from ntclick.predictor import NTClickPredictor

    out = tmp_path / "out"
    argv = [str(image_file), "--weights", str(weights), "--click", "fg:20,30", "--click", "nt:60.5,40"]
    argv += ["--click", "bg:100,60", "--out", str(out / "mask.png"), "--overlay", str(out / "overlay.png")]
    argv += ["--fbu", str(out / "fbu.png"), "--soft", str(out / "soft.png")]
    assert main(["predict", *argv]) == 0
    assert "3 click(s), 110x70" in capsys.readouterr().out

    predictor = NTClickPredictor.from_pretrained(weights)
    predictor.set_image(load_image(image_file))
    expected = predictor.predict([Click(20, 30, "fg"), Click(60.5, 40, "nt"), Click(100, 60, "bg")])
    np.testing.assert_array_equal(load_mask(out / "mask.png"), expected.mask.astype(np.uint8) * 255)
    np.testing.assert_array_equal(load_mask(out / "fbu.png"), expected.fbu)
    np.testing.assert_array_equal(load_mask(out / "soft.png"), np.round(expected.soft * 255).astype(np.uint8))
    assert load_image(out / "overlay.png").shape == (70, 110, 3)


def test_readme_command_with_grabcut(tmp_path, capsys):
    argv = [
        "predict",
        str(CHELSEA),
        "--baseline",
        "grabcut",
        "--click",
        "fg:200,150",
        "--click",
        "fg:120,250",
    ]
    argv += ["--click", "bg:430,120", "--out", str(tmp_path / "m.png"), "--overlay", str(tmp_path / "o.png")]
    assert main(argv) == 0
    mask = load_mask(tmp_path / "m.png")
    assert mask.shape == (300, 451) and set(np.unique(mask).tolist()) <= {0, 255}
    assert mask[150, 200] == 255 and mask[250, 120] == 255 and mask[120, 430] == 0
    overlay = load_image(tmp_path / "o.png")
    assert overlay.shape == (300, 451, 3) and not np.array_equal(overlay, load_image(CHELSEA))


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--click", "fg:200"], "invalid click 'fg:200': expected KIND:X,Y"),
        (["--click", "xx:1,2"], "unknown click kind 'xx'"),
        (["--click", "fg:a,2"], "invalid click 'fg:a,2'"),
    ],
)
def test_bad_click_syntax(extra, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["predict", str(CHELSEA), "--baseline", "grabcut", *extra, "--out", str(tmp_path / "m.png")])
    assert info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--baseline", "grabcut", "--device", "cpu"], "--device can only be used with --weights"),
        (
            ["--baseline", "grabcut", "--refine", "--brs-steps", "2"],
            "--refine, --brs-steps can only be used with --weights",
        ),
        (["--baseline", "grabcut", "--click", "fg:451,10"], "is outside the image"),
        (["--weights", "{missing}"], "not a valid Hugging Face Hub repo id"),
    ],
)
def test_user_errors_are_one_line(extra, message, tmp_path, capsys):
    extra = [e.format(missing=tmp_path / "no" / "weights") for e in extra]
    argv = ["predict", str(CHELSEA), "--click", "fg:10,10", *extra, "--out", str(tmp_path / "m.png")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ntclick predict: error:") and message in err and err.count("\n") == 1
    assert not (tmp_path / "m.png").exists()


def test_weights_or_baseline_required(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["predict", str(CHELSEA), "--click", "fg:1,1", "--out", str(tmp_path / "m.png")])
    assert "one of the arguments --weights --baseline is required" in capsys.readouterr().err


def test_baseline_does_not_import_torch(tmp_path):
    code = (
        "import sys; from ntclick.cli import main; "
        f"rc = main(['predict', {str(CHELSEA)!r}, '--baseline', 'grabcut', '--click', 'fg:200,150', "
        f"'--out', {str(tmp_path / 'm.png')!r}]); print(rc, 'torch' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert result.stdout.strip().splitlines()[-1] == "0 False", result.stderr


def test_prev_mask_reaches_the_predictor(tmp_path, capsys):
    """``--prev-mask`` hands the saved mask to ``predict(prev_mask=)``: the result is the API's
    with that mask, and differs from the clicks alone where GrabCut starts from it."""
    from ntclick.baselines.grabcut import GrabCutPredictor

    # Two bright squares, one clicked: from the clicks alone GrabCut keeps the clicked one; from
    # a previous mask holding both, both.
    image = np.zeros((80, 120, 3), np.uint8)
    image[20:60, 20:50] = 230
    image[20:60, 70:100] = 200
    image_file, previous_file = tmp_path / "two.png", tmp_path / "previous.png"
    save_image(image_file, image)
    previous = np.zeros((80, 120), np.uint8)
    previous[20:60, 20:50] = 255
    previous[20:60, 70:100] = 255
    save_image(previous_file, previous)
    clicks = ["fg:35,40", "bg:5,5"]
    argv = ["predict", str(image_file), "--baseline", "grabcut", "--out", str(tmp_path / "m.png")]
    for c in clicks:
        argv += ["--click", c]
    assert main([*argv, "--prev-mask", str(previous_file)]) == 0
    with_previous = load_mask(tmp_path / "m.png")
    predictor = GrabCutPredictor()
    predictor.set_image(image)
    api_clicks = [Click(35, 40, "fg"), Click(5, 5, "bg")]
    expected = predictor.predict(api_clicks, prev_mask=previous).mask
    np.testing.assert_array_equal(with_previous, expected.astype(np.uint8) * 255)
    assert main(argv) == 0
    alone = predictor.predict(api_clicks).mask
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png"), alone.astype(np.uint8) * 255)
    assert expected[40, 85] and not alone[40, 85]  # the previous mask changed the answer
    capsys.readouterr()


def test_prev_mask_errors_are_one_line(weights, tmp_path, capsys):
    small = tmp_path / "small.png"
    save_image(small, np.zeros((10, 10), np.uint8))
    argv = ["predict", str(CHELSEA), "--click", "fg:200,150", "--out", str(tmp_path / "m.png")]
    cases = [
        (["--baseline", "grabcut", "--prev-mask", str(small)], "prev_mask has shape (10, 10)"),
        (["--baseline", "grabcut", "--prev-mask", str(tmp_path / "none.png")], "mask file not found"),
        # The test weights' ECP has no prior channel, so it cannot take a previous mask.
        (
            ["--weights", str(weights), "--prev-mask", str(small)],
            "prev_mask needs an ECP with a prior channel",
        ),
    ]
    for extra, message in cases:
        assert main([*argv, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("ntclick predict: error:") and message in err and err.count("\n") == 1
        assert not (tmp_path / "m.png").exists()


@pytest.mark.parametrize(
    "options, settings",
    [
        (["--refine"], {"refine": True}),
        (
            ["--no-refine", "--zoom-in", "--grabcut-iterations", "1"],
            {"refine": False, "zoom_in": True, "grabcut_iterations": 1},
        ),
        (
            ["--click-components", "--click-guard", "--brs-steps", "2"],
            {"click_components": True, "click_guard": True, "brs_steps": 2},
        ),
    ],
)
def test_predictor_settings_reach_the_predictor(
    options, settings, weights, image_file, tmp_path, monkeypatch
):
    """Each setting given on the command line is the predictor's for this run; the rest stay stored."""
    from ntclick.predictor import NTClickPredictor

    made = []
    original = NTClickPredictor.from_pretrained.__func__

    def spy(cls, *args, **kwargs):
        made.append(original(cls, *args, **kwargs))
        return made[-1]

    monkeypatch.setattr(NTClickPredictor, "from_pretrained", classmethod(spy))
    clicks = ["fg:20,30", "bg:100,60", "fg:40,35"]
    argv = ["predict", str(image_file), "--weights", str(weights), *options, "--out", str(tmp_path / "m.png")]
    for c in clicks:
        argv += ["--click", c]
    assert main(argv) == 0
    (predictor,) = made
    config = predictor.predictor_config
    for key, value in settings.items():
        assert config[key] == value, key
    assert config["ecp_size"] == 128  # not given: the weights' stored setting
    # The mask written is that predictor's answer.
    expected = original(NTClickPredictor, weights, **settings)
    expected.set_image(load_image(image_file))
    answer = expected.predict([Click(20, 30, "fg"), Click(100, 60, "bg"), Click(40, 35, "fg")]).mask
    np.testing.assert_array_equal(load_mask(tmp_path / "m.png") > 0, answer)
