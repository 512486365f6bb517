"""Quickstart: segment the bundled cat photograph from three clicks.

    python examples/quickstart.py [--weights path/to/weights] [--out quickstart_mask.png]

``--weights`` is a weights folder (``config.json`` + ``model.safetensors``, e.g. written by
``ntclick export``) or a Hugging Face Hub repo id; by default the weights bundled with the
repository, ``weights/ntclick-tiny`` (see docs/model-card.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ntclick import Click, NTClickPredictor
from ntclick.image_io import load_image, save_image

IMAGE = Path(__file__).parent / "images" / "chelsea.png"
BUNDLED_WEIGHTS = Path(__file__).resolve().parents[1] / "weights" / "ntclick-tiny"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--weights",
        default=str(BUNDLED_WEIGHTS),
        help="weights folder or Hugging Face Hub repo id (default: the bundled weights/ntclick-tiny)",
    )
    parser.add_argument("--out", default="quickstart_mask.png", help="where to write the mask (0/255 PNG)")
    args = parser.parse_args()

    # The five lines: load, set the image once, predict from clicks (x = column, y = row), save.
    predictor = NTClickPredictor.from_pretrained(args.weights)
    predictor.set_image(load_image(IMAGE))
    clicks = [Click(200, 150, "fg"), Click(120, 250, "fg"), Click(430, 120, "bg")]
    prediction = predictor.predict(clicks)
    save_image(args.out, prediction.mask)

    print(f"mask {prediction.mask.shape}, {100 * prediction.mask.mean():.1f}% foreground -> {args.out}")


if __name__ == "__main__":
    main()
