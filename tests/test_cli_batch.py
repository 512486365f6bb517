"""``ntclick batch``: a jobs file of clicks in, one mask per job out, as the API gives them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ntclick.cli import main
from ntclick.clicks import Click
from ntclick.commands.batch import read_jobs
from ntclick.image_io import load_image, load_mask, save_image


def _write_jobs(path: Path, records: list) -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture()
def images(tmp_path) -> dict[str, Path]:
    """Two small images in tmp_path/photos: a bright square on dark, and noise."""
    folder = tmp_path / "photos"
    folder.mkdir()
    square = np.full((60, 90, 3), 30, np.uint8)
    square[15:45, 20:60] = (220, 200, 40)
    noise = np.random.default_rng(1).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    paths = {"square": folder / "square.png", "noise": folder / "noise.png"}
    save_image(paths["square"], square)
    save_image(paths["noise"], noise)
    return paths


JOBS = [
    {"image": "photos/square.png", "clicks": ["fg:40,30", "bg:5,5"]},
    {
        "image": "photos/square.png",
        "clicks": [[30, 20, "fg"], {"x": 85, "y": 55, "kind": "bg"}],
        "name": "sq_b",
    },
    "",
    {"image": "photos/noise.png", "clicks": ["fg:35,25", "nt:10,40"]},
]
EXPECTED_CLICKS = {
    "square": [Click(40, 30, "fg"), Click(5, 5, "bg")],
    "sq_b": [Click(30, 20, "fg"), Click(85, 55, "bg")],
    "noise": [Click(35, 25, "fg"), Click(10, 40, "nt")],
}
IMAGE_OF = {"square": "square", "sq_b": "square", "noise": "noise"}


def test_read_jobs_parses_every_click_form(images, tmp_path):
    jobs = read_jobs(_write_jobs(tmp_path / "jobs.jsonl", JOBS))
    assert [j.name for j in jobs] == ["square", "sq_b", "noise"]
    assert [j.line for j in jobs] == [1, 2, 4]  # the blank line 3 is skipped
    assert jobs[0].image == tmp_path / "photos" / "square.png"
    for job in jobs:
        assert job.clicks == EXPECTED_CLICKS[job.name]


@pytest.mark.parametrize(
    "record, message",
    [
        ("not json", "line 1: not JSON"),
        ("[1, 2]", "expected a JSON object, got list"),
        ({"image": "photos/square.png"}, "missing 'clicks'"),
        ({"clicks": ["fg:1,1"]}, "missing 'image'"),
        ({"image": "photos/square.png", "clicks": []}, "'clicks' must be a non-empty list"),
        ({"image": "photos/none.png", "clicks": ["fg:1,1"]}, "photos/none.png' does not exist"),
        ({"image": "photos/square.png", "clicks": ["xx:1,2"]}, "unknown click kind 'xx'"),
        ({"image": "photos/square.png", "clicks": ["fg:1"]}, "expected KIND:X,Y"),
        ({"image": "photos/square.png", "clicks": [[1, 2]]}, 'a click is "KIND:X,Y", [x, y, kind]'),
        ({"image": "photos/square.png", "clicks": [["1", 2, "fg"]]}, "click coordinates must be numbers"),
        ({"image": "photos/square.png", "clicks": [{"x": 1, "y": 2}]}, "exactly the keys x, y and kind"),
        ({"image": "photos/square.png", "clicks": ["fg:1,1"], "size": 3}, "unknown key(s) ['size']"),
        ({"image": "photos/square.png", "clicks": ["fg:1,1"], "name": "a/b"}, "file stem without a folder"),
        (
            {"image": "photos/square.png", "clicks": ["fg:1,1"], "prev_mask": "no.png"},
            "no.png' does not exist",
        ),
    ],
)
def test_bad_jobs_are_named_by_line(record, message, images, tmp_path):
    path = _write_jobs(tmp_path / "jobs.jsonl", [record])
    with pytest.raises(ValueError) as info:
        read_jobs(path)
    assert message in str(info.value) and "line 1:" in str(info.value)


def test_every_bad_line_is_listed_and_names_must_be_distinct(images, tmp_path):
    records = [JOBS[0], "oops", {"image": "photos/noise.png", "clicks": ["fg:1,1"], "name": "square"}]
    with pytest.raises(ValueError) as info:
        read_jobs(_write_jobs(tmp_path / "jobs.jsonl", records))
    text = str(info.value)
    assert "2 bad job(s)" in text and "line 2: not JSON" in text
    assert "line 3: output name 'square' is already written by line 1" in text
    with pytest.raises(ValueError, match="no jobs"):
        read_jobs(_write_jobs(tmp_path / "empty.jsonl", ["", "  "]))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        read_jobs(tmp_path / "missing.jsonl")


def test_batch_masks_are_the_predictors_answers(tiny_weights, images, tmp_path, capsys, monkeypatch):
    """Each mask is ``predict(clicks)`` of its image; consecutive jobs on one image share set_image."""
    from ntclick.predictor import NTClickPredictor

    jobs = _write_jobs(tmp_path / "jobs.jsonl", JOBS)
    seen = []
    original = NTClickPredictor.set_image
    monkeypatch.setattr(
        NTClickPredictor,
        "set_image",
        lambda self, image: (seen.append(image.shape), original(self, image))[1],
    )
    argv = ["batch", str(jobs), "--weights", str(tiny_weights), "--out", str(tmp_path / "masks")]
    argv += ["--soft", str(tmp_path / "soft"), "--fbu", str(tmp_path / "fbu")]
    assert main([*argv, "--overlays", str(tmp_path / "overlays")]) == 0
    out = capsys.readouterr().out
    assert "[1/3] square: 2 click(s), 90x60" in out and "wrote 3 mask(s)" in out
    assert seen == [(60, 90, 3), (50, 70, 3)]  # square once for its two jobs, then noise

    monkeypatch.undo()
    predictor = NTClickPredictor.from_pretrained(tiny_weights)
    for name, clicks in EXPECTED_CLICKS.items():
        image = load_image(images[IMAGE_OF[name]])
        predictor.set_image(image)
        expected = predictor.predict(clicks).mask
        np.testing.assert_array_equal(
            load_mask(tmp_path / "masks" / f"{name}.png"), expected.astype(np.uint8) * 255
        )
        overlay = load_image(tmp_path / "overlays" / f"{name}.png")
        assert overlay.shape == image.shape and not np.array_equal(overlay, image)


def test_batch_resumes_and_overwrites(images, tmp_path, capsys):
    jobs = _write_jobs(tmp_path / "jobs.jsonl", JOBS)
    masks = tmp_path / "masks"
    argv = ["batch", str(jobs), "--baseline", "grabcut", "--out", str(masks)]
    assert main(argv) == 0
    first = load_mask(masks / "sq_b.png")
    # A stand-in for an earlier run's answer: kept unless --overwrite.
    save_image(masks / "sq_b.png", np.zeros_like(first))
    (masks / "noise.png").unlink()
    capsys.readouterr()
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "2 of 3 job(s) already have a mask" in out and "[1/1] noise" in out
    assert not load_mask(masks / "sq_b.png").any() and (masks / "noise.png").exists()
    assert main([*argv, "--overwrite"]) == 0
    np.testing.assert_array_equal(load_mask(masks / "sq_b.png"), first)
    assert first[30, 30] == 255 and first[55, 85] == 0  # the fg and bg click pixels


def test_annotations_hold_each_masks_coco_rle(images, tmp_path, capsys):
    """``--annotations``: a line per job with a mask (this run's or an earlier one's), whose RLE
    decodes to the written mask, with its area and box."""
    from ntclick.mask_formats import rle_to_mask

    jobs = _write_jobs(tmp_path / "jobs.jsonl", JOBS)
    masks, notes = tmp_path / "masks", tmp_path / "out" / "annotations.jsonl"
    argv = ["batch", str(jobs), "--baseline", "grabcut", "--out", str(masks), "--annotations", str(notes)]
    assert main(argv) == 0
    (masks / "noise.png").unlink()
    notes.unlink()
    assert main(argv) == 0  # only noise runs; the annotations still cover all three jobs
    assert "wrote 3 annotation(s)" in capsys.readouterr().out
    records = [json.loads(line) for line in notes.read_text().splitlines()]
    assert [r["name"] for r in records] == ["square", "sq_b", "noise"]
    for r in records:
        mask = load_mask(masks / f"{r['name']}.png") > 0
        np.testing.assert_array_equal(rle_to_mask(r["segmentation"]), mask)
        assert (r["height"], r["width"]) == mask.shape and r["area"] == int(mask.sum()) > 0
        x, y, w, h = r["bbox"]
        assert mask[y : y + h, x : x + w].sum() == r["area"] and mask[y, x : x + w].any()
        assert r["image"] == str(images[IMAGE_OF[r["name"]]])


def test_prev_mask_per_job(tmp_path, capsys):
    """A job's ``prev_mask`` reaches ``predict(prev_mask=)`` (GrabCut keeps both squares)."""
    from ntclick.baselines.grabcut import GrabCutPredictor

    image = np.zeros((80, 120, 3), np.uint8)
    image[20:60, 20:50] = 230
    image[20:60, 70:100] = 200
    previous = np.zeros((80, 120), np.uint8)
    previous[20:60, 20:50] = previous[20:60, 70:100] = 255
    save_image(tmp_path / "two.png", image)
    save_image(tmp_path / "previous.png", previous)
    records = [
        {"image": "two.png", "clicks": ["fg:35,40", "bg:5,5"], "name": "alone"},
        {
            "image": "two.png",
            "clicks": ["fg:35,40", "bg:5,5"],
            "name": "corrected",
            "prev_mask": "previous.png",
        },
    ]
    jobs = _write_jobs(tmp_path / "jobs.jsonl", records)
    assert main(["batch", str(jobs), "--baseline", "grabcut", "--out", str(tmp_path / "m")]) == 0
    predictor = GrabCutPredictor()
    predictor.set_image(image)
    clicks = [Click(35, 40, "fg"), Click(5, 5, "bg")]
    corrected = predictor.predict(clicks, prev_mask=previous).mask
    np.testing.assert_array_equal(
        load_mask(tmp_path / "m" / "corrected.png"), corrected.astype(np.uint8) * 255
    )
    alone = load_mask(tmp_path / "m" / "alone.png")
    assert corrected[40, 85] and alone[40, 85] == 0
    capsys.readouterr()


def test_a_failing_job_stops_the_run_unless_keep_going(images, tmp_path, capsys):
    records = [JOBS[0], {"image": "photos/noise.png", "clicks": ["fg:70,10"]}, JOBS[1]]  # x = 70 is outside
    jobs = _write_jobs(tmp_path / "jobs.jsonl", records)
    argv = ["batch", str(jobs), "--baseline", "grabcut", "--out", str(tmp_path / "m")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("ntclick batch: error:") and "line 2 (noise)" in err and "outside the image" in err
    assert (tmp_path / "m" / "square.png").exists() and not (tmp_path / "m" / "sq_b.png").exists()

    assert main([*argv, "--keep-going"]) == 1
    captured = capsys.readouterr()
    assert "1 job(s) failed" in captured.err and "line 2 (noise)" in captured.err
    assert (tmp_path / "m" / "sq_b.png").exists() and not (tmp_path / "m" / "noise.png").exists()


def test_bad_jobs_fail_before_any_weights_are_loaded(images, tmp_path, capsys):
    jobs = _write_jobs(
        tmp_path / "jobs.jsonl", [JOBS[0], {"image": "photos/square.png", "clicks": ["up:1,1"]}]
    )
    missing = tmp_path / "no" / "weights"
    assert main(["batch", str(jobs), "--weights", str(missing), "--out", str(tmp_path / "m")]) == 2
    err = capsys.readouterr().err
    assert "line 2: invalid click 'up:1,1'" in err and "Hub" not in err
    assert not (tmp_path / "m").exists()
    assert (
        main(["batch", str(jobs), "--baseline", "grabcut", "--device", "cpu", "--out", str(tmp_path / "m")])
        == 2
    )
    assert "line 2" in capsys.readouterr().err  # the file is checked first, then the options


def test_output_paths_of_the_wrong_kind_are_refused(images, tmp_path, capsys):
    jobs = _write_jobs(tmp_path / "jobs.jsonl", JOBS)
    a_file = tmp_path / "taken.png"
    a_file.write_bytes(b"x")
    base = ["batch", str(jobs), "--baseline", "grabcut"]
    cases = [
        (["--out", str(a_file)], "--out"),
        (["--out", str(tmp_path / "m"), "--soft", str(a_file)], "--soft"),
        (["--out", str(tmp_path / "m"), "--annotations", str(tmp_path)], "is a folder"),
    ]
    for extra, message in cases:
        assert main([*base, *extra]) == 2
        err = capsys.readouterr().err
        assert err.startswith("ntclick batch: error:") and message in err and err.count("\n") == 1
    assert not (tmp_path / "m").exists()


def test_baseline_batch_does_not_import_torch(images, tmp_path):
    jobs = _write_jobs(tmp_path / "jobs.jsonl", JOBS)
    code = (
        "import sys; from ntclick.cli import main; "
        f"rc = main(['batch', {str(jobs)!r}, '--baseline', 'grabcut', '--out', {str(tmp_path / 'm')!r}]); "
        "print(rc, 'torch' in sys.modules)"
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert result.stdout.strip().splitlines()[-1] == "0 False", result.stderr


def test_bundled_example_jobs(tmp_path, capsys):
    """``examples/jobs.jsonl`` parses, and with the GrabCut baseline every fg click pixel of each
    job is in its mask and every bg click pixel is not (the baseline's guarantee)."""
    example = Path(__file__).resolve().parents[1] / "examples" / "jobs.jsonl"
    jobs = read_jobs(example)
    assert [j.name for j in jobs] == ["coffee_cup", "coffee_spoon", "coffee_crema"]
    assert main(["batch", str(example), "--baseline", "grabcut", "--out", str(tmp_path)]) == 0
    for job in jobs:
        mask = load_mask(tmp_path / f"{job.name}.png")
        for c in job.clicks:
            if c.kind.value != "nt":
                assert mask[int(c.y), int(c.x)] == (255 if c.kind.value == "fg" else 0), (job.name, c)
    capsys.readouterr()
