"""Training data: config loading, sources, augmentations and ECP/HRR samples (torch-free)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from ntclick.clicks import click_pixel
from ntclick.fbu import BG, FG, UNCERTAIN
from ntclick.image_io import save_image
from ntclick.train.config import TrainConfig, apply_overrides, load_config
from ntclick.train.samples import degrade_fbu, make_ecp_sample, make_hrr_sample, training_fbu
from ntclick.train.sources import (
    BSDSRegionPool,
    FolderSource,
    build_source,
    build_sources,
    dis5k_source,
    split_ids,
    thing_candidates,
)

REPO = Path(__file__).resolve().parents[1]

# Label k of the fixture's label maps is painted in PALETTE[k], so a pixel's colour says its region.
PALETTE = np.array(
    [[0, 0, 0], [230, 25, 25], [25, 230, 25], [25, 25, 230], [230, 230, 25], [25, 230, 230], [230, 25, 230]],
    dtype=np.uint8,
)


def grid_labels(h: int = 64, w: int = 96) -> np.ndarray:
    """A 2 x 3 grid of rectangular regions labelled 1..6 (row-major)."""
    labels = np.zeros((h, w), dtype=np.uint8)
    for r in range(2):
        for c in range(3):
            labels[r * h // 2 : (r + 1) * h // 2, c * w // 3 : (c + 1) * w // 3] = 1 + r * 3 + c
    return labels


def make_bsds(root: Path, ids=("1001", "1002", "1003", "1004", "1005")) -> Path:
    """A BSDS-like tree: images/<id>.png coloured by region, regions/<id>_0.png (6 regions) and _1.png (2: regions 1+4 and the rest)."""
    labels = grid_labels()
    halves = np.where(np.arange(96)[None, :] < 32, 1, 2).astype(np.uint8).repeat(64, axis=0)
    for i in ids:
        save_image(root / "images" / f"{i}.png", PALETTE[labels])
        save_image(root / "regions" / f"{i}_0.png", labels)
        save_image(root / "regions" / f"{i}_1.png", halves)
    return root


def labels_of(pixels_rgb: np.ndarray) -> set[int]:
    """Region labels of (N, 3) fixture colours."""
    d = np.abs(pixels_rgb[:, None, :].astype(int) - PALETTE[None, 1:, :].astype(int)).sum(-1)
    return set((d.argmin(1) + 1).tolist())


def exact_config(**overrides) -> TrainConfig:
    """No photometric or scale change, so sample pixels keep their fixture colours."""
    base = dict(
        input_size=96,
        crop_size=128,
        hflip=False,
        scale_range=(1.0, 1.0),
        color_jitter=0.0,
        fbu_kernel_range=(3, 5),
    )
    return TrainConfig(**{**base, **overrides})


# ---------------------------------------------------------------------------- config


def test_config_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"task": "ecp", "stpes": 10}))
    with pytest.raises(ValueError, match=r"c\.json.*unknown training config key.*'stpes'.*steps"):
        load_config(path)


def test_config_defaults_fill_only_missing_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps({"steps": 10}))
    assert load_config(path, defaults={"task": "hrr"}).task == "hrr"
    path.write_text(json.dumps({"task": "ecp"}))
    assert load_config(path, defaults={"task": "hrr"}).task == "ecp"


def test_config_overrides_parse_json_and_nested_keys() -> None:
    config = apply_overrides(TrainConfig(), ["steps=7", "model=base", "model_overrides.depth=2", "amp=none"])
    assert (config.steps, config.model, config.model_overrides, config.amp) == (
        7,
        "base",
        {"depth": 2},
        "none",
    )
    with pytest.raises(ValueError, match="not of the form key=value"):
        apply_overrides(TrainConfig(), ["steps"])
    with pytest.raises(ValueError, match="unknown training config key 'lr_max'"):
        apply_overrides(TrainConfig(), ["lr_max=1"])


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("crop_size", 500, "multiple of 16"),
        ("input_size", 100, "multiple of 16"),
        ("task", "sam", "task must be one of"),
        ("amp", "fp8", "amp must be one of"),
        ("iterative_prob", 1.5, r"iterative_prob must be in \[0, 1\]"),
        ("prior_from_previous_prob", -0.1, r"prior_from_previous_prob must be in \[0, 1\]"),
        ("scale_range", [2.0, 1.0], "scale_range"),
        ("lr", float("nan"), "lr must be a finite number > 0"),
    ],
)
def test_config_bad_values_are_named(field: str, value, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrainConfig(**{field: value})


def test_repo_configs_load_and_round_trip() -> None:
    paths = sorted((REPO / "configs").glob("*.json"))
    assert {p.stem for p in paths} >= {
        "ecp_tiny_cpu",
        "hrr_tiny_cpu",
        "ecp_base",
        "hrr_base",
        "ecp_smoke",
        "hrr_smoke",
    }
    for p in paths:
        config = load_config(p)
        assert TrainConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config
        assert config.task == p.stem.split("_")[0]


def test_train_package_and_data_modules_do_not_import_torch() -> None:
    code = (
        "import sys; import ntclick.train, ntclick.train.config, ntclick.train.sources, ntclick.train.synthetic, "
        "ntclick.train.augment, ntclick.train.samples, ntclick.train.metrics_log; print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------------------- sources


def test_split_ids_is_seeded_disjoint_and_complete() -> None:
    ids = [f"{i:03d}" for i in range(40)]
    train, val = split_ids(ids, "train", 0.25, seed=3), split_ids(ids[::-1], "val", 0.25, seed=3)
    assert len(val) == 10 and not set(train) & set(val) and set(train) | set(val) == set(ids)
    assert split_ids(ids, "val", 0.25, seed=4) != val
    assert split_ids(ids, "all", 0.25) == ids


def test_bsds_pool_targets_are_unions_of_neighbouring_regions(tmp_path: Path) -> None:
    pool = BSDSRegionPool(make_bsds(tmp_path / "bsds"), max_regions=3, max_area=0.6)
    labels = grid_labels()
    adjacency = {1: {2, 4}, 2: {1, 3, 5}, 3: {2, 6}, 4: {1, 5}, 5: {2, 4, 6}, 6: {3, 5}}
    seen_sizes = set()
    for seed in range(30):
        image, target = pool.load(seed % len(pool), np.random.default_rng(seed))
        assert image.shape == (64, 96, 3) and target.shape == (64, 96) and target.dtype == np.float32
        assert set(np.unique(target).tolist()) <= {0.0, 1.0}
        chosen = set(np.unique(labels[target == 1]).tolist())
        if chosen <= {1, 2, 3, 4, 5, 6} and not (target == 0).all():
            # Six-region annotator: whole regions only, connected through shared borders.
            if np.array_equal(target == 1, np.isin(labels, list(chosen))):
                seen_sizes.add(len(chosen))
                reached, frontier = set(), [next(iter(chosen))]
                while frontier:
                    r = frontier.pop()
                    if r not in reached:
                        reached.add(r)
                        frontier.extend(adjacency[r] & chosen)
                assert reached == chosen
        assert target.mean() <= 0.6 + 1e-6
    assert seen_sizes >= {1, 2}  # single regions and unions both occur
    a = pool.load(2, np.random.default_rng(7))
    b = pool.load(2, np.random.default_rng(7))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_thing_candidates_keep_regions_that_do_not_span_the_frame() -> None:
    labels = np.zeros((20, 20), np.uint8)  # 0: touches all four sides
    labels[5:10, 5:10] = 1  # enclosed, 6.25%
    labels[12:20, 8:12] = 2  # bottom side only, 8%
    labels[0:20, 15:20] = 3  # three sides
    labels[2, 2] = 4  # 0.25%
    assert thing_candidates(labels, 0.02, 0.6) == [(2, 0.08), (1, 0.0625)]
    assert thing_candidates(labels, 0.02, 0.6, max_sides=0) == [(1, 0.0625)]
    assert [v for v, _ in thing_candidates(labels, 0.001, 0.9, max_sides=4)] == [0, 3, 2, 1, 4]


def test_bsds_pool_things_draws_thing_like_regions_and_falls_back_to_the_rule(tmp_path: Path) -> None:
    root = make_bsds(tmp_path / "bsds")
    things = BSDSRegionPool(root, objects="things", max_area=0.6)
    regions = BSDSRegionPool(root, max_area=0.6)
    assert things.name == "bsds:bsds:things" and regions.name == "bsds:bsds"
    labels = grid_labels()
    # The fixture's annotators: a 2 x 3 grid, whose middle cells 2 and 5 touch one side each
    # (things), and two halves touching three sides each (none: the default rule decides).
    kinds = set()
    for seed in range(12):
        rng_a, rng_b = np.random.default_rng(seed), np.random.default_rng(seed)
        (_, a), (_, b) = things.load(seed % len(things), rng_a), regions.load(seed % len(regions), rng_b)
        if np.array_equal(a == 1, labels == 2) or np.array_equal(a == 1, labels == 5):
            kinds.add("thing")
        else:
            assert np.array_equal(a, b)  # the fallback draws exactly what the default rule draws
            kinds.add("fallback")
    assert kinds == {"thing", "fallback"}
    enclosed = np.zeros_like(labels)
    enclosed[20:40, 30:60] = 7
    enclosed[0:10, 0:96] = 8  # a band along the top: three sides
    for path in (root / "regions").glob("*_1.png"):
        save_image(path, enclosed)
    things = BSDSRegionPool(root, objects="things", max_area=0.6)
    hits = 0
    for seed in range(20):
        _, target = things.load(seed % len(things), np.random.default_rng(seed))
        if target.any() and np.array_equal(target == 1, enclosed == 7):
            hits += 1
        assert not np.array_equal(target == 1, enclosed == 8)
    assert hits >= 5  # annotator 1 is drawn about half the time, and then it is always the thing
    source, _ = build_source({"type": "bsds", "root": str(root), "objects": "things", "max_sides": 0})
    assert source.objects == "things" and source.max_sides == 0
    with pytest.raises(ValueError, match="objects must be 'regions' or 'things'"):
        BSDSRegionPool(root, objects="stuff")
    with pytest.raises(ValueError, match="max_sides"):
        BSDSRegionPool(root, objects="things", max_sides=5)


def test_bsds_pool_split_by_image_id(tmp_path: Path) -> None:
    root = make_bsds(tmp_path / "bsds")
    train = BSDSRegionPool(root, split="train", val_fraction=0.4)
    val = BSDSRegionPool(root, split="val", val_fraction=0.4)
    assert len(val) == 2 and not set(train.ids) & set(val.ids) and len(train) + len(val) == 5


def test_folder_and_dis5k_sources(tmp_path: Path) -> None:
    base = tmp_path / "DIS5K" / "DIS-TR"
    mask = np.zeros((40, 50), np.uint8)
    mask[10:30, 5:25] = 255
    for name in ("a", "b"):
        save_image(base / "im" / f"{name}.jpg", np.full((40, 50, 3), 90, np.uint8))
        save_image(base / "gt" / f"{name}.png", mask)
    source = dis5k_source(tmp_path / "DIS5K")
    image, target = source.load(1, np.random.default_rng(0))
    assert len(source) == 2 and image.shape == (40, 50, 3)
    assert np.array_equal(target, (mask > 127).astype(np.float32))
    save_image(base / "im" / "c.jpg", np.zeros((40, 50, 3), np.uint8))
    with pytest.raises(ValueError, match=r"have no mask.*\['c'\]"):
        FolderSource(base / "im", base / "gt")


def test_build_source_names_bad_specs(tmp_path: Path) -> None:
    root = make_bsds(tmp_path / "bsds")
    with pytest.raises(ValueError, match="type must be one of"):
        build_source({"type": "coco", "root": str(root)})
    with pytest.raises(ValueError, match=r"unknown key\(s\) \['rot'\]"):
        build_source({"type": "bsds", "rot": str(root)})
    with pytest.raises(FileNotFoundError, match="folder not found"):
        build_source({"type": "bsds", "root": str(tmp_path / "missing")})
    mixed = build_sources([{"type": "bsds", "root": str(root), "weight": 2}])
    assert len(mixed) == 5


# ---------------------------------------------------------------------------- samples


def test_ecp_sample_fbu_and_clicks_are_consistent(tmp_path: Path) -> None:
    pool = BSDSRegionPool(make_bsds(tmp_path / "bsds"))
    config = exact_config(max_fg_clicks=3, max_bg_clicks=3, max_nt_clicks=3)
    for seed in range(12):
        rng = np.random.default_rng(seed)
        image, target = pool.load(seed % len(pool), rng)
        s = make_ecp_sample(image, target, rng, config)
        assert s.image.shape == (96, 96, 3) and s.gt_fbu.shape == s.valid.shape == (96, 96)
        assert set(np.unique(s.gt_fbu).tolist()) <= {BG, UNCERTAIN, FG}
        assert s.valid[:64].all() and not s.valid[64:].any() and (s.gt_fbu[~s.valid] == BG).all()
        # FBU foreground lies in the target's regions, background in the others.
        fg_labels = labels_of(s.image[s.gt_fbu == FG])
        bg_labels = labels_of(s.image[(s.gt_fbu == BG) & s.valid])
        assert fg_labels and not fg_labels & bg_labels
        assert np.array_equal(s.image[:64], image)
        assert s.clicks and any(c.kind.value == "fg" for c in s.clicks)
        expected = {"fg": FG, "bg": BG, "nt": UNCERTAIN}
        for c in s.clicks:
            row, col = click_pixel(c)
            assert s.valid[row, col] and s.gt_fbu[row, col] == expected[c.kind.value]


def test_ecp_sample_without_fbu_foreground_still_has_a_click() -> None:
    image = np.zeros((64, 96, 3), np.uint8)
    target = np.zeros((64, 96), np.float32)
    target[30:33, :] = 1.0  # a 3 px wire: erosion by the 15..30 kernel leaves no foreground
    s = make_ecp_sample(image, target, np.random.default_rng(0), exact_config(fbu_kernel_range=(15, 30)))
    assert not (s.gt_fbu == FG).any() and len(s.clicks) >= 1
    assert all(c.kind.value in ("nt", "bg") for c in s.clicks)


def test_hrr_sample_crops_pads_and_keeps_the_target(tmp_path: Path) -> None:
    pool = BSDSRegionPool(make_bsds(tmp_path / "bsds"))
    rng = np.random.default_rng(1)
    image, target = pool.load(0, rng)
    s = make_hrr_sample(image, target, rng, exact_config(fbu_degrade_prob=0.0))
    assert s.image.shape == (128, 128, 3) and s.fbu.shape == s.target.shape == s.valid.shape == (128, 128)
    assert np.array_equal(s.target[:64, :96], target) and not s.target[~s.valid].any()
    assert np.array_equal(s.image[:64, :96], image)
    assert (s.target[s.fbu == FG] == 1).all() and (s.target[(s.fbu == BG) & s.valid] == 0).all()
    big = np.zeros((300, 400, 3), np.uint8)
    big_target = np.zeros((300, 400), np.float32)
    big_target[100:200, 150:250] = 1
    s = make_hrr_sample(big, big_target, np.random.default_rng(2), exact_config(scale_range=(0.8, 1.2)))
    assert s.valid.all() and s.target.shape == (128, 128) and s.target.any()


def test_degrade_fbu_keeps_values_and_changes_the_map() -> None:
    fbu = np.zeros((256, 256), np.uint8)
    cv2.circle(fbu, (128, 128), 80, UNCERTAIN, -1)
    cv2.circle(fbu, (128, 128), 60, FG, -1)
    changed = 0
    for seed in range(5):
        out = degrade_fbu(fbu, np.random.default_rng(seed))
        assert out.shape == fbu.shape and set(np.unique(out).tolist()) <= {BG, UNCERTAIN, FG}
        changed += int((out != fbu).any())
    assert changed >= 4
    assert np.array_equal(
        degrade_fbu(fbu, np.random.default_rng(9)), degrade_fbu(fbu, np.random.default_rng(9))
    )


def test_training_fbu_marks_faint_structures_uncertain() -> None:
    target = np.zeros((64, 64), np.float32)
    target[10:40, 10:40] = 1.0
    target[55, :] = 0.3  # a sub-pixel wire after downsampling: lost by the 0.5 threshold
    fbu = training_fbu(target, np.random.default_rng(0), (5, 5))
    assert (fbu[55] == UNCERTAIN).all() and (fbu[62, 20] == BG)  # the wire's band, not beyond it
    assert (fbu[20:30, 20:30] == FG).all() and (fbu[0, 60] == BG)
    binary = (target >= 0.5).astype(np.float32)
    assert not (training_fbu(binary, np.random.default_rng(0), (5, 5))[50:60] == UNCERTAIN).any()


def _shared_bsds() -> Path:
    env = os.environ.get("NTCLICK_DATA")
    root = (Path(env) if env else REPO.parent / "shared" / "data") / "BSDS500-train"
    if not (root / "regions").is_dir():
        pytest.skip(f"BSDS500-train not found at {root} (set NTCLICK_DATA)")
    return root


def test_real_bsds_pool_samples_are_consistent() -> None:
    pool = BSDSRegionPool(_shared_bsds(), split="train")
    config = TrainConfig(input_size=448, crop_size=512)
    expected = {"fg": FG, "bg": BG, "nt": UNCERTAIN}
    for seed in range(4):
        rng = np.random.default_rng(seed)
        image, target = pool.load(int(rng.integers(len(pool))), rng)
        assert image.shape[:2] == target.shape and 0.0 < target.mean() <= pool.max_area
        s = make_ecp_sample(image, target, rng, config)
        for c in s.clicks:
            row, col = click_pixel(c)
            assert s.valid[row, col] and s.gt_fbu[row, col] == expected[c.kind.value]
