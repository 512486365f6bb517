"""mIoU-vs-clicks plots (matplotlib, the optional ``plot`` extra)."""

from __future__ import annotations

import io
import os
from collections.abc import Sequence
from pathlib import Path

from ntclick.eval.report import Summary
from ntclick.image_io import atomic_write_bytes

__all__ = ["plot_miou_curves"]


def plot_miou_curves(
    summaries: Sequence[Summary],
    path: str | os.PathLike,
    *,
    title: str | None = None,
    dpi: int = 120,
) -> Path:
    """Draw mIoU@k against k, one curve per summary, one panel per dataset; write a PNG atomically.

    Curves are labelled ``<model> / <protocol>``.  Returns the path written.
    """
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise RuntimeError('plotting needs matplotlib: pip install "ntclick[plot]"') from None
    if not summaries:
        raise ValueError("nothing to plot: no summaries")
    datasets = list(dict.fromkeys(s.dataset for s in summaries))
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    for ax, ds in zip(axes[0], datasets, strict=True):
        for s in summaries:
            if s.dataset != ds or not s.miou:
                continue
            ks = range(1, len(s.miou) + 1)
            ax.plot(
                ks, [100 * v for v in s.miou], marker="o", markersize=3, label=f"{s.model} / {s.protocol}"
            )
        ax.set_title(f"{ds} ({max(s.objects for s in summaries if s.dataset == ds)} objects)")
        ax.set_xlabel("number of clicks")
        ax.set_ylabel("mIoU (%)")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    out = Path(path)
    atomic_write_bytes(out, buf.getvalue())
    return out
