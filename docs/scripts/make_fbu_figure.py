"""Draw docs/images/fbu_example.png: a thin-structure mask and its FBU maps, with clicks.

Panels, left to right: the image with the mask overlaid; the FBU map of the evaluation recipe
(``fbu_from_mask``: 5x5 square, 3 iterations) with the first clicks of the NT protocol's clicker
against an empty prediction; the FBU map of the training recipe (``random_fbu_from_mask``) with
random training clicks (``sample_fbu_clicks``).  Background dark blue, uncertain orange,
foreground white; clicks green = fg, red = bg, yellow = nt.

The scene is synthetic (a dandelion-like seed head: a disk with hair-thin radial strands) over
``examples/images/chelsea.png`` when present, so the figure needs no data set.

    python docs/scripts/make_fbu_figure.py [--size 360] [--seed 0] [--out docs/images/fbu_example.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from ntclick.clicker import next_fbu_click, sample_fbu_clicks
from ntclick.fbu import BG, FG, UNCERTAIN, fbu_from_mask, random_fbu_from_mask
from ntclick.image_io import load_image, save_image
from ntclick.visualize import colorize_fbu, draw_clicks, overlay_mask

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "docs" / "images" / "fbu_example.png"
BACKGROUND = ROOT / "examples" / "images" / "chelsea.png"


def make_scene(size: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(image uint8 (size, size, 3) RGB, mask bool (size, size)): a seed head with thin strands."""
    if BACKGROUND.is_file():
        photo = load_image(BACKGROUND)
        side = min(photo.shape[:2])
        image = cv2.resize(photo[:side, :side], (size, size), interpolation=cv2.INTER_AREA)
        image = (image.astype(np.float32) * 0.55).astype(np.uint8)  # dimmed, so the object stands out
    else:
        image = np.full((size, size, 3), 60, np.uint8)
    mask = np.zeros((size, size), np.uint8)
    centre = np.array([size * 0.5, size * 0.55])
    cv2.circle(mask, tuple(int(v) for v in centre), int(size * 0.09), 255, -1, cv2.LINE_8)
    for angle in np.linspace(0, 2 * np.pi, 28, endpoint=False) + rng.uniform(0, 0.2, 28):
        length = size * rng.uniform(0.25, 0.38)
        tip = centre + length * np.array([np.cos(angle), np.sin(angle)])
        cv2.line(mask, tuple(int(v) for v in centre), tuple(int(v) for v in tip), 255, 1, cv2.LINE_8)
        cv2.circle(mask, tuple(int(v) for v in tip), 3, 255, -1, cv2.LINE_8)  # the seeds' tufts
    stem_end = (int(centre[0] + size * 0.02), size - 1)
    cv2.line(mask, tuple(int(v) for v in centre), stem_end, 255, 3, cv2.LINE_8)
    obj = mask > 0
    image[obj] = (235, 235, 220)
    return image, obj


def label(panel: np.ndarray, text: str) -> np.ndarray:
    out = panel.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 26), (255, 255, 255), -1)
    cv2.putText(out, text, (8, 19), cv2.FONT_HERSHEY_SIMPLEX, 0.55, (20, 20, 20), 1, cv2.LINE_AA)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=360, help="side of each panel in pixels")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    image, mask = make_scene(args.size, rng)

    eval_fbu = fbu_from_mask(mask)
    # The NT clicker against an empty prediction, which then (as a perfect model would) takes
    # on the class of a disk around each click: the first few clicks of the NT protocol.
    pred = np.full_like(eval_fbu, BG)
    protocol_clicks = []
    for _ in range(4):
        click = next_fbu_click(pred, eval_fbu, clicked=protocol_clicks)
        if click is None:
            break
        protocol_clicks.append(click)
        disk = np.zeros(mask.shape, np.uint8)
        cv2.circle(disk, (int(click.x), int(click.y)), args.size // 8, 1, -1)
        pred = np.where((disk > 0) & (eval_fbu != BG), eval_fbu, pred).astype(np.uint8)

    train_fbu = random_fbu_from_mask(mask, rng)
    train_clicks = sample_fbu_clicks(train_fbu, rng, num_fg=2, num_bg=2, num_nt=3, margin=3)

    radius = max(4, args.size // 60)
    panels = [
        label(overlay_mask(image, mask, color=(30, 144, 255), alpha=0.45), "image and mask"),
        label(draw_clicks(colorize_fbu(eval_fbu), protocol_clicks, radius), "evaluation FBU + NT clicks"),
        label(draw_clicks(colorize_fbu(train_fbu), train_clicks, radius), "training FBU + sampled clicks"),
    ]
    gap = np.full((args.size, 6, 3), 255, np.uint8)
    figure = np.hstack([panels[0], gap, panels[1], gap, panels[2]])
    save_image(args.out, figure)
    counts = {
        name: int((eval_fbu == v).sum()) for name, v in (("bg", BG), ("uncertain", UNCERTAIN), ("fg", FG))
    }
    print(f"wrote {args.out} ({figure.shape[1]}x{figure.shape[0]}); evaluation FBU pixels: {counts}")
    print("NT protocol clicks:", ", ".join(str(c) for c in protocol_clicks))


if __name__ == "__main__":
    main()
