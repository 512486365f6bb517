"""How much of the error is the uncertain band's?  Two measurements of a weights folder.

1. **Band oracle** (default): the simulated user clicks as in ``ntclick eval`` (standard or nt
   protocol, 20 clicks, stop at ``--target-iou``), and after every click ECP's certain
   foreground and background are kept while its *uncertain* band takes the ground truth's label.
   The clicks it needs are what a perfect band step (GrabCut, HRR or anything after ECP) could
   reach with this ECP: a ceiling, not a predictor.
2. **Where the errors are** (``--errors JSONL``): the stored clicks of an ``ntclick eval`` run are
   replayed with the weights' stored settings, and after clicks 3, 6 and 10 every wrong pixel is
   counted by ECP's class at that pixel (certain bg, band, certain fg) and by its distance to the
   ground truth's boundary, in % of the object's area (mean over objects and clicks).  Errors
   within a pixel or two of the boundary are edge precision; errors far inside the band are
   regions the band step decided wrongly.

    python benchmarks/band_oracle.py --weights weights/ntclick-tiny --dataset folder=data/bsds_val \\
        --out benchmarks/results/fourteenth_round/val
    python benchmarks/band_oracle.py --weights weights/ntclick-tiny --dataset folder=data/bsds_val \\
        --errors benchmarks/results/eleventh_round/val/cs800_folder_standard.jsonl.xz \\
        --out benchmarks/results/fourteenth_round/val

The oracle writes ``<out>/band-oracle_<dataset>_<protocol>.jsonl`` (per-object curves, as ``ntclick
eval`` writes them; ``ntclick.eval.summarize_jsonl`` reads it) and prints NoC / NoF; the error
table is printed and written as ``<out>/band-errors_<dataset>.json``.  Both atomically.  Used to
decide where training time should go (fourteenth round); selects nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

from ntclick.fbu import BG, FG, UNCERTAIN

DISTANCE_BINS = (0.0, 1.5, 3.5, 8.5, np.inf)  # L2 distance to the boundary: 1, 2-3, 4-8, > 8 px
DISTANCE_LABELS = ("<= 1 px", "2-3 px", "4-8 px", "> 8 px")
CLASSES = (("certain bg", BG), ("band", UNCERTAIN), ("certain fg", FG))


def oracle_mask(fbu: np.ndarray, gt: np.ndarray) -> np.ndarray:
    """bool (H, W): ECP's certain fg, plus the band pixels the ground truth calls foreground."""
    return (fbu == FG) | ((fbu == UNCERTAIN) & gt)


class BandOracle:
    """A predictor (``set_image`` / ``predict``) whose band is filled from ``gt``, which the caller
    sets before each object; ``predictor`` must run without the band step (its FBU map is ECP's)."""

    def __init__(self, predictor) -> None:
        self.predictor = predictor
        self.gt: np.ndarray | None = None

    def set_image(self, image: np.ndarray) -> None:
        self.predictor.set_image(image)

    def predict(self, clicks):
        from ntclick.prediction import Prediction

        if self.gt is None:
            raise RuntimeError("set BandOracle.gt to the object's ground truth before predicting")
        prediction = self.predictor.predict(clicks)
        mask = oracle_mask(prediction.fbu, self.gt)
        return Prediction(mask=mask, soft=mask.astype(np.float32), fbu=prediction.fbu)

    def describe(self) -> dict:
        from ntclick.eval.protocol import describe_predictor

        return {**describe_predictor(self.predictor), "band": "ground truth (oracle)"}


def boundary_distance(gt: np.ndarray) -> np.ndarray:
    """float32 (H, W): each pixel's L2 distance (3 x 3 mask) to the other class of ``gt``.  Not
    ``ntclick.clicker.distance_to_boundary``: that one counts the image border as outside, and an
    object cut by the frame has no boundary there."""
    inside = cv2.distanceTransform(gt.astype(np.uint8), cv2.DIST_L2, 3)
    outside = cv2.distanceTransform((~gt).astype(np.uint8), cv2.DIST_L2, 3)
    return np.where(gt, inside, outside)


def error_shares(
    mask: np.ndarray, fbu: np.ndarray, gt: np.ndarray, ignore: np.ndarray | None = None
) -> np.ndarray:
    """float (3, 4): wrong pixels of ``mask`` by ECP class (rows: certain bg, band, certain fg) and
    distance to the boundary (columns: ``DISTANCE_LABELS``), as fractions of the object's area."""
    wrong = mask != gt
    if ignore is not None:
        wrong &= ~ignore
    distance = boundary_distance(gt)
    area = max(int(gt.sum()), 1)
    table = np.zeros((len(CLASSES), len(DISTANCE_LABELS)))
    for row, (_, value) in enumerate(CLASSES):
        counts, _ = np.histogram(distance[wrong & (fbu == value)], bins=DISTANCE_BINS)
        table[row] = counts / area
    return table


def run_oracle(predictor, dataset, protocol, out: Path, label: str) -> list:
    """Every object of ``dataset`` through ``protocol`` with the band oracle; writes the jsonl."""
    from ntclick.eval.protocol import run_object
    from ntclick.image_io import atomic_write_bytes

    oracle = BandOracle(predictor)
    results, lines = [], []
    for i, sample in enumerate(dataset):
        loaded = sample.load()
        oracle.gt = loaded.gt
        result = run_object(oracle, loaded, protocol, dataset=dataset.name, model=label)
        result.predictor = oracle.describe()
        results.append(result)
        lines.append(result.to_json())
        print(f"\r{i + 1}/{len(dataset)} objects", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    atomic_write_bytes(out, ("\n".join(lines) + "\n").encode("utf-8"))
    return results


def run_errors(
    predictor, dataset, jsonl: str, clicks: tuple[int, ...] = (3, 6, 10)
) -> tuple[np.ndarray, int, int]:
    """Mean :func:`error_shares` over every object of ``dataset`` in ``jsonl`` at each click count
    in ``clicks`` the object reached; returns (table, number of predictions, how many of them
    scored an IoU more than 0.001 away from the stored one: the run was not made by this
    predictor, and the table then describes other masks than the run's)."""
    from ntclick.eval.protocol import read_jsonl
    from ntclick.metrics import iou

    records = {r.name: r for r in read_jsonl(jsonl)}
    total, n, mismatched = np.zeros((len(CLASSES), len(DISTANCE_LABELS))), 0, 0
    for i, sample in enumerate(dataset):
        record = records.get(sample.name)
        if record is None:
            raise KeyError(f"object {sample.name!r} is not in {jsonl}")
        loaded = sample.load()
        predictor.set_image(loaded.image)
        for k in (k for k in clicks if k <= len(record.clicks)):
            prediction = predictor.predict([c.click() for c in record.clicks[:k]])
            total += error_shares(prediction.mask, prediction.fbu, loaded.gt, loaded.ignore)
            n += 1
            replayed = float(iou(prediction.mask, loaded.gt, ignore=loaded.ignore))
            mismatched += abs(replayed - record.ious[k - 1]) > 1e-3
        print(f"\r{i + 1}/{len(dataset)} objects", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    if n == 0:
        raise ValueError(f"no object in {jsonl} reached any of clicks {clicks}")
    return total / n, n, mismatched


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny")
    parser.add_argument("--dataset", required=True, help="NAME or NAME=PATH, as for ntclick eval")
    parser.add_argument("--protocol", choices=("standard", "nt"), default="standard")
    parser.add_argument("--target-iou", type=float, default=0.9)
    parser.add_argument("--errors", metavar="JSONL", help="tabulate the errors of this eval run instead")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)

    from ntclick import NTClickPredictor
    from ntclick.eval import open_dataset
    from ntclick.eval.protocol import ClickProtocol
    from ntclick.eval.report import summarize
    from ntclick.image_io import atomic_write_bytes

    name, _, path = args.dataset.partition("=")
    dataset = open_dataset(name, path or None)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.errors:
        predictor = NTClickPredictor.from_pretrained(args.weights)
        table, n, mismatched = run_errors(predictor, dataset, args.errors)
        if mismatched:
            print(
                f"warning: {mismatched} of {n} replayed IoUs differ from the stored ones by > 0.001: "
                f"{args.errors} was not made by {args.weights} with its stored settings",
                file=sys.stderr,
            )
        print(f"wrong pixels, % of the object's area, mean over {n} predictions (clicks 3, 6, 10)")
        print(f"{'ECP class':12s}" + "".join(f"{label:>10s}" for label in DISTANCE_LABELS))
        for (label, _), row in zip(CLASSES, table, strict=True):
            print(f"{label:12s}" + "".join(f"{100 * v:10.2f}" for v in row))
        print(f"{'all':12s}" + "".join(f"{100 * v:10.2f}" for v in table.sum(axis=0)))
        payload = {
            "weights": args.weights,
            "dataset": args.dataset,
            "stored_clicks": args.errors,
            "predictions": n,
            "replayed_iou_mismatches": mismatched,
            "rows": [label for label, _ in CLASSES],
            "columns": list(DISTANCE_LABELS),
            "percent_of_object_area": (100 * table).round(3).tolist(),
        }
        out = args.out / f"band-errors_{dataset.name}.json"
        atomic_write_bytes(out, (json.dumps(payload, indent=2) + "\n").encode("utf-8"))
        print(f"wrote {out}")
        return 0

    predictor = NTClickPredictor.from_pretrained(args.weights, grabcut_iterations=0)
    protocol = ClickProtocol(args.protocol, target_iou=args.target_iou)
    out = args.out / f"band-oracle_{dataset.name}_{args.protocol}.jsonl"
    summary = summarize(run_oracle(predictor, dataset, protocol, out, "band-oracle"))
    print(
        f"band oracle, {dataset.name}, {args.protocol}: {summary.objects} objects, "
        f"NoC@85 {summary.noc['85']:.2f}, NoC@90 {summary.noc['90']:.2f}, NoF@90 {summary.nof['90']}"
    )
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
