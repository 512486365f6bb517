"""Pack BSDS500-train small enough to travel with the repository to a lent GPU machine.

The device tool sends the working tree (tracked files, untracked files git does not ignore and
the paths named in ``carry``) and refuses more than 64 MiB in all.  The tracked files alone are
about 53 MiB (the bundled weights are 42 MB of it; the stored results are xz-compressed), and
``../shared/data/BSDS500-train`` is 44 MB, so the training data cannot travel as it is.  ECP trains at 256 px with a random scale
of 0.75-1.25 relative to the long side (``TrainConfig.scale_range``), so images larger than
``--long-side`` 320 px add nothing it sees; this script writes every image downscaled to that
long side (JPEG quality 70 by default, area filter) and every annotator's label map to the same
size (PNG, nearest neighbour, so labels stay labels), in the layout ``BSDSRegionPool`` reads:
8.6 MiB in all (9.8 MiB at ``--quality 80``).

    python docs/scripts/pack_training_data.py --src ../shared/data/BSDS500-train --out data/gpu/BSDS500-train

then, on the device: ``carry: ["data/gpu"]`` and ``NTCLICK_DATA=data/gpu``.  It prints the size
of the pack and of what would travel (tracked + untracked-not-ignored + the pack) against the
64 MiB limit.  Each file is written to a temporary name and renamed; an existing pack is
replaced file by file.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np

DEVICE_LIMIT = 64 * 2**20
# JPEG quality of the packed images.  70 rather than 80: the pack is 8.6 MiB instead of 9.8 MiB
# (measured 2026-12-07 on the 401 images), which leaves 2.2 MiB of the 64 MiB limit next to the
# 53.2 MiB tree instead of 1.0 MiB (tests/test_repository_size.py counts on this pack size);
# the network sees these 320 px images rescaled to about 256 px, where quality 70's artefacts
# (mean PSNR 32.9 dB against the downscaled original, 34.4 dB at 80) are slight.
DEFAULT_QUALITY = 70


def packed_size(h: int, w: int, long_side: int) -> tuple[int, int]:
    """(height, width) with the long side at most ``long_side`` (never enlarged)."""
    f = min(1.0, long_side / max(h, w))
    return max(1, round(h * f)), max(1, round(w * f))


def _write(path: Path, ext: str, array: np.ndarray, params: list[int]) -> int:
    ok, data = cv2.imencode(ext, array, params)
    if not ok:
        raise RuntimeError(f"could not encode {path}")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data.tobytes())
    os.replace(tmp, path)
    return len(data)


def pack(src: Path, out: Path, long_side: int = 320, quality: int = DEFAULT_QUALITY) -> dict[str, int]:
    """Write the pack; returns counts and bytes: images, label_maps, bytes."""
    images = sorted(p for p in (src / "images").iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
    if not images:
        raise FileNotFoundError(f"no images in {src / 'images'}")
    (out / "images").mkdir(parents=True, exist_ok=True)
    (out / "regions").mkdir(parents=True, exist_ok=True)
    stats = {"images": 0, "label_maps": 0, "bytes": 0}
    for k, path in enumerate(images):
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            raise ValueError(f"cannot decode {path}")
        h, w = image.shape[:2]
        sh, sw = packed_size(h, w, long_side)
        small = cv2.resize(image, (sw, sh), interpolation=cv2.INTER_AREA) if (sh, sw) != (h, w) else image
        stats["bytes"] += _write(
            out / "images" / f"{path.stem}.jpg", ".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, quality]
        )
        stats["images"] += 1
        for label_path in sorted((src / "regions").glob(f"{path.stem}_*.png")):
            labels = cv2.imread(str(label_path), cv2.IMREAD_UNCHANGED)
            if labels is None or labels.shape[:2] != (h, w):
                raise ValueError(f"label map {label_path} is unreadable or not {w}x{h} like its image")
            small_labels = cv2.resize(labels, (sw, sh), interpolation=cv2.INTER_NEAREST)
            stats["bytes"] += _write(
                out / "regions" / label_path.name, ".png", small_labels, [cv2.IMWRITE_PNG_COMPRESSION, 9]
            )
            stats["label_maps"] += 1
        if (k + 1) % 50 == 0 or k + 1 == len(images):
            print(f"\r{k + 1}/{len(images)} images, {stats['bytes'] / 1e6:.1f} MB", end="", file=sys.stderr)
    print(file=sys.stderr)
    return stats


def travelling_bytes(repo: Path) -> int:
    """Bytes of the tracked and the untracked-not-ignored files of ``repo`` (what the device tool
    sends before ``carry``)."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=repo,
        check=True,
        capture_output=True,
    ).stdout.split(b"\0")
    return sum(
        (repo / os.fsdecode(p)).stat().st_size for p in listed if p and (repo / os.fsdecode(p)).is_file()
    )


def folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--src", type=Path, required=True, help="BSDS500-train (images/, regions/)")
    parser.add_argument("--out", type=Path, required=True, help="the pack's BSDS500-train folder")
    parser.add_argument("--long-side", type=int, default=320)
    parser.add_argument("--quality", type=int, default=DEFAULT_QUALITY, help="JPEG quality of the images")
    parser.add_argument("--repo", type=Path, default=Path(__file__).resolve().parents[2])
    args = parser.parse_args(argv)
    stats = pack(args.src, args.out, args.long_side, args.quality)
    pack_bytes = folder_bytes(args.out)
    tree = travelling_bytes(args.repo)
    total = tree + pack_bytes
    print(
        f"{stats['images']} images, {stats['label_maps']} label maps: pack {pack_bytes / 2**20:.1f} MiB; "
        f"working tree {tree / 2**20:.1f} MiB; together {total / 2**20:.1f} MiB of the device tool's "
        f"{DEVICE_LIMIT / 2**20:.0f} MiB ({'fits' if total <= DEVICE_LIMIT else 'TOO LARGE'})"
    )
    return 0 if total <= DEVICE_LIMIT else 1


if __name__ == "__main__":
    raise SystemExit(main())
