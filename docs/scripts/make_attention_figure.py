"""Draw docs/images/attention_groups.png: which tokens attend to each other in HRR's blocks.

A 16 x 16 token grid with K = 4 (HRR uses K = 8 on grids of up to 256 x 256 tokens). Left: the
window partition (contiguous K x K blocks); right: the grid partition (tokens whose row and
column indices are equal modulo K). Colours are group ids; the group holding one example token
is outlined in black on both panels. The groups come from ``ntclick.modeling.window_partition``
and ``grid_partition`` themselves, so the figure shows what the code does.

    python docs/scripts/make_attention_figure.py [--tokens 16] [--k 4] [--out docs/images/attention_groups.png]

Needs matplotlib (``pip install "ntclick[plot]"``).
"""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import torch

from ntclick.image_io import atomic_write_bytes
from ntclick.modeling import grid_partition, window_partition

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images" / "attention_groups.png"


def group_ids(partition, n: int, k: int) -> torch.Tensor:
    """(n, n) int map: the index of the group each token lands in under ``partition``."""
    rows, cols = torch.meshgrid(torch.arange(n), torch.arange(n), indexing="ij")
    tokens = torch.stack([rows, cols], dim=-1)[None].float()  # (1, n, n, 2) token coordinates
    groups = partition(tokens, k).long()  # (num_groups, tokens_per_group, 2)
    ids = torch.empty(n, n, dtype=torch.long)
    for g, members in enumerate(groups):
        ids[members[:, 0], members[:, 1]] = g
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=16, help="token grid side")
    parser.add_argument("--k", type=int, default=4, help="window size / grid interval K")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise RuntimeError('this figure needs matplotlib: pip install "ntclick[plot]"') from exc

    n, k = args.tokens, args.k
    example = (5, 6)  # (row, col) of the outlined token
    fig, axes = plt.subplots(1, 2, figsize=(8.4, 4.4))
    panels = [
        ("window", window_partition, f"window: {(n // k) ** 2} groups of {k}x{k} tokens"),
        ("grid", grid_partition, f"grid (interval {k}): {k * k} groups of {(n // k) ** 2} tokens"),
    ]
    for ax, (_, partition, title) in zip(axes, panels, strict=True):
        ids = group_ids(partition, n, k)
        ax.imshow(ids.numpy() % 20, cmap="tab20", interpolation="nearest")
        mine = (ids == ids[example]).numpy()
        for r, c in zip(*mine.nonzero(), strict=True):
            ax.add_patch(
                plt.Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False, edgecolor="black", linewidth=1.6)
            )
        ax.plot(example[1], example[0], "k*", markersize=9)
        ax.set_xticks(range(0, n, k))
        ax.set_yticks(range(0, n, k))
        ax.set_title(title, fontsize=10)
    fig.suptitle(
        f"HRR attention groups on a {n}x{n} token grid (black: the group of the starred token)", fontsize=10
    )
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(args.out, buffer.getvalue())
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
