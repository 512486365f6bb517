"""Variants that give the predictor a memory of its previous answer, measured on BSDS val.

The shipped predictor is stateless: every ``predict(clicks)`` starts from the clicks alone. The
seventh round's selection table in ``docs/benchmarks.md`` tried two ways of carrying the
previous click's mask forward. Both wrap the shipped predictor from outside the package and
apply only when the clicks extend the previous call's clicks by one (the evaluation loop):

- ``merge``: progressive merge (FocalClick's idea): from click ``--value`` on, only the changed
  region that contains the new click is taken from the new prediction; the rest of the mask
  stays the previous one (:func:`progressive_merge`);
- ``prior-mask``: ECP's prior channel (normally GrabCut from the clicks at ECP's input size)
  is the previous mask instead;
- ``prior-grabcut``: the prior is GrabCut at ECP's input size started from the previous mask
  (probable fg / bg) with the clicks painted as the prior's own rules paint them.  Since the
  eighth round this is the package's own ``predict(clicks, prev_mask=...)``; the variant passes
  it, and the prototype's runs were reproduced object for object by it;
- ``guard``: the nineteenth round's first click guard: the new mask goes through
  :func:`ntclick.click_guard.guard_mask` against the previous answer (``--wrong``,
  ``--flood``, ``--reach``); the package's ``click_guard`` setting is this rule with growth
  measured against the largest earlier answer (``ntclick eval --click-guard`` measures that);
- ``guard-prior``: the same guard with the previous mask also handed to the predictor as
  ``prior-grabcut`` does.

    python benchmarks/memory_variants.py --variant merge --value 2 --dataset folder=data/bsds_val \\
        --out benchmarks/results/seventh_round

Writes ``<out>/<label>_<dataset>_<protocol>.jsonl`` (resumable, like ``ntclick eval``) and prints
a one-line summary. ``--protocol`` standard (default) or nt, stopped at ``--target-iou`` (0.9),
as the selection runs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np

VARIANTS = ("merge", "prior-mask", "prior-grabcut", "guard", "guard-prior")


def progressive_merge(previous: np.ndarray, new: np.ndarray, x: int, y: int) -> np.ndarray:
    """The previous bool mask with only the new mask's changed region around pixel ``(x, y)``.

    The pixels where ``new`` differs from ``previous`` are split into 8-connected regions; the
    one that holds ``(x, y)`` (column, row) takes ``new``'s values, every other pixel keeps
    ``previous``.  When the clicked pixel did not change, ``new`` is returned whole (nothing
    local to keep).  A new array; the inputs are untouched.
    """
    changed = (previous != new).astype(np.uint8)
    _, labels = cv2.connectedComponents(changed, connectivity=8)
    label = labels[y, x]
    if label == 0:
        return new.copy()
    out = previous.copy()
    region = labels == label
    out[region] = new[region]
    return out


class MemoryPredictor:
    """The shipped predictor plus one of :data:`VARIANTS`; the evaluation's ``Predictor``."""

    def __init__(self, predictor: Any, variant: str, start: int = 2, **guard: float) -> None:
        if variant not in VARIANTS:
            raise ValueError(f"unknown variant {variant!r}; expected one of {VARIANTS}")
        self.inner, self.variant, self.start = predictor, variant, int(start)
        self.guard = guard
        self._previous: np.ndarray | None = None  # bool (H, W): the last answer
        self._previous_clicks: list | None = None
        if variant == "prior-mask":
            self._maps = predictor._ecp_maps
            predictor._ecp_maps = self._mask_as_prior

    def describe(self) -> dict[str, Any]:
        return {**self.inner.describe(), "memory": [self.variant, self.start, self.guard]}

    def set_image(self, image: np.ndarray) -> None:
        self.inner.set_image(image)
        self._previous = self._previous_clicks = None

    def predict(self, clicks: list) -> Any:
        from ntclick.click_guard import GuardSettings, guard_mask
        from ntclick.prediction import Prediction

        clicks = list(clicks)
        extends = self._previous_clicks is not None and self._previous_clicks == clicks[:-1]
        previous = self._previous if extends and len(clicks) >= self.start else None
        if self.variant in ("merge", "guard") or previous is None:
            prediction = self.inner.predict(clicks)
        else:
            prediction = self.inner.predict(clicks, prev_mask=previous)
        mask = prediction.soft > 0.49  # the evaluation's threshold
        if self.variant == "merge" and previous is not None:
            h, w = mask.shape
            last = clicks[-1]
            x, y = min(w - 1, int(round(last.x))), min(h - 1, int(round(last.y)))
            mask = progressive_merge(previous, mask, x, y)
            prediction = Prediction(mask=mask, soft=mask.astype(np.float32), fbu=prediction.fbu)
        if self.variant.startswith("guard") and previous is not None:
            last = clicks[-1]
            mask = guard_mask(previous, mask, last, GuardSettings(**self.guard))
            prediction = Prediction(mask=mask, soft=mask.astype(np.float32), fbu=prediction.fbu)
        self._previous, self._previous_clicks = mask, clicks
        return prediction

    def _mask_as_prior(self, image, clicks, scale, shape, previous=None):
        """``prior-mask``: the previous mask itself (on ``image``, as the package resizes and
        crops it) replaces the GrabCut prior channel."""
        maps = self._maps(image, clicks, scale, shape)
        if previous is not None:
            h, w = image.shape[:2]
            maps[3] = 0
            maps[3, :h, :w] = previous
        return maps


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny")
    parser.add_argument("--variant", choices=VARIANTS, required=True)
    parser.add_argument("--value", type=int, default=2, help="the first click the memory applies to (>= 2)")
    parser.add_argument("--dataset", default="folder=data/bsds_val", help="NAME or NAME=PATH")
    parser.add_argument(
        "--target-iou",
        type=lambda v: None if v == "none" else float(v),
        default=0.9,
        help="stop each object at this IoU (default 0.9); none: all clicks, full curves",
    )
    parser.add_argument("--protocol", default="standard", choices=("standard", "nt"))
    parser.add_argument(
        "--wrong", type=float, default=1.1, help="guard: area change against a click's direction"
    )
    parser.add_argument("--flood", type=float, default=3.0, help="guard: area growth from one fg click")
    parser.add_argument("--reach", type=float, default=0.5, help="guard: repair radius / sqrt(previous area)")
    parser.add_argument("--out", default="benchmarks/results/seventh_round")
    args = parser.parse_args(argv)
    if args.value < 2:
        parser.error("--value must be >= 2 (the first click has no previous mask)")

    from ntclick import NTClickPredictor

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from band_variants import run_variant

    inner = NTClickPredictor.from_pretrained(args.weights)
    if args.variant not in ("merge", "guard") and inner.ecp.config.prior == "none":
        parser.error(f"--variant {args.variant} needs an ECP with a prior channel")
    guard, label = {}, f"{args.variant}{args.value}"
    if args.variant.startswith("guard"):
        guard = {"wrong": args.wrong, "flood": args.flood, "reach": args.reach}
        label = f"{args.variant}-w{args.wrong:g}-f{args.flood:g}-r{args.reach:g}"
    run_variant(
        MemoryPredictor(inner, args.variant, args.value, **guard),
        label,
        args.dataset,
        args.target_iou,
        args.out,
        args.protocol,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
