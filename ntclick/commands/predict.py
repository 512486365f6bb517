"""``ntclick predict``: segment one image from clicks given on the command line.

Example::

    ntclick predict photo.png --weights path/to/weights --click fg:200,150 --click nt:350,250 \\
        --out mask.png --overlay overlay.png --fbu fbu.png

HRR on (fine structure at full resolution) for this run, whatever the weights store::

    ntclick predict photo.png --weights path/to/weights --click fg:200,150 --refine --out mask.png

One more click, correcting that mask (the previous mask as an input, ``predict(prev_mask=)``)::

    ntclick predict photo.png --weights path/to/weights --click fg:200,150 --click nt:350,250 \\
        --click bg:40,60 --prev-mask mask.png --out mask2.png
"""

from __future__ import annotations

import argparse

from ntclick.commands._predictor_options import add_predictor_options, given_options, predictor_overrides

__all__ = ["register", "parse_click_arg"]

BASELINES = ("grabcut",)


def parse_click_arg(text: str):
    """``"fg:X,Y"`` / ``"bg:X,Y"`` / ``"nt:X,Y"`` (x = column, y = row, pixels) -> ``Click``."""
    from ntclick.clicks import Click

    kind, sep, coords = text.partition(":")
    parts = coords.split(",")
    if not sep or len(parts) != 2:
        raise argparse.ArgumentTypeError(f"invalid click {text!r}: expected KIND:X,Y such as fg:200,150")
    try:
        return Click(float(parts[0]), float(parts[1]), kind)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"invalid click {text!r}: {exc}") from None


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "predict",
        help="segment an image from fg/bg/nt clicks",
        description=(
            "Segment IMAGE from clicks and write the binary mask (0/255 PNG). Clicks are KIND:X,Y with "
            "KIND fg (foreground), bg (background) or nt (noise-tolerant: fine structure around here), "
            "X the column and Y the row in pixels of IMAGE."
        ),
    )
    p.add_argument("image", metavar="IMAGE", help="input image (any format OpenCV reads)")
    source = p.add_mutually_exclusive_group(required=True)
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
    p.add_argument(
        "--click",
        dest="clicks",
        action="append",
        type=parse_click_arg,
        required=True,
        metavar="KIND:X,Y",
        help="a click, e.g. fg:200,150; repeat the option for more clicks",
    )
    p.add_argument(
        "--prev-mask",
        metavar="MASK.png",
        help="the previous mask (a mask written by --out, 0/255, the image's size): the clicks then "
        "correct it instead of starting over (needs weights with a prior, as the bundled ones)",
    )
    p.add_argument("--out", required=True, metavar="MASK.png", help="where to write the binary mask (0/255)")
    p.add_argument("--overlay", metavar="PNG", help="also write the mask and clicks drawn over the image")
    p.add_argument("--fbu", metavar="PNG", help="also write the FBU map (0 bg, 128 uncertain, 255 fg)")
    p.add_argument("--soft", metavar="PNG", help="also write the soft mask scaled to 0..255")
    p.add_argument("--device", default=None, help="cpu (default), cuda, cuda:N or mps (with --weights)")
    p.add_argument(
        "--dtype",
        default=None,
        choices=("float32", "float16", "bfloat16"),
        help="compute dtype (with --weights)",
    )
    p.add_argument("--revision", default=None, help="Hub revision (branch, tag or commit) of --weights")
    p.add_argument("--cache-dir", default=None, help="Hugging Face cache folder for --weights")
    p.add_argument(
        "--local-files-only", action="store_true", help="never download --weights; use the Hugging Face cache"
    )
    add_predictor_options(p)
    p.set_defaults(func=handler)


def _make_predictor(args: argparse.Namespace):
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


def handler(args: argparse.Namespace) -> int:
    import numpy as np

    from ntclick.image_io import load_image, load_mask, save_image
    from ntclick.visualize import overlay_mask

    image = load_image(args.image)
    previous = None if args.prev_mask is None else load_mask(args.prev_mask)
    predictor = _make_predictor(args)
    predictor.set_image(image)
    prediction = predictor.predict(args.clicks, prev_mask=previous)

    save_image(args.out, prediction.mask)
    written = [args.out]
    if args.overlay:
        save_image(args.overlay, overlay_mask(image, prediction.mask, args.clicks))
        written.append(args.overlay)
    if args.fbu:
        save_image(args.fbu, prediction.fbu)
        written.append(args.fbu)
    if args.soft:
        save_image(args.soft, np.round(prediction.soft * 255).astype(np.uint8))
        written.append(args.soft)
    h, w = prediction.mask.shape
    print(
        f"{args.image}: {len(args.clicks)} click(s), {w}x{h}, "
        f"{100 * prediction.mask.mean():.1f}% foreground; wrote {', '.join(map(str, written))}"
    )
    return 0
