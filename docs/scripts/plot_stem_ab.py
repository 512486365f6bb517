"""Plot the ECP stem A/B of the first CPU runs (docs/training.md, "First CPU runs").

Reads the runs' metrics (copied to ``benchmarks/results/training_cpu1/``) and draws the train loss
(mean over 100-step windows; both runs read the same samples, since sample ``n`` depends only on
the seed) and the validation loss against the step, patch stem against conv stem.

    python docs/scripts/plot_stem_ab.py        # -> docs/images/ecp_stem_ab.png
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from ntclick.image_io import atomic_path  # noqa: E402
from ntclick.train.metrics_log import read_metrics  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
RUNS = REPO / "benchmarks" / "results" / "training_cpu1"
OUT = REPO / "docs" / "images" / "ecp_stem_ab.png"


def read(name: str) -> tuple[dict[int, float], dict[int, float]]:
    train, val = {}, {}
    for row in read_metrics(RUNS / f"{name}.metrics.jsonl.xz"):
        (train if row["split"] == "train" else val)[row["step"]] = row["loss"]
    return train, val


def windows(train: dict[int, float], size: int = 100) -> tuple[list[int], list[float]]:
    steps, means = [], []
    for start in range(0, max(train), size):
        values = [v for k, v in train.items() if start < k <= start + size]
        if len(values) == size // 10:  # complete windows only (a line every 10 steps)
            steps.append(start + size)
            means.append(sum(values) / len(values))
    return steps, means


def main() -> None:
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.6, 3.6))
    for name, label in (
        ("ecp_tiny_cpu1", "patch stem (16x16 conv)"),
        ("ecp_tiny_convstem_cpu1", "conv stem"),
    ):
        train, val = read(name)
        left.plot(*windows(train), label=label)
        right.plot(sorted(val), [val[k] for k in sorted(val)], marker="o", label=label)
    left.set_title("ECP-tiny train loss (100-step means, same samples)", fontsize=9)
    right.set_title("ECP-tiny validation loss (32 fixed BSDS val samples)", fontsize=9)
    for ax in (left, right):
        ax.set_xlabel("step (batch 4, 256 px)")
        ax.set_ylabel("cross-entropy")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(OUT) as tmp:
        fig.savefig(tmp, dpi=110, format="png")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
