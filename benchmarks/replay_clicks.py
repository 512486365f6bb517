"""Why did one object fail?  Replay its stored clicks and print what ECP's FBU map did.

``ntclick eval`` stores every click of every object in its jsonl.  This script runs a weights
folder (with its stored settings) on one object's stored clicks and prints, after each click,
the IoU stored in the file, the IoU it gets now (they agree when the run used these weights and
settings), and the FBU map's composition in % of the image:

- ``fg`` / ``band`` / ``bg``: ECP's certain foreground, uncertain band and certain background;
- ``band on gt bg``: band pixels the ground truth calls background (what the band step may leak into);
- ``fg on gt bg``: certain foreground on background (nothing after ECP can undo it);
- ``mask on gt bg``: the final mask's false positives.

    python benchmarks/replay_clicks.py --weights weights/ntclick-tiny --dataset folder=data/bsds_val \\
        --jsonl benchmarks/results/twelfth_round/val/new_folder_nt.jsonl --object 296028_0 --clicks 6

Used for the twelfth round's trace in docs/benchmarks.md; selects nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from ntclick.fbu import BG, FG, UNCERTAIN


def stored_record(jsonl: str | Path, name: str) -> dict:
    """The jsonl record of object ``name``, as a dict (``KeyError`` naming the file when absent)."""
    from ntclick.eval.protocol import read_jsonl

    for result in read_jsonl(jsonl):
        if result.name == name:
            return json.loads(result.to_json())
    raise KeyError(f"object {name!r} is not in {jsonl}")


def composition(fbu: np.ndarray, mask: np.ndarray, gt: np.ndarray) -> dict[str, float]:
    """The FBU map and mask against the ground truth, each in % of the image."""
    background = ~gt
    share = lambda region: 100.0 * float(region.mean())  # noqa: E731
    return {
        "fg": share(fbu == FG),
        "band": share(fbu == UNCERTAIN),
        "bg": share(fbu == BG),
        "band on gt bg": share((fbu == UNCERTAIN) & background),
        "fg on gt bg": share((fbu == FG) & background),
        "mask on gt bg": share(mask & background),
    }


def replay(predictor, sample, record: dict, max_clicks: int | None = None) -> list[dict]:
    """Run ``predictor`` on ``sample`` (a loaded dataset object) with the record's clicks, one
    more each time; one row per click: kind, x, y, stored and replayed IoU, composition."""
    from ntclick.clicks import Click, ClickKind
    from ntclick.eval.protocol import ClickProtocol, prediction_masks
    from ntclick.metrics import iou

    settings = record.get("settings", {})
    if settings.get("prev_mask"):
        raise ValueError("this record comes from a --prev-mask run; replay feeds clicks only")
    threshold = float(settings.get("mask_threshold", ClickProtocol.mask_threshold))
    predictor.set_image(sample.image)
    clicks, rows = [], []
    for k, c in enumerate(record["clicks"][:max_clicks]):
        clicks.append(Click(float(c["x"]), float(c["y"]), ClickKind(c["kind"])))
        prediction = predictor.predict(clicks)
        mask, fbu = prediction_masks(prediction, threshold, sample.gt.shape)
        row = {"click": k + 1, "kind": c["kind"], "x": c["x"], "y": c["y"], "stored_iou": record["ious"][k]}
        row["iou"] = float(iou(mask, sample.gt, ignore=sample.ignore))
        row.update(composition(fbu, mask, sample.gt))
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny")
    parser.add_argument("--dataset", required=True, help="NAME or NAME=PATH, as for ntclick eval")
    parser.add_argument("--jsonl", required=True, help="an ntclick eval output file holding the object")
    parser.add_argument("--object", required=True, help="the object's name in the jsonl")
    parser.add_argument("--clicks", type=int, default=None, help="replay only the first N clicks")
    args = parser.parse_args(argv)

    from ntclick import NTClickPredictor
    from ntclick.eval import open_dataset

    record = stored_record(args.jsonl, args.object)
    name, _, path = args.dataset.partition("=")
    dataset = open_dataset(name, path or None)
    sample = next((s for s in map(dataset.__getitem__, range(len(dataset))) if s.name == args.object), None)
    if sample is None:
        print(f"object {args.object!r} is not in dataset {args.dataset}", file=sys.stderr)
        return 2
    predictor = NTClickPredictor.from_pretrained(args.weights)
    rows = replay(predictor, sample.load(), record, args.clicks)
    keys = ["fg", "band", "bg", "band on gt bg", "fg on gt bg", "mask on gt bg"]
    print("| click | kind | x, y | stored IoU | IoU | " + " | ".join(f"{k} %" for k in keys) + " |")
    print("|---:|---|---|---:|---:|" + "---:|" * len(keys))
    for r in rows:
        cells = " | ".join(f"{r[k]:.1f}" for k in keys)
        print(
            f"| {r['click']} | {r['kind']} | {r['x']:g}, {r['y']:g} | {r['stored_iou']:.3f} | {r['iou']:.3f} | {cells} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
