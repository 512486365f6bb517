"""Dataset readers of ntclick.eval on tiny fixture folders built in tmp_path, one per layout."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from ntclick.eval.datasets import (
    berkeley_dataset,
    coco_mval_dataset,
    davis_dataset,
    dis5k_dataset,
    folder_dataset,
    grabcut_dataset,
    hqseg44k_val_dataset,
    list_datasets,
    open_dataset,
    read_mask,
    thinobject5k_dataset,
)

H, W = 24, 32


def _image(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (H, W, 3), dtype=np.uint8)


def _write(path: Path, array: np.ndarray) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), array)
    return path


def _square_mask(value: int = 255) -> np.ndarray:
    m = np.zeros((H, W), np.uint8)
    m[6:18, 8:24] = value
    return m


def test_grabcut_layout_ignore_band_and_mixed_extensions(tmp_path):
    mask = _square_mask()
    mask[5, 8:24] = 128  # unknown band on the object's top edge
    _write(tmp_path / "data_GT" / "a.JPG", _image(0))
    _write(tmp_path / "data_GT" / "b.bmp", _image(1))
    _write(tmp_path / "boundary_GT" / "a.bmp", mask)
    _write(tmp_path / "boundary_GT" / "b.bmp", mask)
    ds = grabcut_dataset(tmp_path)
    assert [s.name for s in ds] == ["a", "b"]
    assert ds[0].image_path.name == "a.JPG" and ds[1].image_path.name == "b.bmp"
    s = ds[0].load()
    assert s.image.shape == (H, W, 3) and s.image.dtype == np.uint8
    assert s.ignore.sum() == 16 and s.ignore[5, 8:24].all()
    assert not (s.gt & s.ignore).any()  # 128 is ignored, never foreground
    assert s.gt.sum() == 12 * 16


def test_berkeley_layout_pairs_by_stem_and_ignores_unannotated_images(tmp_path):
    for stem in ("100", "100a", "100b"):
        _write(tmp_path / "images" / f"{stem}.jpg", _image(3))
    _write(tmp_path / "masks" / "100a.png", np.dstack([_square_mask()] * 3))  # RGB 0/255 masks
    _write(tmp_path / "masks" / "100b.png", np.dstack([255 - _square_mask()] * 3))
    ds = berkeley_dataset(tmp_path)
    assert [s.name for s in ds] == ["100a", "100b"]
    a, b = ds[0].load(), ds[1].load()
    assert a.gt.sum() == 12 * 16 and b.gt.sum() == H * W - 12 * 16
    assert not a.ignore.any()


def test_davis_palette_mask_with_several_objects_is_one_target(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    labels = np.zeros((H, W), np.uint8)
    labels[2:8, 2:8] = 1  # DAVIS palette index 1 is dark red (128, 0, 0): blue channel 0
    labels[12:20, 20:30] = 2
    img = pil.fromarray(labels, mode="P")
    palette = [0, 0, 0, 128, 0, 0, 0, 128, 0] + [0] * (256 * 3 - 9)
    img.putpalette(palette)
    (tmp_path / "gt").mkdir()
    img.save(tmp_path / "gt" / "bear_0.png")
    _write(tmp_path / "img" / "bear_0.jpg", _image(4))
    ds = davis_dataset(tmp_path)
    s = ds[0].load()
    np.testing.assert_array_equal(s.gt, labels > 0)


def test_coco_mval_any_nonzero_value_is_foreground(tmp_path):
    mask = np.zeros((H, W), np.uint8)
    mask[0:4, 0:4] = 1
    mask[10:12, 10:12] = 7
    _write(tmp_path / "img" / "000001.jpg", _image(5))
    _write(tmp_path / "gt" / "000001.png", mask)
    s = coco_mval_dataset(tmp_path)[0].load()
    assert s.gt.sum() == 16 + 4


def test_dis5k_splits_root_or_split_folder_and_combined_test(tmp_path):
    gray = _square_mask(200)
    gray[6, 8] = 100  # anti-aliased edge value below the 127 threshold
    for split in ("DIS-VD", "DIS-TE1", "DIS-TE2", "DIS-TE3", "DIS-TE4"):
        _write(tmp_path / split / "im" / f"{split}_x.jpg", _image(6))
        _write(tmp_path / split / "gt" / f"{split}_x.png", gray)
    vd = dis5k_dataset(tmp_path, "DIS-VD")
    assert [s.name for s in vd] == ["DIS-VD_x"]
    assert vd[0].load().gt.sum() == 12 * 16 - 1
    assert [s.name for s in dis5k_dataset(tmp_path / "DIS-TE2", "DIS-TE2")] == ["DIS-TE2_x"]
    te = open_dataset("dis-te", tmp_path)
    assert [s.name for s in te] == [f"DIS-TE{i}/DIS-TE{i}_x" for i in range(1, 5)]
    with pytest.raises(ValueError, match="DIS-TE9"):
        dis5k_dataset(tmp_path, "DIS-TE9")


def test_hqseg44k_validation_layout(tmp_path):
    from ntclick.eval.datasets import HQSEG44K_VAL

    for images, masks in HQSEG44K_VAL.values():
        _write(tmp_path / images / "o1.jpg", _image(7))
        _write(tmp_path / masks / "o1.png", _square_mask())
    ds = hqseg44k_val_dataset(tmp_path)
    assert sorted(s.name for s in ds) == sorted(f"{k}/o1" for k in HQSEG44K_VAL)


def test_thinobject5k_both_layouts(tmp_path):
    hq = tmp_path / "hq"
    _write(hq / "images_test" / "t1.jpg", _image(8))
    _write(hq / "masks_test" / "t1.png", _square_mask())
    assert [s.name for s in thinobject5k_dataset(hq)] == ["t1"]
    orig = tmp_path / "orig"
    for stem in ("train1", "test1"):
        _write(orig / "images" / f"{stem}.jpg", _image(9))
        _write(orig / "masks" / f"{stem}.png", _square_mask())
    (orig / "list").mkdir()
    (orig / "list" / "test.txt").write_text("test1.jpg\n")
    assert [s.name for s in thinobject5k_dataset(orig)] == ["test1"]


def test_generic_folder_reader_with_custom_threshold(tmp_path):
    _write(tmp_path / "pics" / "p.png", _image(10))
    _write(tmp_path / "labels" / "p.png", _square_mask(1))
    ds = folder_dataset(tmp_path / "pics", tmp_path / "labels", fg_above=0)
    assert ds[0].load().gt.sum() == 12 * 16
    assert folder_dataset(tmp_path / "pics", tmp_path / "labels")[0].load().gt.sum() == 0  # default > 127


def test_missing_image_is_named_and_skipped_only_on_request(tmp_path):
    _write(tmp_path / "images" / "ok.jpg", _image(11))
    _write(tmp_path / "masks" / "ok.png", _square_mask())
    _write(tmp_path / "masks" / "lost.png", _square_mask())
    with pytest.raises(FileNotFoundError, match=r"lost\.png"):
        berkeley_dataset(tmp_path)
    ds = berkeley_dataset(tmp_path, skip_missing=True)
    assert [s.name for s in ds] == ["ok"]
    assert len(ds.skipped) == 1 and "lost.png" in ds.skipped[0]


def test_unreadable_and_mismatched_files_are_named_at_load(tmp_path):
    _write(tmp_path / "images" / "bad.jpg", _image(12))
    (tmp_path / "masks").mkdir()
    (tmp_path / "masks" / "bad.png").write_bytes(b"not a png")
    _write(tmp_path / "images" / "small.jpg", _image(13)[:10])
    _write(tmp_path / "masks" / "small.png", _square_mask())
    ds = berkeley_dataset(tmp_path)  # opening is lazy: nothing is decoded yet
    with pytest.raises(ValueError, match=r"bad\.png"):
        ds[0].load()
    with pytest.raises(ValueError, match=r"small\.png.*small\.jpg"):
        ds[1].load()


def test_registry_errors_and_empty_folders(tmp_path):
    assert {"grabcut", "berkeley", "davis", "coco-mval", "dis-vd", "hqseg44k-val", "thinobject5k"} <= set(
        list_datasets()
    )
    with pytest.raises(ValueError, match="unknown dataset 'nope'.*grabcut"):
        open_dataset("nope", tmp_path)
    with pytest.raises(FileNotFoundError, match="folder not found"):
        open_dataset("berkeley", tmp_path / "absent")
    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    with pytest.raises(FileNotFoundError, match="no objects"):
        open_dataset("folder", tmp_path)
    with pytest.raises(FileNotFoundError):
        read_mask(tmp_path / "none.png")


def _shared_data() -> Path:
    env = os.environ.get("NTCLICK_DATA")
    return Path(env) if env else Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.mark.skipif(not (_shared_data() / "GrabCut").is_dir(), reason="shared benchmark data not present")
def test_real_grabcut_and_berkeley_counts():
    grabcut = grabcut_dataset(_shared_data() / "GrabCut")
    berkeley = berkeley_dataset(_shared_data() / "Berkeley")
    assert len(grabcut) == 50 and len(berkeley) == 100
    s = berkeley[0].load()
    assert s.gt.any() and s.gt.shape == s.image.shape[:2]
