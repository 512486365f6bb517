"""A classical baseline: OpenCV GrabCut seeded by the clicks.

How clicks become GrabCut's trimap (``cv2.grabCut`` with ``GC_INIT_WITH_MASK``):

- every pixel starts *probable*: with ``init="nearest"`` (the default) *probable foreground*
  (``GC_PR_FGD``) where it is nearer to an fg or nt click than to every bg click and to the
  image border (the border stands in for the background nobody clicked), *probable
  background* (``GC_PR_BGD``) elsewhere; with ``init="background"`` everything starts probable
  background.  The nearest init gives GrabCut's colour models a foreground sample larger than
  the click disks: on the first 12 GrabCut-dataset objects it needed 5.5 clicks for 90 % IoU
  against 10.25 for the all-background init (standard protocol);
- a disk of ``click_radius`` pixels around each **fg** click is *definite foreground*
  (``GC_FGD``), around each **bg** click *definite background* (``GC_BGD``);
- a disk of ``nt_radius`` pixels around each **nt** click is *probable foreground*
  (``GC_PR_FGD``): "fine structure around here" means the area holds object pixels, but
  which ones is left to the graph cut (GrabCut may flip any probable pixel);
- disks are painted in click order (a later click wins where disks overlap), then each
  click's own pixel is set to its kind once more, so the mask always contains every fg
  click's pixel and never a bg click's pixel.

With no fg-like seed at all (no click, or bg clicks only) the mask is empty; GrabCut then
has no foreground to model.  OpenCV's GrabCut initialises its colour models with k-means,
which draws from OpenCV's global random state: it is re-seeded with ``seed`` before every
call so that the same clicks give the same mask.

Torch-free: NumPy and OpenCV only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import cv2
import numpy as np

from ntclick.clicks import Click, ClickKind, ClickLike, click_pixel, validate_clicks
from ntclick.fbu import as_bool_mask, fbu_from_mask
from ntclick.image_io import as_rgb_uint8
from ntclick.prediction import Prediction

__all__ = ["GrabCutPredictor", "grabcut_foreground", "paint_click_seeds"]

_CLICK_SEED = {ClickKind.FG: cv2.GC_FGD, ClickKind.BG: cv2.GC_BGD, ClickKind.NT: cv2.GC_PR_FGD}


def paint_click_seeds(seeds: np.ndarray, clicks: Sequence[Click], click_radius: int, nt_radius: int) -> None:
    """Paint the clicks onto a GrabCut trimap ``seeds`` (uint8 (H, W) of ``cv2.GC_*``), in place.

    A disk of ``click_radius`` around each fg (bg) click is definite fg (bg), a disk of
    ``nt_radius`` around each nt click probable fg; disks in click order (a later click wins),
    then each click's own pixel once more.  ``clicks`` must be validated for the trimap's size.
    """
    for c in clicks:
        radius = nt_radius if c.kind is ClickKind.NT else click_radius
        row, col = click_pixel(c)
        cv2.circle(seeds, (col, row), radius, int(_CLICK_SEED[c.kind]), thickness=-1)
    for c in clicks:
        seeds[click_pixel(c)] = _CLICK_SEED[c.kind]


def grabcut_foreground(bgr: np.ndarray, seeds: np.ndarray, iterations: int, seed: int) -> np.ndarray:
    """``cv2.grabCut`` initialised with the trimap ``seeds`` (not modified) on the uint8 BGR
    image ``bgr``, OpenCV's RNG set to ``seed`` first; returns bool (H, W), fg or probable fg."""
    bgd_model = np.zeros((1, 65), np.float64)
    fgd_model = np.zeros((1, 65), np.float64)
    cv2.setRNGSeed(int(seed))
    labels, _, _ = cv2.grabCut(
        np.ascontiguousarray(bgr),
        np.array(seeds, np.uint8, order="C", copy=True),
        None,
        bgd_model,
        fgd_model,
        int(iterations),
        cv2.GC_INIT_WITH_MASK,
    )
    return (labels == cv2.GC_FGD) | (labels == cv2.GC_PR_FGD)


class GrabCutPredictor:
    """Click-seeded GrabCut with the predictor interface (``set_image`` / ``predict``).

    Args:
        iterations: GrabCut iterations per prediction.
        click_radius: radius in pixels of the definite fg/bg disk of each click.
        nt_radius: radius in pixels of the probable-fg disk of each nt click (default
            ``3 * click_radius``: an nt click is imprecise by design).
        seed: OpenCV random seed set before every GrabCut call (deterministic results).
        init: ``"nearest"`` (default) or ``"background"``: how pixels away from the clicks
            start (see the module doc).

    Example::

        predictor = GrabCutPredictor()
        predictor.set_image(image)                      # (H, W, 3) uint8 RGB
        prediction = predictor.predict([Click(120, 80, "fg")])
        prediction.mask                                  # bool (H, W)
    """

    def __init__(
        self,
        iterations: int = 5,
        click_radius: int = 5,
        nt_radius: int | None = None,
        seed: int = 0,
        init: str = "nearest",
    ):
        if int(iterations) < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        if int(click_radius) < 0:
            raise ValueError(f"click_radius must be >= 0, got {click_radius}")
        self.iterations = int(iterations)
        self.click_radius = int(click_radius)
        self.nt_radius = 3 * self.click_radius if nt_radius is None else int(nt_radius)
        if self.nt_radius < 0:
            raise ValueError(f"nt_radius must be >= 0, got {nt_radius}")
        self.seed = int(seed)
        if init not in ("nearest", "background"):
            raise ValueError(f"unknown init {init!r}: expected 'nearest' or 'background'")
        self.init = init
        self._bgr: np.ndarray | None = None

    def describe(self) -> dict[str, Any]:
        """The settings that decide the masks (stored with evaluation results, see
        :meth:`ntclick.NTClickPredictor.describe`)."""
        return {
            "predictor": type(self).__name__,
            "iterations": self.iterations,
            "click_radius": self.click_radius,
            "nt_radius": self.nt_radius,
            "seed": self.seed,
            "init": self.init,
        }

    @property
    def is_image_set(self) -> bool:
        return self._bgr is not None

    @property
    def original_size(self) -> tuple[int, int] | None:
        return None if self._bgr is None else (self._bgr.shape[0], self._bgr.shape[1])

    def set_image(self, image: np.ndarray) -> None:
        """Set the image: (H, W, 3) uint8 RGB (grayscale and RGBA are converted)."""
        rgb = as_rgb_uint8(image)
        self._bgr = np.ascontiguousarray(rgb[:, :, ::-1])

    def reset_image(self) -> None:
        self._bgr = None

    def seed_map(self, clicks: Sequence[ClickLike], *, prev_mask: np.ndarray | None = None) -> np.ndarray:
        """The GrabCut trimap (uint8 (H, W) of ``cv2.GC_*`` values) the clicks give; see the
        module doc and :meth:`predict` for ``prev_mask``."""
        if self._bgr is None:
            raise RuntimeError("no image set: call set_image(image) before predict")
        h, w = self._bgr.shape[:2]
        cs = validate_clicks(clicks, (h, w))
        if prev_mask is None:
            seeds = self._initial_labels(cs, h, w)
        else:
            previous = as_bool_mask(prev_mask, "prev_mask", (h, w))
            seeds = np.where(previous, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
        paint_click_seeds(seeds, cs, self.click_radius, self.nt_radius)
        return seeds

    def _initial_labels(self, clicks: Sequence[ClickLike], h: int, w: int) -> np.ndarray:
        """Probable labels before the click disks are painted (see ``init``)."""
        if self.init == "background" or not clicks:
            return np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        # "nearest": a pixel is probably foreground when it is nearer to an fg/nt click than to
        # any bg click or to the image border (the border stands in for unseen background).
        fg_seed = np.full((h + 2, w + 2), 255, np.uint8)
        bg_seed = np.full((h + 2, w + 2), 255, np.uint8)
        bg_seed[0, :] = bg_seed[-1, :] = bg_seed[:, 0] = bg_seed[:, -1] = 0
        for c in clicks:
            row, col = click_pixel(c)
            (bg_seed if c.kind is ClickKind.BG else fg_seed)[row + 1, col + 1] = 0
        if fg_seed.all():
            return np.full((h, w), cv2.GC_PR_BGD, np.uint8)
        d_fg = cv2.distanceTransform(fg_seed, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
        d_bg = cv2.distanceTransform(bg_seed, cv2.DIST_L2, cv2.DIST_MASK_PRECISE)[1:-1, 1:-1]
        return np.where(d_fg < d_bg, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)

    def predict(
        self, clicks: Sequence[ClickLike] | None = None, *, prev_mask: np.ndarray | None = None
    ) -> Prediction:
        """Segment with the given clicks (all of them, in order).

        Args:
            clicks: the clicks, ``x`` column and ``y`` row in image pixels.
            prev_mask: optionally the previous answer, a binary (H, W) mask at the image's size
                (bool, 0/1 or 0/255): GrabCut then starts from it (probable fg
                inside, probable bg outside) instead of from ``init``, and the click disks are
                painted on top.  Interactive use passes the last mask here, so that one more
                click corrects it instead of starting over.

        Returns:
            :class:`~ntclick.prediction.Prediction` at the image's size: ``mask`` bool (H, W),
            ``soft`` the mask as float32 0/1, ``fbu`` the evaluation-recipe FBU map of the mask.

        Raises:
            RuntimeError: no image set.
            ValueError: a click is not a click, not finite, or outside the image; ``prev_mask``
                not an (H, W) array.
        """
        seeds = self.seed_map(list(clicks or []), prev_mask=prev_mask)
        fg_like = (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)
        bg_like = (seeds == cv2.GC_BGD) | (seeds == cv2.GC_PR_BGD)
        if not fg_like.any():
            mask = np.zeros(seeds.shape, bool)
        elif not bg_like.any():
            mask = fg_like
        else:
            mask = grabcut_foreground(self._bgr, seeds, self.iterations, self.seed)
        return Prediction(mask=mask, soft=mask.astype(np.float32), fbu=fbu_from_mask(mask))
