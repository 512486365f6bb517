"""Write the BSDS500 validation split as a fixed evaluation folder for model selection.

GrabCut and Berkeley are for reporting only: checkpoints are compared on objects drawn from the
*validation split of the training pool* (the same seeded split ``ntclick train`` holds out, so
no image here was trained on). Each validation image gives ``--objects`` targets drawn by the
training pool's own rule (one region or a union of neighbouring regions of one annotator), with
a fixed seed per image and object, so the folder is the same on every machine.

Usage::

    python benchmarks/make_bsds_val.py --out data/bsds_val           # 20 images x 2 objects
    ntclick eval --weights WEIGHTS --dataset folder=data/bsds_val --protocol standard

Writes ``OUT/images/<id>_<k>.png``, ``OUT/masks/<id>_<k>.png`` (0 / 255) and
``OUT/manifest.json`` (source, split, seed, object areas); each file atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_BSDS = REPO.parent / "shared" / "data" / "BSDS500-train"


def object_seed(seed: int, image_id: str, k: int) -> int:
    """A seed that depends on the image id and object index only (stable across machines)."""
    return zlib.crc32(f"{seed}:{image_id}:{k}".encode())


def write_val_set(bsds: Path, out: Path, objects: int, seed: int, split: str = "val") -> dict:
    from ntclick.image_io import atomic_write_bytes, save_image
    from ntclick.train.sources import BSDSRegionPool

    pool = BSDSRegionPool(bsds, split=split)  # the trainer's defaults: val_fraction 0.05, split_seed 0
    entries = []
    for index, image_id in enumerate(pool.ids):
        for k in range(objects):
            image, mask = pool.load(index, np.random.default_rng(object_seed(seed, image_id, k)))
            name = f"{image_id}_{k}"
            save_image(out / "images" / f"{name}.png", image)
            save_image(out / "masks" / f"{name}.png", mask > 0.5)
            entries.append({"name": name, "image_id": image_id, "area": float((mask > 0.5).mean())})
        print(f"\r{index + 1}/{len(pool)} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    manifest = {
        "source": str(bsds),
        "split": split,
        "val_fraction": 0.05,
        "split_seed": 0,
        "objects_per_image": objects,
        "seed": seed,
        "objects": entries,
    }
    atomic_write_bytes(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bsds", type=Path, default=DEFAULT_BSDS, help="BSDS500-train folder")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--objects", type=int, default=2, help="objects per validation image")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--split",
        choices=("val", "train"),
        default="val",
        help="the trainer's held-out images (default) or its training images (for probes that train)",
    )
    args = parser.parse_args(argv)
    manifest = write_val_set(args.bsds, args.out, args.objects, args.seed, args.split)
    print(f"wrote {len(manifest['objects'])} objects to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
