"""Accuracy of the click-seeded GrabCut baseline on GrabCut and Berkeley, both click protocols.

Runs the evaluation harness (20 clicks, full curves), streaming one JSON line per object into
``--work`` (resumable: rerun the same command after an interruption and finished objects are
read back), then writes

- ``benchmarks/results/grabcut_baseline[_noise<S>].{json,md,csv}``: the summaries;
- ``docs/images/grabcut_baseline[_noise<S>]_miou.png``: mIoU against clicks.

Usage::

    python benchmarks/eval_grabcut_baseline.py            # full run (about 45 min per protocol on one busy core)
    python benchmarks/eval_grabcut_baseline.py --quick    # 2 objects, 3 clicks, into a temp folder
    python benchmarks/eval_grabcut_baseline.py --datasets grabcut --noise 5   # noisy clicks

Data: ``$NTCLICK_DATA`` or ``<repo>/../shared/data`` (``GrabCut/``, ``Berkeley/``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from ntclick.baselines import GrabCutPredictor
from ntclick.eval import ClickProtocol, evaluate, open_dataset, read_jsonl, summarize, write_summaries
from ntclick.eval.protocol import resolve_jsonl
from ntclick.eval.report import summaries_to_markdown

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 objects, 3 clicks, outputs in a temp folder")
    parser.add_argument("--work", type=Path, default=REPO / "benchmarks" / "results" / "grabcut_baseline")
    parser.add_argument("--datasets", default="grabcut,berkeley")
    parser.add_argument("--protocols", default="standard,nt")
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--noise", type=float, default=0.0, help="click noise sigma in pixels (seed 0)")
    parser.add_argument(
        "--summarize-only",
        action="store_true",
        help="run nothing: summarize the objects already in the --work JSON lines (a partial run)",
    )
    args = parser.parse_args(argv)

    limit, max_clicks = (2, 3) if args.quick else (None, args.max_clicks)
    stem = "grabcut_baseline" + (f"_noise{args.noise:g}" if args.noise > 0 else "")
    if args.quick:
        out_root = Path(tempfile.mkdtemp(prefix="ntclick_grabcut_baseline_"))
        work, results_dir, image = out_root, out_root, out_root / f"{stem}_miou.png"
    else:
        work, results_dir = args.work, REPO / "benchmarks" / "results"
        image = REPO / "docs" / "images" / f"{stem}_miou.png"

    predictor = GrabCutPredictor()
    summaries = []
    for name in args.datasets.split(","):
        dataset = open_dataset(name)
        for clicker in args.protocols.split(","):
            protocol = ClickProtocol(clicker, max_clicks=max_clicks, noise_sigma=args.noise)
            jsonl = work / f"grabcut_{dataset.name}_{protocol.name}.jsonl"
            if args.summarize_only:
                try:
                    stored = resolve_jsonl(jsonl)  # the stored runs are xz-compressed
                except FileNotFoundError as exc:
                    print(f"{exc}: skipped", file=sys.stderr)
                    continue
                results = [r for r in read_jsonl(stored) if r.settings == protocol.to_dict()]
                print(
                    f"{dataset.name} {protocol.name}: {len(results)} of {len(dataset)} objects",
                    file=sys.stderr,
                )
            else:
                results = evaluate(
                    predictor, dataset, protocol, model="grabcut", limit=limit, jsonl_path=jsonl
                )
            summaries.append(summarize(results))
    write_summaries(summaries, results_dir, stem=stem)
    try:
        from ntclick.eval.plot import plot_miou_curves

        title = "Click-seeded GrabCut baseline" + (
            f", click noise sigma {args.noise:g} px" if args.noise else ""
        )
        plot_miou_curves(summaries, image, title=title)
    except RuntimeError as exc:
        print(f"no plot: {exc}", file=sys.stderr)
    print(summaries_to_markdown(summaries), end="")
    print(f"summaries in {results_dir}, per-object results in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
