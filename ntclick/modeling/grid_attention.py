"""Window, grid and global multi-head self-attention over a 2-D token map.

Tokens are kept as a channels-last map ``(B, H, W, C)`` (H, W = token rows and columns).

- **window** (Swin/ViTDet): groups are contiguous ``K x K`` blocks of tokens; ``(H/K)*(W/K)``
  groups of ``K*K`` tokens.
- **grid** (MaxViT's grid axis, NTClick's interval-K attention): a group holds the tokens whose
  row index and column index are equal modulo K, i.e. every K-th token in both directions;
  ``K*K`` groups of ``(H/K)*(W/K)`` tokens, each spanning the whole image.
- **global**: one group of all ``H*W`` tokens.

Alternating window and grid blocks connects any two tokens in two blocks while every attention
call stays small, so cost grows about linearly with the number of pixels.
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor, nn

from ntclick.modeling.config import ATTENTION_MODES

__all__ = [
    "window_partition",
    "window_reverse",
    "grid_partition",
    "grid_reverse",
    "PartitionedAttention",
]


def _check_divisible(x: Tensor, k: int) -> tuple[int, int, int, int]:
    if x.ndim != 4:
        raise ValueError(f"expected a (B, H, W, C) token map, got shape {tuple(x.shape)}")
    b, h, w, c = x.shape
    if k < 1 or h % k or w % k:
        raise ValueError(f"token map {h}x{w} is not divisible into parts of {k}")
    return b, h, w, c


def window_partition(x: Tensor, k: int) -> Tensor:
    """Split ``(B, H, W, C)`` into contiguous ``k x k`` windows.

    Returns ``(B * (H/k) * (W/k), k*k, C)``; window ``(i, j)`` of image ``b`` is at index
    ``(b * (H/k) + i) * (W/k) + j`` and holds tokens ``[i*k:(i+1)*k, j*k:(j+1)*k]`` row-major.
    """
    b, h, w, c = _check_divisible(x, k)
    x = x.view(b, h // k, k, w // k, k, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b * (h // k) * (w // k), k * k, c)


def window_reverse(windows: Tensor, k: int, h: int, w: int) -> Tensor:
    """Inverse of ``window_partition``: ``(B * (h/k) * (w/k), k*k, C)`` -> ``(B, h, w, C)``."""
    c = windows.shape[-1]
    b = windows.shape[0] // ((h // k) * (w // k))
    x = windows.view(b, h // k, w // k, k, k, c).permute(0, 1, 3, 2, 4, 5)
    return x.reshape(b, h, w, c)


def grid_partition(x: Tensor, k: int) -> Tensor:
    """Group ``(B, H, W, C)`` tokens by their indices modulo ``k`` (interval-k grid).

    Returns ``(B * k * k, (H/k) * (W/k), C)``; group ``(r, s)`` of image ``b`` is at index
    ``(b * k + r) * k + s`` and holds the tokens ``x[b, r::k, s::k]`` row-major.
    """
    b, h, w, c = _check_divisible(x, k)
    x = x.view(b, h // k, k, w // k, k, c).permute(0, 2, 4, 1, 3, 5)
    return x.reshape(b * k * k, (h // k) * (w // k), c)


def grid_reverse(groups: Tensor, k: int, h: int, w: int) -> Tensor:
    """Inverse of ``grid_partition``: ``(B * k * k, (h/k) * (w/k), C)`` -> ``(B, h, w, C)``."""
    c = groups.shape[-1]
    b = groups.shape[0] // (k * k)
    x = groups.view(b, k, k, h // k, w // k, c).permute(0, 3, 1, 4, 2, 5)
    return x.reshape(b, h, w, c)


class PartitionedAttention(nn.Module):
    """Multi-head self-attention within the window / grid / global groups of a token map.

    ``forward(x)``: ``x`` (B, H, W, C) -> (B, H, W, C).  For "window" and "grid", H and W must
    be multiples of ``window_size``.  The qkv and output projections act per token, so they run
    on the partitioned tokens and only one partition / reverse copy is made.
    """

    def __init__(
        self, dim: int, num_heads: int, mode: str = "global", window_size: int = 8, qkv_bias: bool = True
    ):
        super().__init__()
        if mode not in ATTENTION_MODES:
            raise ValueError(f"attention mode must be one of {ATTENTION_MODES}, got {mode!r}")
        if dim % num_heads:
            raise ValueError(f"dim {dim} is not divisible by num_heads {num_heads}")
        self.mode = mode
        self.window_size = window_size
        self.num_heads = num_heads
        self.head_dim = dim // num_heads
        self.qkv = nn.Linear(dim, dim * 3, bias=qkv_bias)
        self.proj = nn.Linear(dim, dim)

    def extra_repr(self) -> str:
        return f"mode={self.mode}, window_size={self.window_size}, num_heads={self.num_heads}"

    def forward(self, x: Tensor) -> Tensor:
        b, h, w, c = x.shape
        k = self.window_size
        if self.mode == "window":
            tokens = window_partition(x, k)
        elif self.mode == "grid":
            tokens = grid_partition(x, k)
        else:
            tokens = x.reshape(b, h * w, c)
        groups, n, _ = tokens.shape
        qkv = self.qkv(tokens).view(groups, n, 3, self.num_heads, self.head_dim).permute(2, 0, 3, 1, 4)
        del tokens
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])  # (groups, heads, n, head_dim)
        del qkv
        out = self.proj(out.transpose(1, 2).reshape(groups, n, c))
        if self.mode == "window":
            return window_reverse(out, k, h, w)
        if self.mode == "grid":
            return grid_reverse(out, k, h, w)
        return out.view(b, h, w, c)
