"""``ntclick export``: turn ECP and HRR training checkpoints into a ``from_pretrained`` weights folder."""

from __future__ import annotations

import argparse
import json


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export",
        help="write a weights folder (config.json + model.safetensors) from two training checkpoints",
        description=(
            "Combine an ECP and an HRR training checkpoint (checkpoint_last.pt of 'ntclick train') into a "
            "weights folder in the Hugging Face Hub layout that NTClickPredictor.from_pretrained loads. "
            "Either network may instead come from an existing weights folder (its ECP or its HRR)."
        ),
    )
    p.add_argument(
        "--ecp", required=True, metavar="CKPT", help="ECP training checkpoint (.pt) or weights folder"
    )
    p.add_argument(
        "--hrr", required=True, metavar="CKPT", help="HRR training checkpoint (.pt) or weights folder"
    )
    p.add_argument("--out", required=True, metavar="FOLDER", help="output weights folder")
    p.add_argument(
        "--dtype", default=None, help="convert weights, e.g. float16 or bfloat16 (default: keep float32)"
    )
    p.add_argument(
        "--setting",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a predictor setting stored with the weights, VALUE in JSON (e.g. zoom_in=true, "
        "grabcut_iterations=3); repeatable; default: ecp_size = the ECP's input size, the rest defaults",
    )
    p.add_argument(
        "--raw-weights",
        action="store_true",
        help="from a checkpoint trained with ema_decay, take the last step's weights instead of their "
        "moving average (the default)",
    )
    p.set_defaults(func=handler)


def _parse_settings(items: list[str]) -> dict:
    settings = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"--setting expects KEY=VALUE, got {item!r}")
        try:
            settings[key] = json.loads(value)
        except json.JSONDecodeError:
            raise ValueError(f"--setting {key}: {value!r} is not a JSON value (e.g. true, 3, 0.5)") from None
    return settings


def handler(args: argparse.Namespace) -> int:
    from ntclick.train.export import export_weights

    settings = _parse_settings(args.setting)
    folder = export_weights(
        args.ecp,
        args.hrr,
        args.out,
        predictor_config=settings or None,
        dtype=args.dtype,
        ema=False if args.raw_weights else None,
    )
    print(f"wrote {folder / 'config.json'} and {folder / 'model.safetensors'}")
    return 0
