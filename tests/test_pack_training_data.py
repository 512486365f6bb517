"""docs/scripts/pack_training_data.py: a BSDS500-train small enough to travel to a lent GPU."""

from __future__ import annotations

import subprocess

import cv2
import numpy as np
from script_loader import load_script

from ntclick.train.sources import BSDSRegionPool

packer = load_script("docs/scripts/pack_training_data.py")


def _fake_bsds(root, sizes=((120, 180), (60, 40))):
    (root / "images").mkdir(parents=True)
    (root / "regions").mkdir()
    rng = np.random.default_rng(0)
    for i, (h, w) in enumerate(sizes):
        cv2.imwrite(str(root / "images" / f"{i}.jpg"), rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        for k in range(2):
            labels = np.zeros((h, w), np.uint8)
            labels[: h // 2] = 1 + k
            labels[h // 2 :, : w // 3] = 7
            cv2.imwrite(str(root / "regions" / f"{i}_{k}.png"), labels)


def test_pack_downscales_images_and_label_maps_alike(tmp_path):
    _fake_bsds(tmp_path / "src")
    stats = packer.pack(tmp_path / "src", tmp_path / "out", long_side=90, quality=80)
    assert stats["images"] == 2 and stats["label_maps"] == 4 and stats["bytes"] > 0
    big = cv2.imread(str(tmp_path / "out" / "images" / "0.jpg"))
    assert big.shape[:2] == (60, 90)  # long side 180 -> 90
    small = cv2.imread(str(tmp_path / "out" / "images" / "1.jpg"))
    assert small.shape[:2] == (60, 40)  # never enlarged
    labels = cv2.imread(str(tmp_path / "out" / "regions" / "0_1.png"), cv2.IMREAD_UNCHANGED)
    assert labels.shape == (60, 90) and set(np.unique(labels)) == {0, 2, 7}  # nearest: labels stay labels
    assert not list((tmp_path / "out").rglob("*.tmp"))
    pool = BSDSRegionPool(tmp_path / "out", min_area=0.0)
    image, target = pool.load(0, np.random.default_rng(0))
    assert image.shape[:2] == target.shape


def test_pack_refuses_a_label_map_of_another_size(tmp_path):
    _fake_bsds(tmp_path / "src")
    cv2.imwrite(str(tmp_path / "src" / "regions" / "0_0.png"), np.zeros((10, 10), np.uint8))
    try:
        packer.pack(tmp_path / "src", tmp_path / "out")
    except ValueError as e:
        assert "0_0.png" in str(e) and "not 180x120" in str(e)
    else:
        raise AssertionError("a label map of another size was packed")


def test_travelling_bytes_counts_tracked_and_untracked_files_not_ignored_ones(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / ".gitignore").write_text("data/\n")
    (tmp_path / "a.txt").write_bytes(b"x" * 100)
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(b"x" * 10_000)
    (tmp_path / "new.txt").write_bytes(b"x" * 7)
    subprocess.run(["git", "-C", str(tmp_path), "add", "a.txt", ".gitignore"], check=True)
    assert packer.travelling_bytes(tmp_path) == 100 + 7 + len("data/\n")
    assert packer.folder_bytes(tmp_path / "data") == 10_000
