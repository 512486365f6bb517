"""ECP, the Explicit Coarse Perception network (NTClick supplementary, Figs. A and B).

A SimpleClick-style plain ViT: the image and the 3-channel click disk maps each go through
their own 16x16 patch embedding and the two are added; an absolute position embedding
(resampled to the token grid) is added; global-attention blocks; then ViTDet's simple feature
pyramid turns the last 1/16 map into four maps (1/4, 1/8, 1/16, 1/32) of different widths, which
are upsampled to 1/4, concatenated and mixed by a 1x1-conv MLP into 3 logits, upsampled to the
input size.  The logits are over (bg, uncertain, fg): ``argmax`` is the predicted FBU class map.

With ``config.backbone`` a CNN name, the ViT and its pyramid are replaced by
``ntclick.modeling.unet.ResNetUNet`` (image and click maps concatenated, ResNet encoder, U-Net
decoder); the inputs, outputs and the prior's logit path are the same.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from timm.layers import LayerNorm2d
from torch import Tensor, nn

from ntclick.modeling.config import ECPConfig
from ntclick.modeling.preprocess import check_image_batch, check_unit_range
from ntclick.modeling.unet import ResNetUNet
from ntclick.modeling.vit import AbsolutePositionEmbedding, ConvStem, PatchEmbed, PlainViT, init_vit_weights

__all__ = ["ECP", "SimpleFeaturePyramid"]

NUM_CLASSES = 3  # bg, uncertain, fg


def _lateral(in_dim: int, out_dim: int) -> nn.Sequential:
    """ViTDet's per-scale 1x1 lateral conv + 3x3 output conv, each followed by LayerNorm2d."""
    return nn.Sequential(
        nn.Conv2d(in_dim, out_dim, 1, bias=False),
        LayerNorm2d(out_dim),
        nn.Conv2d(out_dim, out_dim, 3, padding=1, bias=False),
        LayerNorm2d(out_dim),
    )


class SimpleFeaturePyramid(nn.Module):
    """Fig. B: 1/16 ViT map -> four conv groups (1/4, 1/8, 1/16, 1/32) -> concat at 1/4 -> MLP.

    ``forward(x, output_size)``: ``x`` (B, D, h, w) -> logits (B, 3, *output_size).
    """

    def __init__(self, in_dim: int, widths: tuple[int, int, int, int], hidden_dim: int):
        super().__init__()
        half, quarter = max(in_dim // 2, 1), max(in_dim // 4, 1)
        self.to_4 = nn.Sequential(  # two stride-2 transposed convs (x4)
            nn.ConvTranspose2d(in_dim, half, 2, stride=2),
            LayerNorm2d(half),
            nn.GELU(),
            nn.ConvTranspose2d(half, quarter, 2, stride=2),
            _lateral(quarter, widths[0]),
        )
        self.to_8 = nn.Sequential(nn.ConvTranspose2d(in_dim, half, 2, stride=2), _lateral(half, widths[1]))
        self.to_16 = _lateral(in_dim, widths[2])
        self.to_32 = nn.Sequential(nn.MaxPool2d(2, ceil_mode=True), _lateral(in_dim, widths[3]))
        self.mlp = nn.Sequential(
            nn.Conv2d(sum(widths), hidden_dim, 1),
            nn.GELU(),
            nn.Conv2d(hidden_dim, NUM_CLASSES, 1),
        )

    def forward(self, x: Tensor, output_size: tuple[int, int]) -> Tensor:
        size4 = (x.shape[-2] * 4, x.shape[-1] * 4)
        maps = [self.to_4(x)]
        for branch in (self.to_8, self.to_16, self.to_32):
            maps.append(F.interpolate(branch(x), size=size4, mode="bilinear", align_corners=False))
        logits = self.mlp(torch.cat(maps, dim=1))
        return F.interpolate(logits, size=output_size, mode="bilinear", align_corners=False)


class ECP(nn.Module):
    """Coarse FBU prediction from an image and click disk maps.

    ``forward(image, click_maps)``:
        image: (B, 3, H, W) float, normalized with ``config.pixel_mean/std`` on 0..255 values.
        click_maps: (B, C, H, W) float in [0, 1], C = ``config.click_channels``: channels
            (fg, bg, nt) as drawn by ``ntclick.clicks.encode_disks``, then, with a ``prior``,
            the prior map (``ntclick.prior.click_prior``).
        H and W must be multiples of ``config.size_multiple`` (16 for the ViT, 32 for a CNN);
        otherwise ``ValueError``.
    Returns logits (B, 3, H, W) over (bg, uncertain, fg).
    """

    def __init__(self, config: ECPConfig):
        super().__init__()
        self.config = config
        c = config
        if c.backbone == "vit":  # registered first: parameter order is the optimizer state's order
            stem = ConvStem if c.stem == "conv" else PatchEmbed
            self.patch_embed = stem(3, c.embed_dim, c.patch_size)
            self.click_embed = PatchEmbed(c.click_channels, c.embed_dim, c.patch_size)
        # The prior also reaches the logits at full input resolution: the 1/16 tokens alone
        # would blur it.  Initialised to follow it (fg where 1, bg where 0).
        self.prior_logits = nn.Conv2d(1, 3, 1) if c.prior != "none" else None
        if self.prior_logits is not None:
            with torch.no_grad():
                self.prior_logits.weight.copy_(torch.tensor([-4.0, 0.0, 4.0]).view(3, 1, 1, 1))
                self.prior_logits.bias.copy_(torch.tensor([2.0, 0.0, -2.0]))
        if c.backbone != "vit":
            self.body = ResNetUNet(c.backbone, 3 + c.click_channels, c.unet_widths, NUM_CLASSES)
            return
        self.pos_embed = AbsolutePositionEmbedding(c.embed_dim, c.pos_embed_size // c.patch_size)
        self.backbone = PlainViT(
            c.embed_dim,
            c.num_heads,
            ("global",) * c.depth,
            mlp_ratio=c.mlp_ratio,
            drop_path_rate=c.drop_path_rate,
            layer_scale_init=c.layer_scale_init,
        )
        self.decoder = SimpleFeaturePyramid(c.embed_dim, c.pyramid_widths, c.decoder_dim)
        self.backbone.apply(init_vit_weights)

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        """Recompute backbone blocks in backward (less activation memory; the ViT only)."""
        if self.config.backbone == "vit":
            self.backbone.set_grad_checkpointing(enable)

    def forward_features(self, image: Tensor, click_maps: Tensor) -> Tensor | list[Tensor]:
        """The backbone's last token map (B, H/16, W/16, D), channels last (same inputs as forward);
        with a CNN backbone the encoder's five maps (B, C_i, H/2^i, W/2^i), i = 1..5."""
        b, h, w = check_image_batch(image, self.config.size_multiple, "ECP")
        shape = (b, self.config.click_channels, h, w)
        if click_maps.ndim != 4 or tuple(click_maps.shape) != shape:
            raise ValueError(f"ECP click_maps must have shape {shape}, got {tuple(click_maps.shape)}")
        check_unit_range(click_maps, "ECP click_maps", "disk maps from ntclick.clicks.encode_disks")
        if self.config.backbone != "vit":
            return self.body.forward_features(torch.cat([image, click_maps.to(image.dtype)], dim=1))
        x = self.patch_embed(image) + self.click_embed(click_maps.to(image.dtype))
        x = x + self.pos_embed(x.shape[1], x.shape[2]).to(x.dtype)
        return self.backbone(x)

    def forward_head(
        self, features: Tensor | list[Tensor], output_size: tuple[int, int], click_maps: Tensor | None = None
    ) -> Tensor:
        """Logits (B, 3, *output_size) from :meth:`forward_features`' token map (B, h, w, D).

        With a ``prior``, ``click_maps`` (the same as given to ``forward_features``, of
        ``output_size``) is required: its prior channel is added to the logits.
        """
        if self.config.backbone != "vit":
            logits = self.body.forward_head(features, output_size)
        else:
            logits = self.decoder(features.permute(0, 3, 1, 2), output_size)
        if self.prior_logits is None:
            return logits
        if click_maps is None:
            raise ValueError("this ECP has a prior: forward_head needs the click_maps")
        return logits + self.prior_logits(click_maps[:, 3:4].to(logits.dtype))

    def forward(self, image: Tensor, click_maps: Tensor) -> Tensor:
        return self.forward_head(
            self.forward_features(image, click_maps), tuple(image.shape[-2:]), click_maps
        )
