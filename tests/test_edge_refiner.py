"""benchmarks/edge_refiner.py: the band it may change and what it keeps (twentieth round's prototype)."""

from __future__ import annotations

import numpy as np
import torch
from script_loader import load_script

from ntclick.clicks import Click

edge = load_script("benchmarks/edge_refiner.py")


def test_edge_band_is_the_pixels_near_the_mask_edge():
    mask = np.zeros((40, 40), bool)
    mask[10:30, 10:30] = True
    band = edge.edge_band(mask, 2)
    # Rows 8..11 and 28..31 at column 20: 2 px outside to 2 px inside the object's edge.
    assert band[10, 20] and band[8, 20] and band[11, 20] and band[31, 20]
    assert not band[12, 20] and not band[7, 20] and not band[20, 20]
    assert not edge.edge_band(np.zeros((8, 8), bool), 2).any()


class _Always(torch.nn.Module):
    """A refiner that says 'object' everywhere, strongly enough to beat the mask's own logit."""

    def forward(self, x):
        return torch.full_like(x[:, :1], 100.0)


def test_refine_changes_only_the_band_and_keeps_click_disks():
    mask = np.zeros((60, 60), bool)
    mask[20:40, 20:40] = True
    image = np.zeros((60, 60, 3), np.uint8)
    clicks = [Click(30, 30, "fg"), Click(16, 30, "bg")]  # the bg click sits in the band outside
    out = edge.refine(_Always(), image, mask, clicks, apply_band=2)
    band = edge.edge_band(mask, 2)
    np.testing.assert_array_equal(out[~band & ~mask], False)  # far outside: unchanged
    assert out[18, 25] and out[21, 25]  # band pixels became object
    assert not out[30, 16]  # the bg click's disk stays background
    assert out.dtype == bool and out.shape == mask.shape
    assert mask.sum() == 400  # input untouched


def test_refiner_input_channels():
    mask = np.zeros((20, 30), bool)
    mask[5:15, 5:15] = True
    x = edge.refiner_input(np.full((20, 30, 3), 255, np.uint8), mask)
    assert x.shape == (5, 20, 30) and x.dtype == np.float32
    assert np.allclose(x[:3], 1.0) and set(np.unique(x[3])) == {-1.0, 1.0}
    np.testing.assert_array_equal(x[4] > 0, edge.edge_band(mask))
