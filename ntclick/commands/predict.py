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

from ntclick.commands._predictor_options import (
    add_loading_options,
    add_predictor_options,
    add_source_options,
    make_predictor,
)

__all__ = ["register", "parse_click_arg"]


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
    add_source_options(p)
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
    add_loading_options(p)
    add_predictor_options(p)
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    import numpy as np

    from ntclick.image_io import load_image, load_mask, save_image
    from ntclick.visualize import overlay_mask

    image = load_image(args.image)
    previous = None if args.prev_mask is None else load_mask(args.prev_mask)
    predictor = make_predictor(args)
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
