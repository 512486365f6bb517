"""The click-conditioned GrabCut prior: the torch-free maps, ECP's fourth channel, the
predictor and the trainer that feed it."""

from __future__ import annotations

import contextlib

import cv2
import numpy as np
import pytest
import torch
from tiny_models import ECP_TINY, HRR_TINY, tiny_networks

from ntclick.baselines.grabcut import GrabCutPredictor
from ntclick.clicks import Click, encode_disks
from ntclick.modeling import ECPConfig, build_ecp, build_hrr, normalize_image
from ntclick.predictor import NTClickPredictor
from ntclick.prior import PRIOR_KINDS, click_prior, ecp_input_maps


def square_image(
    h: int = 60, w: int = 80, box=(15, 45, 20, 60), seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """A noisy dark image with a noisy bright square; returns (image, bool mask of the square)."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 60, (h, w, 3)).astype(np.uint8)
    y0, y1, x0, x1 = box
    image[y0:y1, x0:x1] = rng.integers(190, 256, (y1 - y0, x1 - x0, 3)).astype(np.uint8)
    mask = np.zeros((h, w), bool)
    mask[y0:y1, x0:x1] = True
    return image, mask


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum()) / float((a | b).sum())


# --------------------------------------------------------------------------- torch-free maps


def test_grabcut_prior_finds_the_clicked_colour_region_and_pads_with_zero():
    image, mask = square_image()
    prior = click_prior(image, [Click(40, 30, "fg"), Click(3, 3, "bg")], shape=(64, 96))
    assert prior.shape == (64, 96) and prior.dtype == np.float32
    assert set(np.unique(prior)) <= {0.0, 1.0}
    assert iou(prior[:60, :80] > 0.5, mask) > 0.9
    assert not prior[60:].any() and not prior[:, 80:].any()


def test_prior_equals_the_grabcut_baseline_with_the_same_settings():
    image, _ = square_image(seed=1)
    clicks = [Click(30, 20, "fg"), Click(70, 50, "bg"), Click(50, 40, "nt")]
    baseline = GrabCutPredictor(iterations=2, click_radius=3)
    baseline.set_image(image)
    expected = baseline.predict(clicks).mask
    got = click_prior(image, clicks, iterations=2, click_radius=3)
    assert np.array_equal(got > 0.5, expected)


def test_prior_maps_original_clicks_onto_the_small_image():
    """Clicks on a 2x larger original land where the same clicks, halved, land by hand."""
    image, _ = square_image()
    clicks = [Click(81, 61, "fg"), Click(5, 5, "bg")]  # original pixels at twice the size
    halved = [Click((c.x + 0.5) * 0.5 - 0.5, (c.y + 0.5) * 0.5 - 0.5, c.kind) for c in clicks]
    assert np.array_equal(click_prior(image, clicks, scale=0.5), click_prior(image, halved))
    # The last original pixel maps a hair past the small image: it is clipped in, not rejected.
    edge = click_prior(image, [Click(159.9, 119.9, "fg")], scale=0.5)
    assert edge.shape == (60, 80)


def test_prior_none_and_no_foreground_seed_are_empty():
    image, _ = square_image()
    assert not click_prior(image, [Click(40, 30, "fg")], kind="none").any()
    assert not click_prior(image, [Click(3, 3, "bg")]).any()
    assert not click_prior(image, []).any()


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(kind="colour"), "unknown prior kind 'colour'"),
        (dict(shape=(10, 10)), "smaller than the image"),
    ],
)
def test_prior_rejects_bad_arguments(kwargs, message):
    image, _ = square_image()
    with pytest.raises(ValueError, match=message):
        click_prior(image, [Click(40, 30, "fg")], **kwargs)


def test_prior_rejects_a_non_uint8_image():
    with pytest.raises(ValueError, match=r"uint8 \(h, w, 3\) RGB image, got float32"):
        click_prior(np.zeros((8, 8, 3), np.float32), [Click(1, 1, "fg")])


def test_ecp_input_maps_are_the_disks_then_the_prior():
    image, _ = square_image()
    clicks = [Click(40, 30, "fg"), Click(3, 3, "bg"), Click(70, 10, "nt")]
    plain = ecp_input_maps(image, clicks, radius=3, shape=(64, 80))
    assert plain.shape == (3, 64, 80)
    assert np.array_equal(plain, encode_disks(clicks, (64, 80), radius=3))
    with_prior = ecp_input_maps(image, clicks, radius=3, prior="grabcut", prior_iterations=2, shape=(64, 80))
    assert with_prior.shape == (4, 64, 80)
    assert np.array_equal(with_prior[:3], plain)
    assert np.array_equal(
        with_prior[3], click_prior(image, clicks, iterations=2, click_radius=3, shape=(64, 80))
    )


def test_prior_on_a_smaller_copy_agrees_with_the_full_size_prior():
    image, mask = square_image(120, 160, box=(30, 90, 40, 120), seed=2)
    clicks = [Click(80, 60, "fg"), Click(5, 5, "bg"), Click(150, 110, "bg")]
    full = click_prior(image, clicks, shape=(128, 160))
    assert np.array_equal(click_prior(image, clicks, shape=(128, 160), long_side=160), full)  # not smaller
    small = click_prior(image, clicks, shape=(128, 160), long_side=40)
    assert small.shape == (128, 160) and small.dtype == np.float32
    assert set(np.unique(small)) <= {0.0, 1.0} and not small[120:].any()
    assert iou(small[:120] > 0.5, mask) > 0.9 and iou(small > 0.5, full > 0.5) > 0.9
    assert small[60, 80] == 1 and small[5, 5] == 0 and small[110, 150] == 0
    # The previous mask is scaled down with the image.
    previous = np.zeros((120, 160), bool)
    previous[30:90, 40:120] = True
    started = click_prior(image, clicks[:1], long_side=40, previous=previous)
    assert iou(started > 0.5, mask) > 0.9
    with pytest.raises(ValueError, match="long_side must be >= 0"):
        click_prior(image, clicks, long_side=-1)
    with pytest.raises(
        ValueError, match=r"prev_mask has shape \(60, 80\), expected the image's \(120, 160\)"
    ):
        click_prior(image, clicks, long_side=40, previous=previous[::2, ::2])


def test_ecp_input_maps_pass_the_prior_size():
    image, _ = square_image(120, 160, box=(30, 90, 40, 120))
    clicks = [Click(80, 60, "fg"), Click(5, 5, "bg")]
    maps = ecp_input_maps(image, clicks, radius=3, prior="grabcut", prior_size=40)
    assert np.array_equal(maps[3], click_prior(image, clicks, click_radius=3, long_side=40))
    assert not np.array_equal(maps[3], click_prior(image, clicks, click_radius=3))


# --------------------------------------------------------------------------- ECP


def test_config_knows_the_prior_kinds():
    assert PRIOR_KINDS == ("none", "grabcut")
    assert ECPConfig().click_channels == 3
    config = ECPConfig(prior="grabcut")
    assert config.click_channels == 4
    assert ECPConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ValueError, match="ECPConfig.prior must be one of"):
        ECPConfig(prior="colour")
    with pytest.raises(ValueError, match="prior_iterations must be > 0"):
        ECPConfig(prior="grabcut", prior_iterations=0)
    sized = ECPConfig(prior="grabcut", prior_size=128)
    assert ECPConfig.from_dict(sized.to_dict()) == sized and config.prior_size == 0
    old = config.to_dict()
    del old["prior_size"]  # a config.json written before the field existed
    assert ECPConfig.from_dict(old).prior_size == 0
    for bad in (-1, 1.5, True):
        with pytest.raises(ValueError, match="prior_size must be an int >= 0"):
            ECPConfig(prior="grabcut", prior_size=bad)


def prior_ecp(seed: int = 0):
    torch.manual_seed(seed)
    return build_ecp("tiny", **ECP_TINY, prior="grabcut").eval()


@torch.no_grad()
def test_ecp_with_a_prior_checks_the_channels_and_starts_by_following_the_prior():
    ecp = prior_ecp()
    image = torch.zeros(1, 3, 32, 48)
    with pytest.raises(ValueError, match=r"click_maps must have shape \(1, 4, 32, 48\)"):
        ecp(image, torch.zeros(1, 3, 32, 48))
    maps = torch.zeros(1, 4, 32, 48)
    maps[0, 3, 8:24, 10:30] = 1.0
    features = ecp.forward_features(image, maps)
    with pytest.raises(ValueError, match="needs the click_maps"):
        ecp.forward_head(features, (32, 48))
    logits = ecp(image, maps)
    assert torch.equal(logits, ecp.forward_head(features, (32, 48), maps))
    # At initialisation the 1x1 prior path dominates the (small) decoder output.
    classes = logits.argmax(1)[0]
    assert (classes[8:24, 10:30] == 2).all() and (classes[maps[0, 3] == 0] == 0).all()


def test_ecp_prior_path_gets_gradients():
    ecp = prior_ecp().train()
    maps = torch.zeros(2, 4, 32, 32)
    maps[:, 3, :16] = 1.0
    ecp(torch.randn(2, 3, 32, 32), maps).logsumexp(1).mean().backward()
    assert ecp.prior_logits.weight.grad is not None and ecp.prior_logits.weight.grad.abs().sum() > 0
    assert ecp.click_embed.proj.weight.shape[1] == 4


# --------------------------------------------------------------------------- predictor and trainer


def prior_predictor(**kwargs) -> NTClickPredictor:
    torch.manual_seed(0)
    hrr = build_hrr("tiny", **HRR_TINY)
    return NTClickPredictor(prior_ecp(), hrr, ecp_size=64, **kwargs)


def test_predictor_feeds_the_prior_of_the_ecp_image():
    image, mask = square_image(120, 160, box=(30, 90, 40, 120))
    p = prior_predictor()
    p.set_image(image)
    clicks = [Click(80, 60, "fg"), Click(5, 5, "bg")]
    maps = p.click_maps(clicks)
    assert maps.shape == (4, *p.ecp_input_shape) == (4, 48, 64)
    small = p._ecp_image_u8
    assert small.shape == (48, 64, 3)
    expected = click_prior(small, clicks, iterations=3, click_radius=5, scale=0.4, shape=(48, 64))
    assert np.array_equal(maps[3], expected)
    # The untrained network follows its prior: the predicted FBU map is mostly the square.
    pred = p.predict(clicks)
    assert pred.mask.shape == (120, 160)
    assert iou(pred.fbu != 0, mask) > 0.8


def test_predictor_with_a_prior_zooms_and_round_trips(tmp_path):
    image, _ = square_image(120, 160, box=(40, 80, 60, 100))
    p = prior_predictor(zoom_in=True, refine=False)
    p.set_image(image)
    clicks = [Click(80, 60, "fg"), Click(5, 5, "bg")]
    calls = []
    real_forward = p.ecp.forward

    def counting_forward(img, click_maps):
        calls.append(tuple(click_maps.shape))
        return real_forward(img, click_maps)

    p.ecp.forward = counting_forward
    p.predict(clicks)
    assert len(calls) == 2 and all(shape[1] == 4 for shape in calls)  # the zoom crop has a prior too
    del p.ecp.forward
    q = NTClickPredictor.from_pretrained(p.save_pretrained(tmp_path / "w"))
    assert q.ecp.config.prior == "grabcut" and q.ecp.config.prior_iterations == 3
    q.set_image(image)
    np.testing.assert_allclose(q.predict(clicks).soft, p.predict(clicks).soft, atol=1e-5)


def test_predictor_computes_the_prior_at_the_ecps_prior_size():
    image, _ = square_image(120, 160, box=(30, 90, 40, 120))
    p = prior_predictor()
    p.ecp.config.prior_size = 12
    p.set_image(image)
    clicks = [Click(80, 60, "fg"), Click(5, 5, "bg")]
    expected = click_prior(p._ecp_image_u8, clicks, click_radius=5, scale=0.4, shape=(48, 64), long_side=12)
    assert np.array_equal(p.click_maps(clicks)[3], expected)
    assert not np.array_equal(expected, click_prior(p._ecp_image_u8, clicks, scale=0.4, shape=(48, 64)))


def test_trainer_computes_the_prior_on_each_samples_unpadded_box():
    from ntclick.train.trainer import encode_click_batch

    image, mask = square_image(40, 48, box=(10, 30, 12, 36))
    raw = np.zeros((2, 64, 64, 3), np.uint8)
    valid = np.zeros((2, 64, 64), bool)
    raw[0, :40, :48], valid[0, :40, :48] = image, True
    raw[1], valid[1] = 255, True  # all white: everything looks like the fg click
    clicks = [[Click(24, 20, "fg"), Click(2, 2, "bg")], [Click(30, 30, "fg")]]
    config = ECPConfig(prior="grabcut", prior_iterations=2, click_radius=3)
    maps = encode_click_batch(
        clicks, torch.from_numpy(raw).permute(0, 3, 1, 2), valid, config, torch.device("cpu")
    )
    assert maps.shape == (2, 4, 64, 64)
    expected = click_prior(image, clicks[0], iterations=2, click_radius=3, shape=(64, 64))
    assert np.array_equal(maps[0, 3].numpy(), expected)
    assert iou(maps[0, 3, :40, :48].numpy() > 0.5, mask) > 0.9 and not maps[0, 3, 40:].any()
    assert maps[1, 3].all()
    plain = encode_click_batch(
        clicks,
        torch.from_numpy(raw).permute(0, 3, 1, 2),
        valid,
        ECPConfig(click_radius=3),
        torch.device("cpu"),
    )
    assert plain.shape == (2, 3, 64, 64) and torch.equal(plain, maps[:, :3])
    small_config = ECPConfig(prior="grabcut", prior_iterations=2, click_radius=3, prior_size=12)
    small = encode_click_batch(
        clicks, torch.from_numpy(raw).permute(0, 3, 1, 2), valid, small_config, torch.device("cpu")
    )
    expected = click_prior(image, clicks[0], iterations=2, click_radius=3, shape=(64, 64), long_side=12)
    assert np.array_equal(small[0, 3].numpy(), expected) and not torch.equal(small[0, 3], maps[0, 3])


def test_iterative_simulation_with_a_prior_needs_the_raw_images():
    from ntclick.train.trainer import simulate_extra_clicks

    ecp = prior_ecp()
    image, _ = square_image(64, 64, box=(16, 48, 16, 48))
    raw = torch.from_numpy(image).permute(2, 0, 1)[None]
    images = normalize_image(raw, ecp.config.pixel_mean, ecp.config.pixel_std)
    gt = np.zeros((1, 64, 64), np.uint8)
    gt[0, 16:48, 16:48] = 255
    valid = np.ones((1, 64, 64), bool)
    clicks = [[Click(30, 30, "fg")]]
    with pytest.raises(ValueError, match="needs raw_images"):
        simulate_extra_clicks(ecp, images, clicks, gt, valid, 1, contextlib.nullcontext)
    out = simulate_extra_clicks(ecp, images, clicks, gt, valid, 2, contextlib.nullcontext, raw_images=raw)
    assert out[0][0] == clicks[0][0] and len(out[0]) >= 1 and clicks == [[Click(30, 30, "fg")]]


def test_trainer_starts_a_samples_prior_from_its_previous_mask():
    from ntclick.train.trainer import encode_click_batch

    image, _ = square_image(40, 48, box=(10, 30, 12, 36))
    raw = np.zeros((2, 64, 64, 3), np.uint8)
    valid = np.zeros((2, 64, 64), bool)
    for b in range(2):
        raw[b, :40, :48], valid[b, :40, :48] = image, True
    clicks = [[Click(24, 20, "fg")], [Click(24, 20, "fg")]]
    previous = np.zeros((64, 64), bool)
    previous[:40, :48] = True  # everything: GrabCut keeps no background
    previous[50:, 50:] = True  # in the padding: must be ignored
    config = ECPConfig(prior="grabcut", prior_iterations=2, click_radius=3)
    tensor = torch.from_numpy(raw).permute(0, 3, 1, 2)
    maps = encode_click_batch(clicks, tensor, valid, config, torch.device("cpu"), [previous, None])
    expected = click_prior(
        image, clicks[0], iterations=2, click_radius=3, shape=(64, 64), previous=previous[:40, :48]
    )
    assert np.array_equal(maps[0, 3].numpy(), expected) and maps[0, 3, :40, :48].all()
    assert not maps[0, 3, 40:].any()  # the padding stays background
    plain = encode_click_batch(clicks, tensor, valid, config, torch.device("cpu"))
    assert torch.equal(maps[1], plain[1]) and not torch.equal(maps[0, 3], plain[0, 3])
    assert torch.equal(maps[:, :3], plain[:, :3])  # the click disks do not change


def test_previous_masks_are_what_the_predictor_would_show():
    from ntclick.train.trainer import previous_masks

    # Per pixel (bg, uncertain, fg) logits: fg; bg; uncertain leaning fg; uncertain leaning bg.
    logits = torch.tensor([[3.0, 0, 4], [2, 0, -1], [1, 5, 2], [2, 5, 1]]).T.reshape(1, 3, 1, 4)
    valid = np.array([[[True, True, True, True]]])
    assert previous_masks(logits, valid).tolist() == [[[True, False, True, False]]]
    assert not previous_masks(logits, ~valid).any()


def test_chained_simulation_hands_the_last_rounds_mask_to_chosen_samples():
    from ntclick.train.trainer import previous_masks, simulate_clicks_and_masks, simulate_extra_clicks

    ecp = prior_ecp()
    image, _ = square_image(64, 64, box=(16, 48, 16, 48))
    raw = torch.from_numpy(np.stack([image, image])).permute(0, 3, 1, 2)
    images = normalize_image(raw, ecp.config.pixel_mean, ecp.config.pixel_std)
    gt = np.zeros((2, 64, 64), np.uint8)
    gt[:, 16:48, 16:48] = 255
    valid = np.ones((2, 64, 64), bool)
    valid[:, 60:] = False
    clicks = [[Click(30, 30, "fg")], [Click(30, 30, "fg")]]
    chain = np.array([True, False])
    out, previous = simulate_clicks_and_masks(
        ecp, images, clicks, gt, valid, 1, contextlib.nullcontext, raw, chain
    )
    assert previous[1] is None and previous[0].shape == (64, 64) and previous[0].dtype == bool
    # One round: the mask is that of the prediction from the initial clicks, padding excluded.
    from ntclick.train.trainer import encode_click_batch

    with torch.no_grad():
        first = ecp.eval()(images, encode_click_batch(clicks, raw, valid, ecp.config, torch.device("cpu")))
    assert np.array_equal(previous[0], previous_masks(first, valid)[0]) and not previous[0][60:].any()
    assert out == simulate_extra_clicks(
        ecp, images, clicks, gt, valid, 1, contextlib.nullcontext, raw_images=raw
    )
    assert simulate_clicks_and_masks(ecp, images, clicks, gt, valid, 2, contextlib.nullcontext, raw)[1] == [
        None,
        None,
    ]


# --------------------------------------------------------------------------- the previous mask


def test_grabcut_starts_from_the_previous_mask_with_clicks_on_top():
    image, mask = square_image(seed=2)
    baseline = GrabCutPredictor(iterations=2, click_radius=3)
    baseline.set_image(image)
    clicks = [Click(40, 30, "fg"), Click(5, 5, "bg")]
    previous = np.zeros_like(mask)
    previous[10:50, 10:70] = True
    seeds = baseline.seed_map(clicks, prev_mask=previous)
    painted = np.zeros(mask.shape, bool)
    painted[25:36, 35:46] = painted[0:9, 0:9] = True  # around the disks of radius 3
    away = ~painted
    assert (seeds[away & previous] == 3).all() and (
        seeds[away & ~previous] == 2
    ).all()  # GC_PR_FGD / GC_PR_BGD
    assert seeds[30, 40] == 1 and seeds[5, 5] == 0  # the click disks: definite fg / bg
    # A previous mask that covers everything leaves GrabCut no background: the answer is all fg,
    # where the nearest-click start (the border is background) is not.
    everything = np.ones_like(mask)
    assert baseline.predict([Click(40, 30, "fg")], prev_mask=everything).mask.all()
    assert not baseline.predict([Click(40, 30, "fg")]).mask.all()
    # 0/255 masks are read like bool ones.
    assert np.array_equal(
        baseline.predict(clicks, prev_mask=previous.astype(np.uint8) * 255).mask,
        baseline.predict(clicks, prev_mask=previous).mask,
    )


@pytest.mark.parametrize(
    "previous, message",
    [
        (np.zeros((59, 80), bool), r"prev_mask has shape \(59, 80\), expected the image's \(60, 80\)"),
        (np.full((60, 80), 0.3, np.float32), "prev_mask must be binary"),
    ],
)
def test_grabcut_rejects_a_bad_previous_mask(previous, message):
    image, _ = square_image()
    baseline = GrabCutPredictor()
    baseline.set_image(image)
    with pytest.raises(ValueError, match=message):
        baseline.predict([Click(40, 30, "fg")], prev_mask=previous)


def test_prior_and_maps_take_the_previous_mask():
    image, mask = square_image(seed=3)
    clicks = [Click(40, 30, "fg"), Click(70, 50, "bg")]
    previous = np.zeros_like(mask)
    previous[15:45, 20:40] = True  # the left half of the square
    baseline = GrabCutPredictor(iterations=2, click_radius=3)
    baseline.set_image(image)
    expected = baseline.predict(clicks, prev_mask=previous).mask
    got = click_prior(image, clicks, iterations=2, click_radius=3, previous=previous)
    assert np.array_equal(got > 0.5, expected)
    maps = ecp_input_maps(
        image, clicks, radius=3, prior="grabcut", prior_iterations=2, shape=(64, 80), previous=previous
    )
    assert np.array_equal(maps[3, :60], got) and not maps[3, 60:].any()
    with pytest.raises(ValueError, match="needs an ECP with a prior channel"):
        ecp_input_maps(image, clicks, radius=3, prior="none", previous=previous)


def test_predictor_hands_the_previous_mask_to_both_ecp_passes():
    """``predict(prev_mask=)`` reaches ECP's prior channel on the whole image and on the zoom
    crop, resized as the prior's own image is; without it the maps are the clicks' alone."""
    # A bright square (clicked) beside a grey one: from the clicks alone GrabCut's prior holds
    # both, started from a previous mask of the bright square alone it keeps that one.
    image, _ = square_image(120, 160, box=(40, 80, 50, 80))
    image[40:80, 85:110] = 128
    p = prior_predictor(zoom_in=True, refine=False)
    p.set_image(image)
    clicks = [Click(65, 60, "fg"), Click(5, 5, "bg")]
    previous = np.zeros((120, 160), bool)
    previous[40:80, 50:80] = True
    seen = []
    real_maps = p._ecp_maps

    def spying_maps(img, cs, scale, shape, prev=None):
        maps = real_maps(img, cs, scale, shape, prev)
        seen.append((img, cs, scale, prev, maps))
        return maps

    p._ecp_maps = spying_maps
    with_previous = p.predict(clicks, prev_mask=previous)
    assert len(seen) == 2  # the whole image, then the zoom crop
    for img, cs, scale, prev, maps in seen:
        assert prev is not None and prev.shape == img.shape[:2] and prev.any() and not prev.all()
        h, w = img.shape[:2]
        expected = click_prior(img, cs, iterations=3, click_radius=5, scale=scale, previous=prev)
        assert np.array_equal(maps[3, :h, :w], expected)
    assert seen[1][1] != clicks  # the crop's pass sees the clicks moved into the crop
    img, cs, scale, _, maps = seen[0]  # on the whole image the previous mask changed the prior
    assert not np.array_equal(
        maps[3, :48, :64], click_prior(img, cs, iterations=3, click_radius=5, scale=scale)
    )
    whole = seen[0][3]
    small = cv2.resize(
        previous.astype(np.float32), (whole.shape[1], whole.shape[0]), interpolation=cv2.INTER_AREA
    )
    assert np.array_equal(whole, small > 0.5)
    seen.clear()
    without = p.predict(clicks)
    assert [prev for _, _, _, prev, _ in seen] == [None, None]
    assert with_previous.mask.shape == without.mask.shape == (120, 160)


def test_predictor_rejects_a_bad_previous_mask():
    image, mask = square_image(60, 80)
    p = prior_predictor()
    p.set_image(image)
    with pytest.raises(ValueError, match=r"prev_mask has shape \(60, 79\)"):
        p.predict([Click(40, 30, "fg")], prev_mask=np.zeros((60, 79), bool))
    with pytest.raises(ValueError, match="prev_mask must be binary"):
        p.predict([Click(40, 30, "fg")], prev_mask=np.full((60, 80), 0.7))
    ecp, hrr = tiny_networks()
    plain = NTClickPredictor(ecp, hrr, ecp_size=64)
    plain.set_image(image)
    with pytest.raises(ValueError, match="prev_mask needs an ECP with a prior channel"):
        plain.predict([Click(40, 30, "fg")], prev_mask=mask)
