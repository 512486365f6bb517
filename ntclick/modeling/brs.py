"""Click consistency at inference: backpropagating refinement of ECP's features.

A network trained on a small data set sometimes ignores a click: the clicked pixel keeps the
wrong class however often the user clicks there.  BRS (Jang and Kim, CVPR 2019) and f-BRS
(Sofiiuk et al., CVPR 2020) fix that at inference without changing the weights: they optimise a
few auxiliary variables until the prediction agrees with the clicks.  Here the variables are one
feature offset per click, ``b_i`` (D values), added to ECP's backbone output with a Gaussian
weight around the click's token (``features + sum_i g_i(x) b_i``, ``sigma`` tokens), so a
correction stays near the click that asked for it.  L-BFGS moves them from 0 until every clicked
pixel has its class with probability at least ``target``, while ``weight_decay * sum |b_i|^2``
keeps them small.  Only the decoder runs per iteration; the backbone runs once.

We measured f-BRS-B's global per-channel scale and bias first: on the BSDS validation objects
it enforced the clicks too, but a change that moves every pixel to fix one often broke the
rest of the mask; the click-local offsets gained more (docs/benchmarks.md, "Click consistency").

The click terms, on ECP's softmax over (bg, uncertain, fg) at each click's pixel:

* fg click: ``P(fg) >= target``  (clamped into the mask by ``clamp_to_fbu``);
* bg click: ``P(bg) >= target``;
* nt click: ``P(uncertain) + P(fg) >= target`` (fine structure is around, not necessarily under it).

Each is a hinge on the negative log-probability, so a click already satisfied costs nothing, and
a prediction that satisfies every click is returned as is, without a single backward pass.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor

from ntclick.clicks import ClickKind

__all__ = ["click_consistent_logits", "click_violations"]

_BG, _UNCERTAIN, _FG = 0, 1, 2  # ECP's class indices


def _click_index(points: Sequence[tuple[int, int, ClickKind]], device: torch.device) -> tuple[Tensor, ...]:
    """``(rows, cols, is_fg, is_bg)``, each (N,): the clicks as tensors, built once per call."""
    rows = torch.tensor([p[0] for p in points], device=device)
    cols = torch.tensor([p[1] for p in points], device=device)
    is_fg = torch.tensor([p[2] is ClickKind.FG for p in points], device=device)
    is_bg = torch.tensor([p[2] is ClickKind.BG for p in points], device=device)
    return rows, cols, is_fg, is_bg


def _violations(logits: Tensor, index: tuple[Tensor, ...], target: float) -> Tensor:
    """:func:`click_violations` with the clicks already in tensors (:func:`_click_index`)."""
    rows, cols, is_fg, is_bg = index
    log_p = logits[0, :, rows, cols].float().log_softmax(dim=0)  # (3, N)
    not_bg = torch.logsumexp(log_p[[_UNCERTAIN, _FG]], dim=0)
    log_p_kind = torch.where(is_fg, log_p[_FG], torch.where(is_bg, log_p[_BG], not_bg))
    return torch.relu(math.log(target) - log_p_kind)


def click_violations(logits: Tensor, points: Sequence[tuple[int, int, ClickKind]], target: float) -> Tensor:
    """Per click, how far (in nats) its class set's log-probability is below ``log(target)``.

    Args:
        logits: (1, 3, H, W) ECP logits over (bg, uncertain, fg).
        points: ``(row, col, kind)`` integer pixel positions on that grid.
        target: probability each click's class set must reach, in (0, 1).

    Returns:
        float32 (N,), zero where the click is satisfied.
    """
    return _violations(logits, _click_index(points, logits.device), target)


def _click_weights(
    points: Sequence[tuple[int, int, ClickKind]],
    token_hw: tuple[int, int],
    output_size: tuple[int, int],
    sigma: float,
    device: torch.device,
) -> Tensor:
    """(N, h, w) Gaussian weight of each click over the token grid (``sigma`` in tokens)."""
    h, w = token_hw
    ty = output_size[0] / h  # pixels per token
    tx = output_size[1] / w
    rows = torch.tensor([(p[0] + 0.5) / ty - 0.5 for p in points], device=device)
    cols = torch.tensor([(p[1] + 0.5) / tx - 0.5 for p in points], device=device)
    dy = torch.arange(h, device=device, dtype=torch.float32)[None, :, None] - rows[:, None, None]
    dx = torch.arange(w, device=device, dtype=torch.float32)[None, None, :] - cols[:, None, None]
    return torch.exp(-(dy.square() + dx.square()) / (2.0 * sigma**2))


def click_consistent_logits(
    ecp: torch.nn.Module,
    features: Tensor,
    output_size: tuple[int, int],
    points: Sequence[tuple[int, int, ClickKind]],
    *,
    steps: int,
    target: float = 0.95,
    sigma: float = 1.5,
    weight_decay: float = 0.1,
    click_maps: Tensor | None = None,
) -> Tensor:
    """ECP logits (1, 3, *output_size) with the clicks enforced (see the module doc).

    Args:
        ecp: the :class:`~ntclick.modeling.ECP` network (its decoder is used, never changed).
        features: (1, h, w, D) from ``ecp.forward_features``, without autograd history.
        output_size: ``(H, W)`` of the ECP input the clicks were drawn on.
        points: ``(row, col, kind)`` of each click on that grid, integers inside it.
        steps: the most L-BFGS iterations (0 returns the plain logits).
        target: the probability each click's class set must reach.
        sigma: reach of each click's feature offset, in tokens (16 input pixels each).
        weight_decay: weight of ``sum_i |b_i|^2``.
        click_maps: the maps ``features`` were computed from (needed by an ECP with a prior).

    Returns:
        detached logits in the decoder's dtype.

    Call it with autograd enabled (outside ``torch.inference_mode``) when ``steps > 0``.
    """
    if not 0.0 < target < 1.0:
        raise ValueError(f"target must be in (0, 1), got {target}")
    if sigma <= 0:
        raise ValueError(f"sigma must be positive, got {sigma}")
    with torch.no_grad():
        logits = ecp.forward_head(features, output_size, click_maps)
    if steps <= 0 or not points:
        return logits
    index = _click_index(points, features.device)
    if not bool((_violations(logits, index, target) > 0).any()):
        return logits

    weights = _click_weights(points, tuple(features.shape[1:3]), output_size, sigma, features.device)
    offsets = torch.zeros(len(points), features.shape[-1], device=features.device, requires_grad=True)

    def shifted() -> Tensor:
        return features + torch.einsum("nhw,nd->hwd", weights, offsets)[None].to(features.dtype)

    optimizer = torch.optim.LBFGS([offsets], lr=1.0, max_iter=steps, line_search_fn="strong_wolfe")

    def closure() -> Tensor:
        optimizer.zero_grad()
        out = ecp.forward_head(shifted(), output_size, click_maps)
        loss = _violations(out, index, target).sum() + weight_decay * offsets.square().sum()
        # Gradients for the offsets only: the network's own parameters never accumulate any.
        (offsets.grad,) = torch.autograd.grad(loss, [offsets])
        return loss.detach()

    optimizer.step(closure)
    with torch.no_grad():
        return ecp.forward_head(shifted(), output_size, click_maps)
