"""Training checkpoints: atomic save, exact resume, and networks rebuilt from a checkpoint.

A checkpoint is a ``torch.save`` dict::

    {"format": "ntclick-train", "version": 1, "task": "ecp" | "hrr", "step": int,
     "config": TrainConfig.to_dict(), "model_config": ECPConfig/HRRConfig.to_dict(),
     "model": state_dict, "optimizer": ..., "scheduler": ..., "scaler": ...,
     "rng": {"python": ..., "numpy": ..., "torch": ..., "cuda": [...]},
     "environment": ntclick.train.run_environment.capture_environment(...)}

Everything in it is a tensor or plain Python data, so it loads with ``weights_only=True``
(no arbitrary code runs when a checkpoint is read).  The data stream needs no state of its
own: sample numbers follow from the step (:mod:`ntclick.train.dataset`).
"""

from __future__ import annotations

import io
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ntclick.image_io import atomic_write_bytes

__all__ = [
    "CHECKPOINT_FORMAT",
    "LAST_CHECKPOINT",
    "capture_rng_state",
    "restore_rng_state",
    "save_checkpoint",
    "load_checkpoint",
    "model_from_checkpoint",
    "load_network",
]

CHECKPOINT_FORMAT = "ntclick-train"
CHECKPOINT_VERSION = 1
LAST_CHECKPOINT = "checkpoint_last.pt"


def capture_rng_state() -> dict[str, Any]:
    """The global random states of Python, NumPy and torch (CPU and every CUDA device).

    ntclick's own randomness uses explicit generators; the global states are kept for code
    (user hooks, libraries) that draws from them.
    """
    np_state = np.random.get_state(legacy=False)  # noqa: NPY002 - the global state is what is saved
    return {
        "python": random.getstate(),
        "numpy": {**np_state, "state": {**np_state["state"], "key": np_state["state"]["key"].tolist()}},
        "torch": torch.get_rng_state(),
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }


def restore_rng_state(state: dict[str, Any]) -> None:
    """Undo :func:`capture_rng_state`."""
    py = state["python"]
    random.setstate((py[0], tuple(py[1]), py[2]))
    np_state = state["numpy"]
    np.random.set_state(  # noqa: NPY002 - restoring the global state
        {
            **np_state,
            "state": {**np_state["state"], "key": np.asarray(np_state["state"]["key"], dtype=np.uint32)},
        }
    )
    torch.set_rng_state(state["torch"])
    if state.get("cuda") and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(path: str | os.PathLike, checkpoint: dict[str, Any]) -> Path:
    """Write ``checkpoint`` (see module doc) atomically: temporary file + rename."""
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, "version": CHECKPOINT_VERSION, **checkpoint}, buffer)
    atomic_write_bytes(path, buffer.getvalue())
    return Path(path)


def load_checkpoint(path: str | os.PathLike, task: str | None = None) -> dict[str, Any]:
    """Read a training checkpoint on the CPU; ``task`` ("ecp"/"hrr") checks which network it holds.

    Raises:
        FileNotFoundError: no file at ``path``.
        ValueError: not an ntclick training checkpoint, a newer version, or the other network.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise ValueError(f"{p}: cannot read as a training checkpoint ({type(exc).__name__}: {exc})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{p}: not an ntclick training checkpoint (written by 'ntclick train')")
    if int(ckpt.get("version", 0)) > CHECKPOINT_VERSION:
        raise ValueError(f"{p}: checkpoint version {ckpt['version']} is newer than this ntclick supports")
    if task is not None and ckpt.get("task") != task:
        raise ValueError(f"{p}: holds a {ckpt.get('task')!r} network, expected {task!r}")
    return ckpt


def model_from_checkpoint(path: str | os.PathLike, task: str, *, ema: bool | None = None) -> torch.nn.Module:
    """Rebuild the network of a checkpoint (``task`` "ecp" or "hrr") with its trained weights.

    ``ema``: take the moving average of the weights (``TrainConfig.ema_decay``, stored as
    ``"ema"``) instead of the raw ones; ``None`` (default) takes it when the checkpoint has one,
    ``True`` requires it (``ValueError`` otherwise), ``False`` takes the raw weights.
    """
    from ntclick.modeling import build_ecp, build_hrr

    ckpt = load_checkpoint(path, task)
    if ema and "ema" not in ckpt:
        raise ValueError(f"{path}: holds no moving average of the weights (trained without ema_decay)")
    use_ema = "ema" in ckpt if ema is None else ema
    build = build_ecp if task == "ecp" else build_hrr
    model = build(ckpt["model_config"])
    try:
        model.load_state_dict(ckpt["ema"]["model"] if use_ema else ckpt["model"])
    except RuntimeError as exc:
        raise ValueError(f"{path}: weights do not match the {task} config stored with them: {exc}") from None
    return model.eval()


def load_network(source: str | os.PathLike, task: str, *, ema: bool | None = None) -> torch.nn.Module:
    """The ``task`` ("ecp" or "hrr") network of a training checkpoint file (.pt), or of a weights
    folder / Hub repo id (the other network in it is ignored), in eval mode.  ``{data}``,
    ``{repo}`` and ``~`` in a path are expanded as in configs.  ``ema``: for a checkpoint, see
    :func:`model_from_checkpoint`; a weights folder holds one set of weights and ignores it."""
    from ntclick.train.config import expand_path

    path = expand_path(source)
    if path.is_file():
        return model_from_checkpoint(path, task, ema=ema)
    from ntclick.hub import load_pretrained

    ecp, hrr, _ = load_pretrained(path if path.exists() else str(source))
    return ecp if task == "ecp" else hrr
