"""benchmarks/bench_prior_size.py: per-click time of the bundled weights at several prior sizes."""

from __future__ import annotations

import json

import numpy as np
from script_loader import load_script

from ntclick import NTClickPredictor

bench = load_script("benchmarks/bench_prior_size.py")


def test_time_clicks_sets_the_prior_size_and_times_each_growing_click_list():
    predictor = NTClickPredictor.from_pretrained(bench.REPO / "weights" / "ntclick-tiny")
    sizes = []
    real = predictor.predict

    def recording_predict(clicks, **kwargs):
        sizes.append((len(clicks), predictor.ecp.config.prior_size))
        return real(clicks, **kwargs)

    predictor.predict = recording_predict
    image = np.random.default_rng(0).integers(0, 256, (120, 180, 3), dtype=np.uint8)
    clicks = [(90, 60, "fg"), (10, 10, "bg"), (150, 100, "bg")]
    seconds = bench.time_clicks(predictor, image, clicks, 64)
    assert len(seconds) == 2 and all(s > 0 for s in seconds)
    assert sizes == [(1, 64), (2, 64), (3, 64)]  # one untimed call, then clicks 1..2 and 1..3


def test_main_writes_a_table_and_json(tmp_path, capsys):
    out = tmp_path / "prior.json"
    assert bench.main(["--sizes", "0", "96", "--out", str(out)]) == 0
    record = json.loads(out.read_text())
    assert [r["prior_size"] for r in record["rows"]] == [0, 96]
    assert all(len(r["seconds"]) == len(bench.CLICKS) - 1 for r in record["rows"])
    assert "| 96 |" in capsys.readouterr().out
