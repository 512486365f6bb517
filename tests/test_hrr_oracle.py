"""benchmarks/hrr_oracle.py: GrabCut in the band keeps the definite regions; the quick run's table."""

from __future__ import annotations

import json

import cv2
import numpy as np
from script_loader import load_script

from ntclick.fbu import fbu_from_mask


def _script():
    return load_script("benchmarks/hrr_oracle.py")


def test_grabcut_band_decides_only_the_band():
    rng = np.random.default_rng(0)
    gt = np.zeros((80, 100), np.uint8)
    cv2.circle(gt, (50, 40), 20, 255, -1)
    image = rng.integers(0, 60, (80, 100, 3), dtype=np.uint8)
    image[gt > 0] = rng.integers(190, 256, (int((gt > 0).sum()), 3), dtype=np.uint8)
    fbu = fbu_from_mask(gt > 0, 5, 2)
    start = fbu == 255  # the whole band starts as background
    out = _script().grabcut_band(image, fbu, start, 3)
    assert out[fbu == 255].all() and not out[fbu == 0].any()
    band = fbu == 128
    # The colour model recovers the disk's rim inside the band: far better than the start.
    assert (out[band] == (gt[band] > 0)).mean() > 0.9 > (start[band] == (gt[band] > 0)).mean()


def test_quick_run_writes_every_method(tmp_path):
    out = tmp_path / "oracle.json"
    assert _script().main(["--quick", "--iterations", "1", "--out", str(out)]) == 0
    payload = json.loads(out.read_text())
    assert payload["objects"] == 2
    assert [r["method"] for r in payload["rows"]] == ["hrr", "fg_only", "fg_plus_band", "grabcut_band"]
    by_method = {r["method"]: r for r in payload["rows"]}
    # With a 2-erosion band the definite fg alone misses the rim; adding the band overshoots.
    assert 0.0 < by_method["fg_only"]["miou"] < 1.0 and 0.0 < by_method["fg_plus_band"]["miou"] < 1.0
    assert by_method["grabcut_band"]["miou"] > by_method["fg_only"]["miou"]
