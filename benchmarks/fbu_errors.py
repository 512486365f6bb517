"""Where does an ECP go wrong?  Its FBU map scored through the evaluation's clicker.

The band step and HRR only decide ECP's uncertain band, so a pixel ECP calls certain
foreground or background stays as it is: certain-but-wrong pixels are errors nothing after ECP
can undo, and a wide band leaves more for the weaker step after it to decide.  This benchmark
replays the evaluation protocol exactly (``ntclick.eval.protocol.run_object``: standard
clicker, no stop at a target IoU) for each weights folder and records, after clicks 1, 3, 5,
10 and 20, per object:

- ``band``: ECP's uncertain band, % of the image;
- ``certain_wrong``: pixels ECP calls certain fg where the ground truth is bg, or the reverse,
  in % of the object's area (so large and small objects weigh the same);
- ``iou``: the final mask's IoU.

    python benchmarks/fbu_errors.py --weights weights/ntclick-tiny runs/w_other \\
        --dataset folder=data/bsds_val --limit 20 --out benchmarks/results/tenth_round/fbu_errors.json

Prints a table of means and writes the JSON atomically. Not used for selecting anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from ntclick.fbu import BG, FG, UNCERTAIN

CHECKPOINTS = (1, 3, 5, 10, 20)


class _Recorder:
    """A predictor that keeps every prediction's FBU map (uint8 (H, W), 0 / 128 / 255)."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        self.fbus: list[np.ndarray] = []

    def set_image(self, image: np.ndarray) -> None:
        self.fbus = []
        self.predictor.set_image(image)

    def predict(self, clicks, **kwargs):
        prediction = self.predictor.predict(clicks, **kwargs)
        self.fbus.append(np.asarray(prediction.fbu))
        return prediction


def fbu_scores(fbu: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None) -> dict[str, float]:
    """Band share (% of the image) and certain-but-wrong pixels (% of the object's area) of one FBU map."""
    keep = np.ones_like(gt, bool) if ignore is None else ~ignore
    wrong = ((fbu == FG) & ~gt | (fbu == BG) & gt) & keep
    return {
        "band": 100.0 * float(((fbu == UNCERTAIN) & keep).sum()) / max(1, int(keep.sum())),
        "certain_wrong": 100.0 * float(wrong.sum()) / max(1, int((gt & keep).sum())),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", nargs="+", required=True, help="weights folders or Hub ids")
    p.add_argument("--dataset", required=True, help="NAME[=PATH] as for `ntclick eval`")
    p.add_argument("--limit", type=int, default=None, help="only the first N objects")
    p.add_argument("--out", type=Path, required=True, help="JSON path")
    args = p.parse_args(argv)

    from ntclick.commands.eval import _parse_dataset
    from ntclick.eval import open_dataset
    from ntclick.eval.protocol import ClickProtocol, run_object
    from ntclick.image_io import atomic_write_bytes
    from ntclick.predictor import NTClickPredictor

    name, path = _parse_dataset(args.dataset)
    dataset = open_dataset(name, path)
    n = len(dataset) if args.limit is None else min(args.limit, len(dataset))
    protocol = ClickProtocol(max_clicks=max(CHECKPOINTS), target_iou=None)
    rows = []
    start = time.perf_counter()
    for weights in args.weights:
        recorder = _Recorder(NTClickPredictor.from_pretrained(weights))
        per_click: dict[int, list[dict[str, float]]] = {k: [] for k in CHECKPOINTS}
        for i in range(n):
            sample = dataset[i].load()
            result = run_object(recorder, sample, protocol)
            for k in CHECKPOINTS:
                j = min(k, len(result.ious)) - 1  # a perfect mask ends early: keep its last state
                scores = fbu_scores(recorder.fbus[j], sample.gt, sample.ignore)
                per_click[k].append({**scores, "iou": 100.0 * result.ious[j]})
            print(
                f"\r{weights}: {i + 1}/{n} objects, {time.perf_counter() - start:.0f} s",
                end="",
                file=sys.stderr,
                flush=True,
            )
        print(file=sys.stderr)
        for k in CHECKPOINTS:
            means = {
                m: float(np.mean([o[m] for o in per_click[k]])) for m in ("band", "certain_wrong", "iou")
            }
            rows.append({"weights": str(weights), "clicks": k, **means})

    print(f"\n{n} objects of {dataset.name}, standard clicker, no stop at a target IoU\n")
    print("| weights | clicks | band (% of image) | certain but wrong (% of object) | mIoU |")
    print("|---|---:|---:|---:|---:|")
    for r in rows:
        print(
            f"| {r['weights']} | {r['clicks']} | {r['band']:.1f} | {r['certain_wrong']:.1f} | {r['iou']:.1f} |"
        )
    payload = {"dataset": dataset.name, "objects": n, "protocol": protocol.to_dict(), "rows": rows}
    atomic_write_bytes(args.out, (json.dumps(payload, indent=2) + "\n").encode())
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
