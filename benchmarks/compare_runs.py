"""Paired comparison of two evaluation runs on the same objects.

Averages over a data set hide which objects moved. This script matches the per-object records of
a reference run and a candidate run (``ntclick eval`` JSON lines, plain or xz-compressed as
stored, matched by data set and object name) and reports, for each threshold, the mean
per-object change in clicks needed (NoC) with its standard error, how many objects got better or
worse, the change in mean IoU after k clicks, and how often a click *lowered* the IoU by more than 0.1 (a user sees the mask jump
back). The eighth round's table in ``docs/benchmarks.md`` comes from it:

    python benchmarks/compare_runs.py \\
        benchmarks/results/bundled_gc3/ntclick-tiny-gc3_berkeley_standard.jsonl.xz \\
        benchmarks/results/eighth_round/ntclick-tiny-gc3_berkeley_standard-prev.jsonl.xz \\
        --json benchmarks/results/eighth_round/paired_berkeley_standard.json

Both runs must use the same click budget; objects present in only one run are left out and
counted. Runs stopped early at a target IoU (``--target-iou``) give NoC only up to that target.

Several folders pool into one paired comparison by giving more pairs, reference then candidate
for each (objects are matched within their pair, so two folders cut from the same images may
share object names):

    python benchmarks/compare_runs.py REF_VAL NEW_VAL REF_VAL60 NEW_VAL60 --json paired_all100.json
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence
from pathlib import Path

from ntclick.eval.protocol import read_jsonl, resolve_jsonl
from ntclick.image_io import atomic_write_bytes
from ntclick.metrics import noc

THRESHOLDS = (0.85, 0.9, 0.95)
AT_CLICKS = (1, 5, 20)
DROP = 0.1


def mean_and_error(values: Sequence[float]) -> tuple[float, float]:
    """Mean and its standard error (sample standard deviation / sqrt(n); 0 for one value)."""
    if not values:
        raise ValueError("no values to average")
    n = len(values)
    mean = sum(values) / n
    if n == 1:
        return mean, 0.0
    var = sum((v - mean) ** 2 for v in values) / (n - 1)
    return mean, math.sqrt(var / n)


def drops(ious: Sequence[float], size: float = DROP) -> int:
    """How many clicks lowered the IoU by more than ``size``."""
    return sum(1 for a, b in zip(ious[:-1], ious[1:], strict=True) if b < a - size)


def _by_object(records: Sequence, run: str) -> dict:
    """``{(data set, object name): record}``; a name twice in one run is an error, not a silent overwrite."""
    out: dict = {}
    for r in records:
        key = (r.dataset, r.name)
        if key in out:
            raise ValueError(
                f"object {r.name!r} of data set {r.dataset!r} appears twice in the {run} run; "
                "compare two folders as two pairs (compare_pooled), not as one concatenated run"
            )
        out[key] = r
    return out


def compare(reference: Sequence, candidate: Sequence, max_clicks: int = 20) -> dict:
    """Paired statistics of ``candidate`` against ``reference`` (``ObjectResult`` sequences).

    Returns a JSON-ready dict: ``objects`` (matched), ``unmatched``, ``noc`` (per threshold:
    mean change, standard error, better, worse), ``iou_at`` (per k: change of mean IoU after k
    clicks, in IoU units, with its standard error) and ``drops_per_object`` for both runs.
    Raises ``ValueError`` when no object is shared or one run holds an object twice.
    """
    return compare_pooled([(reference, candidate)], max_clicks)


def compare_pooled(pairs: Sequence[tuple[Sequence, Sequence]], max_clicks: int = 20) -> dict:
    """:func:`compare` over several (reference, candidate) pairs pooled into one set of objects.

    Objects are matched within each pair, so pairs from different folders may reuse object names
    (the BSDS val and thing-like folders are cut from the same images).
    """
    ref: dict = {}
    new: dict = {}
    # Objects that could not be evaluated (``error`` set, no IoUs) do not count, as in the metrics.
    for i, (reference, candidate) in enumerate(pairs):
        ref.update({(i, *k): r for k, r in _by_object(reference, "reference").items() if not r.error})
        new.update({(i, *k): r for k, r in _by_object(candidate, "candidate").items() if not r.error})
    keys = sorted(ref.keys() & new.keys())
    if not keys:
        raise ValueError("the two runs share no object (matched by data set and object name)")
    out: dict = {"objects": len(keys), "unmatched": len(ref.keys() ^ new.keys())}
    out["noc"] = {}
    for t in THRESHOLDS:
        diffs = [noc(new[k].ious, t, max_clicks) - noc(ref[k].ious, t, max_clicks) for k in keys]
        mean, err = mean_and_error(diffs)
        out["noc"][f"{round(t * 100)}"] = {
            "change": mean,
            "error": err,
            "better": sum(d < 0 for d in diffs),
            "worse": sum(d > 0 for d in diffs),
        }
    out["iou_at"] = {}
    for k_clicks in AT_CLICKS:
        usable = [k for k in keys if len(ref[k].ious) >= k_clicks and len(new[k].ious) >= k_clicks]
        if usable:
            diffs = [new[k].ious[k_clicks - 1] - ref[k].ious[k_clicks - 1] for k in usable]
            mean, err = mean_and_error(diffs)
            out["iou_at"][str(k_clicks)] = {"change": mean, "error": err, "objects": len(usable)}
    out["drops_per_object"] = {
        "reference": sum(drops(ref[k].ious) for k in keys) / len(keys),
        "candidate": sum(drops(new[k].ious) for k in keys) / len(keys),
    }
    return out


def to_text(stats: dict) -> str:
    lines = [f"{stats['objects']} objects matched ({stats['unmatched']} in one run only)"]
    for t, s in stats["noc"].items():
        lines.append(
            f"NoC@{t}: {s['change']:+.2f} ± {s['error']:.2f}  (better {s['better']}, worse {s['worse']})"
        )
    for k, s in stats["iou_at"].items():
        lines.append(f"IoU after {k} clicks: {100 * s['change']:+.2f} ± {100 * s['error']:.2f} points")
    d = stats["drops_per_object"]
    lines.append(
        f"clicks that lowered IoU by > {DROP}: {d['reference']:.2f} -> {d['candidate']:.2f} per object"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "runs",
        type=Path,
        nargs="+",
        metavar="REFERENCE CANDIDATE",
        help="JSON lines (.jsonl, .jsonl.xz, .jsonl.gz) of the reference run, then of the run compared "
        "with it; more pairs pool more folders into one comparison",
    )
    parser.add_argument("--max-clicks", type=int, default=20)
    parser.add_argument("--json", type=Path, default=None, help="also write the statistics here")
    args = parser.parse_args(argv)
    if len(args.runs) % 2:
        parser.error(f"runs come in (reference, candidate) pairs; got {len(args.runs)} files")
    try:  # plain or compressed (the stored runs are .jsonl.xz)
        paths = [resolve_jsonl(p) for p in args.runs]
    except FileNotFoundError as exc:
        parser.error(str(exc))
    pairs = [(list(read_jsonl(a)), list(read_jsonl(b))) for a, b in zip(paths[::2], paths[1::2], strict=True)]
    try:
        stats = compare_pooled(pairs, args.max_clicks)
    except ValueError as exc:
        parser.error(str(exc))
    refs, cands = [str(p) for p in paths[::2]], [str(p) for p in paths[1::2]]
    # One pair keeps the old plain-string fields; several pairs list them.
    stats["reference"], stats["candidate"] = (refs[0], cands[0]) if len(refs) == 1 else (refs, cands)
    if args.json is not None:  # before printing: a closed pipe (``| head``) must not lose the file
        atomic_write_bytes(args.json, (json.dumps(stats, indent=2) + "\n").encode())
    print(to_text(stats))


if __name__ == "__main__":
    main()
