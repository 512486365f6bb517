"""HRR, the High Resolution Refine network (NTClick supplementary, Fig. C; DESIGN.md 4).

Input: the normalized RGB image and the FBU map (0 / 0.5 / 1) at full resolution.

- Patch embedding of the 4-channel input, computed as an RGB conv plus an FBU conv (a conv over
  concatenated channels is the sum of per-channel-group convs), so the RGB share is per image.
- A plain ViT whose blocks alternate window (K x K tokens) and grid (interval K) attention.
- A low-level conv stream over the RGB image giving maps at 1/1, 1/2, 1/4, 1/8.
- Four fuse-and-upsample stages: the 1/16 backbone map is upsampled x2, joined with the
  low-level map of that size and fused by a conv; repeated up to full size.  The fusion conv over
  ``concat(upsampled, low_level)`` is computed as the sum of its two channel-group parts: the
  low-level part depends on the image only (cached by ``encode_image``) and the backbone part
  runs *before* the x2 upsampling, at a quarter of the pixels.
- A final conv group at full resolution -> sigmoid mask.

Everything at full resolution is kept a few channels wide: at 4096 x 3072 each channel of a
float32 map is 48 MiB, and those stages dominate the per-click time on a CPU.  The conv parts
run in channels-last memory format (faster for few-channel convs on CPU and for bf16 on GPU).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ntclick.modeling.config import HRRConfig
from ntclick.modeling.preprocess import check_image_batch, check_unit_range
from ntclick.modeling.vit import (
    AbsolutePositionEmbedding,
    PatchEmbed,
    PlainViT,
    WindowTiledPositionEmbedding,
    init_vit_weights,
)

__all__ = ["HRR", "HRRImageFeatures", "DetailStream", "FuseUpStage"]


@dataclass
class HRRImageFeatures:
    """Everything HRR computes from the image alone (``HRR.encode_image``), reused for every click.

    Attributes:
        image_size: (H, W) of the (padded) input image in pixels.
        patch_tokens: (B, H/16, W/16, D) the RGB share of the patch embedding plus the position
            embedding, channels last.
        details: the low-level shares of the four fusion convs, coarse to fine:
            (B, C_i, H/s, W/s) for s = 8, 4, 2, 1 with C_i = ``config.fusion_widths[i]``.
    """

    image_size: tuple[int, int]
    patch_tokens: Tensor
    details: tuple[Tensor, Tensor, Tensor, Tensor]

    @property
    def batch_size(self) -> int:
        return self.patch_tokens.shape[0]

    def to(self, *args, **kwargs) -> HRRImageFeatures:
        """Move / cast every tensor (``Tensor.to`` arguments)."""
        return HRRImageFeatures(
            self.image_size,
            self.patch_tokens.to(*args, **kwargs),
            tuple(d.to(*args, **kwargs) for d in self.details),  # type: ignore[arg-type]
        )


def _conv_bn_relu(in_ch: int, out_ch: int, stride: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, 3, stride=stride, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class DetailStream(nn.Module):
    """Low-level conv stream over the RGB image (ViTMatte's ConvStream with a full-size stem).

    ``forward(image)``: (B, 3, H, W) -> maps at 1/1, 1/2, 1/4, 1/8 with ``widths`` channels.
    The full-size stem is a single conv + ReLU (no norm) to keep the per-image cost low.
    """

    def __init__(self, widths: tuple[int, int, int, int]):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, widths[0], 3, padding=1), nn.ReLU(inplace=True))
        self.downs = nn.ModuleList(_conv_bn_relu(widths[i], widths[i + 1], stride=2) for i in range(3))

    def forward(self, image: Tensor) -> list[Tensor]:
        maps = [self.stem(image)]
        for down in self.downs:
            maps.append(down(maps[-1]))
        return maps


class FuseUpStage(nn.Module):
    """x2 upsample of the coarse map, joined with a low-level map by one conv, norm, ReLU.

    ``out = relu(norm(up2(coarse_proj(coarse)) + detail_proj(detail)))``, i.e. a conv over
    ``concat(up2(coarse), detail)`` split into its two input-channel groups, with the coarse part
    applied before the (linear) upsampling.  ``detail_proj`` depends on the image only.
    """

    def __init__(self, coarse_ch: int, detail_ch: int, out_ch: int, norm: bool = True):
        super().__init__()
        self.coarse_proj = nn.Conv2d(coarse_ch, out_ch, 3, padding=1, bias=not norm)
        self.detail_proj = nn.Conv2d(detail_ch, out_ch, 3, padding=1, bias=False)
        self.norm = nn.BatchNorm2d(out_ch) if norm else nn.Identity()

    def forward(self, coarse: Tensor, detail_share: Tensor) -> Tensor:
        """coarse (B, C_in, h, w), detail_share = detail_proj(detail) (B or 1, C_out, 2h, 2w)."""
        x = F.interpolate(self.coarse_proj(coarse), scale_factor=2.0, mode="bilinear", align_corners=False)
        x = x.add_(detail_share)  # in place: at full size each copy is C x 48 MiB (4096 x 3072)
        return torch.relu_(self.norm(x))


class HRR(nn.Module):
    """Full-resolution mask refinement from an image and an FBU map.

    ``forward(image, fbu)``:
        image: (B, 3, H, W) float, normalized with ``config.pixel_mean/std`` on 0..255 values.
        fbu: (B, 1, H, W) float, 0 = bg, 0.5 = uncertain, 1 = fg (``ntclick.fbu.fbu_to_unit``).
        H and W must be multiples of ``config.size_multiple`` (128 by default); otherwise
        ``ValueError`` names the multiple and the padded size.
    Returns the mask (B, 1, H, W) in [0, 1] (sigmoid).

    ``encode_image(image)`` + ``forward_from_features(features, fbu)`` give the same result, with
    the image-only work done once.
    """

    def __init__(self, config: HRRConfig):
        super().__init__()
        self.config = config
        c = config
        self.patch_embed = PatchEmbed(3, c.embed_dim, c.patch_size)  # RGB share
        self.fbu_embed = PatchEmbed(1, c.embed_dim, c.patch_size, bias=False)  # FBU share
        grid = c.pos_embed_size // c.patch_size
        self.pos_embed: nn.Module | None = None
        if c.pos_embed == "abs":
            self.pos_embed = AbsolutePositionEmbedding(c.embed_dim, grid)
        elif c.pos_embed == "abs_win":
            self.pos_embed = WindowTiledPositionEmbedding(c.embed_dim, grid, c.window_size)
        self.backbone = PlainViT(
            c.embed_dim,
            c.num_heads,
            c.block_pattern,  # type: ignore[arg-type]
            mlp_ratio=c.mlp_ratio,
            window_size=c.window_size,
            drop_path_rate=c.drop_path_rate,
            layer_scale_init=c.layer_scale_init,
        )
        self.detail_stream = DetailStream(c.detail_widths)
        coarse = (c.embed_dim, *c.fusion_widths[:3])
        details = tuple(reversed(c.detail_widths))  # 1/8, 1/4, 1/2, 1/1
        self.fuse = nn.ModuleList(
            FuseUpStage(coarse[i], details[i], c.fusion_widths[i], norm=i < 3)  # no norm at full size
            for i in range(4)
        )
        self.head = nn.Sequential(
            nn.Conv2d(c.fusion_widths[3], c.head_width, 3, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(c.head_width, 1, 1),
        )
        self.backbone.apply(init_vit_weights)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute backbone blocks in backward (less activation memory on large crops)."""
        self.backbone.set_grad_checkpointing(enable)

    def encode_image(self, image: Tensor) -> HRRImageFeatures:
        """The image-only part: patch tokens (+ position) and the fusion convs' low-level shares."""
        _, h, w = check_image_batch(image, self.config.size_multiple, "HRR")
        # Channels-last makes the few-channel full-resolution convs 2-3x faster on CPU (oneDNN).
        image = image.contiguous(memory_format=torch.channels_last)
        tokens = self.patch_embed(image)
        if self.pos_embed is not None:
            tokens = tokens + self.pos_embed(tokens.shape[1], tokens.shape[2]).to(tokens.dtype)
        shares = []
        low = self.detail_stream.stem(image)
        for i in range(4):  # fine to coarse; keep only the projected shares
            shares.append(self.fuse[3 - i].detail_proj(low))
            low = self.detail_stream.downs[i](low) if i < 3 else None
        return HRRImageFeatures((h, w), tokens, tuple(reversed(shares)))  # type: ignore[arg-type]

    def forward_from_features(self, features: HRRImageFeatures, fbu: Tensor) -> Tensor:
        """The per-click part. ``fbu`` (B, 1, H, W); ``features`` from ``encode_image`` with batch
        B or 1 (one image, several FBU maps). Returns the mask (B, 1, H, W) in [0, 1]."""
        h, w = features.image_size
        if (
            not isinstance(fbu, Tensor)
            or fbu.ndim != 4
            or fbu.shape[1] != 1
            or tuple(fbu.shape[2:]) != (h, w)
        ):
            shape = tuple(fbu.shape) if isinstance(fbu, Tensor) else type(fbu).__name__
            raise ValueError(f"HRR fbu must have shape (B, 1, {h}, {w}) matching the image, got {shape}")
        if features.batch_size not in (1, fbu.shape[0]):
            raise ValueError(f"HRR fbu batch {fbu.shape[0]} does not match image batch {features.batch_size}")
        check_unit_range(fbu, "HRR fbu", "0 / 0.5 / 1 from ntclick.fbu.fbu_to_unit")
        tokens = features.patch_tokens
        x = self.fbu_embed(fbu.to(tokens.dtype)).add_(tokens)
        x = self.backbone(x).permute(0, 3, 1, 2)  # (B, D, h, w), channels-last in memory
        for stage, share in zip(self.fuse, features.details, strict=True):
            x = stage(x, share)
        return torch.sigmoid(self.head(x))

    def forward(self, image: Tensor, fbu: Tensor) -> Tensor:
        return self.forward_from_features(self.encode_image(image), fbu)
