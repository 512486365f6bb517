"""Training losses.

- ECP: cross-entropy over the three FBU classes (bg, uncertain, fg), padding ignored, plus an
  optional *confusion* term, ``-log(1 - p(opposite class))`` on pixels whose target is certain
  (fg or bg): calling a foreground pixel certain background (or the reverse) is the one mistake
  nothing downstream can undo (HRR and the band step only decide the uncertain band), while
  calling it uncertain only widens the band.
- HRR: L1 between predicted and ground-truth alpha plus the gradient loss of image matting
  (Tang et al., CVPR 2019): L1 between the **Sobel** derivatives (3x3, x and y, unnormalised
  [1, 2, 1] x [-1, 0, 1] kernels) of prediction and target.  Both terms are means over valid
  pixels; the gradient term over pixels whose whole 3x3 neighbourhood is valid, so the edge of
  the padding does not count as an image edge.

Losses are computed in float32 whatever the autocast dtype of the network.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ntclick.fbu import BG, FBU_VALUES, FG

__all__ = ["IGNORE_INDEX", "fbu_targets", "ecp_loss", "sobel", "hrr_loss"]

IGNORE_INDEX = -100
_BG_CLASS, _FG_CLASS = FBU_VALUES.index(BG), FBU_VALUES.index(FG)  # class index i <-> FBU_VALUES[i]


def fbu_targets(gt_fbu: Tensor, valid: Tensor) -> Tensor:
    """uint8 (B, H, W) FBU maps -> int64 class indices (0 bg, 1 uncertain, 2 fg), -100 outside ``valid``."""
    lut = torch.full((256,), IGNORE_INDEX, dtype=torch.int64, device=gt_fbu.device)
    for index, value in enumerate(FBU_VALUES):
        lut[value] = index
    classes = lut[gt_fbu.long()]
    return classes.masked_fill(~valid, IGNORE_INDEX)


def ecp_loss(logits: Tensor, gt_fbu: Tensor, valid: Tensor, *, confusion_weight: float = 0.0) -> Tensor:
    """ECP's loss for logits (B, 3, H, W) (bg, uncertain, fg) against uint8 FBU maps (B, H, W).

    Cross-entropy, mean over valid pixels, plus ``confusion_weight`` times the mean over valid
    pixels of ``-log(1 - p(opposite))`` where the target is fg or bg (opposite: bg or fg). That
    term is zero on uncertain targets and grows without bound as the network grows sure of the
    wrong certain class; with ``confusion_weight=0`` the loss is plain cross-entropy.
    """
    logits = logits.float()
    target = fbu_targets(gt_fbu, valid)
    loss = F.cross_entropy(logits, target, ignore_index=IGNORE_INDEX)
    if confusion_weight == 0.0:
        return loss
    # log(1 - p(opposite)) = logsumexp(logits of the other two classes) - logsumexp(all): stable.
    total = torch.logsumexp(logits, dim=1)
    not_bg = torch.logsumexp(logits[:, [c for c in range(3) if c != _BG_CLASS]], dim=1)  # target fg
    not_fg = torch.logsumexp(logits[:, [c for c in range(3) if c != _FG_CLASS]], dim=1)  # target bg
    penalty = torch.where(
        target == _FG_CLASS, total - not_bg, torch.where(target == _BG_CLASS, total - not_fg, 0.0)
    )
    count = (target != IGNORE_INDEX).sum().clamp_min(1)
    return loss + confusion_weight * penalty.sum() / count


_SOBEL_X = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])


def sobel(x: Tensor) -> Tensor:
    """Sobel derivatives of (B, 1, H, W) -> (B, 2, H, W) (d/dx, d/dy), replicate padding."""
    kernel = torch.stack([_SOBEL_X, _SOBEL_X.t()])[:, None].to(device=x.device, dtype=x.dtype)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), kernel)


def hrr_loss(
    pred: Tensor, target: Tensor, valid: Tensor, *, l1_weight: float = 1.0, grad_weight: float = 1.0
) -> tuple[Tensor, dict[str, float]]:
    """L1 + Sobel gradient loss.

    Args:
        pred: (B, 1, H, W) predicted alpha in [0, 1].
        target: (B, 1, H, W) float ground-truth alpha in [0, 1].
        valid: (B, 1, H, W) bool, False in padding.

    Returns:
        The weighted total and ``{"l1": ..., "grad": ...}`` (floats, for logging).
    """
    pred, target = pred.float(), target.float()
    w = valid.float()
    l1 = ((pred - target).abs() * w).sum() / w.sum().clamp_min(1.0)
    interior = -F.max_pool2d(-w, kernel_size=3, stride=1, padding=1)  # erosion: 3x3 all valid
    grad = ((sobel(pred) - sobel(target)).abs() * interior).sum() / (2 * interior.sum()).clamp_min(1.0)
    total = l1_weight * l1 + grad_weight * grad
    return total, {"l1": float(l1.detach()), "grad": float(grad.detach())}
