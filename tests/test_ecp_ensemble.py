"""benchmarks/ecp_ensemble.py: several ECPs and / or the mirrored input averaged at inference."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from script_loader import load_script
from tiny_models import ECP_TINY, tiny_networks

from ntclick import NTClickPredictor
from ntclick.clicks import Click
from ntclick.modeling import build_ecp

ensemble = load_script("benchmarks/ecp_ensemble.py")


@torch.no_grad()
def test_averaged_ecp_is_the_mean_class_probability_and_unflips_the_mirror():
    a, _ = tiny_networks(seed=1)
    b, _ = tiny_networks(seed=2)
    a, b = a.eval(), b.eval()
    image = torch.randn(1, 3, 32, 48)
    maps = torch.rand(1, a.config.click_channels, 32, 48)
    probs = [a(image, maps).softmax(1), b(image, maps).softmax(1)]
    out = ensemble.AveragedECP([a, b])(image, maps)
    assert out.shape == (1, 3, 32, 48)
    torch.testing.assert_close(out.exp(), (probs[0] + probs[1]) / 2)
    torch.testing.assert_close(ensemble.AveragedECP([a])(image, maps).exp(), probs[0])
    mirrored = a(image.flip(-1), maps.flip(-1)).softmax(1).flip(-1)
    torch.testing.assert_close(
        ensemble.AveragedECP([a], flip=True)(image, maps).exp(), (probs[0] + mirrored) / 2
    )
    with pytest.raises(ValueError, match="at least one member"):
        ensemble.AveragedECP([])
    prior = build_ecp("tiny", **ECP_TINY, prior="grabcut")
    with pytest.raises(ValueError, match="different numbers of click channels"):
        ensemble.AveragedECP([a, prior])
    # The first member pads the input for all: a CNN (multiple of 32) must come before a ViT (16).
    cnn = build_ecp("tiny", backbone="resnet18", unet_widths=(16, 8, 8, 8)).eval()
    assert (a.config.size_multiple, cnn.config.size_multiple) == (16, 32)
    with pytest.raises(ValueError, match="put a CNN first|size_multiple"):
        ensemble.AveragedECP([a, cnn])
    image = torch.randn(1, 3, 64, 96)
    maps = torch.rand(1, a.config.click_channels, 64, 96)
    both = ensemble.AveragedECP([cnn, a])
    assert both.config.size_multiple == 32
    torch.testing.assert_close(
        both(image, maps).exp(), (cnn(image, maps).softmax(1) + a(image, maps).softmax(1)) / 2
    )


def test_one_member_predicts_like_the_plain_predictor(tiny_weights):
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (60, 80, 3)).astype(np.uint8)
    clicks = [Click(40, 30, "fg"), Click(5, 5, "bg")]
    plain = NTClickPredictor.from_pretrained(tiny_weights)
    plain.set_image(image)
    wrapped = NTClickPredictor.from_pretrained(tiny_weights)
    wrapped.ecp = ensemble.AveragedECP([wrapped.ecp]).eval()
    wrapped.set_image(image)
    np.testing.assert_allclose(wrapped.predict(clicks).soft, plain.predict(clicks).soft, atol=1e-5)
