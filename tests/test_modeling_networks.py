"""ECP and HRR forward passes, caching split, gradients, dtypes and input checks (tiny configs)."""

from __future__ import annotations

import pytest
import torch

from ntclick.modeling import ECP, HRR, build_ecp, build_hrr, normalize_image, pad_to_multiple, padded_size
from ntclick.modeling.vit import WindowTiledPositionEmbedding

# Test-only miniature configs: same architecture as the presets, a few thousand parameters.
TINY_ECP = dict(
    depth=2, embed_dim=32, num_heads=2, pyramid_widths=(8, 8, 16, 16), decoder_dim=16, pos_embed_size=64
)
TINY_HRR = dict(
    depth=2,
    embed_dim=32,
    num_heads=2,
    window_size=2,  # size multiple 32 keeps the inputs small
    pos_embed_size=128,
    detail_widths=(4, 4, 8, 8),
    fusion_widths=(16, 8, 8, 4),
    head_width=4,
)


def _ecp(**overrides) -> ECP:
    torch.manual_seed(0)
    return build_ecp("tiny", **{**TINY_ECP, **overrides})


def _hrr(**overrides) -> HRR:
    torch.manual_seed(0)
    return build_hrr("tiny", **{**TINY_HRR, **overrides})


def _hrr_inputs(b: int, h: int, w: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    image = torch.randn(b, 3, h, w, generator=g)
    fbu = torch.randint(0, 3, (b, 1, h, w), generator=g).float() / 2  # 0 / 0.5 / 1
    return image, fbu


@pytest.mark.parametrize("h,w", [(64, 64), (48, 80)])
def test_ecp_output_shape_and_dtype(h, w):
    model = _ecp().eval()
    clicks = torch.zeros(2, 3, h, w)
    clicks[:, 0, 10:15, 10:15] = 1
    with torch.no_grad():
        logits = model(torch.randn(2, 3, h, w), clicks)
    assert logits.shape == (2, 3, h, w) and logits.dtype == torch.float32
    assert torch.isfinite(logits).all()


@pytest.mark.parametrize(
    "h,w,pos_embed", [(64, 64, "abs_win"), (32, 96, "abs_win"), (32, 96, "abs"), (64, 32, "none")]
)
def test_hrr_output_shape_dtype_and_range(h, w, pos_embed):
    model = _hrr(pos_embed=pos_embed).eval()
    with torch.no_grad():
        mask = model(*_hrr_inputs(2, h, w))
    assert mask.shape == (2, 1, h, w) and mask.dtype == torch.float32
    assert mask.min() >= 0 and mask.max() <= 1


def test_ecp_clicks_change_the_output():
    model = _ecp().eval()
    image = torch.randn(1, 3, 64, 64)
    clicks = torch.zeros(1, 3, 64, 64)
    with torch.no_grad():
        before = model(image, clicks)
        clicks[:, 2, 20:30, 20:30] = 1
        after = model(image, clicks)
    assert not torch.allclose(before, after)


@pytest.mark.parametrize("network", ["ecp", "ecp-conv-stem", "hrr"])
def test_gradients_reach_every_parameter(network):
    torch.manual_seed(1)
    if network.startswith("ecp"):
        model = _ecp(stem="conv" if network == "ecp-conv-stem" else "patch").train()
        out = model(torch.randn(2, 3, 48, 64), (torch.rand(2, 3, 48, 64) > 0.7).float())
    else:
        model = _hrr().train()
        out = model(*_hrr_inputs(2, 64, 96))
    # A random weighting: a plain sum has zero gradient through BatchNorm/softmax-like invariances.
    (out * torch.randn_like(out)).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []


def test_ecp_conv_stem_makes_tokens_like_a_patch_embedding():
    from ntclick.modeling.vit import ConvStem

    stem = ConvStem(3, 32, 16).eval()
    widths = [m.out_channels for m in stem.proj if isinstance(m, torch.nn.Conv2d)]
    assert widths == [8, 8, 16, 32, 32]  # doubling to embed_dim (at least 8), then the 1x1 conv
    assert stem(torch.randn(2, 3, 48, 80)).shape == (2, 3, 5, 32)  # (B, H/16, W/16, D)
    # Each token sees only its own neighbourhood: a change in one corner leaves the far tokens alone.
    x = torch.randn(1, 3, 64, 64)
    y = x.clone()
    y[..., :8, :8] += 1
    with torch.no_grad():
        a, b = stem(x), stem(y)
    assert not torch.allclose(a[0, 0, 0], b[0, 0, 0]) and torch.equal(a[0, 2:, 2:], b[0, 2:, 2:])
    model = _ecp(stem="conv").eval()
    assert isinstance(model.patch_embed, ConvStem) and model.config.to_dict()["stem"] == "conv"
    with torch.no_grad():
        assert model(torch.randn(1, 3, 48, 64), torch.zeros(1, 3, 48, 64)).shape == (1, 3, 48, 64)
    with pytest.raises(ValueError, match="power-of-two patch size"):
        ConvStem(3, 32, 12)


def test_hrr_encode_image_then_forward_from_features_equals_forward():
    model = _hrr().eval()
    image, fbu = _hrr_inputs(2, 64, 96)
    with torch.no_grad():
        whole = model(image, fbu)
        features = model.encode_image(image)
        split = model.forward_from_features(features, fbu)
        # one image's features serve several FBU maps (batch 1 broadcast)
        single = model.encode_image(image[:1])
        fbus = torch.cat([fbu[:1], 1 - fbu[:1]])
        broadcast = model.forward_from_features(single, fbus)
        separate = torch.cat([model(image[:1], fbus[:1]), model(image[:1], fbus[1:])])
    torch.testing.assert_close(split, whole, rtol=0, atol=1e-6)
    torch.testing.assert_close(broadcast, separate, rtol=0, atol=1e-6)
    assert features.image_size == (64, 96) and features.batch_size == 2
    assert [d.shape[-2:] for d in features.details] == [(8, 12), (16, 24), (32, 48), (64, 96)]


def test_hrr_fbu_changes_the_output():
    model = _hrr().eval()
    image, fbu = _hrr_inputs(1, 64, 64)
    with torch.no_grad():
        assert not torch.allclose(model(image, fbu), model(image, 1 - fbu))


@pytest.mark.parametrize("network", ["ecp", "hrr"])
def test_eval_mode_is_deterministic(network):
    model = (_ecp() if network == "ecp" else _hrr(drop_path_rate=0.5)).eval()
    image, fbu = _hrr_inputs(1, 64, 64)
    second = fbu.expand(1, 3, 64, 64) if network == "ecp" else fbu
    with torch.no_grad():
        assert torch.equal(model(image, second), model(image, second))


@pytest.mark.parametrize("network", ["ecp", "hrr"])
def test_bf16_autocast_on_cpu_runs_and_is_close(network):
    model = (_ecp() if network == "ecp" else _hrr()).eval()
    image, fbu = _hrr_inputs(1, 64, 64)
    second = fbu.expand(1, 3, 64, 64) if network == "ecp" else fbu
    with torch.no_grad():
        reference = model(image, second)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            low = model(image, second)
    assert low.shape == reference.shape
    scale = reference.abs().max().item()
    assert (low.float() - reference).abs().max().item() < 0.05 * max(scale, 1.0)


def test_hrr_size_errors_name_the_multiple():
    model = build_hrr("tiny", depth=2, embed_dim=32, num_heads=2)  # K = 8 -> multiple 128
    assert model.config.size_multiple == 128
    with pytest.raises(ValueError, match=r"multiples of 128.*1000x800.*1024x896"):
        model(torch.zeros(1, 3, 1000, 800), torch.zeros(1, 1, 1000, 800))
    small = _hrr()
    with pytest.raises(ValueError, match="fbu must have shape"):
        small(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 32, 64))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        small(torch.zeros(1, 4, 64, 64), torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match="float"):
        small(torch.zeros(1, 3, 64, 64, dtype=torch.uint8), torch.zeros(1, 1, 64, 64))
    with pytest.raises(ValueError, match=r"fbu values must be in \[0, 1\].*got range \[255, 255\]"):
        small(torch.zeros(1, 3, 64, 64), torch.full((1, 1, 64, 64), 255.0))
    with pytest.raises(ValueError, match="fbu must be float"):
        small(torch.zeros(1, 3, 64, 64), torch.zeros(1, 1, 64, 64, dtype=torch.uint8))


def test_hrr_global_pattern_needs_only_the_patch_multiple():
    model = _hrr(block_pattern="global").eval()
    assert model.config.size_multiple == 16
    with torch.no_grad():
        assert model(*_hrr_inputs(1, 48, 80)).shape == (1, 1, 48, 80)


def test_ecp_size_errors():
    model = _ecp()
    with pytest.raises(ValueError, match="multiples of 16"):
        model(torch.zeros(1, 3, 50, 64), torch.zeros(1, 3, 50, 64))
    with pytest.raises(ValueError, match="click_maps"):
        model(torch.zeros(1, 3, 64, 64), torch.zeros(1, 2, 64, 64))
    with pytest.raises(ValueError, match=r"click_maps values must be in \[0, 1\]"):
        model(torch.zeros(1, 3, 64, 64), torch.full((1, 3, 64, 64), 255.0))


def test_window_tiled_position_embedding_repeats_every_window():
    torch.manual_seed(0)
    embed = WindowTiledPositionEmbedding(8, grid_size=4, window_size=3)
    with torch.no_grad():
        embed.global_embed.weight.zero_()  # leave only the tiled window table
        pos = embed(7, 9)[0]  # a grid that is not a multiple of the window is cropped
    assert pos.shape == (7, 9, 8)
    torch.testing.assert_close(pos[3:6, 3:6], pos[:3, :3])
    torch.testing.assert_close(pos[6:, 6:], pos[:1, :3])
    assert not torch.allclose(pos[0, 0], pos[0, 1])


def test_normalize_image_matches_the_formula():
    mean, std = (10.0, 20.0, 30.0), (2.0, 4.0, 5.0)
    image = torch.randint(0, 256, (2, 3, 4, 5), dtype=torch.uint8)
    out = normalize_image(image, mean, std)
    assert out.dtype == torch.float32
    expected = (image.float() - torch.tensor(mean).view(1, 3, 1, 1)) / torch.tensor(std).view(1, 3, 1, 1)
    torch.testing.assert_close(out, expected)
    with pytest.raises(ValueError, match="B, 3, H, W"):
        normalize_image(torch.zeros(4, 5, 3), mean, std)


def test_padding_helpers():
    assert padded_size(1000, 800, 128) == (1024, 896)
    assert padded_size(3000, 4000, 128) == (3072, 4096)
    x = torch.ones(1, 1, 100, 130)
    padded = pad_to_multiple(x, 32)
    assert padded.shape == (1, 1, 128, 160)
    assert padded[..., :100, :130].eq(1).all() and padded.sum() == 100 * 130


def test_grad_checkpointing_gives_the_same_gradients():
    image, fbu = _hrr_inputs(1, 64, 64)
    grads = []
    for enable in (False, True):
        model = _hrr(drop_path_rate=0.0).train()
        model.set_grad_checkpointing(enable)
        model(image, fbu).square().mean().backward()
        grads.append(model.patch_embed.proj.weight.grad.clone())
    torch.testing.assert_close(grads[0], grads[1])


def test_layer_scale_and_feature_casting():
    model = _hrr(layer_scale_init=0.1).eval()
    gamma = model.state_dict()["backbone.blocks.0.ls1.gamma"]
    assert torch.equal(gamma, torch.full((32,), 0.1))
    image, fbu = _hrr_inputs(1, 64, 64)
    with torch.no_grad():
        features = model.encode_image(image).to(torch.float64)
    assert features.patch_tokens.dtype == torch.float64
    assert all(d.dtype == torch.float64 for d in features.details)


def test_networks_run_on_the_meta_device_for_flop_counting():
    with torch.device("meta"):
        ecp, hrr = build_ecp("tiny", **TINY_ECP), build_hrr("tiny", **TINY_HRR)
        logits = ecp(torch.zeros(1, 3, 64, 48), torch.zeros(1, 3, 64, 48))
        mask = hrr(torch.zeros(1, 3, 64, 96), torch.zeros(1, 1, 64, 96))
    assert logits.shape == (1, 3, 64, 48) and logits.is_meta
    assert mask.shape == (1, 1, 64, 96) and mask.is_meta


# The convolutional ECP body (``backbone="resnet18"``): timm's ResNet-18 is the smallest, so the
# decoder is kept narrow and the inputs small.
TINY_CNN_ECP = dict(backbone="resnet18", unet_widths=(16, 8, 8, 8))


def test_cnn_ecp_shapes_size_multiple_and_prior_path():
    model = _ecp(**TINY_CNN_ECP, prior="grabcut").eval()
    assert model.config.size_multiple == 32
    assert not hasattr(model, "backbone") and not hasattr(model, "patch_embed")  # no unused ViT
    maps = torch.zeros(2, 4, 64, 96)
    with torch.no_grad():
        features = model.forward_features(torch.randn(2, 3, 64, 96), maps)
        assert [f.shape[-1] for f in features] == [48, 24, 12, 6, 3]  # 1/2 ... 1/32
        logits = model(torch.randn(2, 3, 64, 96), maps)
        assert logits.shape == (2, 3, 64, 96) and torch.isfinite(logits).all()
        # The prior reaches the logits at full resolution, as in the ViT ECP.
        maps[:, 3, 20:40, 30:60] = 1
        shifted = model(torch.randn(2, 3, 64, 96), maps) - model(torch.randn(2, 3, 64, 96), maps * 0)
    with pytest.raises(ValueError, match="multiples of 32"):
        model(torch.randn(1, 3, 48, 64), torch.zeros(1, 4, 48, 64))
    assert shifted.shape == logits.shape


def test_cnn_ecp_clicks_change_the_output_and_gradients_reach_every_parameter():
    torch.manual_seed(1)
    model = _ecp(**TINY_CNN_ECP).train()
    # timm zero-initialises each residual block's last BatchNorm (the blocks start as identities),
    # so the layers before it get gradients only after a step; give them a scale to test the paths.
    zero_init = [m for n, m in model.named_modules() if n.endswith(".bn2")]
    assert zero_init and all(m.weight.abs().sum() == 0 for m in zero_init)
    with torch.no_grad():
        for m in zero_init:
            m.weight.fill_(1.0)
    image, clicks = torch.randn(2, 3, 64, 64), torch.zeros(2, 3, 64, 64)
    clicks[:, 0, 20:26, 20:26] = 1
    out = model(image, clicks)
    (out * torch.randn_like(out)).sum().backward()
    missing = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.abs().sum() > 0]
    assert missing == []
    model.eval()
    with torch.no_grad():
        before = model(image, clicks)
        clicks[:, 1, 40:46, 40:46] = 1
        assert not torch.allclose(before, model(image, clicks))


def test_cnn_ecp_config_errors_and_round_trip():
    from ntclick.modeling import ECPConfig
    from ntclick.modeling.config import ECP_BACKBONES
    from ntclick.modeling.unet import CNN_BACKBONES

    assert ECP_BACKBONES == ("vit", *CNN_BACKBONES)  # the torch-free config's list stays in step
    with pytest.raises(ValueError, match="backbone must be one of"):
        ECPConfig(backbone="resnet50x")
    with pytest.raises(ValueError, match="unet_widths"):
        ECPConfig(backbone="resnet18", unet_widths=(8, 8, 8))
    config = ECPConfig(**TINY_CNN_ECP)
    assert ECPConfig.from_dict(config.to_dict()) == config
    # Configs saved before the option existed load as the ViT.
    legacy = {k: v for k, v in ECPConfig().to_dict().items() if k not in ("backbone", "unet_widths")}
    assert ECPConfig.from_dict(legacy).backbone == "vit"
