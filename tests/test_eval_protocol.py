"""The protocol runner and the summaries: oracle / empty predictors, hand-built curves,
determinism, JSON lines round trip and resuming."""

from __future__ import annotations

import gzip
import json
import lzma
import re
from pathlib import Path

import cv2
import numpy as np
import pytest

from ntclick.clicks import ClickKind
from ntclick.eval import ClickProtocol, ObjectResult, evaluate, open_dataset, read_jsonl, summarize
from ntclick.eval.protocol import read_jsonl_lines, resolve_jsonl
from ntclick.eval.report import summaries_to_csv, summaries_to_markdown, summarize_jsonl, write_summaries
from ntclick.fbu import fbu_from_mask
from ntclick.prediction import Prediction

H, W = 40, 56


def _masks() -> list[np.ndarray]:
    yy, xx = np.mgrid[:H, :W]
    disk = (yy - 20) ** 2 + (xx - 28) ** 2 <= 12**2
    rect = np.zeros((H, W), bool)
    rect[5:35, 10:22] = True
    ring = disk & ((yy - 20) ** 2 + (xx - 28) ** 2 >= 6**2)
    return [disk, rect, ring]


def _fixture_dataset(root: Path):
    """Berkeley-layout folder of three objects; images are textured with the object brighter."""
    rng = np.random.default_rng(0)
    for i, m in enumerate(_masks()):
        img = rng.integers(0, 90, (H, W, 3), dtype=np.uint8)
        img[m] += 140
        (root / "images").mkdir(parents=True, exist_ok=True)
        (root / "masks").mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(root / "images" / f"obj{i}.png"), img)
        cv2.imwrite(str(root / "masks" / f"obj{i}.png"), m.astype(np.uint8) * 255)
    return open_dataset("berkeley", root)


def _prediction(mask: np.ndarray) -> Prediction:
    return Prediction(mask=mask, soft=mask.astype(np.float32), fbu=fbu_from_mask(mask))


class OraclePredictor:
    """Returns the ground truth of whichever image is set."""

    def __init__(self, dataset):
        self._gt = {s.load().image.tobytes(): s.load().gt for s in dataset}

    def set_image(self, image):
        self._current = self._gt[np.ascontiguousarray(image).tobytes()]

    def predict(self, clicks):
        return _prediction(self._current.copy())


class EmptyPredictor:
    def __init__(self):
        self.calls = 0

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, clicks):
        self.calls += 1
        return _prediction(np.zeros(self.shape, bool))


class DiskPredictor:
    """Union of radius-6 disks at fg clicks minus disks at bg clicks: depends on exact click positions."""

    def __init__(self, radius: int = 6):
        self.calls = 0
        self.radius = radius

    def describe(self):
        return {"predictor": "disk", "radius": self.radius}

    def set_image(self, image):
        self.shape = image.shape[:2]

    def predict(self, clicks):
        self.calls += 1
        m = np.zeros(self.shape, np.uint8)
        for c in clicks:
            if c.kind is not ClickKind.BG:
                cv2.circle(m, (int(c.x), int(c.y)), self.radius, 1, -1)
        for c in clicks:
            if c.kind is ClickKind.BG:
                cv2.circle(m, (int(c.x), int(c.y)), self.radius, 0, -1)
        return _prediction(m.astype(bool))


@pytest.fixture
def dataset(tmp_path):
    return _fixture_dataset(tmp_path / "data")


@pytest.mark.parametrize("clicker", ["standard", "nt"])
def test_oracle_scores_one_click_everywhere(dataset, clicker):
    results = evaluate(OraclePredictor(dataset), dataset, clicker, max_clicks=5, progress=False)
    s = summarize(results)
    assert s.objects == 3 and s.failed == 0
    assert s.noc == {"85": 1.0, "90": 1.0, "95": 1.0}
    assert s.nof == {"85": 0, "90": 0, "95": 0}
    assert s.miou == [1.0] * 5 and s.biou_at_5 == 1.0
    # A perfect mask leaves the clicker nothing to correct: the curve stops after one click.
    assert all(len(r.ious) == 1 for r in results)


@pytest.mark.parametrize("clicker", ["standard", "nt"])
def test_empty_predictor_scores_max_clicks_and_fails_everything(dataset, clicker):
    predictor = EmptyPredictor()
    results = evaluate(predictor, dataset, clicker, max_clicks=4, progress=False)
    s = summarize(results)
    assert s.noc == {"85": 4.0, "90": 4.0, "95": 4.0}
    assert s.nof == {"85": 3, "90": 3, "95": 3}
    assert s.miou == [0.0] * 4
    assert predictor.calls == 3 * 4
    # Nothing predicted: every click adds object (fg, or nt on the thin ring), never bg.
    assert all(len(r.clicks) == 4 and r.clicks[0].kind in ("fg", "nt") for r in results)
    assert all(k.kind != "bg" for r in results for k in r.clicks)


def _result(name: str, ious: list[float], max_clicks: int = 3) -> ObjectResult:
    settings = ClickProtocol(max_clicks=max_clicks).to_dict()
    bious = [v / 2 for v in ious]
    return ObjectResult(
        "toy",
        name,
        "m",
        "standard",
        settings,
        10,
        10,
        ious=ious,
        boundary_ious=bious,
        seconds=[0.1] * len(ious),
    )


def test_hand_built_curves_give_hand_computed_metrics():
    # a reaches 85 at click 2 and 90 at click 3, never 95; b stops at click 1 with 0.96.
    s = summarize([_result("a", [0.5, 0.87, 0.92]), _result("b", [0.96])])
    assert s.noc == pytest.approx({"85": 1.5, "90": 2.0, "95": 2.0})
    assert s.nof == {"85": 0, "90": 0, "95": 1}
    assert s.miou == pytest.approx([0.73, 0.915, 0.94])
    assert s.miou_at_5 == pytest.approx(0.94)  # max_clicks 3: 5-mIoU falls back to the last click
    assert s.biou_at_5 == pytest.approx((0.46 + 0.48) / 2)
    assert s.seconds_per_click == pytest.approx(0.1)
    md = summaries_to_markdown([s])
    assert "| m | toy | standard | 2 | 1.50 | 2.00 | 2.00 | 0 | 0 | 1 | 73.00 | 94.00 | 47.00 |" in md
    header, row = summaries_to_csv([s]).splitlines()
    assert header.endswith("mIoU@1,mIoU@2,mIoU@3") and row.endswith("0.730000,0.915000,0.940000")


def test_failed_objects_are_counted_apart():
    bad = ObjectResult("toy", "c", "m", "standard", ClickProtocol(max_clicks=3).to_dict(), error="unreadable")
    s = summarize([_result("a", [0.9, 0.9, 0.9]), bad])
    assert s.objects == 1 and s.failed == 1 and s.noc["90"] == 1.0


def test_same_seed_same_clicks_and_numbers_other_seed_differs(dataset):
    def run(seed, objects=dataset):
        return evaluate(
            DiskPredictor(), objects, "standard", max_clicks=6, noise_sigma=3.0, seed=seed, progress=False
        )

    a, b, c = run(1), run(1), run(2)
    assert [r.clicks for r in a] == [r.clicks for r in b]
    assert [r.ious for r in a] == [r.ious for r in b]
    assert [r.clicks for r in a] != [r.clicks for r in c]
    # Noise moves the click away from where the clicker aimed, inside the image.
    moved = [(k.x, k.y) != (k.aimed_x, k.aimed_y) for r in a for k in r.clicks]
    assert any(moved)
    assert all(0 <= k.x < W and 0 <= k.y < H for r in a for k in r.clicks)
    # Each object's noise depends on its name only, not on which objects ran before it.
    assert run(1, dataset[1:])[0].clicks == a[1].clicks


def test_target_iou_stops_early(dataset):
    results = evaluate(DiskPredictor(), dataset, "standard", max_clicks=20, target_iou=0.5, progress=False)
    for r in results:
        assert r.ious[-1] >= 0.5 or len(r.ious) == 20
        assert all(v < 0.5 for v in r.ious[:-1])


def test_jsonl_reproduces_summary_and_resume_skips_done_objects(dataset, tmp_path):
    path = tmp_path / "out" / "run.jsonl"
    p1 = DiskPredictor()
    results = evaluate(p1, dataset, "nt", max_clicks=5, model="disk", jsonl_path=path, progress=False)
    assert len(path.read_text().splitlines()) == 3
    assert [r.to_json() for r in read_jsonl(path)] == [r.to_json() for r in results]
    direct = summarize(results).to_dict()
    rebuilt = summarize_jsonl(path)
    assert len(rebuilt) == 1 and rebuilt[0].to_dict() == direct
    # Every click and IoU is in the file.
    first = json.loads(path.read_text().splitlines()[0])
    assert len(first["clicks"]) == len(first["ious"]) == len(first["boundary_ious"])

    # Resume: nothing is recomputed.
    p2 = DiskPredictor()
    again = evaluate(p2, dataset, "nt", max_clicks=5, model="disk", jsonl_path=path, progress=False)
    assert p2.calls == 0 and [r.ious for r in again] == [r.ious for r in results]

    # An interrupted run (truncated last line) loses only that object.
    lines = path.read_text().splitlines()
    path.write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    p3 = DiskPredictor()
    evaluate(p3, dataset, "nt", max_clicks=5, model="disk", jsonl_path=path, progress=False)
    assert 0 < p3.calls <= 5 and len(read_jsonl(path)) == 3

    # The records say which predictor made them.
    assert all(r.predictor == {"predictor": "disk", "radius": 6} for r in read_jsonl(path))

    # A predictor with other settings under the same label does not reuse them.
    p_wide = DiskPredictor(radius=9)
    wide = evaluate(p_wide, dataset, "nt", max_clicks=5, model="disk", jsonl_path=path, progress=False)
    assert p_wide.calls > 0 and [r.ious for r in wide] != [r.ious for r in results]
    assert all(r.predictor["radius"] == 9 for r in read_jsonl(path))

    # Other protocol settings do not reuse the records.
    p4 = DiskPredictor(radius=9)
    evaluate(p4, dataset, "nt", max_clicks=4, model="disk", jsonl_path=path, progress=False)
    assert p4.calls > 0 and all(r.settings["max_clicks"] == 4 for r in read_jsonl(path))

    paths = write_summaries([summarize(results)], tmp_path / "out")
    assert json.loads(paths[0].read_text())[0]["noc"] == direct["noc"]


def test_unreadable_object_stops_the_run_unless_skipped(dataset):
    dataset.samples[1] = type(dataset.samples[1])(
        "broken", dataset.samples[1].image_path, dataset.samples[1].image_path.with_name("missing.png")
    )
    with pytest.raises(FileNotFoundError, match="missing.png"):
        evaluate(DiskPredictor(), dataset, "standard", max_clicks=2, progress=False)
    results = evaluate(DiskPredictor(), dataset, "standard", max_clicks=2, skip_errors=True, progress=False)
    assert [r.error is not None for r in results] == [False, True, False]
    assert "missing.png" in results[1].error and summarize(results).failed == 1


def test_bad_protocol_settings_are_rejected():
    with pytest.raises(ValueError, match="unknown click protocol 'random'"):
        ClickProtocol("random")
    with pytest.raises(ValueError, match="max_clicks"):
        ClickProtocol(max_clicks=0)
    with pytest.raises(ValueError, match="noise"):
        ClickProtocol(noise_sigma=-1)
    with pytest.raises(ValueError, match="target IoU"):
        ClickProtocol(target_iou=1.5)
    assert ClickProtocol("nt", noise_sigma=5).name == "nt-noise5"


def test_wrong_prediction_shape_is_reported(dataset):
    class Wrong(EmptyPredictor):
        def predict(self, clicks):
            return _prediction(np.zeros((3, 3), bool))

    with pytest.raises(ValueError, match=r"shape \(3, 3\)"):
        evaluate(Wrong(), dataset, "standard", max_clicks=2, progress=False)


def test_resume_tells_two_datasets_of_one_name_apart(tmp_path):
    """Two ``folder=`` datasets share the name "folder": a results file of one is neither reused
    for nor silently replaced by the other."""
    a = _fixture_dataset(tmp_path / "a")
    b = _fixture_dataset(tmp_path / "b")
    b.samples = b.samples[:2]  # same object names, another folder
    path = tmp_path / "out" / "run.jsonl"
    first = evaluate(
        DiskPredictor(), a, "standard", max_clicks=3, model="disk", jsonl_path=path, progress=False
    )
    assert {r.source for r in read_jsonl(path)} == {str((tmp_path / "a").resolve())}
    before = path.read_text()
    p = DiskPredictor()
    with pytest.raises(ValueError, match=r"holds results of dataset .* read from .*a, not from .*b"):
        evaluate(p, b, "standard", max_clicks=3, model="disk", jsonl_path=path, progress=False)
    assert p.calls == 0 and path.read_text() == before  # nothing run, nothing lost
    # Without resume the file is replaced, and the same folder resumes as before.
    evaluate(
        DiskPredictor(),
        b,
        "standard",
        max_clicks=3,
        model="disk",
        jsonl_path=path,
        resume=False,
        progress=False,
    )
    assert len(read_jsonl(path)) == 2
    again = DiskPredictor()
    evaluate(again, b, "standard", max_clicks=3, model="disk", jsonl_path=path, progress=False)
    assert again.calls == 0
    # Records written before sources were stored are run again, not reused.
    legacy = [json.loads(line) for line in path.read_text().splitlines()]
    path.write_text("".join(json.dumps({k: v for k, v in r.items() if k != "source"}) + "\n" for r in legacy))
    rerun = DiskPredictor()
    evaluate(rerun, b, "standard", max_clicks=3, model="disk", jsonl_path=path, progress=False)
    assert rerun.calls > 0 and len(first) == 3


class RecordingPredictor(DiskPredictor):
    """A DiskPredictor that records the ``prev_mask`` it is given at every call."""

    def __init__(self):
        super().__init__()
        self.given: list = []
        self.answers: list = []

    def predict(self, clicks, prev_mask=None):
        self.given.append(None if prev_mask is None else prev_mask.copy())
        prediction = super().predict(clicks)
        self.answers.append(prediction.mask.copy())
        return prediction


def test_prev_mask_protocol_hands_back_the_last_scored_mask(dataset):
    protocol = ClickProtocol(max_clicks=4, prev_mask=True)
    assert protocol.name == "standard-prev" and protocol.to_dict()["prev_mask"] is True
    assert ClickProtocol("nt", noise_sigma=5, prev_mask=True).name == "nt-noise5-prev"
    # Off, the field is left out of the stored settings, so earlier records stay resumable.
    assert "prev_mask" not in ClickProtocol().to_dict()
    predictor = RecordingPredictor()
    [result] = evaluate(predictor, dataset, protocol, limit=1, progress=False)
    assert len(result.ious) == 4 and result.protocol == "standard-prev"
    assert predictor.given[0] is None  # the first click has no previous answer
    for given, answer in zip(predictor.given[1:], predictor.answers[:-1], strict=True):
        assert given.dtype == bool and np.array_equal(given, answer)
    plain = RecordingPredictor()
    evaluate(plain, dataset, ClickProtocol(max_clicks=4), limit=1, progress=False)
    assert plain.given == [None] * 4


def test_prev_mask_protocol_runs_the_grabcut_baseline(dataset):
    from ntclick.baselines import GrabCutPredictor

    with_previous = evaluate(
        GrabCutPredictor(iterations=2), dataset, ClickProtocol(prev_mask=True), progress=False
    )
    plain = evaluate(GrabCutPredictor(iterations=2), dataset, ClickProtocol(), progress=False)
    # The first click has no previous mask, so it is the plain run's; every object is found.
    assert [r.ious[0] for r in with_previous] == [r.ious[0] for r in plain]
    assert all(max(r.ious) > 0.8 for r in with_previous)


# How results are compressed: .xz as the stored ones are (``xz -9 -T1``), .gz as users may have
# them (``gzip -9 -n``: no name, no time stamp).  Both read back as the plain file.
COMPRESS = {
    ".xz": lambda data: lzma.compress(data, preset=9),
    ".gz": lambda data: gzip.compress(data, compresslevel=9, mtime=0),
}
MAGIC = {".xz": b"\xfd7zXZ\x00", ".gz": b"\x1f\x8b"}
FORMAT = {".xz": "xz", ".gz": "gzip"}
SUFFIXES = pytest.mark.parametrize("suffix", [".xz", ".gz"])


def _compressed_copy(path: Path, suffix: str, target: Path | None = None) -> Path:
    """``path`` compressed as ``suffix`` says, by default next to it as ``path + suffix``."""
    target = target or path.with_name(path.name + suffix)
    target.write_bytes(COMPRESS[suffix](path.read_bytes()))
    return target


@SUFFIXES
def test_compressed_results_read_as_the_plain_file(dataset, tmp_path, suffix):
    plain = tmp_path / "plain" / "disk_berkeley_nt.jsonl"
    evaluate(DiskPredictor(), dataset, "nt", max_clicks=4, model="disk", jsonl_path=plain, progress=False)
    stored = _compressed_copy(plain, suffix, tmp_path / f"stored.jsonl{suffix}")
    assert stored.read_bytes().startswith(MAGIC[suffix]) and stored.stat().st_size < plain.stat().st_size

    records = [r.to_json() for r in read_jsonl(plain)]
    assert len(records) == 3 and [r.to_json() for r in read_jsonl(stored)] == records
    by_plain = [s.to_dict() for s in summarize_jsonl(plain)]
    assert len(by_plain) == 1 and by_plain[0]["objects"] == 3
    assert [s.to_dict() for s in summarize_jsonl(stored)] == by_plain
    assert read_jsonl_lines(stored) == plain.read_text().splitlines()

    # A truncated last line (a run interrupted before it was compressed) is dropped there too.
    lines = plain.read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:2]) + "\n" + lines[2][:40])
    assert [r.to_json() for r in read_jsonl(_compressed_copy(cut, suffix))] == records[:2]


def test_xz_and_gzip_copies_give_identical_results(dataset, tmp_path):
    plain = tmp_path / "run.jsonl"
    evaluate(
        DiskPredictor(), dataset, "standard", max_clicks=4, model="disk", jsonl_path=plain, progress=False
    )
    xz, gz = _compressed_copy(plain, ".xz"), _compressed_copy(plain, ".gz")
    assert xz.read_bytes() != gz.read_bytes()
    assert read_jsonl_lines(xz) == read_jsonl_lines(gz) == plain.read_text().splitlines()
    assert [r.to_json() for r in read_jsonl(xz)] == [r.to_json() for r in read_jsonl(gz)]
    assert [s.to_dict() for s in summarize_jsonl(xz)] == [s.to_dict() for s in summarize_jsonl(gz)]
    # Compressing is deterministic: the same input gives the same bytes.
    assert _compressed_copy(plain, ".xz", tmp_path / "again.xz").read_bytes() == xz.read_bytes()
    assert _compressed_copy(plain, ".gz", tmp_path / "again.gz").read_bytes() == gz.read_bytes()


@SUFFIXES
def test_a_plain_name_falls_back_to_its_compressed_copy(dataset, tmp_path, suffix):
    plain = tmp_path / "run.jsonl"
    evaluate(
        DiskPredictor(), dataset, "standard", max_clicks=3, model="disk", jsonl_path=plain, progress=False
    )
    records = [r.to_json() for r in read_jsonl(plain)]
    stored = _compressed_copy(plain, suffix)
    assert resolve_jsonl(plain) == plain  # the plain file wins while it exists
    plain.write_text(plain.read_text().splitlines()[0] + "\n")
    assert len(read_jsonl(plain)) == 1
    plain.unlink()
    assert resolve_jsonl(plain) == stored and resolve_jsonl(stored) == stored
    assert [r.to_json() for r in read_jsonl(plain)] == records
    assert [s.to_dict() for s in summarize_jsonl(plain)] == [s.to_dict() for s in summarize_jsonl(stored)]
    with pytest.raises(FileNotFoundError, match=rf"missing\.jsonl{re.escape(suffix)}$"):
        read_jsonl(tmp_path / f"missing.jsonl{suffix}")


def test_the_fallback_looks_for_xz_then_gz(dataset, tmp_path):
    plain = tmp_path / "run.jsonl"
    evaluate(
        DiskPredictor(), dataset, "standard", max_clicks=3, model="disk", jsonl_path=plain, progress=False
    )
    lines = plain.read_text().splitlines()
    xz = _compressed_copy(plain, ".xz")
    plain.write_text(lines[0] + "\n")  # the .gz copy holds one record only, to tell them apart
    gz = _compressed_copy(plain, ".gz")
    plain.unlink()
    assert resolve_jsonl(plain) == xz and len(read_jsonl(plain)) == 3
    xz.unlink()
    assert resolve_jsonl(plain) == gz and len(read_jsonl(plain)) == 1
    gz.unlink()
    with pytest.raises(FileNotFoundError, match=r"run\.jsonl \(nor run\.jsonl\.xz, run\.jsonl\.gz\)"):
        read_jsonl(plain)


@SUFFIXES
def test_a_corrupt_or_truncated_compressed_file_is_an_error_naming_it(dataset, tmp_path, suffix):
    plain = tmp_path / "run.jsonl"
    evaluate(
        DiskPredictor(), dataset, "standard", max_clicks=3, model="disk", jsonl_path=plain, progress=False
    )
    data = _compressed_copy(plain, suffix).read_bytes()
    broken = {
        "truncated": data[: len(data) // 2],  # cut off inside the compressed stream
        "no_end": data[:-20],  # the stream's end (check sums, sizes) missing
        "flipped": data[:40] + bytes([data[40] ^ 0xFF]) + data[41:],  # corrupt compressed data
        "plain": plain.read_bytes(),  # not compressed at all
        "empty": b"",
    }
    for name, content in broken.items():
        path = tmp_path / f"{name}.jsonl{suffix}"
        path.write_bytes(content)
        message = rf"{name}\.jsonl{re.escape(suffix)}: not a readable {FORMAT[suffix]} file"
        with pytest.raises(ValueError, match=message):
            read_jsonl(path)
        with pytest.raises(ValueError, match=message):
            summarize_jsonl(path)
        with pytest.raises(ValueError, match=message):  # a plain name that finds it, too
            read_jsonl(path.with_suffix(""))
        path.unlink()
    # The other format under this suffix is an error too, not a silent misread.
    other = ".gz" if suffix == ".xz" else ".xz"
    wrong = tmp_path / f"wrong.jsonl{suffix}"
    wrong.write_bytes(COMPRESS[other](plain.read_bytes()))
    with pytest.raises(ValueError, match=f"not a readable {FORMAT[suffix]} file"):
        read_jsonl(wrong)


@SUFFIXES
def test_evaluate_resumes_from_a_stored_compressed_run(dataset, tmp_path, suffix):
    out = tmp_path / "results" / "disk_berkeley_standard.jsonl"
    first = evaluate(
        DiskPredictor(), dataset, "standard", max_clicks=4, model="disk", jsonl_path=out, progress=False
    )
    stored = _compressed_copy(out, suffix)
    out.unlink()
    kept = stored.read_bytes()
    again = DiskPredictor()
    resumed = evaluate(again, dataset, "standard", max_clicks=4, model="disk", jsonl_path=out, progress=False)
    assert again.calls == 0 and [r.to_json() for r in resumed] == [r.to_json() for r in first]
    # The records are written to the plain file, which then wins; the stored copy is untouched.
    assert [r.to_json() for r in read_jsonl(out)] == [r.to_json() for r in first]
    assert stored.read_bytes() == kept
    # A stored run missing an object: only that object is run, and appended to the plain file.
    out.write_text("".join(r.to_json() + "\n" for r in first[:2]))
    partial = _compressed_copy(out, suffix)
    out.unlink()
    assert partial == stored
    third = DiskPredictor()
    completed = evaluate(
        third, dataset, "standard", max_clicks=4, model="disk", jsonl_path=out, progress=False
    )
    assert 0 < third.calls <= 4 and [r.to_json() for r in completed[:2]] == [r.to_json() for r in first[:2]]
    assert (completed[2].ious, completed[2].clicks) == (first[2].ious, first[2].clicks)  # run again
    assert [r.to_json() for r in read_jsonl(out)] == [r.to_json() for r in completed]
    # Without resume nothing is read from it, and it is not deleted.
    out.unlink()
    kept = stored.read_bytes()
    fresh = DiskPredictor()
    evaluate(
        fresh, dataset, "standard", max_clicks=4, model="disk", jsonl_path=out, resume=False, progress=False
    )
    assert fresh.calls > 0 and stored.read_bytes() == kept and len(read_jsonl(out)) == 3
    with pytest.raises(ValueError, match="appends plain JSON lines"):
        evaluate(DiskPredictor(), dataset, "standard", max_clicks=2, jsonl_path=stored, progress=False)
    assert stored.read_bytes() == kept


def test_progress_reaches_a_log_file_as_plain_lines(dataset, capsys):
    evaluate(OraclePredictor(dataset), dataset, "standard", max_clicks=5, model="oracle", progress=True)
    err = capsys.readouterr().err.splitlines()  # capsys is no terminal
    assert err and err[-1].startswith("oracle "), err
    assert ": 3/3 objects (100%), " in err[-1]
    evaluate(OraclePredictor(dataset), dataset, "standard", max_clicks=5, progress=False)
    assert capsys.readouterr().err == ""
