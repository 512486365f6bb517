"""A convolutional ECP body: a timm ResNet encoder and a U-Net decoder to 3 FBU logits.

An alternative to ECP's plain ViT for training from scratch on little data (``ECPConfig.backbone``
= "resnet18" or "resnet34"): convolutions bring locality and edge sensitivity that a ViT must
learn from data, and the decoder's skips reach the 1/2-resolution features, so boundaries are not
limited to ViT's 1/16 tokens.  The image and the click maps are concatenated as the encoder's
input (early fusion, as in RITM's simplest variant).  Random initialisation only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["CNN_BACKBONES", "ResNetUNet"]

CNN_BACKBONES = ("resnet18", "resnet34")


def _conv_bn_relu(in_dim: int, out_dim: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_dim, out_dim, 3, padding=1, bias=False), nn.BatchNorm2d(out_dim), nn.ReLU(True)
    )


class ResNetUNet(nn.Module):
    """``forward_features(x)`` -> five maps (1/2 ... 1/32); ``forward_head(maps, size)`` -> logits.

    Args:
        backbone: a name in ``CNN_BACKBONES`` (built by timm, ``pretrained=False``).
        in_chans: input channels (3 image + the click maps).
        widths: decoder channels after fusing the 1/16, 1/8, 1/4 and 1/2 skips.
        num_classes: output logits per pixel.
    """

    def __init__(self, backbone: str, in_chans: int, widths: tuple[int, int, int, int], num_classes: int):
        super().__init__()
        if backbone not in CNN_BACKBONES:
            raise ValueError(f"unknown CNN backbone {backbone!r}; known: {CNN_BACKBONES}")
        import timm

        self.encoder = timm.create_model(backbone, pretrained=False, features_only=True, in_chans=in_chans)
        channels = self.encoder.feature_info.channels()  # 1/2, 1/4, 1/8, 1/16, 1/32
        stages, prev = [], channels[-1]
        for skip, width in zip(reversed(channels[:-1]), widths, strict=True):
            stages.append(nn.Sequential(_conv_bn_relu(prev + skip, width), _conv_bn_relu(width, width)))
            prev = width
        self.stages = nn.ModuleList(stages)
        self.head = nn.Conv2d(prev, num_classes, 1)

    def forward_features(self, x: Tensor) -> list[Tensor]:
        return self.encoder(x)

    def forward_head(self, maps: list[Tensor], output_size: tuple[int, int]) -> Tensor:
        x = maps[-1]
        for stage, skip in zip(self.stages, reversed(maps[:-1]), strict=True):
            x = F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False)
            x = stage(torch.cat([x, skip], dim=1))
        return F.interpolate(self.head(x), size=output_size, mode="bilinear", align_corners=False)
