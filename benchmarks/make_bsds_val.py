"""Write the BSDS500 validation split as a fixed evaluation folder for model selection.

GrabCut and Berkeley are for reporting only: checkpoints are compared on objects drawn from the
*validation split of the training pool* (the same seeded split ``ntclick train`` holds out, so
no image here was trained on). Each validation image gives ``--objects`` targets drawn by the
training pool's own rule (one region or a union of neighbouring regions of one annotator), with
a fixed seed per image and object, so the folder is the same on every machine.

Usage::

    python benchmarks/make_bsds_val.py --out data/bsds_val           # 20 images x 2 objects
    python benchmarks/make_bsds_val.py --out data/bsds_things --things --objects 3   # thing-like
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


def _write_folder(bsds: Path, out: Path, split: str, objects_of, header: dict) -> dict:
    """Write ``objects_of(pool, index, image_id)``'s ``(name, image, bool mask, entry fields)``
    for every image of the split, then ``manifest.json``; each file atomically."""
    from ntclick.image_io import atomic_write_bytes, save_image
    from ntclick.train.sources import BSDSRegionPool

    pool = BSDSRegionPool(bsds, split=split)  # the trainer's defaults: val_fraction 0.05, split_seed 0
    entries = []
    for index, image_id in enumerate(pool.ids):
        for name, image, mask, fields in objects_of(pool, index, image_id):
            save_image(out / "images" / f"{name}.png", image)
            save_image(out / "masks" / f"{name}.png", mask)
            entries.append({"name": name, "image_id": image_id, **fields, "area": float(mask.mean())})
        print(f"\r{index + 1}/{len(pool)} images", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    manifest = {"source": str(bsds), "split": split, "val_fraction": 0.05, "split_seed": 0, **header}
    manifest["objects"] = entries
    atomic_write_bytes(out / "manifest.json", (json.dumps(manifest, indent=2) + "\n").encode())
    return manifest


def write_val_set(bsds: Path, out: Path, objects: int, seed: int, split: str = "val") -> dict:
    def objects_of(pool, index, image_id):
        for k in range(objects):
            image, mask = pool.load(index, np.random.default_rng(object_seed(seed, image_id, k)))
            yield f"{image_id}_{k}", image, mask > 0.5, {}

    return _write_folder(bsds, out, split, objects_of, {"objects_per_image": objects, "seed": seed})


def thing_regions(
    label_maps: list[np.ndarray],
    objects: int,
    min_area: float = 0.02,
    max_area: float = 0.6,
    max_sides: int = 1,
) -> tuple[int, list[tuple[int, np.ndarray]]]:
    """Thing-like objects of one image: ``(annotator, [(label, bool mask (H, W)), ...])``.

    The interactive benchmarks segment whole foreground objects (animals, people, vehicles),
    while the training pool's rule also draws background "stuff" (sky, water, ground) and object
    parts. Here the annotator with the fewest regions (the coarsest segmentation: its regions are
    most often whole objects; ties: the first) gives its regions covering ``[min_area, max_area]``
    of the image and touching at most ``max_sides`` image sides (stuff usually spans the frame),
    largest first, at most ``objects`` of them. Deterministic: no random choice.
    """
    from ntclick.train.sources import thing_candidates

    counts = [len(np.unique(labels)) for labels in label_maps]
    k = int(np.argmin(counts))
    labels = label_maps[k]
    found = thing_candidates(labels, min_area, max_area, max_sides)[:objects]
    return k, [(value, labels == value) for value, _ in found]


def write_thing_set(bsds: Path, out: Path, objects: int, split: str = "val") -> dict:
    """Like :func:`write_val_set`, with up to ``objects`` :func:`thing_regions` per image."""
    from ntclick.image_io import load_image, load_mask

    def objects_of(pool, index, image_id):
        image = load_image(pool.images[image_id])
        k, regions = thing_regions([load_mask(p) for p in pool.label_maps[image_id]], objects)
        for j, (value, mask) in enumerate(regions):
            yield f"{image_id}_t{j}", image, mask, {"annotator": k, "label": value}

    header = {
        "kind": "things",
        "objects_per_image": objects,
        "rule": "coarsest annotator; regions of 2-60% of the image touching at most one side; largest first",
    }
    return _write_folder(bsds, out, split, objects_of, header)


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
    parser.add_argument(
        "--things",
        action="store_true",
        help="thing-like objects instead of the training pool's rule (thing_regions; --seed unused)",
    )
    args = parser.parse_args(argv)
    if args.things:
        manifest = write_thing_set(args.bsds, args.out, args.objects, args.split)
    else:
        manifest = write_val_set(args.bsds, args.out, args.objects, args.seed, args.split)
    print(f"wrote {len(manifest['objects'])} objects to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
