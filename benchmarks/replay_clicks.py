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
        --jsonl benchmarks/results/twelfth_round/val/new_folder_nt.jsonl.xz --object 296028_0 --clicks 6

Used for the twelfth round's trace in docs/benchmarks.md; selects nothing.

``--drops T`` instead replays every click of the file that lowered the stored IoU by more than
``T`` (each object's clicks up to that one), once as stored and once each with the band step
(``grabcut_iterations``), the zoom-in, and both switched off, and prints whether the drop is
still there; the nineteenth round's count of ECP's own collapses:

    python benchmarks/replay_clicks.py --dataset folder=data/bsds_val --drops 0.3 \
        --jsonl benchmarks/results/eleventh_round/val/cs800_folder_standard.jsonl.xz
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


def _record_clicks(record: dict) -> tuple[list, float]:
    """The record's clicks as :class:`~ntclick.clicks.Click` and the mask threshold its run
    scored with; a ``--prev-mask`` record is refused (a replay feeds clicks only)."""
    from ntclick.clicks import Click, ClickKind
    from ntclick.eval.protocol import ClickProtocol

    settings = record.get("settings", {})
    if settings.get("prev_mask"):
        raise ValueError("this record comes from a --prev-mask run; replay feeds clicks only")
    threshold = float(settings.get("mask_threshold", ClickProtocol.mask_threshold))
    return [Click(float(c["x"]), float(c["y"]), ClickKind(c["kind"])) for c in record["clicks"]], threshold


def replay(predictor, sample, record: dict, max_clicks: int | None = None) -> list[dict]:
    """Run ``predictor`` on ``sample`` (a loaded dataset object) with the record's clicks, one
    more each time; one row per click: kind, x, y, stored and replayed IoU, composition."""
    from ntclick.eval.protocol import prediction_masks
    from ntclick.metrics import iou

    clicks, threshold = _record_clicks(record)
    predictor.set_image(sample.image)
    rows = []
    for k, c in enumerate(record["clicks"][:max_clicks]):
        prediction = predictor.predict(clicks[: k + 1])
        mask, fbu = prediction_masks(prediction, threshold, sample.gt.shape)
        row = {"click": k + 1, "kind": c["kind"], "x": c["x"], "y": c["y"], "stored_iou": record["ious"][k]}
        row["iou"] = float(iou(mask, sample.gt, ignore=sample.ignore))
        row.update(composition(fbu, mask, sample.gt))
        rows.append(row)
    return rows


SWITCHES = {
    "as stored": {},
    "band step off": {"grabcut_iterations": 0},
    "zoom-in off": {"zoom_in": False},
    "both off": {"grabcut_iterations": 0, "zoom_in": False},
}


def drop_clicks(ious: list[float], threshold: float) -> list[int]:
    """0-based indices of the clicks after which the IoU fell by more than ``threshold``."""
    return [k for k in range(1, len(ious)) if ious[k] < ious[k - 1] - threshold]


def replay_drops(predictor, sample, record: dict, threshold: float) -> list[dict]:
    """One row per drop of ``record``: click number, kind, stored IoU before and after, the
    mask's ``growth`` over the click (area after / area before, stored settings), the IoU after
    it with each of :data:`SWITCHES` (the predictor's settings restored after each)."""
    from ntclick.eval.protocol import prediction_masks
    from ntclick.metrics import iou

    clicks, mask_threshold = _record_clicks(record)
    ious = record["ious"]
    rows = []
    drops = drop_clicks(ious, threshold)
    if drops:
        predictor.set_image(sample.image)
    for k in drops:
        row = {"click": k + 1, "kind": clicks[k].kind.value, "before": ious[k - 1], "stored": ious[k]}
        masks = {}
        for name, switch in SWITCHES.items():
            saved = {key: getattr(predictor, key) for key in switch}
            try:
                for key, value in switch.items():
                    setattr(predictor, key, value)
                masks[name], _ = prediction_masks(
                    predictor.predict(clicks[: k + 1]), mask_threshold, sample.gt.shape
                )
            finally:
                for key, value in saved.items():
                    setattr(predictor, key, value)
            row[name] = float(iou(masks[name], sample.gt, ignore=sample.ignore))
        # the mask's growth over the click, with the stored settings
        before, _ = prediction_masks(predictor.predict(clicks[:k]), mask_threshold, sample.gt.shape)
        row["growth"] = int(masks["as stored"].sum()) / max(int(before.sum()), 1)
        rows.append(row)
    return rows


def _main_drops(predictor, dataset, jsonl: str, threshold: float) -> int:
    from ntclick.eval.protocol import read_jsonl

    samples = {dataset[i].name: dataset[i] for i in range(len(dataset))}
    names = list(SWITCHES)
    print("| object | click | kind | IoU before | growth | " + " | ".join(names) + " |")
    print("|---|---:|---|---:|---:|" + "---:|" * len(names))
    still = dict.fromkeys(names, 0)
    total, objects = 0, 0
    for result in read_jsonl(jsonl):
        record = json.loads(result.to_json())
        if not drop_clicks(record["ious"], threshold):
            continue
        if record["name"] not in samples:
            print(f"object {record['name']!r} is not in the dataset", file=sys.stderr)
            return 2
        rows = replay_drops(predictor, samples[record["name"]].load(), record, threshold)
        objects += 1
        for r in rows:
            total += 1
            for name in names:
                still[name] += r[name] < r["before"] - threshold
            cells = " | ".join(f"{r[name]:.3f}" for name in names)
            print(
                f"| {record['name']} | {r['click']} | {r['kind']} | {r['before']:.3f} | {r['growth']:.2f} | {cells} |"
            )
    summary = ", ".join(f"{name} {still[name]}" for name in names)
    print(f"\n{total} drops by more than {threshold:g} on {objects} objects; still a drop: {summary}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny")
    parser.add_argument("--dataset", required=True, help="NAME or NAME=PATH, as for ntclick eval")
    parser.add_argument("--jsonl", required=True, help="an ntclick eval output file holding the object")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--object", help="the object's name in the jsonl")
    which.add_argument(
        "--drops", type=float, metavar="T", help="every click of the file that lowered the IoU by more than T"
    )
    parser.add_argument("--clicks", type=int, default=None, help="replay only the first N clicks")
    args = parser.parse_args(argv)

    from ntclick import NTClickPredictor
    from ntclick.eval import open_dataset

    name, _, path = args.dataset.partition("=")
    dataset = open_dataset(name, path or None)
    if args.drops is not None:
        return _main_drops(NTClickPredictor.from_pretrained(args.weights), dataset, args.jsonl, args.drops)
    record = stored_record(args.jsonl, args.object)
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
