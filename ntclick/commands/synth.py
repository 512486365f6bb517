"""``ntclick synth``: write a fixed synthetic thin-structure test set (images, masks, alpha)."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "synth",
        help="write a fixed synthetic thin-structure set (images/, masks/, alpha/)",
        description=(
            "Draw thin structures (wires, branches, hair, spokes, meshes, text) with exact anti-aliased alpha "
            "over background photographs.  Sample i depends only on (--seed, i).  The output folder has "
            "images/, masks/ (0/255), alpha/ (0..255) and manifest.json; evaluate on it with "
            "ntclick eval --dataset folder=DIR."
        ),
    )
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--count", type=int, required=True, metavar="N", help="number of samples")
    p.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    p.add_argument("--size", type=int, default=2048, help="long side of the images in pixels (default 2048)")
    p.add_argument(
        "--backgrounds",
        default=None,
        metavar="DIR",
        help="folder of background photographs (default: $NTCLICK_DATA/BSDS500-train/images)",
    )
    p.add_argument(
        "--split",
        choices=["all", "train", "val"],
        default="all",
        help="use only this split of the backgrounds (the training sources' split); a held-out test set "
        "uses val, whose photographs the synthetic training stream never shows (default all)",
    )
    p.add_argument("--kinds", default=None, help="comma-separated structure kinds (default: all)")
    p.add_argument("--format", choices=["jpg", "png"], default="jpg", help="image file format (default jpg)")
    p.add_argument("--quiet", action="store_true", help="no progress report (bar or log lines)")
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from ntclick.train.config import data_root
    from ntclick.train.synthetic import STRUCTURE_KINDS, write_synthetic_set

    backgrounds = args.backgrounds or data_root() / "BSDS500-train" / "images"
    kinds = tuple(k.strip() for k in args.kinds.split(",")) if args.kinds else STRUCTURE_KINDS
    out = write_synthetic_set(
        args.out,
        args.count,
        args.seed,
        args.size,
        backgrounds,
        kinds=kinds,
        image_format=args.format,
        progress=not args.quiet,
        split=args.split,
    )
    if not args.quiet:
        print(f"wrote {args.count} samples to {out}")
    return 0
