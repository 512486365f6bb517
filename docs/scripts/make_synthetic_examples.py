"""Draw docs/images/synthetic_examples.jpg: one synthetic sample per structure kind.

Top row of each pair: the composite image; bottom row: its alpha matte (white = 1).

    python docs/scripts/make_synthetic_examples.py [--backgrounds DIR] [--seed 0] [--size 768]

The figure is photographs, so it is a JPEG (``--quality`` 90: 0.3 MB, where a PNG was 1.25 MB,
with no visible difference); an ``--out`` ending in ``.png`` writes a PNG.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ntclick.image_io import load_image, save_image
from ntclick.train.config import data_root
from ntclick.train.sources import IMAGE_SUFFIXES
from ntclick.train.synthetic import STRUCTURE_KINDS, render_sample

OUT = Path(__file__).resolve().parents[1] / "images" / "synthetic_examples.jpg"


def _pad(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """White padding at the bottom and right up to (height, width)."""
    h, w = image.shape[:2]
    return cv2.copyMakeBorder(image, 0, height - h, 0, width - w, cv2.BORDER_CONSTANT, value=(255, 255, 255))


def _hstack_padded(tiles: list[np.ndarray]) -> np.ndarray:
    height = max(t.shape[0] for t in tiles)
    return np.hstack([_pad(t, height, t.shape[1]) for t in tiles])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backgrounds", default=str(data_root() / "BSDS500-train" / "images"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=768, help="long side of each generated sample")
    parser.add_argument("--tile", type=int, default=360, help="long side of each tile in the figure")
    parser.add_argument("--out", default=str(OUT))
    parser.add_argument("--quality", type=int, default=90, help="JPEG quality of a .jpg --out")
    args = parser.parse_args()

    photos = sorted(p for p in Path(args.backgrounds).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not photos:
        raise SystemExit(f"no photographs in {args.backgrounds}")
    columns = []
    for i, kind in enumerate(STRUCTURE_KINDS):
        rng = np.random.default_rng([args.seed, i])
        photo = load_image(photos[int(rng.integers(len(photos)))])
        sample = render_sample(rng, photo, args.size, kinds=(kind,))
        h, w = sample.alpha.shape
        scale = args.tile / max(h, w)
        size = (round(w * scale), round(h * scale))
        image = cv2.resize(sample.image, size, interpolation=cv2.INTER_AREA)
        alpha = cv2.resize(np.rint(sample.alpha * 255).astype(np.uint8), size, interpolation=cv2.INTER_AREA)
        tile = np.vstack([image, np.repeat(alpha[:, :, None], 3, axis=2)])
        cv2.putText(tile, kind, (8, 28), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 0), 2, cv2.LINE_AA)
        tile = cv2.copyMakeBorder(tile, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=(255, 255, 255))
        columns.append(tile)
    half = (len(columns) + 1) // 2
    rows = [_hstack_padded(columns[:half]), _hstack_padded(columns[half:])]
    width = max(r.shape[1] for r in rows)
    rows = [_pad(r, r.shape[0], width) for r in rows]
    figure = np.vstack(rows)
    lossy = Path(args.out).suffix.lower() in (".jpg", ".jpeg")
    save_image(args.out, figure, quality=args.quality if lossy else None)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
