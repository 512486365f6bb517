"""What a training run's numbers depend on besides its config: library versions, device, threads.

A run is bit-for-bit reproducible from ``(config, seed)`` only in the same environment.  On
the CPU, torch splits reductions (convolution gradients, sums) across its threads, so the
thread count changes the rounding of every step; another CPU (its SIMD level picks the
kernels) or a new torch, NumPy or OpenCV build can change kernels or GrabCut's colour models.
Measured on the bundled ECP's recipe (2-core CPU): two runs with 2 threads agreed bit for bit
after 10 steps, while a run with 1 thread differed from them by up to 9e-4 in a weight after
the same 10 steps, and such differences grow over a run like a change of seed.  The trainer stores :func:`capture_environment` in every checkpoint and in
``metrics.jsonl`` (a ``"split": "start"`` record at every start), and warns when a run is
resumed in another environment (:func:`environment_changes`).
"""

from __future__ import annotations

import platform
from collections.abc import Mapping
from typing import Any

import cv2
import numpy as np
import torch

__all__ = ["capture_environment", "environment_changes"]


def capture_environment(device: torch.device, world_size: int = 1) -> dict[str, Any]:
    """The versions, device and thread count a training process runs with (plain JSON data).

    Args:
        device: the process's torch device.
        world_size: number of training processes.

    Returns:
        ``{"ntclick", "python", "torch", "numpy", "opencv"}`` version strings, ``"machine"``
        (CPU architecture), ``"cpu"`` (its model name where the system tells it, else ``""``),
        ``"cpu_capability"`` (the SIMD level of torch's CPU kernels), ``"device"`` (``"cpu"`` or
        the CUDA device's name), ``"cuda"`` (the CUDA version torch was built with, ``None`` on
        CPU), ``"torch_threads"`` (intra-op threads) and ``"world_size"``.
    """
    from ntclick import __version__

    cuda = device.type == "cuda"
    return {
        "ntclick": __version__,
        "python": platform.python_version(),
        "torch": str(torch.__version__),  # a str subclass that weights_only loading refuses
        "numpy": str(np.__version__),
        "opencv": str(cv2.__version__),
        "machine": platform.machine(),
        "cpu": _cpu_name(),
        # The SIMD level torch dispatches its CPU kernels to (e.g. "AVX2", "AVX512").
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),
        "device": torch.cuda.get_device_name(device) if cuda else device.type,
        "cuda": str(torch.version.cuda) if cuda else None,
        "torch_threads": torch.get_num_threads(),
        "world_size": int(world_size),
    }


def _cpu_name() -> str:
    try:
        with open("/proc/cpuinfo") as f:  # Linux; platform.processor() is often empty there
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def environment_changes(saved: Mapping[str, Any] | None, current: Mapping[str, Any]) -> list[str]:
    """``"key old -> new"`` for every entry of ``saved`` that ``current`` differs in.

    ``saved`` is ``None`` for checkpoints written before environments were recorded; nothing
    can be compared then, and the list is empty.
    """
    if not saved:
        return []
    return [f"{key} {saved[key]} -> {current.get(key)}" for key in saved if saved[key] != current.get(key)]
