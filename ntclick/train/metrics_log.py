"""Metric logs of a training run: JSON lines, and the loss-curve plot drawn from them.

``metrics.jsonl`` holds one JSON object per line, e.g.
``{"step": 10, "split": "train", "loss": 0.71, "lr": 1e-4, "grad_norm": 2.3, "samples_per_s": 41.0}``
``{"step": 1000, "split": "val", "loss": 0.52, ...}``, at every (re)start
``{"step": 0, "split": "start", "environment": {...}}`` (:mod:`ntclick.train.run_environment`)
and, with clicker validation,
``{"step": 1000, "split": "val_clicker", "noc": 12.2, "nof": 7, "miou1": ..., "miou5": ..., ...}``.  Train ``loss`` is the mean over the
logging interval and over all processes; the other terms (ECP: ``clicks`` per sample after
iterative simulation; HRR: ``l1``, ``grad``) are interval means of rank 0.

Torch-free (the plot needs matplotlib, the ``plot`` extra).
"""

from __future__ import annotations

import io
import json
import os
from pathlib import Path
from typing import Any

from ntclick.image_io import atomic_write_bytes
from ntclick.jsonl_files import read_jsonl_lines

__all__ = ["MetricsLog", "read_metrics", "plot_loss_curve"]


class MetricsLog:
    """Append-only JSON-lines log.  On resume, lines after the resumed step are dropped
    (they belong to the interrupted run's lost steps)."""

    def __init__(self, path: str | os.PathLike, *, resume_step: int | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if resume_step is None:
            atomic_write_bytes(self.path, b"")
        elif self.path.exists():
            kept = [r for r in read_metrics(self.path) if r.get("step", 0) <= resume_step]
            atomic_write_bytes(self.path, "".join(json.dumps(r) + "\n" for r in kept).encode())

    def write(self, record: dict[str, Any]) -> None:
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")


def read_metrics(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The records of a ``metrics.jsonl`` file, plain or compressed (``.xz`` as stored runs are,
    or ``.gz``; ``x.jsonl`` is read from ``x.jsonl.xz`` or ``x.jsonl.gz`` when only that exists);
    a torn last line is skipped."""
    records = []
    for line in read_jsonl_lines(path):
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return records


def plot_loss_curve(
    metrics_path: str | os.PathLike, out_path: str | os.PathLike, title: str | None = None
) -> Path:
    """Plot train (and val) loss against step, log scale, as a PNG written atomically; with
    clicker validation records, their NoC on a second axis (fewer clicks is better)."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:  # pragma: no cover - depends on the environment
        raise RuntimeError('the loss-curve plot needs matplotlib: pip install "ntclick[plot]"') from None
    records = read_metrics(metrics_path)
    fig, ax = plt.subplots(figsize=(6, 4), dpi=100)
    for split, style in (("train", "-"), ("val", "o-")):
        rows = [r for r in records if r.get("split") == split and "loss" in r]
        if rows:
            ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], style, label=split)
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    if any(r.get("loss", 0) > 0 for r in records):
        ax.set_yscale("log")
    ax.set_title(title or Path(metrics_path).parent.name)
    ax.grid(True, alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    clicker = [r for r in records if r.get("split") == "val_clicker" and "noc" in r]
    if clicker:
        ax2 = ax.twinx()
        (line,) = ax2.plot([r["step"] for r in clicker], [r["noc"] for r in clicker], "s--", color="tab:red")
        ax2.set_ylabel("val clicks (NoC)", color="tab:red")
        handles, labels = handles + [line], labels + ["val clicks (NoC)"]
    ax.legend(handles, labels)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    atomic_write_bytes(out_path, buffer.getvalue())
    return Path(out_path)
