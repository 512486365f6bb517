"""The synthetic thin-structure generator (torch-free)."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from ntclick.cli import main as cli_main
from ntclick.image_io import load_image, load_mask, save_image
from ntclick.train.sources import FolderSource
from ntclick.train.synthetic import (
    STRUCTURE_KINDS,
    composite,
    render_alpha,
    render_background,
    render_sample,
    write_synthetic_set,
)


def photo(h: int = 60, w: int = 90, seed: int = 0) -> np.ndarray:
    """A smooth random 'photograph' (uint8 RGB)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([xx * 255 / w, yy * 255 / h, (xx + yy) * 127 / (h + w)], axis=-1)
    return np.clip(base + rng.normal(0, 8, (h, w, 3)), 0, 255).astype(np.uint8)


@pytest.mark.parametrize("kind", STRUCTURE_KINDS)
def test_each_kind_draws_thin_anti_aliased_structures(kind: str) -> None:
    alpha = render_alpha(np.random.default_rng(3), (256, 320), [kind], supersample=2)
    assert alpha.shape == (256, 320) and alpha.dtype == np.float32
    assert 0.0 <= alpha.min() and alpha.max() <= 1.0
    assert 0.002 < alpha.mean() < 0.5  # something is drawn, and it is thin rather than a blob
    assert ((alpha > 0) & (alpha < 1)).sum() > 0.1 * (alpha > 0).sum()  # anti-aliased edges


def test_render_sample_is_deterministic_and_seed_dependent() -> None:
    p = photo()
    a = render_sample(np.random.default_rng(11), p, 200)
    b = render_sample(np.random.default_rng(11), p, 200)
    c = render_sample(np.random.default_rng(12), p, 200)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.alpha, b.alpha) and a.kinds == b.kinds
    assert not np.array_equal(a.alpha, c.alpha)


def test_composite_and_masks_match_the_alpha() -> None:
    s = render_sample(np.random.default_rng(5), photo(), 240, kinds=("wires", "mesh"))
    assert s.image.shape == s.background.shape == (160, 240, 3)  # long side 240, the photo's 2:3 aspect
    outside = s.alpha == 0
    assert np.array_equal(s.image[outside], s.background[outside])  # untouched where nothing is drawn
    changed = (s.image != s.background).any(axis=2)
    assert not (changed & outside).any()
    assert np.array_equal(s.mask, s.alpha >= 0.5) and s.mask.any()
    # The image is exactly the alpha blend of the structures' colour over the photograph.
    assert np.array_equal(s.image, composite(s.alpha, s.foreground, s.background))
    full = s.alpha == 1
    assert full.any() and np.array_equal(s.image[full], s.foreground[full])


@pytest.mark.parametrize("size", [64, 1000, 4096])
def test_sizes_as_requested(size: int) -> None:
    p = photo(60, 90)
    bg = render_background(np.random.default_rng(0), p, size)
    assert bg.shape == (round(60 * size / 90), size, 3) and bg.dtype == np.uint8
    tall = render_background(np.random.default_rng(0), photo(90, 60), size)
    assert tall.shape[:2] == (size, round(60 * size / 90))


def test_large_sample_at_4096() -> None:
    s = render_sample(np.random.default_rng(1), photo(), 4096, kinds=("wires",))
    assert s.image.shape == (2731, 4096, 3) and s.alpha.shape == (2731, 4096)
    assert s.mask.any() and ((s.alpha > 0) & (s.alpha < 1)).any()


def test_bad_arguments_are_named() -> None:
    with pytest.raises(ValueError, match=r"unknown structure kind\(s\) \['cables'\]"):
        render_alpha(np.random.default_rng(0), (32, 32), ["cables"])
    with pytest.raises(ValueError, match="size must be >= 16"):
        render_sample(np.random.default_rng(0), photo(), 8)


def test_write_synthetic_set_is_fixed_and_readable(tmp_path: Path) -> None:
    backgrounds = tmp_path / "bg"
    for i in range(3):
        save_image(backgrounds / f"p{i}.png", photo(seed=i))
    out = write_synthetic_set(tmp_path / "a", 3, seed=7, size=160, backgrounds=backgrounds, progress=False)
    write_synthetic_set(
        tmp_path / "b", 2, seed=7, size=160, backgrounds=backgrounds, progress=False, image_format="png"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["opencv"] == cv2.__version__  # the text samples depend on it
    assert manifest["count"] == 3 and [it["name"] for it in manifest["items"]] == [
        f"synth_7_{i:05d}" for i in range(3)
    ]
    source = FolderSource(out / "images", out / "masks")
    assert len(source) == 3
    for name in ("synth_7_00000", "synth_7_00001"):
        mask = load_mask(out / "masks" / f"{name}.png")
        alpha = load_mask(out / "alpha" / f"{name}.png")
        assert max(mask.shape) == 160 and set(np.unique(mask).tolist()) <= {0, 255}
        assert np.array_equal(mask == 255, alpha >= 128)  # binary mask = alpha >= 0.5
        # Sample i depends on (seed, i) only, not on the count or the image format.
        assert np.array_equal(mask, load_mask(tmp_path / "b" / "masks" / f"{name}.png"))
        assert load_image(out / "images" / f"{name}.jpg").shape == (*mask.shape, 3)


def test_synth_command(tmp_path: Path) -> None:
    backgrounds = tmp_path / "bg"
    save_image(backgrounds / "p.png", photo())
    args = ["synth", "--out", str(tmp_path / "s"), "--count", "2", "--seed", "1", "--size", "128"]
    assert cli_main([*args, "--backgrounds", str(backgrounds), "--kinds", "hair,text", "--quiet"]) == 0
    kinds = {
        k for it in json.loads((tmp_path / "s" / "manifest.json").read_text())["items"] for k in it["kinds"]
    }
    assert kinds <= {"hair", "text"} and len(list((tmp_path / "s" / "masks").iterdir())) == 2
    assert cli_main([*args, "--backgrounds", str(backgrounds), "--kinds", "ropes", "--quiet"]) == 2


def test_a_test_set_on_val_backgrounds_never_uses_a_training_background(tmp_path: Path) -> None:
    from ntclick.train.sources import SyntheticSource

    backgrounds = tmp_path / "bg"
    for i in range(40):  # 5% of 40: two validation photographs
        save_image(backgrounds / f"p{i:02d}.png", photo(seed=i))
    out = write_synthetic_set(
        tmp_path / "t", 6, seed=1, size=64, backgrounds=backgrounds, progress=False, split="val"
    )
    manifest = json.loads((out / "manifest.json").read_text())
    used = {item["background"] for item in manifest["items"]}
    train = {p.name for p in SyntheticSource(backgrounds, split="train").backgrounds}
    val = {p.name for p in SyntheticSource(backgrounds, split="val").backgrounds}
    assert manifest["background_split"] == "val" and used <= val and not used & train
    with pytest.raises(ValueError, match="split must be one of"):
        write_synthetic_set(tmp_path / "x", 1, seed=1, size=64, backgrounds=backgrounds, split="test")
