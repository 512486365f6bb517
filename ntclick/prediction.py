"""The result of one interaction step, shared by every predictor (network or baseline)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Prediction"]


@dataclass(frozen=True)
class Prediction:
    """A segmentation at the original image resolution.

    Attributes:
        mask: bool (H, W), the binary mask (``soft > threshold``).
        soft: float32 (H, W) in [0, 1], alpha-like soft mask.
        fbu: uint8 (H, W) FBU map with values 0 (bg), 128 (uncertain), 255 (fg).
    """

    mask: np.ndarray
    soft: np.ndarray
    fbu: np.ndarray

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.mask.shape)  # type: ignore[return-value]
