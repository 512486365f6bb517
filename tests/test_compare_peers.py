"""benchmarks/compare_peers.py: ratios, skips, table, FLOP floor and one real ntclick case."""

from __future__ import annotations

import json

import pytest
from script_loader import REPO, load_script


@pytest.fixture(scope="module")
def peers():
    import sys

    benchmarks = str(REPO / "benchmarks")
    if benchmarks not in sys.path:  # as when run as a script: it imports bench_predictor
        sys.path.insert(0, benchmarks)
    return load_script("benchmarks/compare_peers.py")


def _row(model, w, h, set_s, first_s, click_s, **extra):
    return {
        "model": model,
        "width": w,
        "height": h,
        "set_image_s": set_s,
        "first_mask_s": first_s,
        "per_click_s": click_s,
        "peak_rss_mib": 100.0,
        **extra,
    }


def test_ratios_are_against_sam_at_the_same_image_size(peers):
    rows = [
        _row("sam-vit-b", 1024, 768, 10.0, 0.1, 0.05),
        _row("sam-vit-b", 2048, 1536, 12.0, 0.2, 0.10),
        _row("ntclick-tiny", 1024, 768, 0.5, 0.4, 0.30, click_gflops=60.0),
        _row("ntclick-tiny", 2048, 1536, 2.0, 2.2, 2.00, click_gflops=250.0),
        _row("ntclick-tiny", 4096, 3072, 3.0, 9.0, 8.00, click_gflops=1000.0),  # no SAM row here
    ]
    out = {(r["model"], r["width"]): r for r in peers.add_ratios(rows, rate_tflops=0.25)}
    tiny = out[("ntclick-tiny", 1024)]
    assert tiny["per_click_vs_ref"] == pytest.approx(0.30 / 0.05)
    assert tiny["set_image_vs_ref"] == pytest.approx(0.5 / 10.0)
    assert tiny["first_mask_vs_ref"] == pytest.approx(0.4 / 0.1)
    assert out[("ntclick-tiny", 2048)]["per_click_vs_ref"] == pytest.approx(2.0 / 0.10)
    assert out[("ntclick-tiny", 4096)]["per_click_vs_ref"] is None
    assert out[("sam-vit-b", 1024)]["per_click_vs_ref"] == pytest.approx(1.0)
    # x floor: 60 GFLOPs at 0.25 TFLOP/s is 0.24 s, measured 0.30 s.
    assert tiny["floor_s"] == pytest.approx(0.24)
    assert tiny["x_floor"] == pytest.approx(0.30 / 0.24)
    assert "x_floor" not in out[("sam-vit-b", 1024)]
    assert "per_click_vs_ref" not in rows[2]  # the input rows are not modified
    # A 5-click session: set_image + first mask + 4 further clicks.
    assert tiny["session_s"] == pytest.approx(0.5 + 0.4 + 4 * 0.30)
    assert tiny["session_vs_ref"] == pytest.approx((0.5 + 0.4 + 4 * 0.30) / (10.0 + 0.1 + 4 * 0.05))


def test_failed_and_skipped_rows_get_no_ratio_and_say_why_in_the_table(peers):
    rows = [
        _row("sam-vit-b", 1024, 768, 10.0, 0.1, 0.05),
        {"model": "ntclick-base-global", "width": 1024, "height": 768, "skipped": "~900 s per click"},
        {
            "model": "ntclick-base",
            "width": 1024,
            "height": 768,
            "error": "killed by signal 9 (out of memory?)",
        },
    ]
    out = peers.add_ratios(rows, rate_tflops=None)
    assert out[1]["per_click_vs_ref"] is None and out[2]["per_click_vs_ref"] is None
    table = peers.format_table(out).splitlines()
    assert table[0].startswith("| model | image (W x H) | set_image s")
    assert "skipped: ~900 s per click" in table[3]
    assert "failed: killed by signal 9" in table[4]
    # session = set_image + first mask + 4 further clicks = 10 + 0.1 + 4 * 0.05
    assert "| 1024 x 768 | 10.000 | 0.100 | 0.050 | 10.30 | 100 | 1.00 | 1.00 |  |" in table[2]
    assert all(line.count("|") == table[0].count("|") for line in table)


def test_global_attention_estimate_grows_with_pixels_squared(peers):
    small = peers.ntclick_click_flops("tiny", (448, 336), (768, 1024), "global")
    large = peers.ntclick_click_flops("tiny", (448, 336), (1536, 2048), "global")
    window = peers.ntclick_click_flops("tiny", (448, 336), (1536, 2048), "default")
    # 4x the tokens: the attention term grows 16x, so the total grows well over 4x.
    assert large / small > 6
    assert window < large / 2
    assert peers.estimated_click_s(1000.0, 0.5) == pytest.approx(peers.ATTENTION_SLOWDOWN * 2.0)


def test_skipped_rows_take_their_estimate_from_flops_and_the_measured_rate(peers):
    rows = [
        {"model": "ntclick-base-global", "width": 4096, "height": 3072, "click_gflops": 1000.0, "skipped": ""}
    ]
    (row,) = peers.refresh_estimates(rows, rate_tflops=0.25)
    assert row["estimated_click_s"] == pytest.approx(peers.ATTENTION_SLOWDOWN * 4.0)
    assert row["skipped"] == f"~{peers.ATTENTION_SLOWDOWN * 4.0:.0f} s per click estimated from 1000 GFLOPs"


def test_a_real_ntclick_case_measures_times_memory_and_flops(peers):
    result = peers.run_case("ntclick-tiny", (200, 136), "cpu", "float32", clicks=1, repeats=1)
    assert result["hrr_input"] == [256, 256]  # padded to a multiple of 128
    for key in ("set_image_s", "first_mask_s", "per_click_s"):
        assert 0 < result[key] < 60
    assert result["peak_rss_mib"] >= result["rss_before_models_mib"] > 0
    assert result["click_gflops"] > 0
    json.dumps(result)  # the worker prints it as one JSON line


def test_unknown_model_is_named(peers):
    with pytest.raises(ValueError, match="unknown model 'sam-vit-h'"):
        peers._Session("sam-vit-h", "cpu", "float32")


def test_plot_writes_a_png(peers, tmp_path):
    pytest.importorskip("matplotlib")
    rows = [
        _row("ntclick-tiny", 1024, 768, 0.1, 0.3, 0.3),
        _row("ntclick-tiny", 2048, 1536, 0.5, 2.0, 2.0),
        {"model": "sam-vit-b", "width": 1024, "height": 768, "error": "not installed"},
    ]
    path = tmp_path / "plot.png"
    peers.plot(rows, path, "test")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not list(tmp_path.glob("*.tmp*"))
