"""Reading images, normalising them to HxWx3 uint8 RGB, and writing masks atomically.

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

__all__ = [
    "as_rgb_uint8",
    "load_image",
    "load_mask",
    "save_image",
    "atomic_write_bytes",
    "atomic_path",
    "IMAGE_SUFFIXES",
    "images_by_stem",
]


def as_rgb_uint8(image: np.ndarray, name: str = "image") -> np.ndarray:
    """Normalise an image to a C-contiguous (H, W, 3) uint8 RGB array.

    Accepted: uint8 (H, W, 3) RGB (returned as is), uint8 (H, W) or (H, W, 1) grayscale
    (replicated to 3 channels), uint8 (H, W, 4) RGBA (alpha dropped).  Anything else,
    another dtype included, raises ``ValueError`` saying what was given.
    """
    if not isinstance(image, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(image).__name__}")
    if image.dtype != np.uint8:
        raise ValueError(
            f"{name} must be uint8 RGB with values 0..255, got dtype {image.dtype} and shape {image.shape}; "
            "convert with (img * 255).clip(0, 255).astype(np.uint8) if it is float in [0, 1]"
        )
    if image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 1):
        image = np.repeat(image.reshape(image.shape[0], image.shape[1], 1), 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    elif not (image.ndim == 3 and image.shape[2] == 3):
        raise ValueError(
            f"{name} must have shape (H, W, 3) RGB, (H, W) grayscale or (H, W, 4) RGBA, got shape {image.shape}"
        )
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"{name} is empty: shape {image.shape}")
    return np.ascontiguousarray(image)


def load_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image file as (H, W, 3) uint8 RGB.  Raises ``FileNotFoundError``/``ValueError`` by name."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"image file not found: {p}")
    data = np.fromfile(str(p), dtype=np.uint8)
    bgr = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError(f"cannot decode image file {p} (not an image OpenCV can read, or corrupt)")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def load_mask(path: str | os.PathLike) -> np.ndarray:
    """Read a mask file as a 2-D uint8 array (colour masks are reduced to their first channel)."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"mask file not found: {p}")
    data = np.fromfile(str(p), dtype=np.uint8)
    m = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if m is None:
        raise ValueError(f"cannot decode mask file {p} (not an image OpenCV can read, or corrupt)")
    if m.ndim == 3:
        m = m[:, :, 0]
    return m


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path in ``path``'s folder; on success it is renamed to ``path``.

    A reader never sees a half-written file: on any exception the temporary file is removed
    and ``path`` is untouched.  The file gets the usual permissions (``0o666`` minus the
    umask), not ``mkstemp``'s owner-only ``0o600``.
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, p)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)  # the only portable way to read it is to set it
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename,
    so a reader never sees a half-written file."""
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


_QUALITY_FLAGS = {
    ".jpg": cv2.IMWRITE_JPEG_QUALITY,
    ".jpeg": cv2.IMWRITE_JPEG_QUALITY,
    ".webp": cv2.IMWRITE_WEBP_QUALITY,
}


def save_image(path: str | os.PathLike, image: np.ndarray, *, quality: int | None = None) -> None:
    """Write an image atomically; the format follows the suffix (.png, .jpg, ...).

    ``image``: (H, W) uint8 or bool (bool is written as 0/255), or (H, W, 3) uint8 RGB.
    ``quality``: 0-100 for a lossy format (.jpg, .jpeg, .webp); None keeps OpenCV's default.
    """
    p = Path(path)
    params: list[int] = []
    if quality is not None:
        flag = _QUALITY_FLAGS.get(p.suffix.lower())
        if flag is None:
            raise ValueError(f"quality applies to .jpg, .jpeg and .webp files, not {p.name}")
        if not 0 <= int(quality) <= 100:
            raise ValueError(f"quality must be 0-100, got {quality}")
        params = [flag, int(quality)]
    img = np.asarray(image)
    if img.dtype == np.bool_:
        img = img.astype(np.uint8) * 255
    if img.dtype != np.uint8:
        raise ValueError(f"can only save uint8 or bool images, got dtype {img.dtype}")
    if img.ndim == 3:
        img = cv2.cvtColor(img, cv2.COLOR_RGB2BGR)
    try:
        ok, buf = cv2.imencode(p.suffix or ".png", img, params)
    except cv2.error:  # OpenCV raises, rather than returns False, for an unknown suffix
        ok = False
    if not ok:
        raise ValueError(f"OpenCV cannot encode an image with suffix {p.suffix!r} for {p}")
    atomic_write_bytes(p, buf.tobytes())


IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp")


def images_by_stem(folder: str | os.PathLike, *, duplicates: str = "error") -> dict[str, Path]:
    """Image files of a folder by stem (``a.jpg`` -> ``"a"``), sorted by name; hidden files skipped.

    ``duplicates``: ``"error"`` raises ``ValueError`` when two files share a stem; ``"first"``
    keeps the first by name.  A missing folder raises ``FileNotFoundError``.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {folder}")
    out: dict[str, Path] = {}
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES and not p.name.startswith("."):
            if p.stem in out:
                if duplicates == "error":
                    raise ValueError(
                        f"two files with the stem {p.stem!r} in {folder}: {out[p.stem].name}, {p.name}"
                    )
                continue
            out[p.stem] = p
    return out
