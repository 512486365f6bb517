"""benchmarks/zoom_variants.py: the zoom-in crop's least side, changed from outside the package."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from script_loader import load_script
from tiny_models import tiny_networks

from ntclick.clicks import Click
from ntclick.predictor import NTClickPredictor

zoom = load_script("benchmarks/zoom_variants.py")


def test_least_side_lets_a_small_object_be_enlarged_and_restores_ecp_size():
    p = NTClickPredictor(*tiny_networks(0), ecp_size=128, zoom_in=True)
    p.set_image(np.zeros((400, 600, 3), np.uint8))
    classes = torch.zeros(400, 600, dtype=torch.uint8)
    classes[100:130, 200:240] = 2  # a 30 x 40 px object
    clicks = [Click(220, 115, "fg")]
    y0, y1, x0, x1 = p.zoom_box(classes, clicks)
    assert (y1 - y0, x1 - x0) == (128, 128)  # shipped: at least ecp_size a side
    zoom.least_side(p, 0.5)
    y0, y1, x0, x1 = p.zoom_box(classes, clicks)
    # Half of ecp_size (64) a side, still holding the object grown 1.4 times (42 x 56).
    assert (y1 - y0, x1 - x0) == (64, 64) and y0 <= 100 and y1 >= 130 and x0 <= 200 and x1 >= 240
    assert p.ecp_size == 128
    with pytest.raises(ValueError, match="least must be positive"):
        zoom.least_side(p, 0)


def test_main_refuses_weights_without_zoom_in(tiny_weights, capsys):
    with pytest.raises(SystemExit):
        zoom.main(["--weights", str(tiny_weights), "--variant", "least", "--value", "0.5"])
    assert "does not store zoom_in=true" in capsys.readouterr().err
