"""An interactive session, replayed: add clicks one at a time and save an overlay after each.

    python examples/interactive_session.py --out-dir session/      # the bundled weights/ntclick-tiny
    python examples/interactive_session.py --weights path/to/weights --out-dir session/
    python examples/interactive_session.py --baseline grabcut --out-dir session/

Each step predicts from *all* clicks so far (the predictor is stateless per call, as SAM's
is); undoing a click is predicting again without it.  The image is encoded once by
``set_image``.  The click script below mixes foreground, background and noise-tolerant
clicks; ``nt`` says "fine structure around here" (the fur and whiskers at the outline).

``--prev-mask`` also passes the previous step's mask as ``prev_mask`` (SAM's ``mask_input``
plays this part), so that the next click corrects the last answer instead of starting over.
With the bundled weights that is a trade (docs/predictor.md, "The previous mask"): about a
fifth as many clicks that make the mask clearly worse, but more clicks to reach 90% IoU on
BSDS val, so the default is the clicks alone.  The GrabCut baseline never gets it.
``--click-guard`` turns on ``click_guard``: each click is held to a plausible correction of
the previous answer (fewer clicks that wreck the mask; docs/predictor.md, "Options").
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ntclick import Click
from ntclick.image_io import load_image, save_image
from ntclick.visualize import colorize_fbu, overlay_mask

IMAGE = Path(__file__).parent / "images" / "chelsea.png"
BUNDLED_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "ntclick-tiny"

# What a user might click on the cat, in order (x = column, y = row in pixels).
SESSION = [
    Click(200, 150, "fg"),  # the face
    Click(430, 120, "bg"),  # the room on the right
    Click(120, 250, "fg"),  # the chest
    Click(365, 35, "nt"),  # fur at the right ear's edge
    Click(60, 215, "nt"),  # whiskers on the left
    Click(420, 280, "bg"),  # the bottom-right corner
]


def make_predictor(args: argparse.Namespace):
    if args.baseline == "grabcut":
        from ntclick.baselines.grabcut import GrabCutPredictor

        return GrabCutPredictor()
    from ntclick import NTClickPredictor

    overrides = {"click_guard": True} if args.click_guard else {}
    return NTClickPredictor.from_pretrained(args.weights, device=args.device, **overrides)


def takes_prev_mask(predictor) -> bool:
    """An NTClick predictor whose ECP has a prior channel.  The GrabCut baseline accepts a
    previous mask too, but started from it GrabCut keeps its own mistakes (measured on BSDS val:
    3 more clicks to 90% IoU), so the example does not pass it there."""
    ecp = getattr(predictor, "ecp", None)
    return ecp is not None and ecp.config.prior != "none"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group()
    source.add_argument(
        "--weights",
        default=str(BUNDLED_WEIGHTS),
        help="weights folder or Hugging Face Hub repo id (default: the bundled weights/ntclick-tiny)",
    )
    source.add_argument("--baseline", choices=("grabcut",), help="use a classical baseline instead")
    parser.add_argument("--device", default=None, help="cpu (default), cuda, mps (with --weights)")
    parser.add_argument("--out-dir", type=Path, default=Path("session"), help="folder for the overlays")
    parser.add_argument(
        "--prev-mask", action="store_true", help="also pass the last mask (steadier, slower to converge)"
    )
    parser.add_argument(
        "--click-guard",
        action="store_true",
        help="hold each click to a plausible correction (with --weights)",
    )
    args = parser.parse_args()
    if args.click_guard and args.baseline:
        parser.error("--click-guard applies to --weights, not to --baseline")

    image = load_image(IMAGE)
    predictor = make_predictor(args)
    start = time.perf_counter()
    predictor.set_image(image)
    print(f"set_image: {time.perf_counter() - start:.2f} s")

    carry = args.prev_mask and takes_prev_mask(predictor)
    prediction = None
    for step in range(1, len(SESSION) + 1):
        clicks = SESSION[:step]
        previous = prediction.mask if carry and prediction is not None else None
        start = time.perf_counter()
        prediction = predictor.predict(clicks, prev_mask=previous)
        seconds = time.perf_counter() - start
        overlay = args.out_dir / f"step{step:02d}_overlay.png"
        save_image(overlay, overlay_mask(image, prediction.soft, clicks))
        save_image(args.out_dir / f"step{step:02d}_fbu.png", colorize_fbu(prediction.fbu))
        print(
            f"click {step}: {clicks[-1]!s:<12} {100 * prediction.mask.mean():5.1f}% foreground "
            f"({seconds:.2f} s) -> {overlay}"
        )


if __name__ == "__main__":
    main()
