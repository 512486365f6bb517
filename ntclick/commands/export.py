"""``ntclick export``: turn ECP and HRR training checkpoints into a ``from_pretrained`` weights folder."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a weights folder (config.json + model.safetensors) from two training checkpoints",
        description=(
            "Combine an ECP and an HRR training checkpoint (checkpoint_last.pt of 'ntclick train') into a "
            "weights folder in the Hugging Face Hub layout that NTClickPredictor.from_pretrained loads."
        ),
    )
    p.add_argument("--ecp", required=True, metavar="CKPT", help="ECP training checkpoint (.pt)")
    p.add_argument("--hrr", required=True, metavar="CKPT", help="HRR training checkpoint (.pt)")
    p.add_argument("--out", required=True, metavar="FOLDER", help="output weights folder")
    p.add_argument(
        "--dtype", default=None, help="convert weights, e.g. float16 or bfloat16 (default: keep float32)"
    )
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    from ntclick.train.export import export_weights

    folder = export_weights(args.ecp, args.hrr, args.out, dtype=args.dtype)
    print(f"wrote {folder / 'config.json'} and {folder / 'model.safetensors'}")
    return 0
