"""Export trained ECP and HRR networks as a weights folder ``from_pretrained`` loads."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ntclick.train.checkpoint import load_network

__all__ = ["export_weights"]


def export_weights(
    ecp_checkpoint: str | os.PathLike,
    hrr_checkpoint: str | os.PathLike,
    out_dir: str | os.PathLike,
    *,
    predictor_config: Mapping[str, Any] | None = None,
    dtype: str | None = None,
    ema: bool | None = None,
) -> Path:
    """Write ``config.json`` + ``model.safetensors`` (Hub layout) from the two networks.

    ``ecp_checkpoint`` and ``hrr_checkpoint`` are training checkpoints (.pt) holding an ECP and an
    HRR (``ValueError`` otherwise), or weights folders / Hub repo ids whose ECP or HRR is taken
    (e.g. a new ECP with the HRR of released weights).  ``predictor_config`` (keys of
    ``ntclick.hub.PREDICTOR_DEFAULTS``) defaults to ``{"ecp_size": <ECP's input_size>}``, and
    ``ecp_size`` is filled in the same way when it is missing; ``dtype`` (e.g. ``"float16"``)
    converts the weights; ``ema`` chooses between a checkpoint's moving average of the weights and
    its raw weights (default: the average when there is one; ``model_from_checkpoint``).
    Returns the folder.
    """
    from ntclick.hub import PREDICTOR_DEFAULTS, save_pretrained

    settings = dict(predictor_config or {})
    unknown = sorted(set(settings) - set(PREDICTOR_DEFAULTS))
    if unknown:
        raise ValueError(f"unknown predictor setting(s) {unknown}; known: {sorted(PREDICTOR_DEFAULTS)}")
    ecp = load_network(ecp_checkpoint, "ecp", ema=ema)
    hrr = load_network(hrr_checkpoint, "hrr", ema=ema)
    settings.setdefault("ecp_size", ecp.config.input_size)
    return save_pretrained(out_dir, ecp, hrr, predictor_config=settings, dtype=dtype)
