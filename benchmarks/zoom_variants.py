"""Variants of the predictor's zoom-in crop, measured on the BSDS validation folder.

The zoom-in (``zoom_in=True``, RITM's) runs ECP a second time on a crop around the first
pass's object. Its three numbers were taken from RITM, never measured here; each variant
below changes one of them on the shipped predictor from outside the package (twentieth round):

- ``shipped``: the weights' stored settings, unchanged (the reference row);
- ``expand``: the object's box is grown ``--value`` times about its centre
  (``NTClickPredictor.ZOOM_EXPAND``, 1.4 shipped);
- ``least``: the crop's side is at least ``--value`` x ``ecp_size`` working pixels (1 shipped),
  so a small object is enlarged past the first pass's scale when below 1;
- ``gain``: the second pass runs only when it enlarges the object at least ``--value`` times
  (``NTClickPredictor.ZOOM_MIN_GAIN``, 1.25 shipped);
- ``clicks``: the zoom-in starts at click ``--value`` (``NTClickPredictor.ZOOM_MIN_CLICKS``, 2
  shipped; 1 zooms on the first click's own first pass).

    python benchmarks/zoom_variants.py --variant least --value 0.5 \\
        --dataset folder=data/bsds_val --out benchmarks/results/twentieth_round/val

Writes ``<out>/zoom-<variant><value>_<dataset>_<protocol>.jsonl`` (resumable, like
``ntclick eval``) and prints a one-line summary; objects stopped at ``--target-iou`` (0.9).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

VARIANTS = ("shipped", "expand", "least", "gain", "clicks")


def least_side(predictor, fraction: float) -> None:
    """The zoom-in crop's least side becomes ``fraction * ecp_size`` (``zoom_box`` reads
    ``ecp_size`` for nothing else), in place."""
    if fraction <= 0:
        raise ValueError(f"least must be positive, got {fraction}")
    zoom_box = predictor.zoom_box

    def smaller_least(classes, clicks):
        saved = predictor.ecp_size
        predictor.ecp_size = max(1, int(round(saved * fraction)))
        try:
            return zoom_box(classes, clicks)
        finally:
            predictor.ecp_size = saved

    predictor.zoom_box = smaller_least


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny")
    parser.add_argument("--variant", choices=VARIANTS, default="shipped")
    parser.add_argument("--value", type=float, default=None, help="the variant's number (see above)")
    parser.add_argument("--dataset", default="folder=data/bsds_val", help="NAME or NAME=PATH")
    parser.add_argument("--protocol", choices=("standard", "nt"), default="standard")
    parser.add_argument("--target-iou", type=float, default=0.9)
    parser.add_argument("--out", default="benchmarks/results/twentieth_round/val")
    args = parser.parse_args(argv)
    if args.variant != "shipped" and (args.value is None or args.value <= 0):
        parser.error(f"--variant {args.variant} needs a positive --value")

    from ntclick import NTClickPredictor

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from band_variants import run_variant

    predictor = NTClickPredictor.from_pretrained(args.weights)
    if not predictor.zoom_in:
        parser.error(f"{args.weights} does not store zoom_in=true; these variants change the zoom-in")
    label = "zoom-shipped" if args.variant == "shipped" else f"zoom-{args.variant}{args.value:g}"
    if args.variant == "expand":
        predictor.ZOOM_EXPAND = args.value
    elif args.variant == "gain":
        predictor.ZOOM_MIN_GAIN = args.value
    elif args.variant == "clicks":
        predictor.ZOOM_MIN_CLICKS = int(args.value)
    elif args.variant == "least":
        least_side(predictor, args.value)
    run_variant(predictor, label, args.dataset, args.target_iou, args.out, args.protocol)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
