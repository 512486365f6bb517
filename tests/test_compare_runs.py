"""benchmarks/compare_runs.py: paired statistics of two evaluation runs."""

from __future__ import annotations

import gzip
import json
import lzma

import pytest
from script_loader import load_script

from ntclick.eval.protocol import ObjectResult

compare_runs = load_script("benchmarks/compare_runs.py")
COMPRESS = {
    ".xz": lambda data: lzma.compress(data, preset=9),
    ".gz": lambda data: gzip.compress(data, mtime=0),
}


def _record(name: str, ious: list[float], dataset: str = "d", error: str | None = None) -> ObjectResult:
    return ObjectResult(
        dataset=dataset, name=name, model="m", protocol="standard", settings={}, ious=ious, error=error
    )


def test_mean_and_error_and_drops():
    assert compare_runs.mean_and_error([1.0, 3.0]) == pytest.approx((2.0, 1.0))  # sd sqrt(2), / sqrt(2)
    assert compare_runs.mean_and_error([4.0]) == (4.0, 0.0)
    with pytest.raises(ValueError, match="no values"):
        compare_runs.mean_and_error([])
    assert compare_runs.drops([0.5, 0.9, 0.7, 0.75, 0.3, 0.35]) == 2  # -0.2 and -0.45
    assert compare_runs.drops([0.5, 0.45, 0.41]) == 0  # small dips do not count


def test_compare_pairs_objects_by_name_and_counts_changes():
    reference = [
        _record("a", [0.5, 0.8, 0.91]),  # NoC@90 3
        _record("b", [0.95, 0.7, 0.96]),  # NoC@90 1, one drop
        _record("only-here", [0.1, 0.1, 0.1]),
        _record("broken", [], error="could not load"),
    ]
    candidate = [
        _record("b", [0.95, 0.94, 0.96]),  # NoC@90 1, no drop
        _record("a", [0.92, 0.92, 0.93]),  # NoC@90 1
        _record("broken", [0.9, 0.9, 0.9]),  # the reference has no result: left out
    ]
    stats = compare_runs.compare(reference, candidate, max_clicks=3)
    assert stats["objects"] == 2
    assert stats["unmatched"] == 2  # only-here, broken
    assert stats["noc"]["90"]["change"] == pytest.approx(-1.0)  # (-2 + 0) / 2
    assert stats["noc"]["90"]["better"] == 1 and stats["noc"]["90"]["worse"] == 0
    assert stats["iou_at"]["1"]["change"] == pytest.approx((0.42 + 0.0) / 2)
    assert stats["drops_per_object"] == {"reference": 0.5, "candidate": 0.0}
    with pytest.raises(ValueError, match="share no object"):
        compare_runs.compare(reference, [_record("a", [0.5], dataset="other")])


def test_main_prints_and_writes_json(tmp_path, capsys):
    ref, new = tmp_path / "ref.jsonl", tmp_path / "new.jsonl"
    ref.write_text(_record("a", [0.5, 0.95]).to_json() + "\n")
    new.write_text(_record("a", [0.95, 0.95]).to_json() + "\n")
    out = tmp_path / "sub" / "paired.json"
    compare_runs.main([str(ref), str(new), "--max-clicks", "2", "--json", str(out)])
    assert "NoC@90: -1.00" in capsys.readouterr().out
    written = json.loads(out.read_text())
    assert written["noc"]["90"]["change"] == -1.0 and written["candidate"] == str(new)
    assert [p.name for p in out.parent.iterdir()] == ["paired.json"]  # no temporary file left
    with pytest.raises(SystemExit):
        compare_runs.main([str(ref), str(tmp_path / "missing.jsonl")])


def test_json_is_written_even_when_printing_fails(tmp_path, monkeypatch):
    ref, new = tmp_path / "ref.jsonl", tmp_path / "new.jsonl"
    ref.write_text(_record("a", [0.5, 0.95]).to_json() + "\n")
    new.write_text(_record("a", [0.95, 0.95]).to_json() + "\n")
    out = tmp_path / "paired.json"

    def closed_pipe(*args, **kwargs):
        raise BrokenPipeError(32, "Broken pipe")  # as `compare_runs.py ... | head` does

    monkeypatch.setattr("builtins.print", closed_pipe)
    with pytest.raises(BrokenPipeError):
        compare_runs.main([str(ref), str(new), "--max-clicks", "2", "--json", str(out)])
    assert json.loads(out.read_text())["noc"]["90"]["change"] == -1.0


@pytest.mark.parametrize("suffix", [".xz", ".gz"])
def test_main_reads_compressed_runs_as_stored(tmp_path, capsys, suffix):
    """The stored runs are ``.jsonl.xz`` (``.gz`` is read too): named as such, or by their plain
    name when only the compressed file exists, they give the statistics of the plain files."""
    ref, new = tmp_path / "ref.jsonl", tmp_path / "new.jsonl"
    ref.write_text(_record("a", [0.5, 0.95]).to_json() + "\n" + _record("b", [0.7, 0.8]).to_json() + "\n")
    new.write_text(_record("a", [0.95, 0.95]).to_json() + "\n" + _record("b", [0.9, 0.9]).to_json() + "\n")
    compare_runs.main([str(ref), str(new), "--max-clicks", "2", "--json", str(tmp_path / "plain.json")])
    plain_out = capsys.readouterr().out
    assert "NoC@90: -1.00" in plain_out
    for p in (ref, new):
        p.with_name(p.name + suffix).write_bytes(COMPRESS[suffix](p.read_bytes()))
        p.unlink()
    stored_ref, stored_new = str(ref) + suffix, str(new) + suffix
    compare_runs.main([stored_ref, stored_new, "--max-clicks", "2", "--json", str(tmp_path / "stored.json")])
    assert capsys.readouterr().out == plain_out
    by_plain, by_stored = (
        json.loads((tmp_path / "plain.json").read_text()),
        json.loads((tmp_path / "stored.json").read_text()),
    )
    assert by_stored["candidate"] == stored_new and by_stored["reference"] == stored_ref
    assert {k: v for k, v in by_stored.items() if k not in ("reference", "candidate")} == {
        k: v for k, v in by_plain.items() if k not in ("reference", "candidate")
    }
    compare_runs.main([str(ref), str(new), "--max-clicks", "2"])  # the plain names find the stored files
    assert capsys.readouterr().out == plain_out
    with pytest.raises(SystemExit):
        compare_runs.main([stored_ref, str(tmp_path / "missing.jsonl")])
    assert "missing.jsonl (nor missing.jsonl.xz, missing.jsonl.gz)" in capsys.readouterr().err


def test_an_object_twice_in_one_run_is_an_error_not_an_overwrite():
    twice = [_record("a", [0.5, 0.95]), _record("a", [0.95, 0.95])]
    with pytest.raises(ValueError, match="'a' of data set 'd' appears twice in the reference run"):
        compare_runs.compare(twice, [_record("a", [0.5, 0.95])], max_clicks=2)
    with pytest.raises(ValueError, match="twice in the candidate run"):
        compare_runs.compare([_record("a", [0.5, 0.95])], twice, max_clicks=2)


def test_pooled_pairs_match_within_each_pair():
    # Two folders cut from the same images reuse the name "a"; pooled, each is matched in its pair.
    val = ([_record("a", [0.5, 0.95])], [_record("a", [0.95, 0.95])])  # NoC@90 2 -> 1
    things = ([_record("a", [0.95, 0.95])], [_record("a", [0.5, 0.5])])  # NoC@90 1 -> 2 (never: 2)
    stats = compare_runs.compare_pooled([val, things], max_clicks=2)
    assert stats["objects"] == 2 and stats["unmatched"] == 0
    assert stats["noc"]["90"]["change"] == pytest.approx(0.0)
    assert stats["noc"]["90"]["better"] == 1 and stats["noc"]["90"]["worse"] == 1
    assert compare_runs.compare_pooled([val], max_clicks=2) == compare_runs.compare(*val, max_clicks=2)


def test_main_pools_pairs_and_refuses_an_odd_count(tmp_path, capsys):
    files = {}
    for name, ious in {"r1": [0.5, 0.95], "c1": [0.95, 0.95], "r2": [0.5, 0.5], "c2": [0.95, 0.95]}.items():
        files[name] = tmp_path / f"{name}.jsonl"
        files[name].write_text(_record("a", ious).to_json() + "\n")
    out = tmp_path / "pooled.json"
    compare_runs.main(
        [str(files[k]) for k in ("r1", "c1", "r2", "c2")] + ["--max-clicks", "2", "--json", str(out)]
    )
    assert "2 objects matched" in capsys.readouterr().out
    written = json.loads(out.read_text())
    assert written["noc"]["90"]["change"] == pytest.approx(-1.0)  # (1 - 2) and (1 - 2)
    assert written["reference"] == [str(files["r1"]), str(files["r2"])]
    with pytest.raises(SystemExit):
        compare_runs.main([str(files["r1"]), str(files["c1"]), str(files["r2"])])
    twice = tmp_path / "twice.jsonl"
    twice.write_text(files["r1"].read_text() * 2)
    with pytest.raises(SystemExit):
        compare_runs.main([str(twice), str(files["c1"])])
    assert "appears twice" in capsys.readouterr().err
