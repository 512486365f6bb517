"""Every predictor option, alone and together, on an ECP with a GrabCut prior.

The bundled weights' ECP reads a prior channel; most predictor tests use the method's plain
ECP. An option that works there can still break with the prior (``brs_steps`` once raised a
torch error only with it), so each option runs here through ``predict`` with the bundled
weights' kind of ECP, and the answer is checked against what every option promises.
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from tiny_models import ECP_TINY, HRR_TINY

from ntclick.clicks import Click
from ntclick.modeling import build_ecp, build_hrr
from ntclick.predictor import NTClickPredictor

OPTIONS = {
    "defaults": {},
    "refine": {"refine": True},
    "zoom_in": {"zoom_in": True},
    "brs_steps": {"brs_steps": 3},
    "grabcut_iterations": {"grabcut_iterations": 1},
    "click_components": {"click_components": True},
    "click_guard": {"click_guard": True},
    "no_clamp": {"clamp_to_fbu": False},
    "bfloat16": {"dtype": "bfloat16", "zoom_in": True, "brs_steps": 3},
    "float16": {"dtype": "float16", "zoom_in": True, "brs_steps": 3, "refine": True},
    "all": {
        "refine": True,
        "zoom_in": True,
        "brs_steps": 3,
        "grabcut_iterations": 1,
        "click_components": True,
        "click_guard": True,
    },
}

CLICKS = [
    Click(30, 24, "fg"),
    Click(88, 50, "bg"),
    Click(40, 30, "fg"),
    Click(34, 40, "nt"),
    Click(10, 55, "bg"),
]


@pytest.fixture(scope="module")
def networks():
    torch.manual_seed(3)
    ecp = build_ecp("tiny", **ECP_TINY, prior="grabcut", prior_iterations=1)
    return ecp, build_hrr("tiny", **HRR_TINY)


@pytest.fixture(scope="module")
def image() -> np.ndarray:
    # A bright square on a dark textured background, so GrabCut has colours to separate.
    rng = np.random.default_rng(3)
    img = rng.integers(0, 60, (64, 96, 3), dtype=np.uint8)
    img[12:48, 20:56] = rng.integers(180, 256, (36, 36, 3), dtype=np.uint8)
    return img


def _copies(networks):
    """Fresh copies: a low-precision predictor casts the networks it is given."""
    return [copy.deepcopy(n) for n in networks]


def _check(pred, clamped: bool) -> None:
    assert pred.mask.shape == pred.soft.shape == pred.fbu.shape == (64, 96)
    assert pred.mask.dtype == bool and pred.soft.dtype == np.float32 and pred.fbu.dtype == np.uint8
    assert np.isfinite(pred.soft).all() and pred.soft.min() >= 0 and pred.soft.max() <= 1
    assert set(np.unique(pred.fbu)) <= {0, 128, 255}
    if clamped:  # every fg click is in the mask, every bg click out (nt clicks make no promise)
        for c in CLICKS:
            if c.kind.value != "nt":
                assert pred.mask[int(c.y), int(c.x)] == (c.kind.value == "fg"), c


@pytest.mark.parametrize("name", list(OPTIONS))
def test_each_option_predicts_with_a_prior_ecp(name, networks, image):
    options = OPTIONS[name]
    p = NTClickPredictor(*_copies(networks), ecp_size=64, **options)
    p.set_image(image)
    clamped = options.get("clamp_to_fbu", True)
    answers = []
    for n in range(1, len(CLICKS) + 1):
        answers.append(p.predict(CLICKS[:n]))
        _check(answers[-1], clamped and n == len(CLICKS))
    # Stateless: the same clicks on a fresh predictor give the same answer.
    again = NTClickPredictor(*_copies(networks), ecp_size=64, **options)
    again.set_image(image)
    np.testing.assert_array_equal(again.predict(CLICKS).mask, answers[-1].mask)


@pytest.mark.parametrize("name", ["defaults", "zoom_in", "brs_steps", "all"])
def test_each_option_takes_the_previous_mask(name, networks, image):
    p = NTClickPredictor(*_copies(networks), ecp_size=64, **OPTIONS[name])
    p.set_image(image)
    first = p.predict(CLICKS[:3])
    pred = p.predict(CLICKS, prev_mask=first.mask)
    _check(pred, True)
