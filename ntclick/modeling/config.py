"""Configurations of the two networks (ECP and HRR) and their named presets.

A config is a plain dataclass: ``to_dict()`` gives a JSON-ready dict that ``from_dict()`` turns
back into an equal config, so a saved ``config.json`` rebuilds the same network.  Presets follow
SimpleClick's plain-ViT sizes (tiny/small/base/large = 192/384/768/1024 wide).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from ntclick.prior import PRIOR_KINDS

__all__ = [
    "ATTENTION_MODES",
    "POS_EMBED_KINDS",
    "STEM_KINDS",
    "ECP_BACKBONES",
    "ECPConfig",
    "HRRConfig",
    "ECP_PRESETS",
    "HRR_PRESETS",
    "default_block_pattern",
]

# ImageNet statistics on 0..255 values (SimpleClick / timm defaults).
IMAGENET_MEAN = (123.675, 116.28, 103.53)
IMAGENET_STD = (58.395, 57.12, 57.375)

ATTENTION_MODES = ("window", "grid", "global")
POS_EMBED_KINDS = ("abs_win", "abs", "none")
STEM_KINDS = ("patch", "conv")
ECP_BACKBONES = ("vit", "resnet18", "resnet34")  # the CNNs: ntclick.modeling.unet.CNN_BACKBONES

_ConfigT = TypeVar("_ConfigT", bound="_ConfigBase")


def default_block_pattern(depth: int) -> tuple[str, ...]:
    """HRR's default attention pattern: window, grid, window, grid, ... (``depth`` entries)."""
    return tuple("window" if i % 2 == 0 else "grid" for i in range(depth))


def _check_positive(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if not value > 0:
            raise ValueError(f"{type(config).__name__}.{name} must be > 0, got {value!r}")


def _check_widths(config: Any, name: str, count: int) -> None:
    widths = getattr(config, name)
    if len(widths) != count or any(int(w) != w or w <= 0 for w in widths):
        raise ValueError(f"{type(config).__name__}.{name} must be {count} positive ints, got {widths!r}")


class _ConfigBase:
    """Shared dict round trip of the two config dataclasses."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (tuples become lists) that ``from_dict`` turns back into this config."""
        return {
            f.name: list(v) if isinstance(v := getattr(self, f.name), tuple) else v
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        }

    @classmethod
    def from_dict(cls: type[_ConfigT], d: Mapping[str, Any]) -> _ConfigT:
        """Build a config from a dict as written by ``to_dict``; missing keys take the defaults.

        Raises ``ValueError`` naming any unknown key (a typo must not be silently ignored).
        """
        if not isinstance(d, Mapping):
            raise TypeError(f"{cls.__name__}.from_dict expects a dict, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown {cls.__name__} key(s) {unknown}; known keys: {sorted(known)}")
        kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}
        return cls(**kwargs)

    def replace(self: _ConfigT, **overrides: Any) -> _ConfigT:
        """A copy with some fields changed; unknown names raise ``ValueError``."""
        merged = self.to_dict()
        if "depth" in overrides and "block_pattern" in merged and "block_pattern" not in overrides:
            # The stored pattern has one entry per block: re-derive it for the new depth.
            merged["block_pattern"] = _shrink_pattern(tuple(merged["block_pattern"]))
        merged.update(overrides)
        return type(self).from_dict(merged)


def _shrink_pattern(pattern: tuple[str, ...]) -> tuple[str, ...]:
    """The shortest period of ``pattern`` (so it can be re-tiled to another depth)."""
    for period in range(1, len(pattern) + 1):
        if len(pattern) % period == 0 and pattern == pattern[:period] * (len(pattern) // period):
            return pattern[:period]
    return pattern


@dataclass
class ECPConfig(_ConfigBase):
    """Explicit Coarse Perception network: plain ViT + simple feature pyramid -> 3 FBU logits.

    Attributes:
        name: preset name (informational).
        embed_dim, depth, num_heads, mlp_ratio: the plain ViT.
        patch_size: side of a patch in pixels; inputs must be a multiple of it.
        stem: how the image becomes tokens: "patch" (one patch_size x patch_size conv, as in
            SimpleClick) or "conv" (early 3x3 stride-2 convolutions, a small-data measure for
            training from scratch; ``ntclick.modeling.vit.ConvStem``).  Clicks always use a
            patch conv.
        input_size: long side (pixels) the predictor resizes images to before ECP.
        pos_embed_size: side (pixels) of the square grid the absolute position embedding is
            stored at; it is resampled (bicubic) to the token grid of every input.
        pyramid_widths: channels of the decoder's maps at 1/4, 1/8, 1/16, 1/32.
        decoder_dim: hidden width of the decoder's 1x1-conv MLP.
        click_radius: disk radius (pixels at ``input_size``) the click maps are drawn with.
        drop_path_rate: stochastic depth at the last block (linear from 0).
        layer_scale_init: LayerScale init value, or None for no LayerScale.
        pixel_mean, pixel_std: normalization on 0..255 RGB values.
        prior: "none" (the method as published) or "grabcut": a click-seeded GrabCut mask at
            the input size is a fourth click-map channel, embedded with the clicks and added
            to the logits through a 1x1 conv (``ntclick.prior``; a small-data measure for
            training from scratch).
        prior_iterations: GrabCut iterations of the "grabcut" prior.
        prior_size: long side in pixels of the image the prior's GrabCut runs on (the ECP
            input scaled down, the mask scaled back); 0 (default) runs it at the input size.
            128 is about 4.5 times cheaper than 256 (``ntclick.prior``).  A network should
            be used with the ``prior_size`` it was trained with.
        backbone: "vit" (the method's plain ViT, above) or a convolutional body, "resnet18" or
            "resnet34" (``ntclick.modeling.unet``: a timm ResNet over the image and click maps
            concatenated, and a U-Net decoder; a small-data measure).  With a CNN the ViT
            fields (embed_dim ... pyramid_widths, decoder_dim) are unused, inputs must be
            multiples of 32, and ``brs_steps`` is not available.
        unet_widths: the U-Net decoder's channels at 1/16, 1/8, 1/4, 1/2 (CNN backbones).
    """

    name: str = "tiny"
    embed_dim: int = 192
    depth: int = 12
    num_heads: int = 3
    mlp_ratio: float = 4.0
    patch_size: int = 16
    stem: str = "patch"
    input_size: int = 448
    pos_embed_size: int = 448
    pyramid_widths: tuple[int, int, int, int] = (32, 64, 128, 256)
    decoder_dim: int = 128
    click_radius: int = 5
    drop_path_rate: float = 0.0
    layer_scale_init: float | None = None
    pixel_mean: tuple[float, float, float] = IMAGENET_MEAN
    pixel_std: tuple[float, float, float] = IMAGENET_STD
    prior: str = "none"
    prior_iterations: int = 3
    prior_size: int = 0
    backbone: str = "vit"
    unet_widths: tuple[int, int, int, int] = (256, 128, 64, 32)

    def __post_init__(self) -> None:
        self.pyramid_widths = tuple(self.pyramid_widths)
        self.unet_widths = tuple(self.unet_widths)
        self.pixel_mean = tuple(float(v) for v in self.pixel_mean)
        self.pixel_std = tuple(float(v) for v in self.pixel_std)
        _check_positive(self, "embed_dim", "depth", "num_heads", "mlp_ratio", "patch_size")
        _check_positive(self, "input_size", "pos_embed_size", "decoder_dim", "click_radius")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}")
        if self.pos_embed_size % self.patch_size:
            raise ValueError(
                f"pos_embed_size {self.pos_embed_size} is not a multiple of patch_size {self.patch_size}"
            )
        if self.stem not in STEM_KINDS:
            raise ValueError(f"ECPConfig.stem must be one of {STEM_KINDS}, got {self.stem!r}")
        if self.prior not in PRIOR_KINDS:
            raise ValueError(f"ECPConfig.prior must be one of {PRIOR_KINDS}, got {self.prior!r}")
        _check_positive(self, "prior_iterations")
        if not isinstance(self.prior_size, int) or isinstance(self.prior_size, bool) or self.prior_size < 0:
            raise ValueError(
                f"ECPConfig.prior_size must be an int >= 0 (0: the input size), got {self.prior_size!r}"
            )
        if self.backbone not in ECP_BACKBONES:
            raise ValueError(f"ECPConfig.backbone must be one of {ECP_BACKBONES}, got {self.backbone!r}")
        _check_widths(self, "pyramid_widths", 4)
        _check_widths(self, "unet_widths", 4)
        if len(self.pixel_mean) != 3 or len(self.pixel_std) != 3 or min(self.pixel_std) <= 0:
            raise ValueError("pixel_mean and pixel_std must be 3 values each, pixel_std > 0")

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this (the patch size; 32 for a CNN)."""
        return self.patch_size if self.backbone == "vit" else 32

    @property
    def click_channels(self) -> int:
        """Channels of the click maps: (fg, bg, nt), plus the prior when ``prior`` is not "none"."""
        return 3 if self.prior == "none" else 4


@dataclass
class HRRConfig(_ConfigBase):
    """High Resolution Refine network: sparse-attention ViT + conv fuse-and-upsample decoder.

    Attributes:
        name: preset name (informational).
        embed_dim, depth, num_heads, mlp_ratio: the plain ViT.
        patch_size: side of a patch in pixels.
        window_size: K; window blocks attend within K x K token windows, grid blocks among the
            tokens whose row and column indices are equal modulo K.
        block_pattern: attention of each block, "window" | "grid" | "global"; a shorter pattern
            whose length divides ``depth`` is repeated (``("global",)`` makes all blocks global);
            None means alternating window/grid.
        pos_embed: "abs_win" (default: a learned ``K x K`` window table tiled over the token grid
            plus a global table resampled to it; consistent across image sizes), "abs" (only the
            resampled global table, SimpleClick/ViTDet style) or "none".
        pos_embed_size: side (pixels) of the square grid the global table is stored at.
        detail_widths: channels of the low-level conv stream over RGB at 1/1, 1/2, 1/4, 1/8.
        fusion_widths: channels after each fuse-and-upsample stage at 1/8, 1/4, 1/2, 1/1.
        head_width: hidden channels of the final full-resolution conv group.
        max_size: longest side (pixels) the predictor feeds HRR; larger images are downsampled.
        drop_path_rate, layer_scale_init, pixel_mean, pixel_std: as in ``ECPConfig``.
    """

    name: str = "tiny"
    embed_dim: int = 192
    depth: int = 12
    num_heads: int = 3
    mlp_ratio: float = 4.0
    patch_size: int = 16
    window_size: int = 8
    block_pattern: tuple[str, ...] | None = None
    pos_embed: str = "abs_win"
    pos_embed_size: int = 1024
    detail_widths: tuple[int, int, int, int] = (8, 16, 32, 64)
    fusion_widths: tuple[int, int, int, int] = (64, 32, 16, 8)
    head_width: int = 8
    max_size: int = 4096
    drop_path_rate: float = 0.0
    layer_scale_init: float | None = None
    pixel_mean: tuple[float, float, float] = IMAGENET_MEAN
    pixel_std: tuple[float, float, float] = IMAGENET_STD

    def __post_init__(self) -> None:
        self.detail_widths = tuple(self.detail_widths)
        self.fusion_widths = tuple(self.fusion_widths)
        self.pixel_mean = tuple(float(v) for v in self.pixel_mean)
        self.pixel_std = tuple(float(v) for v in self.pixel_std)
        _check_positive(self, "embed_dim", "depth", "num_heads", "mlp_ratio", "patch_size", "window_size")
        _check_positive(self, "pos_embed_size", "head_width", "max_size")
        if self.embed_dim % self.num_heads:
            raise ValueError(f"embed_dim {self.embed_dim} is not divisible by num_heads {self.num_heads}")
        if self.pos_embed not in POS_EMBED_KINDS:
            raise ValueError(f"HRRConfig.pos_embed must be one of {POS_EMBED_KINDS}, got {self.pos_embed!r}")
        if self.pos_embed_size % self.patch_size:
            raise ValueError(
                f"pos_embed_size {self.pos_embed_size} is not a multiple of patch_size {self.patch_size}"
            )
        _check_widths(self, "detail_widths", 4)
        _check_widths(self, "fusion_widths", 4)
        if len(self.pixel_mean) != 3 or len(self.pixel_std) != 3 or min(self.pixel_std) <= 0:
            raise ValueError("pixel_mean and pixel_std must be 3 values each, pixel_std > 0")
        self.block_pattern = self._resolve_pattern(self.block_pattern)

    def _resolve_pattern(self, pattern: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
        if pattern is None:
            return default_block_pattern(self.depth)
        if isinstance(pattern, str):
            pattern = (pattern,)
        pattern = tuple(pattern)
        bad = [p for p in pattern if p not in ATTENTION_MODES]
        if bad or not pattern:
            raise ValueError(f"block_pattern entries must be one of {ATTENTION_MODES}, got {list(pattern)}")
        if self.depth % len(pattern):
            raise ValueError(
                f"block_pattern has {len(pattern)} entries; it needs one per block ({self.depth}) "
                "or a period that divides the depth"
            )
        return pattern * (self.depth // len(pattern))

    @property
    def size_multiple(self) -> int:
        """Input height and width must be multiples of this: patch_size * window_size when any
        block is windowed or gridded (each token-grid side must split into K parts), else patch_size."""
        sparse = any(mode != "global" for mode in self.block_pattern)  # type: ignore[union-attr]
        return self.patch_size * self.window_size if sparse else self.patch_size


# SimpleClick sizes; decoder widths scale with the backbone, the full-resolution end of HRR's
# decoder stays narrow in every preset (it dominates the per-click cost at 4096^2).
_VIT_SIZES = {
    "tiny": dict(embed_dim=192, depth=12, num_heads=3),
    "small": dict(embed_dim=384, depth=12, num_heads=6),
    "base": dict(embed_dim=768, depth=12, num_heads=12),
    "large": dict(embed_dim=1024, depth=24, num_heads=16),
}
_ECP_DECODERS = {
    "tiny": dict(pyramid_widths=(32, 64, 128, 256), decoder_dim=128),
    "small": dict(pyramid_widths=(64, 128, 256, 512), decoder_dim=256),
    "base": dict(pyramid_widths=(128, 256, 512, 1024), decoder_dim=256),
    "large": dict(pyramid_widths=(256, 512, 1024, 2048), decoder_dim=256),
}
_HRR_DECODERS = {
    "tiny": dict(detail_widths=(8, 16, 32, 64), fusion_widths=(64, 32, 16, 8), head_width=8),
    "small": dict(detail_widths=(8, 16, 32, 64), fusion_widths=(96, 48, 16, 8), head_width=8),
    "base": dict(detail_widths=(8, 16, 32, 64), fusion_widths=(128, 64, 16, 8), head_width=8),
    "large": dict(detail_widths=(8, 16, 32, 64), fusion_widths=(128, 64, 16, 8), head_width=8),
}

ECP_PRESETS: dict[str, ECPConfig] = {
    name: ECPConfig(name=name, **_VIT_SIZES[name], **_ECP_DECODERS[name]) for name in _VIT_SIZES
}
HRR_PRESETS: dict[str, HRRConfig] = {
    name: HRRConfig(name=name, **_VIT_SIZES[name], **_HRR_DECODERS[name]) for name in _VIT_SIZES
}
