"""Export trained ECP and HRR checkpoints as a weights folder ``from_pretrained`` loads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ntclick.train.checkpoint import model_from_checkpoint

__all__ = ["export_weights"]


def export_weights(
    ecp_checkpoint: str | os.PathLike,
    hrr_checkpoint: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    predictor_config: Mapping[str, Any] | None = None,
    dtype: str | None = None,
) -> Path:
    """Write ``config.json`` + ``model.safetensors`` (Hub layout) from two training checkpoints.

    ``ecp_checkpoint`` must hold an ECP and ``hrr_checkpoint`` an HRR (``ValueError``
    otherwise).  ``predictor_config`` defaults to ``{"ecp_size": <ECP's input_size>}``;
    ``dtype`` (e.g. ``"float16"``) converts the weights.  Returns the folder.
    """
    from ntclick.hub import save_pretrained

    ecp = model_from_checkpoint(ecp_checkpoint, "ecp")
    hrr = model_from_checkpoint(hrr_checkpoint, "hrr")
    settings = dict(predictor_config) if predictor_config else {"ecp_size": ecp.config.input_size}
    return save_pretrained(out_dir, ecp, hrr, predictor_config=settings, dtype=dtype)
