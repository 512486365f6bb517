"""Readers for the interactive-segmentation benchmarks, in the folder layouts the field uses.

A dataset is a list of :class:`Sample` objects (one per object to segment: an image file, a
mask file and the rule that turns mask values into foreground / ignore).  Nothing is decoded
until :meth:`Sample.load` is called, so opening a large dataset is cheap.

Layouts (``root`` is the folder given by the user):

========================  ==============================================  ==========================
name                      files                                           foreground / ignore
========================  ==============================================  ==========================
``grabcut``               ``data_GT/<n>.{jpg,JPG,bmp}``, ``boundary_GT/<n>.bmp``  ``> 128`` / ``== 128``
``berkeley``              ``images/<n>.jpg``, ``masks/<n>.png``            ``> 127``
``davis``, ``coco-mval``  ``img/<n>.jpg``, ``gt/<n>.png``                  ``> 0`` (all objects merged)
``dis-vd``, ``dis-te1..4``  ``DIS-VD/im``, ``DIS-VD/gt`` (or the split folder itself)  ``> 127``
``dis-te``                the four ``DIS-TE1..4`` splits together          ``> 127``
``hqseg44k-val``          SAM-HQ's ``data/``: DIS-VD, COIFT, HRSOD, ThinObject5K test  ``> 127``
``thinobject5k``          ``images_test``/``masks_test``, or ``images``/``masks`` + ``list/test.txt``  ``> 127``
``folder``                ``images/<n>.*``, ``masks/<n>.*``                ``> 127``
========================  ==============================================  ==========================

Multi-object DAVIS palette masks are read the way RITM and SimpleClick read DAVIS-345: the
colour channels are reduced by their maximum and every non-zero value is foreground, so all
objects of one mask form one target.  Images and masks are paired by file stem; a mask whose
image is missing raises :class:`FileNotFoundError` naming both paths, unless the dataset is
opened with ``skip_missing=True``, in which case it is left out and named in
:attr:`SegmentationDataset.skipped`.  Images without a mask are not objects and are ignored
(Berkeley keeps an unannotated ``<id>.jpg`` beside ``<id>a.jpg`` and ``<id>b.jpg``).

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from ntclick.image_io import IMAGE_SUFFIXES, images_by_stem, load_image

__all__ = [
    "IMAGE_EXTENSIONS",
    "MaskRule",
    "Sample",
    "LoadedSample",
    "SegmentationDataset",
    "read_mask",
    "folder_dataset",
    "grabcut_dataset",
    "berkeley_dataset",
    "davis_dataset",
    "coco_mval_dataset",
    "dis5k_dataset",
    "hqseg44k_val_dataset",
    "thinobject5k_dataset",
    "DATASETS",
    "list_datasets",
    "open_dataset",
    "default_data_root",
]

IMAGE_EXTENSIONS = IMAGE_SUFFIXES


@dataclass(frozen=True)
class MaskRule:
    """How mask values become a target: ``fg = value > fg_above`` and ``ignore = value == ignore_value``.

    The ignore test comes first, so an ignore value above ``fg_above`` is never foreground.
    """

    fg_above: int = 127
    ignore_value: int | None = None

    def apply(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Mask values (H, W) -> ``(gt bool (H, W), ignore bool (H, W))``."""
        ignore = (
            values == self.ignore_value if self.ignore_value is not None else np.zeros(values.shape, bool)
        )
        gt = (values > self.fg_above) & ~ignore
        return gt, ignore


@dataclass(frozen=True)
class LoadedSample:
    """One decoded object.

    Attributes:
        name: unique name of the object inside its dataset (the mask's stem, prefixed by the
            subset for datasets made of several subsets).
        image: uint8 (H, W, 3) RGB.
        gt: bool (H, W), the object.
        ignore: bool (H, W), pixels that never count (GrabCut's unknown band); all False elsewhere.
    """

    name: str
    image: np.ndarray
    gt: np.ndarray
    ignore: np.ndarray


@dataclass(frozen=True)
class Sample:
    """One object to segment, not yet read from disk."""

    name: str
    image_path: Path
    mask_path: Path
    rule: MaskRule = MaskRule()

    def load(self) -> LoadedSample:
        """Decode image and mask.  Raises ``FileNotFoundError`` / ``ValueError`` naming the file."""
        image = load_image(self.image_path)
        gt, ignore = self.rule.apply(read_mask(self.mask_path))
        if gt.shape != image.shape[:2]:
            raise ValueError(
                f"mask {self.mask_path} has size {gt.shape[1]}x{gt.shape[0]} but image {self.image_path} "
                f"has size {image.shape[1]}x{image.shape[0]} (width x height)"
            )
        return LoadedSample(self.name, image, gt, ignore)


@dataclass
class SegmentationDataset(Sequence[Sample]):
    """A named, ordered list of samples plus what was left out when opening it.

    Attributes:
        name: the dataset's name (``"grabcut"``, ``"berkeley"``, ...).
        root: the folder it was read from.
        samples: the objects, sorted by name.
        skipped: one message per object left out because a file was missing (only when the
            dataset was opened with ``skip_missing=True``).
    """

    name: str
    root: Path
    samples: list[Sample]
    skipped: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index):  # type: ignore[override]
        if isinstance(index, slice):
            return SegmentationDataset(self.name, self.root, self.samples[index], list(self.skipped))
        return self.samples[index]

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.samples)

    def __repr__(self) -> str:
        return (
            f"SegmentationDataset(name={self.name!r}, root={str(self.root)!r}, objects={len(self.samples)})"
        )


def read_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a mask file as a 2-D integer array of its values.

    Grayscale masks are returned as stored (8 or 16 bit).  Colour masks (RGB masks, and
    palette PNGs, which OpenCV expands to colour) are reduced by the maximum over their
    colour channels, so any non-black pixel stays non-zero (RITM's DAVIS reader does the same);
    an alpha channel is dropped.
    """
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"mask file not found: {p}")
    m = cv2.imdecode(np.fromfile(str(p), dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if m is None:
        raise ValueError(f"cannot decode mask file {p} (not an image OpenCV can read, or corrupt)")
    if m.ndim == 3:
        m = m[:, :, :3].max(axis=2)
    return m


def _files_by_stem(folder: Path) -> dict[str, Path]:
    return images_by_stem(folder, duplicates="first")


def _pair(
    images_dir: Path,
    masks_dir: Path,
    rule: MaskRule,
    *,
    prefix: str = "",
    names: Sequence[str] | None = None,
    skip_missing: bool = False,
    skipped: list[str],
) -> list[Sample]:
    """Pair every mask (or every mask named in ``names``) with the image of the same stem."""
    images = _files_by_stem(images_dir)
    masks = _files_by_stem(masks_dir)
    wanted = sorted(masks) if names is None else list(names)
    samples = []
    for stem in wanted:
        problem = None
        if stem not in masks:
            problem = f"no mask file for {prefix}{stem} in {masks_dir} (looked for {stem} + {'/'.join(IMAGE_EXTENSIONS)})"
        elif stem not in images:
            problem = f"no image for mask {masks[stem]} in {images_dir} (looked for {stem} + {'/'.join(IMAGE_EXTENSIONS)})"
        if problem is not None:
            if not skip_missing:
                raise FileNotFoundError(problem + "; pass skip_missing=True (--skip-missing) to leave it out")
            skipped.append(problem)
            continue
        samples.append(Sample(prefix + stem, images[stem], masks[stem], rule))
    return samples


def _make(name: str, root: Path, samples: list[Sample], skipped: list[str]) -> SegmentationDataset:
    if not samples:
        raise FileNotFoundError(f"no objects found for dataset {name!r} under {root}")
    return SegmentationDataset(name, root, samples, skipped)


def folder_dataset(
    images_dir: str | os.PathLike,
    masks_dir: str | os.PathLike,
    *,
    fg_above: int = 127,
    ignore_value: int | None = None,
    name: str = "folder",
    skip_missing: bool = False,
) -> SegmentationDataset:
    """A folder of images and a folder of masks paired by file stem (``fg = value > fg_above``)."""
    images_dir, masks_dir = Path(images_dir), Path(masks_dir)
    skipped: list[str] = []
    rule = MaskRule(fg_above, ignore_value)
    samples = _pair(images_dir, masks_dir, rule, skip_missing=skip_missing, skipped=skipped)
    return _make(name, masks_dir.parent, samples, skipped)


def _subfolder_dataset(
    name: str, root: str | os.PathLike, images: str, masks: str, rule: MaskRule, skip_missing: bool
) -> SegmentationDataset:
    root = Path(root)
    skipped: list[str] = []
    samples = _pair(root / images, root / masks, rule, skip_missing=skip_missing, skipped=skipped)
    return _make(name, root, samples, skipped)


def grabcut_dataset(root: str | os.PathLike, *, skip_missing: bool = False) -> SegmentationDataset:
    """GrabCut (Rother et al. 2004): 50 objects; mask value 128 is an unknown band, ignored when scoring."""
    return _subfolder_dataset("grabcut", root, "data_GT", "boundary_GT", MaskRule(128, 128), skip_missing)


def berkeley_dataset(root: str | os.PathLike, *, skip_missing: bool = False) -> SegmentationDataset:
    """Berkeley (McGuinness & O'Connor 2010): 100 objects, ``images/`` and ``masks/`` (0/255)."""
    return _subfolder_dataset("berkeley", root, "images", "masks", MaskRule(127), skip_missing)


def davis_dataset(root: str | os.PathLike, *, skip_missing: bool = False) -> SegmentationDataset:
    """DAVIS-345 as released with RITM: ``img/``, ``gt/``; every non-zero mask value is foreground."""
    return _subfolder_dataset("davis", root, "img", "gt", MaskRule(0), skip_missing)


def coco_mval_dataset(root: str | os.PathLike, *, skip_missing: bool = False) -> SegmentationDataset:
    """COCO-MVal (800 objects, RITM's release): ``img/``, ``gt/``; non-zero is foreground."""
    return _subfolder_dataset("coco-mval", root, "img", "gt", MaskRule(0), skip_missing)


DIS_SPLITS = ("DIS-VD", "DIS-TE1", "DIS-TE2", "DIS-TE3", "DIS-TE4")


def dis5k_dataset(
    root: str | os.PathLike, split: str = "DIS-VD", *, skip_missing: bool = False
) -> SegmentationDataset:
    """DIS5K (Qin et al. 2022): ``<root>/<split>/im`` and ``<root>/<split>/gt`` (``> 127`` is foreground).

    ``split`` is one of ``DIS-VD``, ``DIS-TE1`` .. ``DIS-TE4``, or ``DIS-TE`` for the four test
    splits together (object names prefixed ``DIS-TE1/`` etc.).  ``root`` may also be the split
    folder itself (the one holding ``im/`` and ``gt/``).
    """
    root = Path(root)
    split = split.upper()
    splits = [f"DIS-TE{i}" for i in range(1, 5)] if split == "DIS-TE" else [split]
    for s in splits:
        if s not in DIS_SPLITS:
            raise ValueError(
                f"unknown DIS5K split {split!r}: expected one of {', '.join(DIS_SPLITS)} or DIS-TE"
            )
    skipped: list[str] = []
    samples: list[Sample] = []
    if len(splits) == 1 and (root / "im").is_dir() and not (root / splits[0]).is_dir():
        samples = _pair(root / "im", root / "gt", MaskRule(127), skip_missing=skip_missing, skipped=skipped)
    else:
        for s in splits:
            prefix = f"{s}/" if len(splits) > 1 else ""
            samples += _pair(
                root / s / "im",
                root / s / "gt",
                MaskRule(127),
                prefix=prefix,
                skip_missing=skip_missing,
                skipped=skipped,
            )
    return _make(split.lower(), root, samples, skipped)


# SAM-HQ's validation sets (HQSeg-44K), relative to its ``data/`` folder, as its train.py lists them.
HQSEG44K_VAL = {
    "DIS-VD": ("DIS5K/DIS-VD/im", "DIS5K/DIS-VD/gt"),
    "COIFT": ("thin_object_detection/COIFT/images", "thin_object_detection/COIFT/masks"),
    "HRSOD": ("thin_object_detection/HRSOD/images", "thin_object_detection/HRSOD/masks_max255"),
    "ThinObject5K-TE": (
        "thin_object_detection/ThinObject5K/images_test",
        "thin_object_detection/ThinObject5K/masks_test",
    ),
}


def hqseg44k_val_dataset(root: str | os.PathLike, *, skip_missing: bool = False) -> SegmentationDataset:
    """HQSeg-44K validation (SAM-HQ): DIS-VD, COIFT, HRSOD and ThinObject5K-TE, names prefixed by subset."""
    root = Path(root)
    skipped: list[str] = []
    samples: list[Sample] = []
    for subset, (images, masks) in HQSEG44K_VAL.items():
        samples += _pair(
            root / images,
            root / masks,
            MaskRule(127),
            prefix=f"{subset}/",
            skip_missing=skip_missing,
            skipped=skipped,
        )
    return _make("hqseg44k-val", root, samples, skipped)


def thinobject5k_dataset(root: str | os.PathLike, *, skip_missing: bool = False) -> SegmentationDataset:
    """ThinObject-5K test split (Liew et al. 2021).

    Either SAM-HQ's layout (``images_test/``, ``masks_test/``) or the original release
    (``images/``, ``masks/`` and ``list/test.txt`` naming the test images, one per line).
    """
    root = Path(root)
    rule = MaskRule(127)
    if (root / "images_test").is_dir():
        return _subfolder_dataset("thinobject5k", root, "images_test", "masks_test", rule, skip_missing)
    listing = root / "list" / "test.txt"
    if not listing.is_file():
        raise FileNotFoundError(f"ThinObject-5K: neither {root / 'images_test'} nor {listing} exists")
    names = [Path(line.strip()).stem for line in listing.read_text().splitlines() if line.strip()]
    skipped: list[str] = []
    samples = _pair(
        root / "images", root / "masks", rule, names=names, skip_missing=skip_missing, skipped=skipped
    )
    return _make("thinobject5k", root, samples, skipped)


@dataclass(frozen=True)
class DatasetSpec:
    """A registry entry: how to open a dataset and where it usually lives under the data root."""

    open: Callable[..., SegmentationDataset]
    default_folder: str
    description: str


def _dis_split(split: str) -> Callable[..., SegmentationDataset]:
    def open_split(root, *, skip_missing: bool = False) -> SegmentationDataset:
        return dis5k_dataset(root, split, skip_missing=skip_missing)

    return open_split


def _folder_layout(root, *, skip_missing: bool = False) -> SegmentationDataset:
    root = Path(root)
    return folder_dataset(root / "images", root / "masks", name="folder", skip_missing=skip_missing)


DATASETS: dict[str, DatasetSpec] = {
    "grabcut": DatasetSpec(grabcut_dataset, "GrabCut", "GrabCut, 50 objects, 128 = ignored band"),
    "berkeley": DatasetSpec(berkeley_dataset, "Berkeley", "Berkeley, 100 objects"),
    "davis": DatasetSpec(davis_dataset, "DAVIS", "DAVIS-345 (RITM release), img/ + gt/"),
    "coco-mval": DatasetSpec(coco_mval_dataset, "COCO_MVal", "COCO-MVal (RITM release), img/ + gt/"),
    "dis-vd": DatasetSpec(_dis_split("DIS-VD"), "DIS5K", "DIS5K validation split"),
    **{
        f"dis-te{i}": DatasetSpec(_dis_split(f"DIS-TE{i}"), "DIS5K", f"DIS5K test split {i}")
        for i in range(1, 5)
    },
    "dis-te": DatasetSpec(_dis_split("DIS-TE"), "DIS5K", "DIS5K test splits 1-4 together"),
    "hqseg44k-val": DatasetSpec(hqseg44k_val_dataset, "sam-hq/data", "HQSeg-44K validation (4 subsets)"),
    "thinobject5k": DatasetSpec(thinobject5k_dataset, "ThinObject5K", "ThinObject-5K test split"),
    "folder": DatasetSpec(_folder_layout, "", "any folder with images/ and masks/ paired by stem"),
}


def list_datasets() -> list[str]:
    """Names accepted by :func:`open_dataset`."""
    return sorted(DATASETS)


def default_data_root() -> Path:
    """``$NTCLICK_DATA`` if set, else ``<repository root>/../shared/data``."""
    env = os.environ.get("NTCLICK_DATA")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data"


def open_dataset(
    name: str, path: str | os.PathLike | None = None, *, skip_missing: bool = False
) -> SegmentationDataset:
    """Open a registered dataset by name.

    Args:
        name: one of :func:`list_datasets` (case-insensitive).
        path: its root folder; default ``default_data_root() / <usual folder>``.
        skip_missing: leave out objects whose image or mask file is missing (named in
            ``dataset.skipped``) instead of raising ``FileNotFoundError``.
    """
    key = name.strip().lower()
    spec = DATASETS.get(key)
    if spec is None:
        raise ValueError(f"unknown dataset {name!r}: expected one of {', '.join(list_datasets())}")
    if path is None:
        if not spec.default_folder:
            raise ValueError(f"dataset {key!r} needs a path, e.g. {key}=/path/to/folder")
        path = default_data_root() / spec.default_folder
    root = Path(path)
    if not root.is_dir():
        raise FileNotFoundError(f"dataset {key!r}: folder not found: {root}")
    return spec.open(root, skip_missing=skip_missing)
