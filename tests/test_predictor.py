"""NTClickPredictor: input checks, the per-image cache, coordinates, sizes, FBU clamping, batching."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from tiny_models import tiny_networks

from ntclick.clicks import Click
from ntclick.fbu import BG, FG, UNCERTAIN, fbu_to_unit
from ntclick.modeling import normalize_image, pad_to_multiple
from ntclick.predictor import NTClickPredictor


def make_predictor(seed: int = 0, hrr_overrides=None, **kwargs) -> NTClickPredictor:
    ecp, hrr = tiny_networks(seed, hrr_overrides)
    kwargs.setdefault("ecp_size", 128)
    return NTClickPredictor(ecp, hrr, **kwargs)


def random_image(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def predictor() -> NTClickPredictor:
    return make_predictor()


def force_fbu_logits(predictor: NTClickPredictor, monkeypatch, classes_fn) -> None:
    """Replace ECP's output by logits whose argmax is ``classes_fn(h, w)`` (int (h, w) in 0..2)."""

    def fake_forward(image, click_maps):
        b, _, h, w = image.shape
        classes = torch.as_tensor(classes_fn(h, w))
        logits = torch.nn.functional.one_hot(classes, 3).permute(2, 0, 1).float() * 10
        return logits[None].expand(b, -1, -1, -1).to(image.dtype)

    monkeypatch.setattr(predictor.ecp, "forward", fake_forward)


# --------------------------------------------------------------------------- errors


def test_predict_before_set_image():
    p = make_predictor()
    assert not p.is_image_set and p.original_size is None
    with pytest.raises(RuntimeError, match="call predictor.set_image"):
        p.predict([Click(1, 1, "fg")])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            dict(clicks=[Click(10, 5, "fg"), Click(160, 5, "bg")]),
            r"click 1 \(bg:160,5\) is outside the image",
        ),
        (dict(clicks=[Click(-1, 5, "fg")]), r"click 0 \(fg:-1,5\) is outside the image"),
        (dict(clicks=[Click(float("nan"), 5, "fg")]), "click 0 .* non-finite"),
        (dict(clicks=[(3, 4, "maybe")]), "unknown click kind 'maybe'"),
        (dict(point_coords=[[3, 4]], point_labels=[5]), "unknown click label 5"),
        (dict(point_coords=[[3, 4]]), "must be given together"),
        (dict(clicks=[Click(3, 4)], point_coords=[[3, 4]], point_labels=[1]), "not both"),
        (dict(clicks=np.array([[3, 4]])), "use point_coords="),
    ],
)
def test_predict_rejects_bad_clicks(predictor, kwargs, message):
    predictor.set_image(random_image(90, 160))
    with pytest.raises(ValueError, match=message):
        predictor.predict(**kwargs)


@pytest.mark.parametrize(
    "image, message",
    [
        (np.zeros((20, 30, 3), np.float32), "must be uint8 RGB .* got dtype float32"),
        (np.zeros((20, 30, 2), np.uint8), r"got shape \(20, 30, 2\)"),
        (np.zeros((0, 30, 3), np.uint8), "empty"),
        ([[1, 2]], "must be a numpy array"),
    ],
)
def test_set_image_rejects_bad_images(predictor, image, message):
    with pytest.raises(ValueError, match=message):
        predictor.set_image(image)


def test_bad_settings():
    with pytest.raises(ValueError, match="unsupported dtype 'float64'"):
        make_predictor(dtype="float64")
    with pytest.raises(ValueError, match="invalid device"):
        make_predictor(device="gpu")
    with pytest.raises(ValueError, match="mask_threshold"):
        make_predictor(mask_threshold=1.5)
    with pytest.raises(ValueError, match="ecp_size"):
        make_predictor(ecp_size=8)
    with pytest.raises(TypeError, match="ntclick.modeling network"):
        NTClickPredictor(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))


def test_describe_tells_settings_and_weights_apart():
    base = make_predictor().describe()
    assert make_predictor().describe() == base  # same seed, same weights and settings
    assert base["grabcut_iterations"] == 0 and base["dtype"] == "float32" and len(base["weights"]) == 16
    assert make_predictor(grabcut_iterations=2).describe() == {**base, "grabcut_iterations": 2}
    other = make_predictor(seed=1).describe()  # other weights, same settings
    assert other["weights"] != base["weights"] and {**other, "weights": ""} == {**base, "weights": ""}
    p = make_predictor()
    with torch.no_grad():
        next(p.hrr.parameters()).view(-1)[0] += 1e-3  # one weight of one network
    assert p.describe()["weights"] != base["weights"]


# --------------------------------------------------------------------------- behaviour


def test_no_click_gives_empty_mask_without_running_networks(monkeypatch):
    p = make_predictor()
    p.set_image(random_image(50, 70))

    def boom(*args, **kwargs):
        raise AssertionError("network ran")

    monkeypatch.setattr(p.ecp, "forward", boom)
    monkeypatch.setattr(p.hrr, "forward_from_features", boom)
    for pred in (p.predict(), p.predict([]), p.predict(point_coords=np.zeros((0, 2)), point_labels=[])):
        assert pred.mask.shape == pred.soft.shape == pred.fbu.shape == (50, 70)
        assert pred.mask.dtype == bool and not pred.mask.any()
        assert pred.soft.dtype == np.float32 and not pred.soft.any()
        assert pred.fbu.dtype == np.uint8 and (pred.fbu == BG).all()


@pytest.mark.parametrize("shape", [(77, 131), (128, 256), (5, 300)])
def test_outputs_at_original_size(predictor, shape):
    h, w = shape
    predictor.set_image(random_image(h, w))
    pred = predictor.predict([Click(w / 3, h / 2, "fg"), Click(w - 1, h - 1, "nt")])
    m = predictor.hrr.config.size_multiple
    assert predictor.hrr_input_shape == (-(-h // m) * m, -(-w // m) * m) and predictor.hrr_scale == 1.0
    assert predictor.ecp_input_shape[0] % 16 == 0 and predictor.ecp_input_shape[1] % 16 == 0
    assert pred.mask.shape == pred.soft.shape == pred.fbu.shape == (h, w)
    assert pred.mask.dtype == bool and pred.soft.dtype == np.float32 and pred.fbu.dtype == np.uint8
    assert 0.0 <= pred.soft.min() and pred.soft.max() <= 1.0
    assert set(np.unique(pred.fbu).tolist()) <= {BG, UNCERTAIN, FG}
    np.testing.assert_array_equal(pred.mask, pred.soft > predictor.mask_threshold)


def test_long_side_over_max_size_is_downscaled_and_restored():
    p = make_predictor(hrr_overrides=dict(max_size=256))
    p.set_image(random_image(300, 50))
    # 300x50 -> 256x43 working size (aspect kept) -> padded to 256x128.
    assert p.hrr_input_shape == (256, 128)
    assert p.hrr_scale == pytest.approx(256 / 300)
    pred = p.predict([Click(25, 150, "fg")])
    assert pred.mask.shape == pred.soft.shape == pred.fbu.shape == (300, 50)
    np.testing.assert_array_equal(pred.mask, pred.soft > p.mask_threshold)


def test_default_max_size_4096():
    p = make_predictor()
    assert p.hrr.config.max_size == 4096
    p.set_image(random_image(4200, 64))  # tall and thin keeps it cheap
    assert p.hrr_input_shape == (4096, 128)
    pred = p.predict([Click(30, 2100, "fg")])
    assert pred.soft.shape == (4200, 64) and pred.fbu.shape == (4200, 64)


def test_gray_and_rgba_are_converted(predictor):
    rgb = random_image(40, 60)
    gray = rgb[:, :, 0]
    clicks = [Click(20, 20, "fg")]
    predictor.set_image(np.repeat(gray[:, :, None], 3, axis=2))
    expected = predictor.predict(clicks)
    predictor.set_image(gray)
    np.testing.assert_array_equal(predictor.predict(clicks).soft, expected.soft)
    predictor.set_image(np.dstack([rgb, np.full((40, 60), 7, np.uint8)]))
    rgba = predictor.predict(clicks)
    predictor.set_image(rgb)
    np.testing.assert_array_equal(predictor.predict(clicks).soft, rgba.soft)


def test_click_maps_put_disks_where_the_clicks_are(monkeypatch):
    p = make_predictor()
    p.set_image(random_image(200, 400))  # ECP input 64x128 for ecp_size 128: scale 0.32
    assert p.ecp_input_shape == (64, 128)
    seen = []
    original = p.ecp.forward
    monkeypatch.setattr(
        p.ecp, "forward", lambda image, maps: seen.append(maps.clone()) or original(image, maps)
    )

    clicks = [Click(100, 20, "fg"), Click(390, 190, "bg")]
    p.predict(clicks)
    maps = seen[0][0].numpy()
    np.testing.assert_array_equal(maps, p.click_maps(clicks))  # what ECP saw is what click_maps gives
    assert not maps[2].any()  # no nt click
    for channel, click in ((0, clicks[0]), (1, clicks[1])):
        rows, cols = np.nonzero(maps[channel])
        # centre (x + 0.5) * s - 0.5; the disk is clipped at the border for the bg click.
        cx, cy = (click.x + 0.5) * 0.32 - 0.5, (click.y + 0.5) * 0.32 - 0.5
        r = p.ecp.config.click_radius
        assert np.all((cols - cx) ** 2 + (rows - cy) ** 2 <= r**2 + 1e-6)
        assert maps[channel, round(cy), min(round(cx), 127)] == 1
    assert maps[0].sum() == pytest.approx(np.pi * 25, rel=0.2)  # a full disk for the fg click


def test_same_call_twice_is_identical(predictor):
    predictor.set_image(random_image(70, 90))
    a = [Click(10, 10, "fg"), Click(60, 40, "nt")]
    first = predictor.predict(a)
    predictor.predict([Click(80, 60, "bg")])  # an unrelated call in between changes nothing
    second = predictor.predict(a)
    for name in ("mask", "soft", "fbu"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))


def test_sam_arrays_equal_clicks(predictor):
    predictor.set_image(random_image(70, 90))
    clicks = [Click(10, 12, "fg"), Click(60, 40, "bg"), Click(30, 30, "nt")]
    a = predictor.predict(clicks)
    b = predictor.predict(
        point_coords=np.array([[10, 12], [60, 40], [30, 30]]), point_labels=np.array([1, 0, 2])
    )
    np.testing.assert_array_equal(a.soft, b.soft)
    np.testing.assert_array_equal(a.fbu, b.fbu)


def test_reset_image(predictor):
    predictor.set_image(random_image(30, 30))
    predictor.reset_image()
    assert not predictor.is_image_set
    with pytest.raises(RuntimeError):
        predictor.predict([Click(1, 1)])


def _stripes(h: int, w: int) -> np.ndarray:
    """Left third fg, middle third uncertain, right third bg."""
    classes = np.zeros((h, w), np.int64)
    classes[:, : w // 3] = 2
    classes[:, w // 3 : 2 * w // 3] = 1
    return classes


@pytest.mark.parametrize("clamp", [True, False])
def test_clamp_to_fbu(clamp, monkeypatch):
    p = make_predictor(clamp_to_fbu=clamp, mask_threshold=0.5)
    image = random_image(60, 96)
    p.set_image(image)  # ECP input 80x128
    force_fbu_logits(p, monkeypatch, _stripes)
    pred = p.predict([Click(5, 5, "fg")])

    # The FBU map is the argmax of the ECP logits resized to 96 px wide: the stripes, up to a
    # pixel at each border.
    expected_fbu = pred.fbu
    assert (pred.fbu[:, :30] == FG).all() and (pred.fbu[:, 33:63] == UNCERTAIN).all()
    assert (pred.fbu[:, 66:] == BG).all()

    # HRR run directly on the padded image and FBU map, as the predictor should.
    x = pad_to_multiple(normalize_image(torch.from_numpy(image).permute(2, 0, 1)[None], *_stats(p)), 128)
    unit = pad_to_multiple(torch.from_numpy(fbu_to_unit(expected_fbu))[None, None], 128)
    with torch.inference_mode():
        raw = p.hrr(x, unit)[0, 0, :60, :96].numpy()
    if clamp:
        assert (pred.soft[expected_fbu == FG] == 1).all() and (pred.soft[expected_fbu == BG] == 0).all()
        band = expected_fbu == UNCERTAIN
        np.testing.assert_allclose(pred.soft[band], raw[band], atol=1e-6)
    else:
        np.testing.assert_allclose(pred.soft, raw, atol=1e-6)


def test_refine_false_is_ecp_alone_upsampled(monkeypatch):
    p = make_predictor(refine=False, clamp_to_fbu=False)
    assert p.predictor_config["refine"] is False and "refine=False" in repr(p)
    image = random_image(60, 96)
    p.set_image(image)  # ECP input 80x128
    calls = []
    monkeypatch.setattr(p.hrr, "forward_from_features", lambda *a: calls.append(a))
    clicks = [Click(20, 30, "fg"), Click(80, 10, "bg")]
    pred = p.predict(clicks)
    assert not calls  # HRR is not run per click

    # ECP run directly: softmax of its logits, cropped, bilinearly resized to the image.
    maps = torch.from_numpy(p.click_maps(clicks))[None]
    with torch.inference_mode():
        logits = p.ecp(p._ecp_image, maps)[:, :, :80, :128]  # 128 px long side: 80 x 128, no padding
        logits = torch.nn.functional.interpolate(logits, size=(60, 96), mode="bilinear", align_corners=False)
        probs = logits.softmax(dim=1)[0].numpy()
    np.testing.assert_allclose(pred.soft, probs[2] + 0.5 * probs[1], atol=1e-5)
    np.testing.assert_array_equal(pred.mask, pred.soft > 0.5)
    expected_fbu = np.array([BG, UNCERTAIN, FG], np.uint8)[probs.argmax(axis=0)]
    np.testing.assert_array_equal(pred.fbu, expected_fbu)


def test_refine_can_be_switched_between_clicks(monkeypatch):
    p = make_predictor()
    p.set_image(random_image(60, 96))
    force_fbu_logits(p, monkeypatch, _stripes)
    clicks = [Click(5, 5, "fg")]
    refined = p.predict(clicks)
    p.refine = False
    coarse = p.predict(clicks)
    np.testing.assert_array_equal(refined.fbu, coarse.fbu)  # the same ECP result
    band = refined.fbu == UNCERTAIN
    inner = np.zeros_like(band)
    inner[:, 36:60] = True  # away from the stripes' borders, where bilinear resizing mixes classes
    assert (band[inner]).all()
    # The forced logits give P(uncertain) ~ 1 there: ECP alone says 0.5, HRR decides.
    np.testing.assert_allclose(coarse.soft[inner], 0.5, atol=1e-3)
    assert not np.allclose(refined.soft[inner], 0.5, atol=1e-3)
    np.testing.assert_array_equal(refined.soft[~band], coarse.soft[~band])  # clamped to the FBU map


def _blobs_and_a_hole(h: int, w: int) -> np.ndarray:
    """ECP classes (int (h, w), 0 bg / 2 fg): a left blob with a bg hole, and a right blob."""
    classes = np.zeros((h, w), np.int64)
    classes[h // 6 : 5 * h // 6, w // 12 : 5 * w // 12] = 2
    classes[2 * h // 6 : 4 * h // 6, 2 * w // 12 : 4 * w // 12] = 0  # the hole
    classes[h // 6 : 5 * h // 6, 7 * w // 12 : 11 * w // 12] = 2
    return classes


def test_click_components_drop_unclicked_blobs_and_fill_holes(monkeypatch):
    p = make_predictor(refine=False)
    p.set_image(random_image(60, 96))
    force_fbu_logits(p, monkeypatch, _blobs_and_a_hole)
    clicks = [Click(10, 30, "fg"), Click(2, 2, "bg")]  # on the left blob
    plain = p.predict(clicks)
    right = np.zeros(plain.mask.shape, bool)
    right[:, 48:] = True
    _, labels = cv2.connectedComponents((~plain.mask).astype(np.uint8), connectivity=4)
    hole = labels == labels[30, 24]
    assert plain.mask[right].sum() > 300 and 50 < hole.sum() < 500  # the forced blobs and hole
    assert not (hole[0].any() or hole[-1].any() or hole[:, 0].any() or hole[:, -1].any())

    p.click_components = True
    assert p.predictor_config["click_components"] is True and "click_components=True" in repr(p)
    pred = p.predict(clicks)
    assert not pred.mask[right].any() and pred.mask[hole].all()
    np.testing.assert_array_equal(pred.mask[~right & ~hole], plain.mask[~right & ~hole])
    changed = pred.mask != plain.mask
    np.testing.assert_array_equal(pred.soft[changed], pred.mask[changed])  # soft and FBU follow
    assert (pred.fbu[changed & pred.mask] == FG).all() and (pred.fbu[changed & ~pred.mask] == BG).all()
    np.testing.assert_array_equal(pred.soft[~changed], plain.soft[~changed])
    # a bg click in the hole keeps it open; an fg click on the right blob keeps that blob
    kept = p.predict([*clicks, Click(24, 30, "bg"), Click(70, 30, "fg")])
    np.testing.assert_array_equal(kept.mask, plain.mask)


def _stats(p: NTClickPredictor):
    return p.hrr.config.pixel_mean, p.hrr.config.pixel_std


def test_predict_torch_batches_click_sets(predictor):
    predictor.set_image(random_image(64, 100))
    sets = [[Click(10, 10, "fg")], [Click(50, 30, "fg"), Click(90, 60, "bg")]]
    maps = torch.stack([torch.from_numpy(predictor.click_maps(s)) for s in sets])
    soft, fbu = predictor.predict_torch(maps)
    assert (
        soft.shape == fbu.shape == (2, 64, 100) and soft.dtype == torch.float32 and fbu.dtype == torch.uint8
    )
    for i, s in enumerate(sets):
        single = predictor.predict(s)
        np.testing.assert_allclose(soft[i].numpy(), single.soft, atol=1e-5)
        np.testing.assert_array_equal(fbu[i].numpy(), single.fbu)
    with pytest.raises(ValueError, match=r"click_maps must have shape \(B, 3, "):
        predictor.predict_torch(maps[:, :2])


@pytest.mark.parametrize("dtype", ["bfloat16", "float16"])
def test_low_precision_on_cpu(dtype):
    p = make_predictor(dtype=dtype)
    assert {q.dtype for q in p.hrr.parameters()} == {getattr(torch, dtype)}
    p.set_image(random_image(40, 50))
    pred = p.predict([Click(20, 20, "fg")])
    assert pred.soft.dtype == np.float32 and pred.soft.shape == (40, 50)
    assert np.isfinite(pred.soft).all() and 0 <= pred.soft.min() and pred.soft.max() <= 1


# --------------------------------------------------------------------------- zoom-in


def test_zoom_box_frames_the_object_and_clicks(predictor):
    predictor.set_image(random_image(400, 600))
    classes = torch.zeros(400, 600, dtype=torch.uint8)
    classes[100:140, 200:260] = 2  # fg block
    classes[140:150, 200:260] = 1  # uncertain rim
    box = predictor.zoom_box(classes, [Click(230, 120, "fg"), Click(300, 180, "nt"), Click(590, 10, "bg")])
    assert box is not None
    y0, y1, x0, x1 = box
    # Holds the object (rows 100..149, cols 200..259) and the nt click, not the far bg click.
    assert y0 <= 100 and y1 >= 181 and x0 <= 200 and x1 >= 301
    assert not (x0 <= 590 < x1 and y0 <= 10 < y1)
    # At least ecp_size (128) a side, grown ZOOM_EXPAND times, inside the image.
    assert y1 - y0 >= 128 and x1 - x0 >= int(101 * predictor.ZOOM_EXPAND)
    assert 0 <= y0 < y1 <= 400 and 0 <= x0 < x1 <= 600


def test_zoom_box_none_when_not_worth_it(predictor):
    predictor.set_image(random_image(200, 300))
    whole = torch.full((200, 300), 2, dtype=torch.uint8)
    assert predictor.zoom_box(whole, [Click(10, 10, "fg")]) is None  # object fills the image
    nothing = torch.zeros(200, 300, dtype=torch.uint8)
    assert predictor.zoom_box(nothing, [Click(10, 10, "bg")]) is None  # no object, no fg click


@torch.inference_mode()
def test_zoom_logits_equal_ecp_on_the_crop():
    """Inside the box the logits are ECP's on the crop (as if the crop were the image); outside unchanged."""
    image = random_image(300, 500, seed=3)
    p = make_predictor(seed=1)
    p.set_image(image)
    clicks = [Click(260, 150, "fg"), Click(300, 120, "nt"), Click(5, 5, "bg")]
    full = p._ecp_logits(torch.from_numpy(p.click_maps(clicks))[None])
    y0, y1, x0, x1 = 80, 240, 180, 420
    zoomed = p._zoom_logits(full.clone(), clicks, (y0, y1, x0, x1))  # it writes in place

    outside = torch.ones(300, 500, dtype=torch.bool)
    outside[y0:y1, x0:x1] = False
    assert torch.equal(zoomed[:, :, outside], full[:, :, outside])

    q = make_predictor(seed=1)
    q.set_image(np.ascontiguousarray(image[y0:y1, x0:x1]))
    inside = [Click(c.x - x0, c.y - y0, c.kind) for c in clicks[:2]]  # the bg click is outside the box
    expected = q._ecp_logits(torch.from_numpy(q.click_maps(inside))[None])
    torch.testing.assert_close(zoomed[:, :, y0:y1, x0:x1], expected, atol=1e-5, rtol=1e-5)
    assert not torch.allclose(zoomed[:, :, y0:y1, x0:x1], full[:, :, y0:y1, x0:x1], atol=1e-3)


def test_zoom_in_runs_a_second_pass_from_the_second_click(monkeypatch):
    p = make_predictor(seed=2, zoom_in=True, refine=False)
    p.set_image(random_image(256, 512, seed=4))
    # First pass: a small object around (x 100..139, y 60..99); ECP forwards are counted.
    calls = []
    real_forward = p.ecp.forward

    def counting_forward(image, click_maps):
        calls.append(tuple(image.shape[-2:]))
        return real_forward(image, click_maps)

    monkeypatch.setattr(p.ecp, "forward", counting_forward)
    monkeypatch.setattr(p, "zoom_box", lambda classes, clicks: (40, 168, 60, 188))
    one = p.predict([Click(120, 80, "fg")])
    assert len(calls) == 1  # no zoom at the first click
    p.zoom_in = False
    p.predict([Click(120, 80, "fg"), Click(300, 200, "bg")])
    assert len(calls) == 2
    p.zoom_in = True
    two = p.predict([Click(120, 80, "fg"), Click(300, 200, "bg")])
    assert len(calls) == 4 and calls[-1] == (128, 128)  # the 128 x 128 box at ecp_size 128
    assert one.mask.shape == two.mask.shape == (256, 512)
    assert p.predictor_config["zoom_in"] is True


# --------------------------------------------------------------------------- click_guard


def _all_foreground(h: int, w: int) -> np.ndarray:
    return np.full((h, w), 2)


def test_click_guard_repairs_against_prev_mask(monkeypatch):
    p = make_predictor(refine=False, click_guard=True)
    assert p.predictor_config["click_guard"] is True and "click_guard=True" in repr(p)
    p.set_image(random_image(64, 80))
    force_fbu_logits(p, monkeypatch, _all_foreground)  # ECP claims the whole image
    square = np.zeros((64, 80), bool)
    square[20:40, 20:40] = True  # 400 px: 12.8 times less than the whole image
    # A bg click cannot grow the mask: only what the previous mask held survives.
    pred = p.predict([Click(30, 30, "fg"), Click(70, 5, "bg")], prev_mask=square)
    np.testing.assert_array_equal(pred.mask, square)
    np.testing.assert_array_equal(pred.soft[~square], 0.0)
    assert (pred.fbu[~square] == BG).all()
    # An fg click that floods keeps the previous mask, the added part near the click and its disk.
    pred = p.predict([Click(30, 30, "fg"), Click(45, 30, "fg")], prev_mask=square)
    assert pred.mask[square].all() and pred.mask[30, 45] and pred.mask[30, 48]
    assert not pred.mask[:10].any() and not pred.mask[:, 60:].any() and pred.mask.sum() < 700
    # Off, the forced flood is the answer.
    p.click_guard = False
    assert p.predict([Click(30, 30, "fg"), Click(45, 30, "fg")]).mask.all()
    # prev_mask needs the prior channel when the guard does not read it.
    with pytest.raises(ValueError, match="prev_mask needs an ECP with a prior channel"):
        p.predict([Click(30, 30, "fg")], prev_mask=square)


def test_click_guard_answer_depends_only_on_image_and_clicks(monkeypatch):
    image = random_image(48, 64, seed=3)
    clicks = [Click(30, 20, "fg"), Click(5, 5, "bg"), Click(40, 30, "fg"), Click(60, 40, "bg")]
    a = make_predictor(refine=False, click_guard=True)
    a.set_image(image)
    calls = []
    forward = a.ecp.forward
    monkeypatch.setattr(a.ecp, "forward", lambda *args: calls.append(1) or forward(*args))
    step_by_step = [a.predict(clicks[:k]).mask for k in range(1, len(clicks) + 1)]
    assert len(calls) == len(clicks)  # one ECP pass per click: each earlier answer was cached
    b = make_predictor(refine=False, click_guard=True)
    b.set_image(image)
    at_once = b.predict(clicks)  # answered prefix by prefix
    np.testing.assert_array_equal(at_once.mask, step_by_step[-1])
    # Undo the last click: one pass, checked against the cached answer before it.
    np.testing.assert_array_equal(a.predict(clicks[:3]).mask, step_by_step[2])
    assert len(calls) == len(clicks) + 1
    # A changed setting empties the cache: the first click is answered again.
    a.mask_threshold = 0.4
    a.predict(clicks[:2])
    assert len(calls) == len(clicks) + 3
    # So does a new image.
    a.set_image(random_image(48, 64, seed=4))
    a.predict(clicks[:2])
    assert len(calls) == len(clicks) + 5
