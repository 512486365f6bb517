"""Click simulation: the evaluation clickers, the training samplers and click noise.

Evaluation (DESIGN.md section 6):

* :func:`next_click` is the standard clicker of RITM / SimpleClick: the next click goes to the
  pixel of the larger error region (false negatives vs. false positives) that lies farthest
  from that region's boundary, the image border counted as boundary.
* :func:`next_fbu_click` is the NT protocol's clicker: the same rule over the three FBU
  classes, so it can answer with a noise-tolerant click.

Training: :func:`sample_fbu_clicks` (random clicks in the FBU region of each kind) and
:func:`sample_deep_click` (a random pixel deeper than half the region's largest distance,
for iterative training).  :func:`add_click_noise` displaces clicks for the noisy protocol.

Every returned click sits on a pixel centre: ``Click(float(col), float(row), kind)``, and
its pixel is ``(row, col)`` (:func:`ntclick.clicks.click_pixel`).  Random functions take a
``numpy.random.Generator`` and are deterministic given it.

Distances are exact Euclidean distance transforms (OpenCV's ``DIST_MASK_PRECISE``) computed
on the bounding box of the region padded by one pixel of zeros.  The crop changes nothing:
every pixel outside the box is outside the region, and the padding ring is at least as close
as any of them; row-major order inside the box is row-major order in the image.  Maxima and
ties are decided on the exact integer squared distances, not on OpenCV's float32 values (see
``_squared_distances``), so the chosen pixel does not depend on rounding.  Regions with a
bounding box over about a megapixel take exact shortcuts (a coarse upper bound on each region's
depth to skip regions that cannot win, a tiled transform for thin regions, a windowed one around
thick parts), so a click at 4096 x 4096 costs tens of milliseconds (benchmarks/bench_core.py).

This module imports NumPy and OpenCV only, never torch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import cv2
import numpy as np

from ntclick.clicks import Click, ClickKind, ClickLike, as_click, validate_clicks
from ntclick.fbu import BG, FG, UNCERTAIN, as_bool_mask, validate_fbu

__all__ = [
    "next_click",
    "next_fbu_click",
    "sample_fbu_clicks",
    "sample_deep_click",
    "add_click_noise",
    "deepest_pixel",
    "distance_to_boundary",
]

# FBU value of each class in the NT clicker's tie order (bg, then nt, then fg), with its click kind.
_FBU_CLASSES = ((BG, ClickKind.BG), (UNCERTAIN, ClickKind.NT), (FG, ClickKind.FG))


def _indicator(values: np.ndarray, value: int, equal: bool = True) -> np.ndarray:
    """uint8 0/255 map of ``values == value`` (or ``!=``) for a uint8 array, by a lookup table
    (as fast as cv2.compare, which mistakes a 1x1 array for a scalar)."""
    table = np.zeros(256, np.uint8) if equal else np.full(256, 255, np.uint8)
    table[value] = 255 if equal else 0
    return cv2.LUT(values, table)


# ----------------------------------------------------------------------------- distances


def _padded_crop(region: np.ndarray) -> tuple[np.ndarray, int, int] | None:
    """The region's bounding box as uint8 with a ring of zeros, and the box's origin.

    ``region`` is a C-contiguous 2-D bool or uint8 array (non-zero = inside).  None when empty.
    The ring is one pixel wide, plus one more zero column on the right when the width would be a
    multiple of 512: OpenCV's distance transform walks columns, and row strides that are large
    powers of two thrash the cache (a 4096-wide image takes 2.5x as long as a 4097-wide one).
    """
    x, y, w, h = cv2.boundingRect(region.view(np.uint8) if region.dtype == np.bool_ else region)
    if w == 0 or h == 0:
        return None
    width = w + 2 if (w + 2) % 512 else w + 3
    crop = np.zeros((h + 2, width), dtype=np.uint8)
    crop[1 : h + 1, 1 : w + 1] = region[y : y + h, x : x + w]
    return crop, y, x


def _edt(crop: np.ndarray) -> np.ndarray:
    """Euclidean distance of each non-zero pixel to the nearest zero pixel, float32."""
    return cv2.distanceTransform(crop, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)


def _squared_distances(dist: np.ndarray) -> np.ndarray:
    """The exact integer squared distances behind OpenCV's float32 distances.

    OpenCV's precise transform can be one float32 ulp off, and which way can depend on the
    buffer's memory alignment (SIMD versus scalar code), so two pixels at the same true distance
    may compare unequal from run to run.  Every true distance is the square root of an integer;
    rounding the square recovers that integer exactly while the error stays below half the gap
    between neighbouring integers' roots (verified for distances up to ~1000 px; beyond, near-ties
    within about 1e-4 px may resolve either way).
    """
    return np.rint(np.square(dist, dtype=np.float64)).astype(np.int64)


def _deepest_in_crop(dist: np.ndarray) -> tuple[int, int, int]:
    """(row, col, squared distance) of the row-major first deepest pixel of a distance map."""
    top = dist.max()
    # Only near-maximal pixels can be the true maximum; their exact squared distances decide.
    candidates = np.flatnonzero(dist >= top * np.float32(1 - 1e-6))
    sq = _squared_distances(dist.ravel()[candidates])
    best = int(candidates[int(np.argmax(sq))])  # argmax: first maximum, and candidates are row-major
    row, col = divmod(best, dist.shape[1])
    return row, col, int(sq.max())


# Large regions (crop area >= _SPARSE_MIN_AREA) first try two exact shortcuts that transform only
# part of the crop; each gives up (None) when it would not save much.  The tests shrink these.
_SPARSE_MIN_AREA = 1 << 20
_THIN_DEPTHS = (4, 16)  # chessboard depths tried by the thin-region shortcut
_MIN_TILE = 32  # smallest tile side of the thin-region shortcut
_COARSE = 8  # cell side of the coarse grid of the thick-region shortcut
_MAX_WORK_FRACTION = 0.6  # a shortcut must transform less than this fraction of the crop
_SQRT2 = 1.4142136


def _block_max(image: np.ndarray, k: int) -> np.ndarray:
    """Max over each k x k block of a uint8 image whose sides are multiples of k.

    Rows first, then columns: both reductions then run over contiguous memory, several times
    faster than one reduction over axes (1, 3) of the 4-D view.
    """
    h, w = image.shape
    return image.reshape(h // k, k, w).max(axis=1).reshape(h // k, w // k, k).max(axis=2)


def _deepest_thin(crop: np.ndarray) -> tuple[int, int, int] | None:
    """Deepest pixel of a thin region spread over a large box (strands, boundary bands).

    If an erosion by a (2t + 1) square empties the region, every region pixel has a zero within
    chessboard distance t, so its nearest zero lies within g = floor(t * sqrt 2) + 1 rows and
    columns.  Then only the tiles holding region pixels matter, each with a halo of g: they are
    stacked into one small mosaic and transformed at once.  A core pixel's true nearest zero is in
    its own window, and anything the mosaic puts beyond the halo is farther than that, so the
    distances of core pixels are exact.
    """
    for t in _THIN_DEPTHS:
        if cv2.countNonZero(cv2.erode(crop, np.ones((2 * t + 1, 2 * t + 1), np.uint8))) == 0:
            break
    else:
        return None
    g = int(t * _SQRT2) + 1
    tile = max(_MIN_TILE, 3 * g)  # 3 g: about the least work on strand-like test masks
    side = tile + 2 * g
    h, w = crop.shape
    nty, ntx = -(-h // tile), -(-w // tile)
    padded = np.zeros((nty * tile + 2 * g, ntx * tile + 2 * g), np.uint8)
    padded[g : g + h, g : g + w] = crop
    ty, tx = np.nonzero(_block_max(padded[g : g + nty * tile, g : g + ntx * tile], tile))
    if ty.size * side * side >= _MAX_WORK_FRACTION * crop.size:
        return None
    windows = np.lib.stride_tricks.sliding_window_view(padded, (side, side))[::tile, ::tile][ty, tx]
    dist = _edt(windows.reshape(-1, side)).reshape(-1, side, side)[:, g : g + tile, g : g + tile]
    top = dist.max()
    n, r, c = np.nonzero(dist >= top * np.float32(1 - 1e-6))
    sq = _squared_distances(dist[n, r, c])
    rows, cols = ty[n] * tile + r, tx[n] * tile + c
    best = np.flatnonzero(sq == sq.max())
    first = best[np.lexsort((cols[best], rows[best]))[0]]  # row-major first among the deepest
    return int(rows[first]), int(cols[first]), int(sq[first])


def _deepest_thick(crop: np.ndarray) -> tuple[int, int, int] | None:
    """Deepest pixel of a region with a thick part (a blob), transforming a window around it.

    On a coarse grid of k x k cells: a pixel of a cell lying wholly inside the region is at least
    ``k * D_all - (k - 1) * sqrt 2`` deep (D_all: the cell's distance to cells not wholly inside),
    which bounds the maximum from below (LB); a pixel of any cell is at most ``k * D_any`` deep
    (D_any: distance to cells wholly outside), its upper bound UB.  Only cells with UB >= LB can
    hold the maximum; the window around them, widened by their largest UB, is transformed with a
    zero ring.  The ring is farther from those cells' pixels than their nearest true zero, so
    their distances are exact; other pixels come out no larger than their UB < LB and cannot win.
    """
    k = _COARSE
    h, w = crop.shape
    ch, cw = -(-h // k), -(-w // k)
    grid = np.zeros((ch * k, cw * k), np.uint8)
    grid[:h, :w] = crop
    inside = np.ascontiguousarray(cv2.erode(grid, np.ones((k, k), np.uint8), anchor=(0, 0))[::k, ::k])
    if not inside.any():
        return None
    d_all = _edt(cv2.copyMakeBorder(inside, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0))[1:-1, 1:-1]
    lower = k * float(d_all.max()) - (k - 1) * _SQRT2 - 1e-3
    touched = _block_max(grid, k)
    upper = k * _edt(cv2.copyMakeBorder(touched, 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0))[1:-1, 1:-1]
    cy, cx = np.nonzero(upper + 1 >= lower)  # +1: slack for float32 rounding
    halo = int(np.ceil(upper[cy, cx].max())) + 2
    r0, r1 = max(int(cy.min()) * k - halo, 0), min((int(cy.max()) + 1) * k + halo, h)
    c0, c1 = max(int(cx.min()) * k - halo, 0), min((int(cx.max()) + 1) * k + halo, w)
    if (r1 - r0) * (c1 - c0) >= _MAX_WORK_FRACTION * crop.size:
        return None
    window = cv2.copyMakeBorder(crop[r0:r1, c0:c1], 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    row, col, sq = _deepest_in_crop(_edt(window))
    return r0 + row - 1, c0 + col - 1, sq


def _deepest_in_padded_crop(crop: np.ndarray) -> tuple[int, int, int]:
    """(row, col, squared distance) in crop coordinates of the deepest pixel of a non-empty crop."""
    found = None
    if crop.size >= _SPARSE_MIN_AREA:
        found = _deepest_thin(crop) or _deepest_thick(crop)
    if found is None:
        # The zero ring never holds the maximum, so the crop's row-major order is the region's.
        found = _deepest_in_crop(_edt(crop))
    return found


def _depth_bound(crop: np.ndarray) -> int:
    """An upper bound on the squared depth of every pixel of a crop's region, from a coarse grid.

    A pixel of a k x k cell that touches the region is at most ``k * D`` deep, D being the cell's
    distance to the nearest cell with no region pixel (the pixel at the same offset in that cell is
    outside the region).
    """
    k = _COARSE
    h, w = crop.shape
    grid = np.zeros((-(-h // k) * k, -(-w // k) * k), np.uint8)
    grid[:h, :w] = crop
    touched = cv2.copyMakeBorder(_block_max(grid, k), 1, 1, 1, 1, cv2.BORDER_CONSTANT, value=0)
    return int((k * float(_edt(touched).max()) + 1) ** 2)  # +1: slack for float32 rounding


def _deepest_among(
    regions: Sequence[np.ndarray], clicked: _Clicked | None = None
) -> tuple[int, tuple[int, int, int]] | None:
    """The deepest pixel over several C-contiguous regions: ``(index, (row, col, squared depth))``.

    Ties go to the region listed first, then to the row-major first pixel.  Large regions get a
    cheap upper bound on their depth first and are searched deepest-bound first, so a region that
    cannot beat the best found so far is skipped (a thin error band next to a large blob costs a
    few milliseconds instead of a full distance transform).  None when every region is empty.

    ``clicked`` pixels keep their place in the distance transform but are never chosen (RITM
    zeroes them after the transform): a region holding one takes the plain exact path.
    """
    crops = [(index, _padded_crop(region)) for index, region in enumerate(regions)]
    crops = [(index, cropped) for index, cropped in crops if cropped is not None]
    entries = []
    for index, cropped in crops:
        # A bound only pays off when another region may make this one unnecessary.
        large = len(crops) > 1 and cropped[0].size >= _SPARSE_MIN_AREA
        entries.append((index, cropped, _depth_bound(cropped[0]) if large else None))
    entries.sort(key=lambda e: (-(float("inf") if e[2] is None else e[2]), e[0]))
    best: tuple[int, tuple[int, int, int]] | None = None
    for index, (crop, y0, x0), bound in entries:
        if best is not None and bound is not None and bound < best[1][2]:
            continue
        if clicked is not None and clicked.hits(regions[index]):
            found = _deepest_avoiding(crop, y0, x0, clicked)
            if found is None:
                continue
            row, col, sq = found
        else:
            row, col, sq = _deepest_in_padded_crop(crop)
        if best is None or sq > best[1][2] or (sq == best[1][2] and index < best[0]):
            best = index, (y0 + row - 1, x0 + col - 1, sq)
    return best


class _Clicked:
    """Pixels already clicked: a bool (H, W) mask or a list of (row, col)."""

    def __init__(self, mask: np.ndarray | None, pixels: list[tuple[int, int]]):
        self.mask, self.pixels = mask, pixels

    def hits(self, region: np.ndarray) -> bool:
        if self.mask is not None:
            return bool(np.logical_and(region, self.mask).any())
        return any(region[r, c] for r, c in self.pixels)

    def zero_in(self, dist: np.ndarray, y0: int, x0: int) -> None:
        """Zero the clicked pixels of ``dist``, the padded crop whose inner origin is (y0, x0)."""
        h, w = dist.shape[0] - 2, dist.shape[1] - 2
        if self.mask is not None:
            window = self.mask[y0 : y0 + h, x0 : x0 + w]
            dist[1 : 1 + window.shape[0], 1 : 1 + window.shape[1]][window] = 0
        for r, c in self.pixels:
            if y0 <= r < y0 + h and x0 <= c < x0 + w:
                dist[r - y0 + 1, c - x0 + 1] = 0


def _deepest_avoiding(crop: np.ndarray, y0: int, x0: int, clicked: _Clicked) -> tuple[int, int, int] | None:
    """Like :func:`_deepest_in_padded_crop`, never on a clicked pixel; None if only those remain."""
    dist = _edt(crop)
    clicked.zero_in(dist, y0, x0)
    if not dist.any():
        return None
    return _deepest_in_crop(dist)


def _deepest(region: np.ndarray) -> tuple[int, int, int] | None:
    """(row, col, squared distance) of the deepest pixel of a C-contiguous region, or None."""
    found = _deepest_among([region])
    return None if found is None else found[1]


def deepest_pixel(region: np.ndarray) -> tuple[int, int, float] | None:
    """The pixel of ``region`` farthest from its boundary.

    Args:
        region: (H, W) region: bool, 0/1 or 0/255.

    Returns:
        ``(row, col, distance)``: the first pixel in row-major order among those with the largest
        exact Euclidean distance to the nearest pixel outside the region (the image border counts
        as outside), and that distance (float, >= 1); None when the region is empty.
    """
    found = _deepest(np.ascontiguousarray(as_bool_mask(region, "region")))
    if found is None:
        return None
    row, col, sq = found
    return row, col, float(np.sqrt(sq))


def distance_to_boundary(region: np.ndarray) -> np.ndarray:
    """Exact Euclidean distance of each region pixel to the nearest pixel outside it.

    Args:
        region: (H, W) region: bool, 0/1 or 0/255.

    Returns:
        float32 (H, W): 0 outside the region, >= 1 inside; the image border counts as outside.
    """
    region = np.ascontiguousarray(as_bool_mask(region, "region"))
    out = np.zeros(region.shape, dtype=np.float32)
    cropped = _padded_crop(region)
    if cropped is not None:
        crop, y0, x0 = cropped
        _, _, w, h = cv2.boundingRect(region.view(np.uint8))
        exact = np.sqrt(_squared_distances(_edt(crop)[1 : h + 1, 1 : w + 1])).astype(np.float32)
        out[y0 : y0 + h, x0 : x0 + w] = exact
    return out


# ----------------------------------------------------------------------------- evaluation clickers


def _ignored_and_clicked(
    shape: tuple[int, int], clicked: np.ndarray | Iterable[ClickLike] | None, ignore: np.ndarray | None
) -> tuple[np.ndarray | None, _Clicked | None]:
    """The ignore mask (pixels that are never errors) and the clicked pixels, checked."""
    mask = None
    if ignore is not None:
        mask = as_bool_mask(ignore, "ignore")
        if mask.shape != shape:
            raise ValueError(f"ignore has shape {mask.shape}, expected {shape}")
    if clicked is None:
        return mask, None
    if isinstance(clicked, np.ndarray):
        clicked_mask = as_bool_mask(clicked, "clicked")
        if clicked_mask.shape != shape:
            raise ValueError(f"clicked has shape {clicked_mask.shape}, expected {shape}")
        return mask, _Clicked(clicked_mask, [])
    return mask, _Clicked(None, [(int(c.y), int(c.x)) for c in validate_clicks(clicked, shape)])


def next_click(
    pred_mask: np.ndarray,
    gt_mask: np.ndarray,
    *,
    clicked: np.ndarray | Iterable[ClickLike] | None = None,
    ignore: np.ndarray | None = None,
) -> Click | None:
    """The standard evaluation clicker (RITM / SimpleClick).

    False negatives ``gt & ~pred`` and false positives ``~gt & pred`` (minus ``ignore``) each get
    an exact Euclidean distance transform with the image border counted as boundary; already
    clicked pixels keep their place in the transform but are never chosen again (RITM zeroes
    their distance after the transform, so a click does not punch a hole in the region).  If the false negatives' largest distance is strictly larger, the click
    is a foreground click at their deepest pixel; otherwise (ties included) a background click at
    the false positives' deepest pixel.  Among equal maxima the first pixel in row-major order wins.

    Args:
        pred_mask: (H, W) predicted mask: bool, 0/1 or 0/255.
        gt_mask: (H, W) ground truth: bool, 0/1 or 0/255.
        clicked: pixels never clicked again: None, a bool (H, W) mask, or the clicks so far.
        ignore: None or a bool (H, W) mask of pixels that are never errors (void labels).

    Returns:
        ``Click(float(col), float(row), "fg" | "bg")``, or None when no error pixel is left.
    """
    pred = as_bool_mask(pred_mask, "pred_mask")
    gt = as_bool_mask(gt_mask, "gt_mask")
    if pred.shape != gt.shape:
        raise ValueError(f"pred_mask has shape {pred.shape} but gt_mask has shape {gt.shape}")
    ignored, done = _ignored_and_clicked(gt.shape, clicked, ignore)
    fn = np.greater(gt, pred)  # gt & ~pred
    fp = np.greater(pred, gt)  # pred & ~gt
    if ignored is not None:
        np.greater(fn, ignored, out=fn)  # a > b on bools is a & ~b
        np.greater(fp, ignored, out=fp)
    # Listed bg first: on equal depth the false positives win (ties -> bg).
    found = _deepest_among([fp, fn], done)
    if found is None:
        return None
    index, (row, col, _) = found
    return Click(float(col), float(row), ClickKind.BG if index == 0 else ClickKind.FG)


def next_fbu_click(
    pred_fbu: np.ndarray,
    gt_fbu: np.ndarray,
    *,
    clicked: np.ndarray | Iterable[ClickLike] | None = None,
    ignore: np.ndarray | None = None,
) -> Click | None:
    """The NT protocol's clicker over the three FBU classes.

    For each class c in (bg, uncertain, fg) the error region is ``(gt == c) & (pred != c)``
    minus ``ignore`` (clicked pixels stay in the transform but are never chosen, as in
    :func:`next_click`); the class whose region has the largest exact
    Euclidean distance (image border counted as boundary) wins, ties going to bg, then
    uncertain, then fg.  The click goes to that region's deepest pixel (row-major first among
    equal maxima) with kind bg / nt / fg for class bg / uncertain / fg.

    Args:
        pred_fbu: uint8 (H, W) predicted FBU map (0 / 128 / 255).
        gt_fbu: uint8 (H, W) ground-truth FBU map, e.g. ``fbu_from_mask(gt_mask)``.
        clicked: None, a bool (H, W) mask of clicked pixels, or the clicks so far.
        ignore: None or a bool (H, W) mask of pixels that are never errors.

    Returns:
        ``Click(float(col), float(row), kind)``, or None when the maps agree everywhere that counts.
    """
    pred = validate_fbu(pred_fbu, "pred_fbu")
    gt = validate_fbu(gt_fbu, "gt_fbu")
    if pred.shape != gt.shape:
        raise ValueError(f"pred_fbu has shape {pred.shape} but gt_fbu has shape {gt.shape}")
    ignored, done = _ignored_and_clicked(gt.shape, clicked, ignore)
    # Pixels whose class is wrong and still count, as uint8 0/255; then one lookup and one AND per
    # class split them by ground-truth class (fast OpenCV passes, no full-size bool temporaries).
    wrong = cv2.compare(gt, pred, cv2.CMP_NE)
    if ignored is not None:
        wrong = cv2.bitwise_and(wrong, _indicator(ignored.view(np.uint8), 0))
    regions = [cv2.bitwise_and(wrong, _indicator(gt, value)) for value, _ in _FBU_CLASSES]
    found = _deepest_among(regions, done)
    if found is None:
        return None
    index, (row, col, _) = found
    return Click(float(col), float(row), _FBU_CLASSES[index][1])


# ----------------------------------------------------------------------------- training samplers


def _pixel_click(flat_index: int, width: int, kind: ClickKind) -> Click:
    row, col = divmod(int(flat_index), width)
    return Click(float(col), float(row), kind)


def sample_fbu_clicks(
    fbu: np.ndarray,
    rng: np.random.Generator,
    *,
    num_fg: int = 1,
    num_bg: int = 1,
    num_nt: int = 0,
    margin: int = 0,
) -> list[Click]:
    """Random training clicks: uniform pixels of the FBU region of each kind.

    fg clicks are drawn from FBU 255, bg clicks from 0, nt clicks from 128, without replacement
    (fewer clicks when a region has fewer pixels, none when it is empty).  With ``margin > 0``
    each region is first eroded by a disk of that radius so clicks keep away from its edges,
    unless the erosion would empty it (then the whole region is used).  The image border does
    not erode a region.

    Args:
        fbu: uint8 (H, W) FBU map.
        rng: the random generator.
        num_fg, num_bg, num_nt: how many clicks of each kind (>= 0).
        margin: erosion radius in pixels (>= 0).

    Returns:
        The clicks, fg first, then bg, then nt, each on a pixel centre.
    """
    f = validate_fbu(fbu)
    counts = {ClickKind.FG: num_fg, ClickKind.BG: num_bg, ClickKind.NT: num_nt}
    for kind, n in counts.items():
        if int(n) != n or n < 0:
            raise ValueError(f"num_{kind.value} must be a non-negative integer, got {n!r}")
    if int(margin) != margin or margin < 0:
        raise ValueError(f"margin must be a non-negative integer, got {margin!r}")
    values = {ClickKind.FG: FG, ClickKind.BG: BG, ClickKind.NT: UNCERTAIN}
    kernel = (
        cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * margin + 1, 2 * margin + 1)) if margin else None
    )
    clicks: list[Click] = []
    for kind in (ClickKind.FG, ClickKind.BG, ClickKind.NT):
        n = int(counts[kind])
        if n == 0:
            continue
        region = _indicator(f, values[kind])
        if kernel is not None:
            eroded = cv2.erode(region, kernel)
            if cv2.countNonZero(eroded):
                region = eroded
        candidates = np.flatnonzero(region)
        if candidates.size == 0:
            continue
        chosen = rng.choice(candidates, size=min(n, candidates.size), replace=False)
        clicks.extend(_pixel_click(i, f.shape[1], kind) for i in chosen)
    return clicks


def sample_deep_click(region: np.ndarray, rng: np.random.Generator, kind: ClickKind | str) -> Click | None:
    """A random click deep inside an error region, for iterative training.

    Uniform among the region's pixels whose distance to the boundary (exact Euclidean, image
    border counted as boundary) is larger than half the region's largest distance.

    Args:
        region: (H, W) bool (or 0/1, 0/255) error region.
        rng: the random generator.
        kind: the kind of the returned click.

    Returns:
        The click on a pixel centre, or None when the region is empty.
    """
    kind = ClickKind.parse(kind)
    r = np.ascontiguousarray(as_bool_mask(region, "region"))
    cropped = _padded_crop(r)
    if cropped is None:
        return None
    crop, y0, x0 = cropped
    sq = _squared_distances(_edt(crop))
    deep = np.flatnonzero(4 * sq > sq.max())  # d > max / 2, decided on exact integers
    row, col = divmod(int(rng.choice(deep)), crop.shape[1])
    return Click(float(x0 + col - 1), float(y0 + row - 1), kind)


def add_click_noise(
    clicks: Iterable[ClickLike], sigma: float, rng: np.random.Generator, image_shape: Sequence[int]
) -> list[Click]:
    """Displace clicks by Gaussian noise, for the noisy-click protocol.

    Each click's ``x`` and ``y`` get independent N(0, sigma^2) offsets (pixels), then are clipped
    into ``[0, W - 1] x [0, H - 1]`` so the click stays on the image; kinds are kept.

    Args:
        clicks: the clicks (original-image pixels).
        sigma: the standard deviation in pixels (>= 0; 0 returns the clicks unchanged and draws
            nothing from ``rng``).
        rng: the random generator.
        image_shape: ``(H, W, ...)`` of the image.

    Returns:
        New clicks, in the same order.
    """
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a finite number >= 0, got {sigma!r}")
    h, w = int(image_shape[0]), int(image_shape[1])
    if h < 1 or w < 1:
        raise ValueError(f"image_shape must be a positive (H, W), got {tuple(image_shape)}")
    cs = [as_click(c) for c in clicks]
    if sigma == 0 or not cs:
        return cs
    offsets = rng.normal(0.0, float(sigma), size=(len(cs), 2))
    return [
        Click(float(np.clip(c.x + dx, 0, w - 1)), float(np.clip(c.y + dy, 0, h - 1)), c.kind)
        for c, (dx, dy) in zip(cs, offsets, strict=True)
    ]
