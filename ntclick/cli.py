"""The ``ntclick`` command line.

Each subcommand lives in its own module under :mod:`ntclick.commands` and exposes
``register(subparsers)``; registering must stay light (argparse only): heavy imports such as
torch happen inside the command's handler, so ``ntclick --help`` is instant.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

import ntclick
import ntclick.commands


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ntclick",
        description="Precise interactive image segmentation with noise-tolerant clicks (NTClick).",
    )
    parser.add_argument("--version", action="version", version=f"ntclick {ntclick.__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(ntclick.commands.__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        importlib.import_module(f"ntclick.commands.{info.name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "func", None) is None:
        parser.print_help()
        return 0 if args.command is None else 2
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        # User errors get one clear line, not a traceback.
        print(f"ntclick {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
