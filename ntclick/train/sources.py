"""Training data sources: where (image, target) pairs come from.

Every source has a length (its number of items) and ``load(index, rng)`` returning

- ``image``: uint8 (H, W, 3) RGB,
- ``target``: float32 (H, W) in [0, 1]: 1 = object.  Real masks are binary (0 or 1); the
  synthetic source gives exact soft alpha at anti-aliased edges.

``rng`` (a ``numpy.random.Generator``) makes the choices a source may make per load
(which annotator's regions, which synthetic structure): a source is deterministic given it.

Sources:

- :class:`BSDSRegionPool`: BSDS500 images with human label maps (``images/<id>.jpg``,
  ``regions/<id>_<k>.png``); the target is one region or a union of neighbouring regions of one
  annotator, chosen at random.
- :class:`FolderSource`: any ``images/`` + ``masks/`` folder pair matched by file stem;
  :func:`dis5k_source` is the DIS5K layout (``DIS-TR/im``, ``DIS-TR/gt``).
- :class:`SyntheticSource`: thin structures composited over photographs, generated on the fly
  (:mod:`ntclick.train.synthetic`).

A source may be restricted to a seeded train/validation split by image id
(:func:`split_ids`).  :class:`MixedSource` draws from several sources by weight.

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ntclick.image_io import IMAGE_SUFFIXES, images_by_stem, load_image, load_mask
from ntclick.train.config import expand_path

__all__ = [
    "Source",
    "IMAGE_SUFFIXES",
    "split_ids",
    "BSDSRegionPool",
    "FolderSource",
    "dis5k_source",
    "SyntheticSource",
    "MixedSource",
    "build_source",
    "build_sources",
]

SPLITS = ("all", "train", "val")


class Source(Protocol):
    name: str

    def __len__(self) -> int: ...

    def load(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]: ...


def split_ids(ids: Sequence[str], split: str, val_fraction: float, seed: int = 0) -> list[str]:
    """Keep the ids of one split: a seeded random ``val_fraction`` of the sorted ids is "val".

    ``split="all"`` keeps everything.  The split depends only on the id set and the seed, so
    train and val never share an image whatever the order the files were listed in.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    ordered = sorted(ids)
    if split == "all":
        return ordered
    num_val = int(round(len(ordered) * val_fraction))
    if val_fraction > 0 and len(ordered) > 1:
        num_val = min(max(num_val, 1), len(ordered) - 1)
    perm = np.random.default_rng(seed).permutation(len(ordered))
    val_set = {ordered[i] for i in perm[:num_val]}
    return [i for i in ordered if (i in val_set) == (split == "val")]


def _list_images(folder: Path) -> dict[str, Path]:
    """Image files of a folder by stem; a stem seen twice is an error."""
    return images_by_stem(folder, duplicates="error")


def _region_adjacency(labels: np.ndarray) -> dict[int, set[int]]:
    """Labels that touch each other (4-connectivity) in a label map."""
    lab = labels.astype(np.int64)
    pairs = [
        (lab[:, :-1].ravel(), lab[:, 1:].ravel()),
        (lab[:-1, :].ravel(), lab[1:, :].ravel()),
    ]
    adj: dict[int, set[int]] = {int(v): set() for v in np.unique(lab)}
    for a, b in pairs:
        differ = a != b
        codes = np.unique(a[differ] * 65536 + b[differ])
        for code in codes.tolist():
            u, v = divmod(code, 65536)
            adj[u].add(v)
            adj[v].add(u)
    return adj


def thing_candidates(
    labels: np.ndarray, min_area: float, max_area: float, max_sides: int = 1
) -> list[tuple[int, float]]:
    """Thing-like regions of a label map (H, W): ``[(label, area fraction), ...]``, largest first.

    A region is thing-like when it covers ``[min_area, max_area]`` of the image and touches at
    most ``max_sides`` of the image's four sides: background "stuff" (sky, water, ground) usually
    spans the frame, while the objects interactive benchmarks segment (animals, people) mostly
    do not.
    """
    values, counts = np.unique(labels, return_counts=True)
    borders = (labels[0], labels[-1], labels[:, 0], labels[:, -1])
    on_side = [set(np.unique(b).tolist()) for b in borders]
    found = []
    for value, count in zip(values.tolist(), counts.tolist(), strict=True):
        area = count / labels.size
        if min_area <= area <= max_area and sum(value in side for side in on_side) <= max_sides:
            found.append((int(value), area))
    found.sort(key=lambda t: (-t[1], t[0]))
    return found


class BSDSRegionPool:
    """BSDS500 region pool: one region or a union of neighbouring regions as the object.

    Layout: ``root/images/<id>.jpg`` and ``root/regions/<id>_<k>.png`` (annotator ``k``'s
    uint8 label map, one label per region, same size as the image).

    ``load`` picks one annotator at random, a seed region among those covering at least
    ``min_area`` of the image, then grows it by up to ``max_regions - 1`` random neighbours
    (the number of regions is uniform in [1, max_regions]); unions covering more than
    ``max_area`` of the image are shrunk back to the seed region.

    With ``objects="things"`` the target is instead one thing-like region of the chosen annotator
    (:func:`thing_candidates`: within the area bounds, touching at most ``max_sides`` image
    sides), drawn with probability proportional to its area, falling back to the rule above when
    that annotator has none. The benchmarks' targets are whole objects, which the default rule
    draws no more often than background.
    """

    def __init__(
        self,
        root: str | os.PathLike,
        *,
        split: str = "all",
        val_fraction: float = 0.05,
        split_seed: int = 0,
        min_area: float = 0.01,
        max_area: float = 0.8,
        max_regions: int = 3,
        objects: str = "regions",
        max_sides: int = 1,
    ) -> None:
        self.root = Path(root)
        if objects not in ("regions", "things"):
            raise ValueError(f"objects must be 'regions' or 'things', got {objects!r}")
        self.name = f"bsds:{self.root.name}" + (":things" if objects == "things" else "")
        if not 0 <= min_area < max_area <= 1:
            raise ValueError(f"need 0 <= min_area < max_area <= 1, got {min_area}, {max_area}")
        if max_regions < 1:
            raise ValueError(f"max_regions must be >= 1, got {max_regions}")
        if not 0 <= max_sides <= 4:
            raise ValueError(f"max_sides must be in [0, 4], got {max_sides}")
        self.min_area, self.max_area, self.max_regions = min_area, max_area, max_regions
        self.objects, self.max_sides = objects, max_sides
        images = _list_images(self.root / "images")
        regions_dir = self.root / "regions"
        if not regions_dir.is_dir():
            raise FileNotFoundError(f"BSDS region folder not found: {regions_dir}")
        label_maps: dict[str, list[Path]] = {}
        for p in sorted(regions_dir.glob("*.png")):
            image_id, _, k = p.stem.rpartition("_")
            if image_id and k.isdigit():
                label_maps.setdefault(image_id, []).append(p)
        ids = [i for i in images if i in label_maps]
        if not ids:
            raise ValueError(
                f"no image in {self.root / 'images'} has a label map <id>_<k>.png in {regions_dir}"
            )
        self.ids = split_ids(ids, split, val_fraction, split_seed)
        if not self.ids:
            raise ValueError(f"the {split!r} split of {self.root} is empty (val_fraction={val_fraction})")
        self.images = {i: images[i] for i in self.ids}
        self.label_maps = {i: label_maps[i] for i in self.ids}

    def __len__(self) -> int:
        return len(self.ids)

    def choose_regions(self, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """bool (H, W) target: a seed region plus random neighbours (or, with ``objects="things"``,
        one thing-like region), from a label map (H, W)."""
        if self.objects == "things":
            things = thing_candidates(labels, self.min_area, self.max_area, self.max_sides)
            if things:  # drawn in proportion to area: uniform draws would be mostly small parts
                areas = np.array([area for _, area in things])
                return labels == things[int(rng.choice(len(things), p=areas / areas.sum()))][0]
        values, counts = np.unique(labels, return_counts=True)
        fractions = counts / labels.size
        candidates = values[(fractions >= self.min_area) & (fractions <= self.max_area)]
        if candidates.size == 0:  # only tiny or huge regions: take the one closest to mid-size
            candidates = values[[int(np.argmin(np.abs(fractions - 0.5)))]]
        seed = int(rng.choice(candidates))
        chosen = [seed]
        area = float(fractions[values == seed][0])
        wanted = int(rng.integers(1, self.max_regions + 1))
        if wanted > 1:
            adj = _region_adjacency(labels)
            while len(chosen) < wanted:
                frontier = sorted(set().union(*(adj[c] for c in chosen)) - set(chosen))
                if not frontier:
                    break
                nxt = int(rng.choice(frontier))
                nxt_area = float(fractions[values == nxt][0])
                if area + nxt_area > self.max_area:
                    break
                chosen.append(nxt)
                area += nxt_area
        return np.isin(labels, chosen)

    def load(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        image_id = self.ids[index]
        image = load_image(self.images[image_id])
        maps = self.label_maps[image_id]
        labels = load_mask(maps[int(rng.integers(len(maps)))])
        if labels.shape != image.shape[:2]:
            raise ValueError(
                f"label map for {image_id} has shape {labels.shape}, the image {image.shape[:2]}; they must match"
            )
        return image, self.choose_regions(labels, rng).astype(np.float32)


class FolderSource:
    """Images and masks in two folders, matched by file stem (``images/a.jpg`` <-> ``masks/a.png``).

    Masks are read as grayscale and scaled to [0, 1]; with ``soft=False`` (default) they are
    binarised at 0.5, with ``soft=True`` an alpha matte is kept as is.  An image without a
    mask is an error naming it, never a silent skip.
    """

    def __init__(
        self,
        images: str | os.PathLike,
        masks: str | os.PathLike,
        *,
        soft: bool = False,
        split: str = "all",
        val_fraction: float = 0.05,
        split_seed: int = 0,
        name: str | None = None,
    ) -> None:
        self.image_dir, self.mask_dir = Path(images), Path(masks)
        self.name = name or f"folder:{self.image_dir.parent.name}/{self.image_dir.name}"
        self.soft = soft
        image_files = _list_images(self.image_dir)
        mask_files = _list_images(self.mask_dir)
        if not image_files:
            raise ValueError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in {self.image_dir}")
        missing = sorted(set(image_files) - set(mask_files))
        if missing:
            raise ValueError(
                f"{len(missing)} image(s) in {self.image_dir} have no mask with the same stem in {self.mask_dir}, "
                f"e.g. {missing[:3]}"
            )
        self.ids = split_ids(list(image_files), split, val_fraction, split_seed)
        if not self.ids:
            raise ValueError(
                f"the {split!r} split of {self.image_dir} is empty (val_fraction={val_fraction})"
            )
        self.images = {i: image_files[i] for i in self.ids}
        self.masks = {i: mask_files[i] for i in self.ids}

    def __len__(self) -> int:
        return len(self.ids)

    def load(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        image_id = self.ids[index]
        image = load_image(self.images[image_id])
        mask = load_mask(self.masks[image_id])
        if mask.shape != image.shape[:2]:
            raise ValueError(
                f"mask {self.masks[image_id]} has shape {mask.shape}, its image {image.shape[:2]}; they must match"
            )
        scale = 65535.0 if mask.dtype == np.uint16 else 255.0 if mask.max() > 1 else 1.0
        target = mask.astype(np.float32) / scale
        if not self.soft:
            target = (target >= 0.5).astype(np.float32)
        return image, target


def dis5k_source(root: str | os.PathLike, subset: str = "DIS-TR", **kwargs: Any) -> FolderSource:
    """The DIS5K layout: ``root/<subset>/im/*.jpg`` and ``root/<subset>/gt/*.png``."""
    base = Path(root) / subset
    return FolderSource(base / "im", base / "gt", name=f"dis5k:{subset}", **kwargs)


class SyntheticSource:
    """Thin structures over photographs, generated on the fly (:func:`ntclick.train.synthetic.render_sample`).

    ``length`` is the virtual number of items (the item index only selects nothing: all the
    randomness comes from ``rng``).  Backgrounds come from ``backgrounds`` (a folder of
    photographs), split by file stem like the other sources; ``size`` is the long side of
    the generated image, an int or a ``[low, high]`` range drawn per sample.
    """

    def __init__(
        self,
        backgrounds: str | os.PathLike,
        *,
        size: int | Sequence[int] = 1024,
        length: int = 10000,
        kinds: Sequence[str] | None = None,
        supersample: int = 2,
        split: str = "all",
        val_fraction: float = 0.05,
        split_seed: int = 0,
    ) -> None:
        from ntclick.train import synthetic  # local import: synthetic imports this module in turn

        self._synthetic = synthetic
        self.background_dir = Path(backgrounds)
        files = _list_images(self.background_dir)
        if not files:
            raise ValueError(f"no background photographs in {self.background_dir}")
        keep = split_ids(list(files), split, val_fraction, split_seed)
        if not keep:
            raise ValueError(f"the {split!r} split of {self.background_dir} is empty")
        self.backgrounds = [files[i] for i in keep]
        self.size_range = (int(size), int(size)) if np.isscalar(size) else (int(size[0]), int(size[1]))
        if not 16 <= self.size_range[0] <= self.size_range[1]:
            raise ValueError(f"size must be >= 16 (or a range [low, high]), got {size}")
        self.kinds = tuple(kinds) if kinds else synthetic.STRUCTURE_KINDS
        unknown = sorted(set(self.kinds) - set(synthetic.STRUCTURE_KINDS))
        if unknown:
            raise ValueError(
                f"unknown synthetic structure kind(s) {unknown}; known: {synthetic.STRUCTURE_KINDS}"
            )
        if length < 1:
            raise ValueError(f"length must be >= 1, got {length}")
        self.length, self.supersample = int(length), int(supersample)
        self.name = f"synthetic:{self.background_dir.name}"

    def __len__(self) -> int:
        return self.length

    def load(self, index: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        background = load_image(self.backgrounds[int(rng.integers(len(self.backgrounds)))])
        size = int(rng.integers(self.size_range[0], self.size_range[1] + 1))
        sample = self._synthetic.render_sample(
            rng, background, size, kinds=self.kinds, supersample=self.supersample
        )
        return sample.image, sample.alpha


class MixedSource:
    """Several sources drawn by weight: each load picks a source, then an item uniformly."""

    def __init__(self, sources: Sequence[Source], weights: Sequence[float] | None = None) -> None:
        if not sources:
            raise ValueError("no data sources configured: set 'data' in the training config")
        w = np.ones(len(sources)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(sources),) or (w < 0).any() or w.sum() <= 0:
            raise ValueError(
                f"source weights must be {len(sources)} non-negative numbers with a positive sum, got {weights}"
            )
        self.sources, self.probs = list(sources), w / w.sum()
        self.name = "+".join(s.name for s in self.sources)

    def __len__(self) -> int:
        return sum(len(s) for s in self.sources)

    def draw(self, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, str]:
        """(image, target, source name) of a random item of a random source."""
        source = self.sources[int(rng.choice(len(self.sources), p=self.probs))]
        image, target = source.load(int(rng.integers(len(source))), rng)
        return image, target, source.name


_SOURCE_KEYS = {
    "bsds": {
        "root",
        "split",
        "val_fraction",
        "split_seed",
        "min_area",
        "max_area",
        "max_regions",
        "objects",
        "max_sides",
    },
    "folder": {"images", "masks", "soft", "split", "val_fraction", "split_seed", "name"},
    "dis5k": {"root", "subset", "soft", "split", "val_fraction", "split_seed"},
    "synthetic": {
        "backgrounds",
        "size",
        "length",
        "kinds",
        "supersample",
        "split",
        "val_fraction",
        "split_seed",
    },
}
_PATH_KEYS = ("root", "images", "masks", "backgrounds")


def build_source(spec: dict[str, Any]) -> tuple[Source, float]:
    """A source from its config object ``{"type": ..., "weight": ..., <type's arguments>}``.

    Types: ``bsds`` (root), ``folder`` (images, masks), ``dis5k`` (root, subset),
    ``synthetic`` (backgrounds, size, length, kinds).  Unknown types or keys raise
    ``ValueError`` naming them.
    """
    spec = dict(spec)
    kind = spec.pop("type", None)
    weight = float(spec.pop("weight", 1.0))
    if kind not in _SOURCE_KEYS:
        raise ValueError(f"data source type must be one of {sorted(_SOURCE_KEYS)}, got {kind!r} in {spec}")
    unknown = sorted(set(spec) - _SOURCE_KEYS[kind])
    if unknown:
        raise ValueError(
            f"unknown key(s) {unknown} for a {kind!r} data source; valid: type, weight, {', '.join(sorted(_SOURCE_KEYS[kind]))}"
        )
    for key in _PATH_KEYS:
        if key in spec:
            spec[key] = expand_path(spec[key])
    try:
        if kind == "bsds":
            return BSDSRegionPool(**spec), weight
        if kind == "folder":
            return FolderSource(**spec), weight
        if kind == "dis5k":
            return dis5k_source(**spec), weight
        return SyntheticSource(**spec), weight
    except TypeError as exc:  # a required argument is missing
        raise ValueError(f"{kind!r} data source {spec}: {exc}") from None


def build_sources(specs: Sequence[dict[str, Any]]) -> MixedSource:
    """A :class:`MixedSource` over the sources of a config's ``data`` list."""
    built = [build_source(s) for s in specs]
    return MixedSource([s for s, _ in built], [w for _, w in built])
