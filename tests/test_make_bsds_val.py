"""benchmarks/make_bsds_val.py: a fixed evaluation folder from the training pool's validation split."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from script_loader import load_script
from test_train_data import make_bsds

from ntclick.eval.datasets import open_dataset
from ntclick.image_io import load_mask, save_image
from ntclick.train.sources import BSDSRegionPool


def _script():
    return load_script("benchmarks/make_bsds_val.py")


def test_the_folder_holds_only_validation_images_and_is_reproducible(tmp_path: Path) -> None:
    ids = tuple(str(1000 + i) for i in range(40))  # 5% of 40 = 2 validation images
    bsds = make_bsds(tmp_path / "bsds", ids=ids)
    script = _script()
    manifest = script.write_val_set(bsds, tmp_path / "a", objects=2, seed=3)
    script.write_val_set(bsds, tmp_path / "b", objects=2, seed=3)

    val_ids = set(BSDSRegionPool(bsds, split="val").ids)
    train_ids = set(BSDSRegionPool(bsds, split="train").ids)
    assert {o["image_id"] for o in manifest["objects"]} == val_ids
    assert not val_ids & train_ids
    assert len(manifest["objects"]) == 2 * len(val_ids)
    for entry in manifest["objects"]:
        a = load_mask(tmp_path / "a" / "masks" / f"{entry['name']}.png")
        b = load_mask(tmp_path / "b" / "masks" / f"{entry['name']}.png")
        assert set(np.unique(a)) <= {0, 255}
        np.testing.assert_array_equal(a, b)  # same seed, same objects on every machine
        assert entry["area"] == np.mean(a > 127)
    assert json.loads((tmp_path / "a" / "manifest.json").read_text())["seed"] == 3
    # ntclick eval reads it as a plain folder dataset.
    dataset = open_dataset("folder", tmp_path / "a")
    assert len(dataset) == len(manifest["objects"])


def test_object_seeds_depend_on_image_and_index_only() -> None:
    script = _script()
    assert script.object_seed(0, "1001", 0) == script.object_seed(0, "1001", 0)
    assert (
        len(
            {
                script.object_seed(0, "1001", 0),
                script.object_seed(0, "1001", 1),
                script.object_seed(0, "1002", 0),
                script.object_seed(1, "1001", 0),
            }
        )
        == 4
    )


def test_split_train_writes_training_images(tmp_path: Path) -> None:
    ids = tuple(str(1000 + i) for i in range(40))
    bsds = make_bsds(tmp_path / "bsds", ids=ids)
    assert (
        _script().main(
            ["--bsds", str(bsds), "--out", str(tmp_path / "t"), "--objects", "1", "--split", "train"]
        )
        == 0
    )
    manifest = json.loads((tmp_path / "t" / "manifest.json").read_text())
    assert manifest["split"] == "train"
    assert {o["image_id"] for o in manifest["objects"]} == set(BSDSRegionPool(bsds, split="train").ids)


def test_thing_regions_take_the_coarsest_annotator_and_skip_regions_that_span_the_frame() -> None:
    fine = np.arange(64, dtype=np.uint8).reshape(8, 8)  # 64 regions
    coarse = np.zeros((20, 20), np.uint8)  # label 0: background touching all four sides
    coarse[5:10, 5:10] = 1  # enclosed, 6.25%
    coarse[12:20, 8:12] = 2  # touches the bottom only, 8%
    coarse[0:20, 15:20] = 3  # touches three sides: stuff
    coarse[2:3, 2:3] = 4  # 0.25%: too small
    k, regions = _script().thing_regions([fine.repeat(3, 0).repeat(3, 1)[:20, :20], coarse], objects=3)
    assert k == 1
    assert [value for value, _ in regions] == [2, 1]  # largest first; 3, 0 and 4 left out
    np.testing.assert_array_equal(regions[1][1], coarse == 1)
    _, one = _script().thing_regions([coarse], objects=1)
    assert [value for value, _ in one] == [2]


def test_the_thing_folder_is_reproducible_and_uses_validation_images_only(tmp_path: Path) -> None:
    ids = tuple(str(1000 + i) for i in range(40))
    bsds = make_bsds(tmp_path / "bsds", ids=ids)
    enclosed = np.zeros((64, 96), np.uint8)  # annotator 1 becomes the coarsest, with one thing
    enclosed[20:40, 30:60] = 1
    for i in ids:
        save_image(bsds / "regions" / f"{i}_1.png", enclosed)
    script = _script()
    assert script.main(["--bsds", str(bsds), "--out", str(tmp_path / "a"), "--things", "--objects", "2"]) == 0
    script.write_thing_set(bsds, tmp_path / "b", objects=2)
    manifest = json.loads((tmp_path / "a" / "manifest.json").read_text())
    assert manifest["kind"] == "things" and manifest["objects"]
    assert {o["image_id"] for o in manifest["objects"]} <= set(BSDSRegionPool(bsds, split="val").ids)
    for entry in manifest["objects"]:
        a = load_mask(tmp_path / "a" / "masks" / f"{entry['name']}.png")
        np.testing.assert_array_equal(a, load_mask(tmp_path / "b" / "masks" / f"{entry['name']}.png"))
        np.testing.assert_array_equal(a > 127, enclosed == 1)
        sides = [a[0].any(), a[-1].any(), a[:, 0].any(), a[:, -1].any()]
        assert sum(sides) <= 1 and 0.02 <= np.mean(a > 127) <= 0.6
