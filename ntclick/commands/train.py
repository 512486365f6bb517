"""``ntclick train ecp|hrr``: train or fine-tune one of the two networks from a JSON config."""

from __future__ import annotations

import argparse


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="train or fine-tune ECP or HRR from a JSON config",
        description=(
            "Train ECP or HRR as configured in a JSON file (see configs/ and docs/training.md).  Writes "
            "config.json, metrics.jsonl, loss_curve.png and checkpoint_last.pt to --out.  For several GPUs "
            "or nodes launch it with torchrun, e.g. torchrun --nproc_per_node 8 -m ntclick train ecp ..."
        ),
    )
    p.add_argument("task", choices=["ecp", "hrr"], help="which network to train")
    p.add_argument(
        "--config", required=True, metavar="FILE", help="JSON training config, e.g. configs/ecp_base.json"
    )
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config key (repeatable); VALUE is JSON or a bare string, e.g. --set steps=500 "
        "--set model_overrides.depth=6",
    )
    p.add_argument("--out", default=None, metavar="DIR", help="output folder (default runs/<config name>)")
    p.add_argument("--resume", action="store_true", help="continue from DIR/checkpoint_last.pt")
    p.add_argument("--device", default=None, help="cpu, cuda or cuda:<i> (default: CUDA when available)")
    p.add_argument(
        "--max-minutes",
        type=float,
        default=None,
        metavar="M",
        help="stop with a checkpoint after M minutes (the lr schedule still follows steps); --resume continues",
    )
    p.add_argument(
        "--quiet", action="store_true", help="no progress report (bar or log lines) or start-up summary"
    )
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    import os
    from pathlib import Path

    from ntclick.train.config import load_config

    config = load_config(args.config, args.overrides, defaults={"task": args.task})
    if config.task != args.task:
        raise ValueError(
            f"{args.config} configures task {config.task!r}, not {args.task!r}: use 'ntclick train {config.task}' "
            f"or --set task={args.task}"
        )
    out = Path(args.out) if args.out else Path("runs") / Path(args.config).stem

    from ntclick.train.trainer import train

    result = train(
        config,
        out,
        resume=args.resume,
        device=args.device,
        progress=not args.quiet,
        max_minutes=args.max_minutes,
    )
    is_main = os.environ.get("RANK", "0") == "0"  # under torchrun only rank 0 reports
    if not args.quiet and is_main:
        loss = f", loss {result.loss:.4f}" if result.loss is not None else ""
        print(f"step {result.step}{loss}; checkpoint {result.checkpoint}")
        if result.best is not None:
            b = result.best
            print(f"fewest clicks: NoC {b['noc']:.2f} at step {b['step']}; checkpoint {b['checkpoint']}")
    return 0
