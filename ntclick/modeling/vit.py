"""Plain-ViT pieces shared by ECP and HRR, built on timm's layers.

Tokens travel as a channels-last map ``(B, h, w, C)`` with ``h = H / patch``, ``w = W / patch``,
so windowed attention and the conv decoders need no reshuffling of a flat sequence.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from timm.layers import DropPath, Mlp, resample_abs_pos_embed, trunc_normal_
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from ntclick.modeling.grid_attention import PartitionedAttention

try:
    from timm.layers import LayerScale
except ImportError:  # timm < 1.0 defines it with the ViT model only
    from timm.models.vision_transformer import LayerScale

__all__ = [
    "PatchEmbed",
    "ConvStem",
    "AbsolutePositionEmbedding",
    "WindowTiledPositionEmbedding",
    "Block",
    "PlainViT",
    "init_vit_weights",
]


class PatchEmbed(nn.Module):
    """Non-overlapping ``patch x patch`` conv: ``(B, C_in, H, W)`` -> tokens ``(B, H/p, W/p, D)``."""

    def __init__(self, in_chans: int, embed_dim: int, patch_size: int = 16, bias: bool = True):
        super().__init__()
        self.patch_size = patch_size
        self.proj = nn.Conv2d(in_chans, embed_dim, kernel_size=patch_size, stride=patch_size, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class ConvStem(nn.Module):
    """Early convolutions instead of one patch conv (Xiao et al., "Early Convolutions Help
    Transformers See Better", 2021): ``log2(patch)`` blocks of 3x3 stride-2 conv + BatchNorm +
    ReLU doubling the width up to ``embed_dim / 2``... ``embed_dim``, then a 1x1 conv.  Same
    contract as :class:`PatchEmbed`: ``(B, C_in, H, W)`` -> tokens ``(B, H/p, W/p, D)``.

    A small-data measure: a ViT trained from scratch on a few hundred images (no pretraining
    exists for this project) optimises faster and more stably with a convolutional stem.
    """

    def __init__(self, in_chans: int, embed_dim: int, patch_size: int = 16):
        super().__init__()
        steps = patch_size.bit_length() - 1
        if patch_size < 2 or 2**steps != patch_size:
            raise ValueError(f"a conv stem needs a power-of-two patch size, got {patch_size}")
        widths = [max(embed_dim >> (steps - i), 8) for i in range(1, steps + 1)]
        layers: list[nn.Module] = []
        for width in widths:
            layers += [
                nn.Conv2d(in_chans, width, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(width),
                nn.ReLU(inplace=True),
            ]
            in_chans = width
        layers.append(nn.Conv2d(in_chans, embed_dim, 1))
        self.patch_size = patch_size
        self.proj = nn.Sequential(*layers)

    def forward(self, x: Tensor) -> Tensor:
        return self.proj(x).permute(0, 2, 3, 1)


class AbsolutePositionEmbedding(nn.Module):
    """A learned absolute position embedding stored on a fixed ``grid x grid`` token grid.

    ``forward(h, w)`` returns ``(1, h, w, D)``: the stored grid resampled (timm's bicubic,
    antialiased ``resample_abs_pos_embed``) to the requested token grid, so any input size works.
    """

    def __init__(self, embed_dim: int, grid_size: int):
        super().__init__()
        self.grid_size = grid_size
        self.weight = nn.Parameter(torch.zeros(1, grid_size * grid_size, embed_dim))
        trunc_normal_(self.weight, std=0.02)

    def forward(self, h: int, w: int) -> Tensor:
        pos = self.weight
        if (h, w) != (self.grid_size, self.grid_size):
            pos = resample_abs_pos_embed(
                pos, new_size=[h, w], old_size=[self.grid_size] * 2, num_prefix_tokens=0
            )
        return pos.view(1, h, w, -1)


class WindowTiledPositionEmbedding(nn.Module):
    """Absolute embedding = resampled global table + a ``K x K`` window table tiled over the grid.

    Bolya et al., "Window Attention is Bugged" (ICLR 2024; their "absolute win" for Hiera, ViTDet): the
    tiled part tells a token where it sits inside its window in token units, identical at every
    image size, which is what window attention needs; the resampled global part tells the grid
    blocks where each window sits in the image.  ``forward(h, w)`` -> ``(1, h, w, D)``.
    """

    def __init__(self, embed_dim: int, grid_size: int, window_size: int):
        super().__init__()
        self.window_size = window_size
        self.global_embed = AbsolutePositionEmbedding(embed_dim, grid_size)
        self.window_embed = nn.Parameter(torch.zeros(1, window_size, window_size, embed_dim))
        trunc_normal_(self.window_embed, std=0.02)

    def forward(self, h: int, w: int) -> Tensor:
        k = self.window_size
        tiled = self.window_embed.repeat(1, -(-h // k), -(-w // k), 1)[:, :h, :w]
        return self.global_embed(h, w) + tiled


class Block(nn.Module):
    """Pre-norm transformer block on a ``(B, h, w, C)`` map whose attention is window, grid or global.

    x = x + DropPath(LayerScale(Attention(LN(x)))); x = x + DropPath(LayerScale(Mlp(LN(x)))).
    """

    def __init__(
        self,
        dim: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        attn_mode: str = "global",
        window_size: int = 8,
        drop_path: float = 0.0,
        layer_scale_init: float | None = None,
    ):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = PartitionedAttention(dim, num_heads, mode=attn_mode, window_size=window_size)
        self.ls1 = LayerScale(dim, layer_scale_init) if layer_scale_init is not None else nn.Identity()
        self.drop_path1 = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = Mlp(dim, hidden_features=int(dim * mlp_ratio), act_layer=nn.GELU)
        self.ls2 = LayerScale(dim, layer_scale_init) if layer_scale_init is not None else nn.Identity()
        self.drop_path2 = DropPath(drop_path) if drop_path > 0 else nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        x = x + self.drop_path1(self.ls1(self.attn(self.norm1(x))))
        x = x + self.drop_path2(self.ls2(self.mlp(self.norm2(x))))
        return x


class PlainViT(nn.Module):
    """A stack of ``Block``s (one attention mode per block) and a final LayerNorm.

    ``forward(x)``: tokens ``(B, h, w, D)`` (patch embedding + position already added) ->
    ``(B, h, w, D)``.  ``set_grad_checkpointing(True)`` recomputes blocks in backward to save
    activation memory when training on large crops.
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        attn_modes: Sequence[str],
        mlp_ratio: float = 4.0,
        window_size: int = 8,
        drop_path_rate: float = 0.0,
        layer_scale_init: float | None = None,
    ):
        super().__init__()
        depth = len(attn_modes)
        rates = [drop_path_rate * i / max(depth - 1, 1) for i in range(depth)]  # stochastic depth decay
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, mode, window_size, rate, layer_scale_init)
            for mode, rate in zip(attn_modes, rates, strict=True)
        )
        self.norm = nn.LayerNorm(embed_dim, eps=1e-6)
        self.grad_checkpointing = False

    def set_grad_checkpointing(self, enable: bool = True) -> None:
        self.grad_checkpointing = enable

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            if self.grad_checkpointing and torch.is_grad_enabled():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        return self.norm(x)


def init_vit_weights(module: nn.Module) -> None:
    """timm's ViT init: truncated-normal (std 0.02) Linear weights and zero biases."""
    if isinstance(module, nn.Linear):
        trunc_normal_(module.weight, std=0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
