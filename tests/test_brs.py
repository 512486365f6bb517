"""BRS click consistency (ntclick.modeling.brs) and the predictor's ``brs_steps``."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from tiny_models import tiny_networks

from ntclick.clicks import Click, ClickKind
from ntclick.modeling.brs import click_consistent_logits, click_violations
from ntclick.predictor import NTClickPredictor

FG, BG, NT = ClickKind.FG, ClickKind.BG, ClickKind.NT


def _ecp_and_input(seed: int = 0, size: int = 64):
    ecp, _ = tiny_networks(seed)
    ecp.eval()
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(1, 3, size, size, generator=g)
    maps = torch.zeros(1, 3, size, size)
    maps[0, 0, 20:26, 20:26] = 1.0
    return ecp, image, maps


def test_click_violations_follow_each_kind():
    probs = torch.tensor([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]])  # (pixel, class) over (bg, uncertain, fg)
    logits = probs.log().T.reshape(1, 3, 1, 2)
    points = [(0, 0, FG), (0, 0, BG), (0, 0, NT), (0, 1, FG), (0, 1, BG), (0, 1, NT)]
    got = click_violations(logits, points, target=0.65)
    t = math.log(0.65)
    expected = [t - math.log(0.1), 0.0, t - math.log(0.3), t - math.log(0.6), t - math.log(0.1), 0.0]
    torch.testing.assert_close(got, torch.tensor(expected).clamp(min=0), atol=1e-5, rtol=1e-5)


def test_forward_is_the_head_of_the_features():
    ecp, image, maps = _ecp_and_input()
    with torch.no_grad():
        torch.testing.assert_close(
            ecp(image, maps), ecp.forward_head(ecp.forward_features(image, maps), (64, 64))
        )


def test_consistent_clicks_cost_one_decoder_pass(monkeypatch):
    ecp, image, maps = _ecp_and_input()
    with torch.no_grad():
        features = ecp.forward_features(image, maps)
        plain = ecp.forward_head(features, (64, 64))
    probs = plain[0].softmax(dim=0)
    # At each pixel, a click of the kind its prediction already favours; target just below it.
    points, reached = [], []
    for r, c in [(5, 5), (30, 40), (60, 10)]:
        p_bg, p_fg = float(probs[0, r, c]), float(probs[2, r, c])
        kind = BG if p_bg > p_fg else FG
        points.append((r, c, kind))
        reached.append(max(p_bg, p_fg))
    calls = []
    real_head = ecp.forward_head
    monkeypatch.setattr(ecp, "forward_head", lambda f, s, m=None: calls.append(1) or real_head(f, s, m))
    out = click_consistent_logits(ecp, features, (64, 64), points, steps=10, target=min(reached) * 0.99)
    assert len(calls) == 1 and torch.equal(out, plain)


def test_brs_enforces_clicks_the_network_ignores():
    ecp, image, maps = _ecp_and_input(seed=3)
    with torch.no_grad():
        features = ecp.forward_features(image, maps)
        plain = ecp.forward_head(features, (64, 64))
    classes = plain[0].argmax(dim=0)
    # Clicks that contradict the network: fg where it says bg, bg where it does not.
    points = [
        (r, c, BG if int(classes[r, c]) != 0 else FG) for r, c in [(8, 8), (32, 32), (50, 12), (12, 50)]
    ]
    before = click_violations(plain, points, 0.8)
    assert bool((before > 0).all())
    params = {k: v.clone() for k, v in ecp.state_dict().items()}
    with torch.enable_grad():
        out = click_consistent_logits(
            ecp, features, (64, 64), points, steps=30, target=0.8, weight_decay=1e-4
        )
    after = click_violations(out, points, 0.8)
    assert float(after.sum()) < 0.9 * float(before.sum())
    assert not out.requires_grad
    # One contradicted click alone is fully enforced (to a target this random decoder can reach).
    assert float(click_violations(plain, points[:1], 0.4)[0]) > 0
    with torch.enable_grad():
        one = click_consistent_logits(
            ecp, features, (64, 64), points[:1], steps=30, target=0.4, weight_decay=1e-4
        )
    assert float(click_violations(one, points[:1], 0.4)[0]) == 0.0
    # The network is untouched: same weights, no gradients left on it.
    assert all(torch.equal(v, params[k]) for k, v in ecp.state_dict().items())
    assert all(p.grad is None for p in ecp.parameters())


def test_brs_target_must_be_a_probability():
    ecp, image, maps = _ecp_and_input()
    with torch.no_grad():
        features = ecp.forward_features(image, maps)
    with pytest.raises(ValueError, match="target must be in"):
        click_consistent_logits(ecp, features, (64, 64), [(0, 0, FG)], steps=5, target=1.0)


# --------------------------------------------------------------------------- predictor


def _predictor(**kwargs) -> NTClickPredictor:
    ecp, hrr = tiny_networks(1)
    return NTClickPredictor(ecp, hrr, ecp_size=64, **kwargs)


@pytest.mark.parametrize("bad", [-1, 2.5, True, "3"])
def test_brs_steps_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="brs_steps must be a non-negative int"):
        _predictor(brs_steps=bad)


def test_predictor_brs_pass_lowers_click_violations():
    p = _predictor(brs_steps=25, refine=False)
    p.set_image(np.random.default_rng(0).integers(0, 256, (64, 96, 3), dtype=np.uint8))
    maps = torch.from_numpy(p.click_maps([Click(30, 20, "fg")]))[None]
    with torch.inference_mode():
        plain = p.ecp(p._ecp_image, maps)
    classes = plain[0].argmax(dim=0)
    points = [(r, c, BG if int(classes[r, c]) != 0 else FG) for r, c in [(10, 10), (30, 50), (20, 30)]]
    with torch.inference_mode():  # as predict runs it
        enforced = p._run_ecp(p._ecp_image, maps, points)
    assert float(click_violations(enforced, points, p.BRS_TARGET).sum()) < float(
        click_violations(plain, points, p.BRS_TARGET).sum()
    )


def test_predictor_brs_changes_nothing_when_clicks_agree(monkeypatch, tmp_path):
    """A prediction that already agrees with every click is the same with and without BRS."""
    image = np.random.default_rng(1).integers(0, 256, (48, 80, 3), dtype=np.uint8)
    clicks = [Click(20, 20, "fg"), Click(70, 40, "bg")]
    plain, enforced = _predictor(), _predictor(brs_steps=10)
    import ntclick.modeling.brs as brs

    monkeypatch.setattr(brs, "_violations", lambda logits, index, target: torch.zeros(len(index[0])))
    plain.set_image(image)
    enforced.set_image(image)
    np.testing.assert_array_equal(plain.predict(clicks).soft, enforced.predict(clicks).soft)
    # The setting travels with saved weights.
    enforced.save_pretrained(tmp_path / "w")
    assert NTClickPredictor.from_pretrained(tmp_path / "w").brs_steps == 10
    assert "brs_steps=10" in repr(enforced)


def test_predictor_brs_with_a_prior_ecp_enforces_clicks_through_predict():
    """The bundled weights' ECP reads a GrabCut prior in its head as well; BRS must run through
    ``predict`` with it (it once raised torch's "inference tensors cannot be saved" error)."""
    from tiny_models import ECP_TINY, HRR_TINY

    from ntclick.modeling import build_ecp, build_hrr

    torch.manual_seed(2)
    ecp, hrr = (
        build_ecp("tiny", **ECP_TINY, prior="grabcut", prior_iterations=1),
        build_hrr("tiny", **HRR_TINY),
    )
    image = np.random.default_rng(2).integers(0, 256, (64, 64, 3), dtype=np.uint8)
    clicks = [Click(20, 20, "fg"), Click(44, 44, "bg"), Click(44, 20, "fg"), Click(20, 44, "bg")]
    shortfall = {}
    for steps in (0, 25):
        p = NTClickPredictor(ecp, hrr, ecp_size=64, refine=False, clamp_to_fbu=False, brs_steps=steps)
        p.set_image(image)
        soft = p.predict(clicks).soft
        # How far each clicked pixel's fg probability is from its click's class.
        shortfall[steps] = sum(
            float(1 - soft[int(c.y), int(c.x)] if c.kind is FG else soft[int(c.y), int(c.x)]) for c in clicks
        )
    assert shortfall[0] > 0.05  # the untrained ECP is unsure at its clicks, so BRS has work
    assert shortfall[25] < shortfall[0]
