"""``ntclick eval``: run a model or a baseline through the click protocols on benchmark datasets."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from ntclick.commands._predictor_options import (
    add_predictor_options,
    given_options,
    label_suffix,
    predictor_overrides,
)


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "eval",
        help="evaluate a model or baseline with simulated clicks (NoC, NoF, mIoU)",
        description=(
            "Simulate a user clicking on every object of one or more datasets and report NoC@85/90/95, "
            "NoF@85/90/95, mIoU@k, boundary IoU@5 and seconds per click.  Writes per-object JSON lines "
            "(resumable, also from a stored compressed copy <name>.jsonl.xz or .gz), summary.{json,md,csv} "
            "and miou_curves.png (with matplotlib) to --out."
        ),
    )
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--weights", metavar="NAME_OR_PATH", help="NTClick weights: a folder or a Hugging Face Hub repo"
    )
    who.add_argument(
        "--baseline", choices=["grabcut"], help="evaluate a classical baseline instead of a network"
    )
    p.add_argument(
        "--dataset",
        action="append",
        required=True,
        metavar="NAME[=PATH]",
        help="dataset to evaluate, repeatable, e.g. grabcut=/data/GrabCut; without PATH the folder under "
        "$NTCLICK_DATA (default <repo>/../shared/data) is used.  Names: grabcut, berkeley, davis, coco-mval, "
        "dis-vd, dis-te1..4, dis-te, hqseg44k-val, thinobject5k, folder (images/ + masks/)",
    )
    p.add_argument(
        "--protocol",
        action="append",
        metavar="standard|nt",
        help="click protocol, repeatable or comma-separated (default: standard)",
    )
    p.add_argument(
        "--noise", type=float, default=0.0, metavar="SIGMA", help="Gaussian click noise in pixels (default 0)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the click noise (default 0)")
    p.add_argument("--max-clicks", type=int, default=20, help="clicks per object (default 20)")
    p.add_argument(
        "--target-iou", type=float, default=None, help="stop an object at this IoU (default: full curves)"
    )
    p.add_argument(
        "--prev-mask",
        action="store_true",
        help="from the second click on, pass the predictor its previous mask (predict(..., prev_mask=)); "
        "protocol names get -prev",
    )
    p.add_argument("--out", default="eval_results", help="output folder (default ./eval_results)")
    p.add_argument(
        "--name", default=None, help="label of the model in tables (default from --weights/--baseline)"
    )
    p.add_argument("--device", default=None, help="torch device for --weights, e.g. cuda or cpu")
    add_predictor_options(p, labelled=True)
    p.add_argument(
        "--limit", type=int, default=None, metavar="N", help="only the first N objects of each dataset"
    )
    p.add_argument("--no-resume", action="store_true", help="recompute objects already in the output files")
    p.add_argument(
        "--skip-missing", action="store_true", help="leave out objects whose files are missing or unreadable"
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress report (bar or log lines) and no table on stdout"
    )
    p.set_defaults(func=handler)


def _parse_protocols(values: list[str] | None) -> list[str]:
    from ntclick.eval.protocol import CLICKERS

    names = [v.strip().lower() for item in (values or ["standard"]) for v in item.split(",") if v.strip()]
    for n in names:
        if n not in CLICKERS:
            raise ValueError(f"unknown --protocol {n!r}: expected one of {', '.join(CLICKERS)}")
    return list(dict.fromkeys(names))


def _parse_dataset(spec: str) -> tuple[str, str | None]:
    name, _, path = spec.partition("=")
    return name.strip().lower(), (path or None)


def _safe(label: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", label).strip("_") or "model"


def handler(args: argparse.Namespace) -> int:
    from ntclick.eval.datasets import open_dataset
    from ntclick.eval.protocol import ClickProtocol, evaluate
    from ntclick.eval.report import summaries_to_markdown, summarize, write_summaries

    protocols = [
        ClickProtocol(
            clicker=c,
            max_clicks=args.max_clicks,
            noise_sigma=args.noise,
            seed=args.seed,
            target_iou=args.target_iou,
            prev_mask=args.prev_mask,
        )
        for c in _parse_protocols(args.protocol)
    ]
    if args.limit is not None and args.limit < 1:
        raise ValueError(f"--limit must be >= 1, got {args.limit}")
    # Open every dataset first, so a wrong path fails before any long run starts.
    datasets = []
    for spec in args.dataset:
        name, path = _parse_dataset(spec)
        datasets.append(open_dataset(name, path, skip_missing=args.skip_missing))
        for msg in datasets[-1].skipped:
            print(f"ntclick eval: skipped: {msg}", file=sys.stderr)

    settings_given = given_options(args)
    if args.baseline and settings_given:
        raise ValueError(
            f"predictor settings ({', '.join(settings_given)}) apply to --weights, not to --baseline"
        )
    if args.baseline == "grabcut":
        from ntclick.baselines import GrabCutPredictor

        predictor = GrabCutPredictor()
        label = args.name or "grabcut"
    else:
        from ntclick.predictor import NTClickPredictor

        overrides = predictor_overrides(args)
        predictor = NTClickPredictor.from_pretrained(args.weights, device=args.device, **overrides)
        if args.prev_mask and predictor.ecp.config.prior == "none" and not predictor.click_guard:
            raise ValueError(
                f"--prev-mask needs an ECP with a prior channel; {args.weights} has prior 'none'"
            )
        label = args.name or Path(str(args.weights).rstrip("/")).name or str(args.weights)
        if not args.name:
            label += label_suffix(args)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    summaries = []
    for ds in datasets:
        for protocol in protocols:
            jsonl = out / f"{_safe(label)}_{_safe(ds.name)}_{_safe(protocol.name)}.jsonl"
            results = evaluate(
                predictor,
                ds,
                protocol,
                model=label,
                limit=args.limit,
                jsonl_path=jsonl,
                resume=not args.no_resume,
                skip_errors=args.skip_missing,
                progress=not args.quiet,
            )
            for r in results:
                if r.error is not None:
                    print(f"ntclick eval: skipped {ds.name}/{r.name}: {r.error}", file=sys.stderr)
            summaries.append(summarize(results))
            write_summaries(summaries, out)  # after every group, so a partial run leaves a summary
    try:
        from ntclick.eval.plot import plot_miou_curves

        plot_miou_curves(summaries, out / "miou_curves.png")
    except RuntimeError as exc:  # matplotlib missing: the numbers are still written
        print(f"ntclick eval: no plot: {exc}", file=sys.stderr)
    if not args.quiet:
        print(summaries_to_markdown(summaries), end="")
        print(f"results written to {out}")
    return 0
