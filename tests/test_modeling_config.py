"""Configs, presets and the registry of ntclick.modeling."""

from __future__ import annotations

import json

import pytest

from ntclick.modeling import (
    ECP_PRESETS,
    HRR_PRESETS,
    ECPConfig,
    HRRConfig,
    build_ecp,
    build_hrr,
    list_models,
    register_preset,
)

SIZES = {"tiny": (192, 12, 3), "small": (384, 12, 6), "base": (768, 12, 12), "large": (1024, 24, 16)}


def test_presets_have_simpleclick_sizes():
    assert list_models() == {"ecp": list(SIZES), "hrr": list(SIZES)}
    for presets in (ECP_PRESETS, HRR_PRESETS):
        for name, (dim, depth, heads) in SIZES.items():
            c = presets[name]
            assert (c.name, c.embed_dim, c.depth, c.num_heads) == (name, dim, depth, heads)


def test_hrr_default_pattern_alternates_window_and_grid():
    c = HRR_PRESETS["base"]
    assert c.window_size == 8 and c.size_multiple == 128
    assert c.block_pattern == ("window", "grid") * 6


def test_block_pattern_shorthands_and_validation():
    assert HRRConfig(depth=4, block_pattern="global").block_pattern == ("global",) * 4
    assert HRRConfig(depth=4, block_pattern=["window", "global"]).block_pattern == ("window", "global") * 2
    # overriding the depth of a preset re-tiles its pattern
    assert build_hrr("tiny", depth=2, embed_dim=32, num_heads=2).config.block_pattern == ("window", "grid")
    with pytest.raises(ValueError, match="block_pattern entries"):
        HRRConfig(depth=2, block_pattern=("window", "swin"))
    with pytest.raises(ValueError, match="divides the depth"):
        HRRConfig(depth=4, block_pattern=("window", "grid", "global"))


@pytest.mark.parametrize("network", ["ecp", "hrr"])
def test_config_dict_round_trip_rebuilds_the_same_model(network):
    build, config_type = (build_ecp, ECPConfig) if network == "ecp" else (build_hrr, HRRConfig)
    model = build("tiny", depth=2, embed_dim=32, num_heads=2)
    saved = json.loads(json.dumps(model.config.to_dict()))  # as config.json stores it
    config = config_type.from_dict(saved)
    assert config == model.config
    rebuilt = build(saved)
    assert type(rebuilt) is type(model)
    shapes = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    assert {k: tuple(v.shape) for k, v in rebuilt.state_dict().items()} == shapes
    rebuilt.load_state_dict(model.state_dict(), strict=True)


def test_unknown_keys_and_presets_are_named():
    with pytest.raises(ValueError, match=r"unknown HRRConfig key\(s\) \['window'\]"):
        HRRConfig.from_dict({"window": 8})
    with pytest.raises(ValueError, match="embed_dims"):
        build_ecp("tiny", embed_dims=64)
    with pytest.raises(
        ValueError, match=r"unknown ECP preset 'huge'; available: \['base', 'large', 'small', 'tiny'\]"
    ):
        build_ecp("huge")
    with pytest.raises(ValueError, match="unknown HRR preset"):
        build_hrr("huge")
    with pytest.raises(TypeError, match="preset name"):
        build_hrr(42)


def test_invalid_values_raise():
    with pytest.raises(ValueError, match="not divisible by num_heads"):
        ECPConfig(embed_dim=100, num_heads=3)
    with pytest.raises(ValueError, match="pos_embed"):
        HRRConfig(pos_embed="rope")
    with pytest.raises(ValueError, match=r"ECPConfig.stem must be one of \('patch', 'conv'\)"):
        ECPConfig(stem="resnet")
    with pytest.raises(ValueError, match="fusion_widths"):
        HRRConfig(fusion_widths=(8, 8))


def test_building_does_not_mutate_presets():
    before = HRR_PRESETS["tiny"].to_dict()
    model = build_hrr("tiny", depth=2, embed_dim=32, num_heads=2)
    model.config.head_width = 99
    assert HRR_PRESETS["tiny"].to_dict() == before


def test_register_preset_makes_a_config_buildable_by_name():
    config = HRRConfig(name="unit-test-hrr", depth=2, embed_dim=32, num_heads=2)
    register_preset(config)
    try:
        assert "unit-test-hrr" in list_models()["hrr"]
        assert build_hrr("unit-test-hrr").config == config
        with pytest.raises(ValueError, match="already exists"):
            register_preset(config)
    finally:
        del HRR_PRESETS["unit-test-hrr"]
