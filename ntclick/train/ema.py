"""An exponential moving average (EMA) of a network's weights during training.

Small batches make every step's weights noisy; their running average is usually a better
network than the last step's (Polyak averaging; timm's ``ModelEmaV2``, the EMA of diffusion
and detection models).  :class:`ModelEMA` keeps a copy of the network whose floating-point
tensors, parameters and buffers alike, follow

    ema <- d * ema + (1 - d) * weights,    d = min(decay, (1 + n) / (10 + n))

after the ``n``-th optimizer step: the warm-up term lets the average forget its random start
in the first steps instead of dragging it through the run.  Integer buffers are copied.

The trainer (``TrainConfig.ema_decay``) validates the average, chooses ``checkpoint_best.pt``
on it and stores it beside the raw weights (``"ema"`` in the checkpoint); the raw weights stay
what the optimizer continues from.  ``ntclick export`` takes the average when a checkpoint has
one (``--raw-weights`` for the other).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

__all__ = ["ModelEMA"]


class ModelEMA:
    """The moving average of ``model``'s weights (a separate copy in eval mode, no gradients).

    Args:
        model: the trained network (unwrapped from DDP); its current weights start the average.
        decay: the average's decay in [0, 1); about ``1 / (1 - decay)`` steps contribute.
        updates: how many updates the average has already had (its warm-up position).
    """

    def __init__(self, model: nn.Module, decay: float, updates: int = 0) -> None:
        if not 0.0 <= float(decay) < 1.0:
            raise ValueError(f"EMA decay must be in [0, 1), got {decay!r}")
        self.decay = float(decay)
        self.updates = int(updates)
        self.module = copy.deepcopy(model).eval()
        for p in self.module.parameters():
            p.requires_grad_(False)

    def current_decay(self) -> float:
        """The decay the next update uses (warm-up: small for the first steps)."""
        return min(self.decay, (1.0 + self.updates) / (10.0 + self.updates))

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights (same architecture)."""
        d = self.current_decay()
        current = model.state_dict()
        for name, avg in self.module.state_dict().items():
            value = current[name].detach()
            if avg.dtype.is_floating_point:
                avg.lerp_(value.to(avg.dtype), 1.0 - d)
            else:
                avg.copy_(value)
        self.updates += 1

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint stores: the decay, the update count and the averaged weights."""
        return {"decay": self.decay, "updates": self.updates, "model": self.module.state_dict()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict`'s output (the decay is the config's, not the saved one)."""
        self.updates = int(state["updates"])
        self.module.load_state_dict(state["model"])
