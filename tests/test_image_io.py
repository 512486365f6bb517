"""Tests for ntclick.image_io: RGB normalisation, reading images and masks, atomic writes."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from ntclick.image_io import (
    as_rgb_uint8,
    atomic_path,
    atomic_write_bytes,
    load_image,
    load_mask,
    save_image,
)

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "images" / "chelsea.png"


def _test_image(h: int = 6, w: int = 8) -> np.ndarray:
    rng = np.random.default_rng(0)
    return rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)


def test_as_rgb_uint8_converts_gray_and_rgba():
    rgb = _test_image()
    assert as_rgb_uint8(rgb) is not None and np.shares_memory(as_rgb_uint8(rgb), rgb)
    gray = rgb[:, :, 0]
    out = as_rgb_uint8(gray)
    assert out.shape == (6, 8, 3) and (out == gray[:, :, None]).all()
    np.testing.assert_array_equal(as_rgb_uint8(gray[:, :, None]), out)
    rgba = np.concatenate([rgb, np.full((6, 8, 1), 7, np.uint8)], axis=2)
    out = as_rgb_uint8(rgba)
    np.testing.assert_array_equal(out, rgb)
    assert out.flags.c_contiguous


@pytest.mark.parametrize(
    ("image", "message"),
    [
        (np.zeros((4, 4, 3), np.float32), "uint8"),
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        ([[1, 2], [3, 4]], "numpy array"),
    ],
)
def test_as_rgb_uint8_rejects_bad_images(image, message):
    with pytest.raises(ValueError, match=message):
        as_rgb_uint8(image)


@pytest.mark.parametrize("suffix", [".png", ".bmp", ".tiff"])
def test_save_and_load_image_round_trip_keeps_rgb_order(tmp_path, suffix):
    image = _test_image()
    image[0, 0] = (255, 0, 0)  # pure red must stay in channel 0
    path = tmp_path / f"img{suffix}"
    save_image(path, image)
    back = load_image(path)
    assert back.dtype == np.uint8 and back.shape == image.shape
    np.testing.assert_array_equal(back, image)
    assert tuple(back[0, 0]) == (255, 0, 0)


def test_save_bool_mask_and_load_mask(tmp_path):
    mask = np.zeros((5, 7), bool)
    mask[1:3, 2:6] = True
    save_image(tmp_path / "m.png", mask)
    back = load_mask(tmp_path / "m.png")
    assert back.dtype == np.uint8 and back.ndim == 2
    np.testing.assert_array_equal(back, mask.astype(np.uint8) * 255)
    # A colour mask file is reduced to its first channel.
    save_image(tmp_path / "c.png", np.dstack([mask.astype(np.uint8) * 255] * 3))
    np.testing.assert_array_equal(load_mask(tmp_path / "c.png"), back)


def test_load_example_image():
    if not EXAMPLE.is_file():
        pytest.skip("examples/images/chelsea.png not present")
    img = load_image(EXAMPLE)
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3 and img.std() > 10


def test_missing_and_corrupt_files_raise_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="image file not found"):
        load_image(tmp_path / "nope.png")
    with pytest.raises(FileNotFoundError, match="mask file not found"):
        load_mask(tmp_path / "nope.png")
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match="cannot decode"):
        load_image(bad)
    with pytest.raises(ValueError, match="cannot decode"):
        load_mask(bad)


def test_save_image_rejects_bad_dtype_and_suffix(tmp_path):
    with pytest.raises(ValueError, match="dtype"):
        save_image(tmp_path / "f.png", np.zeros((2, 2), np.float32))
    with pytest.raises(ValueError, match="suffix"):
        save_image(tmp_path / "f.notaformat", np.zeros((2, 2), np.uint8))
    assert list(tmp_path.iterdir()) == []  # nothing half-written left behind


def test_save_image_quality_sets_the_jpeg_quality_and_is_refused_for_lossless(tmp_path):
    import cv2

    rng = np.random.default_rng(0)
    image = cv2.GaussianBlur(rng.integers(0, 256, (64, 80, 3), dtype=np.uint8), (5, 5), 0)
    low, high = tmp_path / "low.jpg", tmp_path / "high.jpg"
    save_image(low, image, quality=30)
    save_image(high, image, quality=95)
    assert low.stat().st_size < high.stat().st_size
    # the same bytes as OpenCV's own encoder at that quality
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(image, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 30])
    assert ok and low.read_bytes() == buf.tobytes()
    with pytest.raises(ValueError, match="quality applies to"):
        save_image(tmp_path / "x.png", image, quality=90)
    with pytest.raises(ValueError, match="0-100"):
        save_image(tmp_path / "x.jpg", image, quality=101)
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "x.jpg").exists()


def test_atomic_write_bytes_replaces_and_leaves_no_temporary_files(tmp_path):
    target = tmp_path / "sub" / "data.bin"
    atomic_write_bytes(target, b"first")
    atomic_write_bytes(target, b"second")
    assert target.read_bytes() == b"second"
    assert os.listdir(target.parent) == ["data.bin"]


def test_atomic_write_bytes_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "data.bin"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        atomic_write_bytes(target, "text is not bytes")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["data.bin"]


def test_atomic_writes_get_umask_permissions_not_mkstemp_owner_only(tmp_path):
    old = os.umask(0o022)
    try:
        atomic_write_bytes(tmp_path / "a.bin", b"x")
        with atomic_path(tmp_path / "b.bin") as tmp:
            tmp.write_bytes(b"y")
    finally:
        os.umask(old)
    for name in ("a.bin", "b.bin"):
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "b.bin").read_bytes() == b"y"
