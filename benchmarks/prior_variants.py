"""Variants of ECP's GrabCut prior at inference, measured on the BSDS validation folder.

The fifteenth round's tables in ``docs/benchmarks.md`` come from this script.  On Berkeley the
bundled weights lose about one click per object to a single click that collapses the mask (IoU
down by more than 0.3), and at two thirds of those (65 of 98) the prior's foreground at least
doubles or halves (GrabCut started from the clicks alone re-fits its colour models and floods or
vanishes).
Each variant wraps the shipped predictor from outside the package:

- ``shipped``: the weights' stored settings (the reference row);
- ``guard-keep``: the prior of clicks 1..k is compared with the (guarded) prior of clicks
  1..k-1; when its foreground area grows or shrinks by more than ``--value`` times *and* by
  more than ``--floor`` of the image, the previous prior is kept with the new click's disk
  painted on it;
- ``guard-chain``: on such a jump, GrabCut is started again from the previous prior (the
  ``previous`` start of :func:`ntclick.prior.click_prior`) instead of from the clicks;
- ``size``: the prior's GrabCut runs on a copy with long side ``--value`` px
  (``ECPConfig.prior_size``) under an ECP trained at 0 (the input size, 256);
- ``components``: the prior's foreground components that hold no fg / nt click are dropped and
  its holes that hold no bg click are filled (:func:`ntclick.components.click_components` on
  the prior, clicks on the prior's grid, radius the prior's click disk) before ECP reads it
  (seventeenth round).

The guards are stateless like the predictor: a prior is a function of the click list, and the
priors of the shorter lists are memoised per image, so an evaluation computes each once.

    python benchmarks/prior_variants.py --variant guard-keep --value 3 --out benchmarks/results/fifteenth_round/val
    python benchmarks/prior_variants.py --drops benchmarks/results/eleventh_round/cs800-gc3_berkeley_standard.jsonl.xz \\
        --dataset berkeley

``--drops JSONL`` measures instead: for every click of a stored run that lowered the IoU by more
than 0.3, the whole-image prior's foreground (% of the image) before and after it, and whether
that is a jump by the guards' rule (3 times and 5% of the image).

Writes ``<out>/<label>_<dataset>_<protocol>.jsonl`` (resumable, like ``ntclick eval``), prints a
one-line summary and how many priors each guard replaced.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

VARIANTS = ("shipped", "guard-keep", "guard-chain", "size", "components")


def prior_jump(previous: np.ndarray, new: np.ndarray, ratio: float, floor: float) -> bool:
    """Whether the foreground fraction moved from ``previous`` to ``new`` by more than ``ratio``
    times (either way) and by more than ``floor`` (a fraction of the map) in absolute terms."""
    a0, a1 = float(previous.mean()), float(new.mean())
    grew = a1 > ratio * a0 and a1 - a0 > floor
    shrank = a1 * ratio < a0 and a0 - a1 > floor
    return grew or shrank


class GuardedPrior:
    """``ecp_input_maps`` with the prior channel replaced by the guarded prior (see above).

    ``rule`` is "keep" or "chain"; ``counts`` holds how many priors were computed and how many
    of them the guard replaced.  Maps with a caller's previous mask pass through unguarded."""

    def __init__(self, rule: str, ratio: float, floor: float = 0.05):
        if rule not in ("keep", "chain"):
            raise ValueError(f"rule must be 'keep' or 'chain', got {rule!r}")
        from ntclick.prior import ecp_input_maps

        self.rule, self.ratio, self.floor = rule, ratio, floor
        self.plain = ecp_input_maps
        self.memo: dict[tuple, np.ndarray] = {}
        self.counts = {"priors": 0, "replaced": 0}

    def _prior(self, image: np.ndarray, key: str, clicks: Sequence, opts: dict) -> np.ndarray:
        from ntclick.clicks import ClickKind, encode_disks
        from ntclick.prior import click_prior

        memo_key = (key, tuple((c.x, c.y, c.kind) for c in clicks), opts["scale"], opts["shape"])
        if memo_key in self.memo:
            return self.memo[memo_key]
        kwargs = dict(
            iterations=opts["iterations"],
            click_radius=opts["radius"],
            scale=opts["scale"],
            shape=opts["shape"],
        )
        new = click_prior(image, clicks, **kwargs)
        self.counts["priors"] += 1
        if len(clicks) >= 2:
            h, w = image.shape[:2]
            previous = self._prior(image, key, clicks[:-1], opts)
            if prior_jump(previous[:h, :w], new[:h, :w], self.ratio, self.floor):
                self.counts["replaced"] += 1
                if self.rule == "chain":
                    new = click_prior(image, clicks, previous=previous[:h, :w] > 0.5, **kwargs)
                else:
                    last = clicks[-1]
                    disks = encode_disks([last], opts["shape"], radius=opts["radius"], scale=opts["scale"])
                    new = previous.copy()
                    if last.kind is ClickKind.BG:
                        new[disks[1] > 0] = 0.0
                    else:
                        new[(disks[0] > 0) | (disks[2] > 0)] = 1.0
        self.memo[memo_key] = new
        return new

    def __call__(self, image: np.ndarray, clicks, **kwargs) -> np.ndarray:
        """``ecp_input_maps(image, clicks, **kwargs)`` with the guarded prior as channel 3."""
        clicks = list(clicks)
        unguarded = kwargs.get("previous") is not None or kwargs.get("prior_size", 0)
        if unguarded or kwargs.get("prior", "none") != "grabcut" or len(clicks) < 2:
            return self.plain(image, clicks, **kwargs)
        # The disk maps alone: the plain prior would be one more GrabCut, overwritten below.
        disks = self.plain(image, clicks, **{**kwargs, "prior": "none"})
        if len(self.memo) > 20000:  # one image's lists are a few hundred; drop old images
            self.memo.clear()
        scale, radius = kwargs.get("scale", 1.0), kwargs["radius"]
        opts = {
            "iterations": kwargs.get("prior_iterations", 3),
            "radius": max(1, int(round(radius))),
            "scale": (float(scale), float(scale)) if np.isscalar(scale) else tuple(float(s) for s in scale),
            "shape": tuple(disks.shape[1:]),
        }
        prior = self._prior(image, hashlib.sha1(image.tobytes()).hexdigest(), clicks, opts)
        return np.concatenate([disks, prior[None]], axis=0)


def components_prior(click_prior):
    """``click_prior`` whose foreground goes through :func:`ntclick.components.click_components`
    (clicks mapped onto the prior's grid as ``click_prior`` maps them)."""
    from ntclick.clicks import as_click, scale_clicks
    from ntclick.components import click_components

    def prior(image, clicks, **kwargs):
        clicks = [as_click(c) for c in clicks]
        out = click_prior(image, clicks, **kwargs)
        h, w = image.shape[:2]
        scale = kwargs.get("scale", 1.0)
        moved = scale_clicks(clicks, (scale, scale) if np.isscalar(scale) else scale, (h, w))
        out[:h, :w] = click_components(
            out[:h, :w] > 0.5, moved, click_radius=int(kwargs.get("click_radius", 5))
        )
        return out

    return prior


def drop_rows(predictor, dataset, records: list[dict], ratio: float = 3.0, floor: float = 0.05) -> list[dict]:
    """One row per click of ``records`` (stored ``ntclick eval`` results) that lowered the IoU
    by more than 0.3: object, click, kind, IoU before and after, the whole-image prior's
    foreground fraction before and after, and whether that is a :func:`prior_jump`."""
    from ntclick.clicks import Click, ClickKind

    samples = {s.name: s for s in dataset}
    rows = []
    for record in records:
        ious = np.asarray(record["ious"])
        drops = [k + 1 for k in np.nonzero(np.diff(ious) < -0.3)[0]]
        if not drops:
            continue
        predictor.set_image(samples[record["name"]].load().image)
        clicks = [Click(float(c["x"]), float(c["y"]), ClickKind(c["kind"])) for c in record["clicks"]]
        for k in drops:  # click k + 1 (0-based k) made the drop
            before = predictor.click_maps(clicks[:k])[3]
            after = predictor.click_maps(clicks[: k + 1])[3]
            rows.append(
                {
                    "object": record["name"],
                    "click": k + 1,
                    "kind": clicks[k].kind.value,
                    "iou_before": float(ious[k - 1]),
                    "iou_after": float(ious[k]),
                    "prior_before": float(before.mean()),
                    "prior_after": float(after.mean()),
                    "jump": prior_jump(before, after, ratio, floor),
                }
            )
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny")
    parser.add_argument("--variant", choices=VARIANTS, default="shipped")
    parser.add_argument("--value", type=float, default=None, help="guard ratio, or the prior's long side")
    parser.add_argument(
        "--floor", type=float, default=0.05, help="guards: least area change (image fraction)"
    )
    parser.add_argument("--dataset", default="folder=data/bsds_val", help="NAME or NAME=PATH")
    parser.add_argument("--protocol", choices=("standard", "nt"), default="standard")
    parser.add_argument("--target-iou", type=float, default=0.9)
    parser.add_argument("--out", default="benchmarks/results/fifteenth_round/val")
    parser.add_argument(
        "--click-components",
        action="store_true",
        help="also the predictor's click_components (label gets -cc)",
    )
    parser.add_argument("--drops", default=None, help="a stored run's jsonl: measure its IoU drops instead")
    args = parser.parse_args(argv)
    if args.drops:
        return _print_drops(args)
    if args.variant not in ("shipped", "components") and args.value is None:
        parser.error(f"--variant {args.variant} needs --value")

    from band_variants import run_variant

    import ntclick.predictor as predictor_module
    from ntclick import NTClickPredictor

    predictor = NTClickPredictor.from_pretrained(args.weights)
    label = args.variant if args.value is None else f"{args.variant}{args.value:g}"
    if args.click_components:
        predictor.click_components = True
        label += "-cc"
    guard = None
    if args.variant.startswith("guard"):
        guard = GuardedPrior(args.variant.split("-")[1], args.value, args.floor)
        predictor_module.ecp_input_maps = guard  # the predictor's one call site of the maps
    elif args.variant == "size":
        predictor.ecp.config.prior_size = int(args.value)
    elif args.variant == "components":
        import ntclick.prior as prior_module

        prior_module.click_prior = components_prior(prior_module.click_prior)  # ecp_input_maps' call
    run_variant(predictor, label, args.dataset, args.target_iou, args.out, args.protocol)
    if guard is not None:
        print(f"priors computed {guard.counts['priors']}, replaced by the guard {guard.counts['replaced']}")
    return 0


def _print_drops(args) -> int:
    from ntclick import NTClickPredictor
    from ntclick.eval import open_dataset
    from ntclick.eval.protocol import read_jsonl

    records = [json.loads(r.to_json()) for r in read_jsonl(args.drops)]
    name, _, path = args.dataset.partition("=")
    predictor = NTClickPredictor.from_pretrained(args.weights)
    rows = drop_rows(predictor, open_dataset(name, path or None), records)
    print("| object | click | kind | IoU before | IoU after | prior fg % before | after | jump |")
    print("|---|---:|---|---:|---:|---:|---:|---|")
    for r in rows:
        print(
            f"| {r['object']} | {r['click']} | {r['kind']} | {r['iou_before']:.2f} | {r['iou_after']:.2f} | "
            f"{100 * r['prior_before']:.1f} | {100 * r['prior_after']:.1f} | {'yes' if r['jump'] else ''} |"
        )
    jumps = sum(r["jump"] for r in rows)
    grew = sum(r["jump"] and r["prior_after"] > r["prior_before"] for r in rows)
    doubled = sum(
        prior_jump(np.array(r["prior_before"]), np.array(r["prior_after"]), 2.0, 0.05) for r in rows
    )
    print(
        f"{len(records)} objects, {len(rows)} drops > 0.3 ({len(rows) / max(1, len(records)):.2f} per object); "
        f"the prior jumped (3 times, 5% of the image) at {jumps} ({grew} grew, {jumps - grew} shrank); "
        f"it doubled or halved (and moved 5% of the image) at {doubled}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
