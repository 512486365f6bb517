"""The predictor's settings as command-line options, shared by ``ntclick predict``, ``batch`` and ``eval``.

Each option overrides the setting stored with the weights (``config.json``'s ``predictor``
block) for this run only; left out, the stored setting holds. ``ntclick eval`` also names its
results after the options given (:func:`label_suffix`), so runs with different settings never
share a results file.
"""

from __future__ import annotations

import argparse
from typing import NamedTuple

__all__ = [
    "BASELINES",
    "add_loading_options",
    "add_predictor_options",
    "add_source_options",
    "given_options",
    "label_suffix",
    "make_predictor",
    "predictor_overrides",
]

BASELINES = ("grabcut",)

_SWITCH, _NUMBER = "switch", "number"


class _Option(NamedTuple):
    kind: str  # _SWITCH (--x / --no-x) or _NUMBER (--x N)
    flag: str
    dest: str  # the predictor's keyword
    help: str
    on: str  # eval label suffix when on (a number: formatted with it)
    off: str  # ... when off (a number: when 0)


# In ``ntclick eval``'s label order.
_OPTIONS = tuple(
    _Option(*o)
    for o in (
        (
            _SWITCH,
            "--refine",
            "refine",
            "HRR refines ECP's uncertain band at full resolution (--refine) or ECP alone, upsampled (--no-refine)",
            "-hrr",
            "-ecp-only",
        ),
        (
            _SWITCH,
            "--zoom-in",
            "zoom_in",
            "a second ECP pass on a crop around the object from the second click on (--zoom-in) or not",
            "-zoom",
            "-no-zoom",
        ),
        (
            _NUMBER,
            "--brs-steps",
            "brs_steps",
            "enforce the clicks by backpropagating refinement, at most N L-BFGS steps per ECP pass, 0 = off",
            "-brs{}",
            "",  # brs_steps 0 is the off state and adds nothing
        ),
        (
            _NUMBER,
            "--grabcut-iterations",
            "grabcut_iterations",
            "GrabCut decides the uncertain band, N iterations per click, 0 = off",
            "-gc{}",
            "-gc0",
        ),
        (
            _SWITCH,
            "--click-components",
            "click_components",
            "drop mask components no fg / nt click holds and fill holes no bg click holds (--click-components) "
            "or not",
            "-cc",
            "-no-cc",
        ),
        (
            _SWITCH,
            "--click-guard",
            "click_guard",
            "hold each click to a plausible correction of the previous answer (--click-guard) or not",
            "-guard",
            "-no-guard",
        ),
        # No label: the ECP size is in each record's predictor description.
        (
            _NUMBER,
            "--ecp-size",
            "ecp_size",
            "ECP input long side in pixels (ECP is trained at the stored one)",
            "",
            "",
        ),
    )
)


def add_predictor_options(parser: argparse.ArgumentParser, *, labelled: bool = False) -> None:
    """Add the predictor-setting options to ``parser``, each defaulting to None (stored setting).

    ``labelled``: say in each help text which suffix the option adds to ``ntclick eval``'s label.
    """
    group = parser.add_argument_group(
        "predictor settings", "with --weights; each defaults to the setting stored with the weights"
    )
    for o in _OPTIONS:
        if o.kind == _SWITCH:
            note = f" (label gets {o.on} / {o.off})" if labelled else ""
            group.add_argument(
                o.flag, dest=o.dest, action=argparse.BooleanOptionalAction, default=None, help=o.help + note
            )
        else:
            note = f" (label gets {o.on.format('N')})" if labelled and o.on else ""
            group.add_argument(o.flag, dest=o.dest, type=int, default=None, metavar="N", help=o.help + note)


def predictor_overrides(args: argparse.Namespace) -> dict:
    """The predictor settings given on the command line, as ``from_pretrained`` keywords."""
    return {o.dest: getattr(args, o.dest) for o in _OPTIONS if getattr(args, o.dest) is not None}


def given_options(args: argparse.Namespace) -> list[str]:
    """The predictor-setting options given, as typed (``--no-refine``), for error messages."""
    names = []
    for o in _OPTIONS:
        value = getattr(args, o.dest)
        if value is not None:
            names.append(o.flag.replace("--", "--no-", 1) if value is False else o.flag)
    return names


def label_suffix(args: argparse.Namespace) -> str:
    """``ntclick eval``'s label suffix for the settings given (``-hrr-zoom-gc3`` ...)."""
    suffix = ""
    for o in _OPTIONS:
        value = getattr(args, o.dest)
        if value is None:
            continue
        if o.kind == _SWITCH:
            suffix += o.on if value else o.off
        elif value:
            suffix += o.on.format(value)
        else:
            suffix += o.off
    return suffix


def add_source_options(parser: argparse.ArgumentParser) -> None:
    """``--weights`` or ``--baseline`` (one is required), as ``ntclick predict`` and ``ntclick batch``
    take them; :func:`add_loading_options` adds the options of ``--weights``."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--weights",
        metavar="NAME_OR_PATH",
        help="NTClick weights: a local folder or a Hugging Face Hub repo id",
    )
    source.add_argument(
        "--baseline",
        choices=BASELINES,
        help="run a classical baseline instead of NTClick (no weights needed)",
    )


def add_loading_options(parser: argparse.ArgumentParser) -> None:
    """The options of ``--weights`` that say where and how to load and run them."""
    parser.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or mps (with --weights)")
    parser.add_argument(
        "--dtype",
        default=None,
        choices=("float32", "float16", "bfloat16"),
        help="compute dtype (with --weights)",
    )
    parser.add_argument("--revision", default=None, help="Hub revision (branch, tag or commit) of --weights")
    parser.add_argument("--cache-dir", default=None, help="Hugging Face cache folder for --weights")
    parser.add_argument(
        "--local-files-only", action="store_true", help="never download --weights; use the Hugging Face cache"
    )


def make_predictor(args: argparse.Namespace):
    """The predictor the options of :func:`add_source_options`, :func:`add_loading_options` and
    :func:`add_predictor_options` ask for; ``ValueError`` naming any weights-only option given
    with ``--baseline``."""
    if args.baseline is not None:
        hub_options = ("device", "dtype", "revision", "cache_dir")
        given = [f"--{name.replace('_', '-')}" for name in hub_options if getattr(args, name) is not None]
        if args.local_files_only:
            given.append("--local-files-only")
        given += given_options(args)
        if given:
            raise ValueError(
                f"{', '.join(given)} can only be used with --weights, not with --baseline {args.baseline}"
            )
        from ntclick.baselines.grabcut import GrabCutPredictor

        return GrabCutPredictor()
    from ntclick.predictor import NTClickPredictor

    return NTClickPredictor.from_pretrained(
        args.weights,
        revision=args.revision,
        cache_dir=args.cache_dir,
        local_files_only=args.local_files_only,
        device=args.device,
        dtype=args.dtype,
        **predictor_overrides(args),
    )
