"""mIoU against clicks on GrabCut and Berkeley: the second-round network with and without click
consistency (brs_steps=20), the first-round one and the GrabCut baseline (standard protocol),
from the per-object results in benchmarks/results/.

    python docs/scripts/plot_second_round.py   # -> docs/images/ntclick_cpu2_miou.png
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from ntclick.eval import summarize_jsonl
from ntclick.eval.plot import plot_miou_curves

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results"
RUNS = [  # (label, per-object results with {ds} for the dataset)
    ("ntclick-tiny, CPU run 2, zoom + BRS", "brs/ntclick-tiny-cpu2-zoom-brs20_{ds}_standard.jsonl.xz"),
    ("ntclick-tiny, CPU run 2, zoom", "second_round/ntclick-tiny-cpu2-zoom_{ds}_standard.jsonl.xz"),
    ("ntclick-tiny, CPU run 1", "first_cpu_weights/ntclick-tiny-convstem-2250_{ds}_standard.jsonl.xz"),
    ("GrabCut baseline", "grabcut_baseline/grabcut_{ds}_standard.jsonl.xz"),
]


def main() -> None:
    summaries = []
    for label, pattern in RUNS:
        for ds in ("grabcut", "berkeley"):
            for s in summarize_jsonl(RESULTS / pattern.format(ds=ds)):
                summaries.append(dataclasses.replace(s, model=label, dataset=ds))
    out = plot_miou_curves(
        summaries,
        ROOT / "docs" / "images" / "ntclick_cpu2_miou.png",
        title="mIoU against clicks, standard protocol (networks trained here, no pretraining)",
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
