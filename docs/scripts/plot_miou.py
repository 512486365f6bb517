"""mIoU against clicks for several evaluated models on several datasets, from the per-object
results (JSON lines, plain or xz-compressed as stored) that ``ntclick eval`` writes.

    python docs/scripts/plot_miou.py --out docs/images/ntclick_tiny_miou.png \\
        --run "ntclick-tiny=benchmarks/results/bundled/ntclick-tiny_{ds}_standard.jsonl.xz" \\
        --run "GrabCut baseline=benchmarks/results/grabcut_baseline/grabcut_{ds}_standard.jsonl.xz" \\
        --dataset grabcut --dataset berkeley

``{ds}`` in a run's pattern is replaced by each ``--dataset``; paths are relative to the
repository root.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from ntclick.eval import summarize_jsonl
from ntclick.eval.plot import plot_miou_curves

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--run", action="append", required=True, help="LABEL=PATTERN, repeatable")
    parser.add_argument("--dataset", action="append", required=True, help="value for {ds}, repeatable")
    parser.add_argument("--title", default="mIoU against clicks (networks trained here, no pretraining)")
    args = parser.parse_args()

    summaries = []
    for run in args.run:
        label, sep, pattern = run.partition("=")
        if not sep:
            parser.error(f"--run {run!r}: expected LABEL=PATTERN")
        for ds in args.dataset:
            for s in summarize_jsonl(ROOT / pattern.format(ds=ds)):
                summaries.append(dataclasses.replace(s, model=label, dataset=ds))
    print(f"wrote {plot_miou_curves(summaries, ROOT / args.out, title=args.title)}")


if __name__ == "__main__":
    main()
