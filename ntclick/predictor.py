"""NTClickPredictor: set an image once, then predict a mask for each list of clicks.

The pipeline (DESIGN.md sections 3-5)::

    set_image(image)             image-only work, cached:
        ECP input     long side resized to ``ecp_size`` (448), padded to a multiple of 16, normalized
        HRR input     original size (long side over ``hrr.config.max_size`` = 4096 downscaled),
                      padded to a multiple of ``hrr.config.size_multiple`` (128), normalized
        HRR features  ``hrr.encode_image(HRR input)``
    predict(clicks)              per interaction:
        click disks at the ECP input -> ECP logits -> upsampled to the HRR working size -> argmax
        = FBU map -> HRR(features, FBU) = soft mask -> padding cropped, resized to the original
        size -> mask = soft > mask_threshold -> with ``grabcut_iterations``, GrabCut decides the
        uncertain band at the working size (``ntclick.band_grabcut``) -> with ``click_guard``, the
        last click is checked against the answer to the clicks before it (``ntclick.click_guard``)

Like SAM's predictor it is stateless per call: ``predict`` takes the whole click list each time,
so undo is dropping the last click, and the same call always gives the same answer (with
``click_guard`` the answers to the list's prefixes are cached, which changes the cost, not the
answer).
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ntclick.click_guard import GuardSettings, guard_mask
from ntclick.clicks import (
    Click,
    ClickKind,
    ClickLike,
    clicks_from_arrays,
    scale_clicks,
    scale_point,
    validate_clicks,
)
from ntclick.fbu import BG, FG, UNCERTAIN, as_bool_mask
from ntclick.hub import PREDICTOR_DEFAULTS, load_pretrained, parse_device, parse_dtype
from ntclick.image_io import as_rgb_uint8
from ntclick.prediction import Prediction
from ntclick.prior import ecp_input_maps

if TYPE_CHECKING:  # pragma: no cover
    from ntclick.modeling import ECP, HRR

__all__ = ["NTClickPredictor"]

_FBU_CLASS_BG, _FBU_CLASS_UNCERTAIN, _FBU_CLASS_FG = 0, 1, 2  # class indices, as in ntclick.fbu


def _scaled_size(h: int, w: int, long_side: int) -> tuple[int, int]:
    """``(h, w)`` scaled so that the long side is ``long_side``, aspect kept, each side >= 1."""
    s = long_side / max(h, w)
    return max(1, int(h * s + 0.5)), max(1, int(w * s + 0.5))


def _resize(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize an (H, W, 3) uint8 image to ``size`` = (h, w); area filter when shrinking."""
    h, w = size
    if (h, w) == image.shape[:2]:
        return image
    shrink = h < image.shape[0] or w < image.shape[1]
    return cv2.resize(image, (w, h), interpolation=cv2.INTER_AREA if shrink else cv2.INTER_LINEAR)


def _non_negative_int(name: str, value: Any) -> int:
    """``value`` as an int, or ``ValueError`` naming the setting (bools and floats refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    return int(value)


class NTClickPredictor:
    """Interactive segmentation with fg / bg / noise-tolerant clicks (NTClick).

    Args:
        ecp: the coarse network (:class:`ntclick.modeling.ECP`); moved to ``device``/``dtype``
            and put in eval mode (in place, as ``nn.Module.to`` does).
        hrr: the refine network (:class:`ntclick.modeling.HRR`); likewise.
        device: ``"cpu"`` (default), ``"cuda"``, ``"cuda:N"``, ``"mps"`` or a ``torch.device``.
        dtype: ``"float32"`` (default), ``"float16"`` or ``"bfloat16"`` (or the ``torch.dtype``):
            the networks' compute dtype.  Outputs are float32 whatever it is.
        ecp_size: long side of the ECP input in pixels; default ``ecp.config.input_size`` (448).
        mask_threshold: ``mask = soft > mask_threshold``.
        clamp_to_fbu: if True (default), the soft mask is 1 wherever the FBU map says
            foreground and 0 wherever it says background, so HRR only decides the uncertain
            band (the method's division of labour: ECP perceives, HRR refines the band).  If
            False, HRR's output is used everywhere as is.
        refine: if True (default), HRR refines the mask at full resolution.  If False, the soft
            mask is ECP's alone, bilinearly upsampled: ``P(fg) + 0.5 * P(uncertain)`` from its
            softmax (HRR is not run per click; the ablation "HRR against upsampling ECP").
            May be changed between ``predict`` calls.
        zoom_in: if True, :meth:`predict` runs ECP a second time on a crop around the object
            (RITM's zoom-in, made stateless): the bounding box of the first pass's fg and
            uncertain pixels and of the fg / nt clicks, grown ``ZOOM_EXPAND`` times about its
            centre, at least ``ecp_size`` working pixels a side, resized so its long side is
            ``ecp_size``; its logits replace the first pass's inside the box.  Skipped when the
            box would enlarge the object less than ``ZOOM_MIN_GAIN`` times, and at the first click
            (``ZOOM_MIN_CLICKS``: one click says too little about the object's extent).  Costs one more ECP
            forward per click; :meth:`predict_torch` (no clicks, only their maps) never zooms.
        brs_steps: if above 0, every ECP pass in :meth:`predict` enforces the clicks by
            backpropagating refinement (:mod:`ntclick.modeling.brs`): at most this many L-BFGS
            iterations on one feature offset per click, local to the click, until each clicked
            pixel has its click's class (fg, bg; not bg for nt) with probability ``BRS_TARGET``.
            A prediction that already agrees with every click costs nothing more; otherwise each
            iteration is one decoder forward and backward.  :meth:`predict_torch` never does it.
            Default 0 (off).  Needs a ViT ECP (``ValueError`` for a CNN ``backbone``).
        grabcut_iterations: if above 0, :meth:`predict` ends with a classical step: OpenCV's
            GrabCut, this many iterations, decides the FBU map's uncertain band at the working
            resolution from colour models of the pixels the network is sure about
            (:func:`ntclick.band_grabcut.grabcut_band`; the FBU map's fg / bg regions stay as
            they are, clicks keep their kind; shrinking them first by about 2 ECP pixels
            measured worse on BSDS val).  It moves
            an upsampled ECP edge onto the colour edge; it cannot see what colour does not
            separate.  Costs one GrabCut per click on the working image (above
            ``GRABCUT_MAX_SIDE`` pixels a side: on the object's box, shrunk to that).
            :meth:`predict_torch` never does it.  Default 0 (off).
        click_components: if True, :meth:`predict` ends by making the mask's connected
            components agree with the clicks (:func:`ntclick.components.click_components`):
            foreground components that hold no fg click (within ``CLICK_RADIUS`` px) or nt click
            (within ``3 * CLICK_RADIUS``) are dropped, and holes that touch no image edge and hold
            no bg click are filled; the soft mask and the FBU map follow the changed pixels.  Two
            connected-component passes per click (about 25 ms at 1 Mpx, 0.3-0.5 s at 16 Mpx on one
            CPU core); :meth:`predict_torch` never does it.  Default False (off): it drops the
            unclicked pieces of many-piece thin structures.
        click_guard: if True, :meth:`predict` holds the last click to a plausible correction
            of the answer to the clicks before it (:func:`ntclick.click_guard.guard_mask`): a bg
            click may not grow the mask, an fg click may not shrink it (beyond
            ``GuardSettings.wrong``), and an fg click that floods the image keeps only the
            added region around it (growth measured against the largest earlier answer, so a
            mask one bg click shrank too far may grow back).  That previous answer is
            ``prev_mask`` when given, otherwise the predictor's own (guarded) answer to
            ``clicks[:-1]``, so the result stays a function of the image and the ordered clicks:
            answers to the current click list's prefixes are cached per image (packed bits,
            H * W / 8 bytes each), and a click list that does not extend a cached one is
            answered prefix by prefix (one prediction per click).  The soft mask and FBU map
            follow the changed pixels.  Default False (off).
        guard_settings: the thresholds of ``click_guard`` (:class:`ntclick.click_guard.GuardSettings`;
            its defaults when None).  Not stored with the weights.

    Not thread-safe: one predictor holds one image.
    """

    ZOOM_EXPAND = 1.4  # box growth about its centre (RITM's expansion ratio)
    ZOOM_MIN_GAIN = 1.25  # below this enlargement the second ECP pass is not worth its cost
    ZOOM_MIN_CLICKS = 2  # RITM zooms on the previous click's result, so never at the first click
    BRS_TARGET = 0.95  # class probability BRS demands at each clicked pixel (0.8 measured worse)
    GRABCUT_MAX_SIDE = 1024  # GrabCut's cost grows with pixels: a larger box is shrunk
    CLICK_RADIUS = 5  # click_components' anchor disk, the band step's definite click disk

    def __init__(
        self,
        ecp: ECP,
        hrr: HRR,
        *,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        ecp_size: int | None = None,
        mask_threshold: float = 0.5,
        clamp_to_fbu: bool = True,
        refine: bool = True,
        zoom_in: bool = False,
        brs_steps: int = 0,
        grabcut_iterations: int = 0,
        click_components: bool = False,
        click_guard: bool = False,
        guard_settings: GuardSettings | None = None,
    ) -> None:
        for name, net in (("ecp", ecp), ("hrr", hrr)):
            if not isinstance(net, torch.nn.Module) or not hasattr(net, "config"):
                raise TypeError(f"{name} must be an ntclick.modeling network, got {type(net).__name__}")
        self.device = parse_device(device)
        self.dtype = parse_dtype(dtype)
        self.ecp = ecp.to(device=self.device, dtype=self.dtype).eval()
        self.hrr = hrr.to(device=self.device, dtype=self.dtype).eval()

        patch = int(self.ecp.config.size_multiple)
        self.ecp_size = int(ecp_size if ecp_size is not None else self.ecp.config.input_size)
        if self.ecp_size < patch:
            raise ValueError(
                f"ecp_size must be at least the ECP's size multiple {patch}, got {self.ecp_size}"
            )
        mask_threshold = float(mask_threshold)
        if not 0.0 <= mask_threshold < 1.0:
            raise ValueError(f"mask_threshold must be in [0, 1), got {mask_threshold}")
        self.mask_threshold = mask_threshold
        self.clamp_to_fbu = bool(clamp_to_fbu)
        self.refine = bool(refine)
        self.zoom_in = bool(zoom_in)
        self.brs_steps = _non_negative_int("brs_steps", brs_steps)
        if self.brs_steps and self.ecp.config.backbone != "vit":
            raise ValueError(
                f"brs_steps needs a ViT ECP (it shifts the ViT's tokens); this ECP's backbone is "
                f"{self.ecp.config.backbone!r}: use brs_steps=0"
            )
        self.grabcut_iterations = _non_negative_int("grabcut_iterations", grabcut_iterations)
        self.click_components = bool(click_components)
        self.click_guard = bool(click_guard)
        if guard_settings is not None and not isinstance(guard_settings, GuardSettings):
            raise TypeError(f"guard_settings must be a GuardSettings, got {type(guard_settings).__name__}")
        self.guard_settings = guard_settings or GuardSettings()
        self.reset_image()

    # ------------------------------------------------------------------ weights

    @classmethod
    def from_pretrained(
        cls,
        name_or_path: str | os.PathLike,
        *,
        revision: str | None = None,
        cache_dir: str | os.PathLike | None = None,
        local_files_only: bool = False,
        token: str | bool | None = None,
        device: str | torch.device | None = None,
        dtype: str | torch.dtype | None = None,
        **overrides: Any,
    ) -> NTClickPredictor:
        """Load a predictor from a weights folder or a Hugging Face Hub repo id.

        ``name_or_path``: a local folder holding ``config.json`` and ``model.safetensors``
        (never touches the network) or a Hub repo id (``"org/name"``) fetched through the
        Hugging Face cache; ``HF_HUB_OFFLINE=1`` or ``local_files_only=True`` use the cache only.
        ``overrides`` (``ecp_size``, ``mask_threshold``, ``clamp_to_fbu``, ``refine``, ``zoom_in``,
        ``brs_steps``, ``grabcut_iterations``, ``click_components``, ``click_guard``) replace the
        settings stored in ``config.json``; ``guard_settings`` may be given too (never stored).
        See :func:`ntclick.hub.load_pretrained` for the errors.
        """
        guard_settings = overrides.pop("guard_settings", None)
        unknown = sorted(set(overrides) - set(PREDICTOR_DEFAULTS))
        if unknown:
            raise TypeError(f"unknown predictor settings {unknown}; known: {sorted(PREDICTOR_DEFAULTS)}")
        ecp, hrr, settings = load_pretrained(
            name_or_path,
            revision=revision,
            cache_dir=cache_dir,
            local_files_only=local_files_only,
            token=token,
            device=device,
            dtype=dtype,
        )
        settings = {**settings, **overrides}
        return cls(ecp, hrr, device=device, dtype=dtype, guard_settings=guard_settings, **settings)

    @property
    def predictor_config(self) -> dict[str, Any]:
        """The settings saved with the weights (the ``"predictor"`` entry of ``config.json``)."""
        return {
            "ecp_size": self.ecp_size,
            "mask_threshold": self.mask_threshold,
            "clamp_to_fbu": self.clamp_to_fbu,
            "refine": self.refine,
            "zoom_in": self.zoom_in,
            "brs_steps": self.brs_steps,
            "grabcut_iterations": self.grabcut_iterations,
            "click_components": self.click_components,
            "click_guard": self.click_guard,
        }

    def describe(self) -> dict[str, Any]:
        """What decides this predictor's masks, as a JSON-able dict.

        :func:`ntclick.eval.evaluate` stores it with every result and resumes only from
        records with an equal one.  ``weights`` is a SHA-256 prefix of both networks'
        parameters and buffers (about 0.1 s for the tiny preset), so retrained weights in the
        same folder are told apart.
        """
        digest = hashlib.sha256()
        for prefix, net in (("ecp.", self.ecp), ("hrr.", self.hrr)):
            for name, tensor in sorted(net.state_dict().items()):
                t = tensor.detach().to("cpu").contiguous()
                digest.update(f"{prefix}{name}:{t.dtype}:{tuple(t.shape)}".encode())
                digest.update(t.reshape(-1).view(torch.uint8).numpy().tobytes())
        return {
            "predictor": type(self).__name__,
            "ecp": self.ecp.config.name,
            "hrr": self.hrr.config.name,
            "dtype": str(self.dtype).removeprefix("torch."),
            "weights": digest.hexdigest()[:16],
            **self.predictor_config,
            # The thresholds decide nothing while the guard is off.
            **({"guard_settings": dataclasses.asdict(self.guard_settings)} if self.click_guard else {}),
        }

    def save_pretrained(self, folder: str | os.PathLike, *, dtype: str | torch.dtype | None = None) -> Path:
        """Write ``config.json`` + ``model.safetensors`` to ``folder`` (atomically); returns it."""
        from ntclick.hub import save_pretrained

        return save_pretrained(
            folder, self.ecp, self.hrr, predictor_config=self.predictor_config, dtype=dtype
        )

    def push_to_hub(self, repo_id: str, **kwargs: Any) -> Any:
        """Upload the weights to the Hub repo ``repo_id``; ``kwargs`` go to :func:`ntclick.hub.push_to_hub`
        (``private``, ``token``, ``revision``, ``commit_message``, ``dtype``)."""
        from ntclick.hub import push_to_hub

        return push_to_hub(repo_id, self.ecp, self.hrr, predictor_config=self.predictor_config, **kwargs)

    # ------------------------------------------------------------------ image

    def reset_image(self) -> None:
        """Forget the current image and its cached tensors."""
        self.original_size: tuple[int, int] | None = None
        self._ecp_image: torch.Tensor | None = None  # (1, 3, He_pad, We_pad) normalized
        self._ecp_image_u8: np.ndarray | None = None  # (He, We, 3) uint8, for a prior
        self._ecp_size_hw: tuple[int, int] | None = None  # (He, We) before padding
        self._hrr_size_hw: tuple[int, int] | None = None  # HRR working size before padding
        self._hrr_padded_hw: tuple[int, int] | None = None
        self._hrr_features: Any = None
        self._hrr_image_u8: np.ndarray | None = None  # (hh, hw, 3) uint8 working-size image, for zoom-in
        # click_guard: packed masks answered for the current click list's prefixes, and the
        # settings they were answered with (a change of settings empties it).
        self._answers: dict[tuple[Click, ...], tuple[np.ndarray, int]] = {}
        self._answers_settings: tuple | None = None

    @property
    def is_image_set(self) -> bool:
        return self.original_size is not None

    @property
    def ecp_input_shape(self) -> tuple[int, int]:
        """``(H, W)`` of the padded ECP input of the current image (the click maps' shape)."""
        self._require_image()
        return tuple(self._ecp_image.shape[-2:])  # type: ignore[union-attr,return-value]

    @property
    def hrr_input_shape(self) -> tuple[int, int]:
        """``(H, W)`` of the padded HRR input of the current image."""
        self._require_image()
        return self._hrr_padded_hw  # type: ignore[return-value]

    @property
    def hrr_scale(self) -> float:
        """HRR working size over original size: 1.0 unless the long side exceeds ``hrr.config.max_size``."""
        self._require_image()
        return self._hrr_size_hw[0] / self.original_size[0]  # type: ignore[index]

    def _to_input(self, image: np.ndarray, config: Any, multiple: int) -> torch.Tensor:
        from ntclick.modeling import normalize_image, pad_to_multiple

        # Normalize on the device (uint8 is the cheapest thing to move), then zero-pad: padding
        # is the mean colour, as in SAM.
        x = torch.from_numpy(image).to(self.device).permute(2, 0, 1)[None]
        x = normalize_image(x, config.pixel_mean, config.pixel_std)
        return pad_to_multiple(x, multiple).to(self.dtype)

    @torch.inference_mode()
    def set_image(self, image: np.ndarray) -> None:
        """Compute and cache everything that depends on the image alone.

        Args:
            image: uint8 RGB (H, W, 3); uint8 grayscale (H, W) or (H, W, 1) and RGBA (H, W, 4)
                are converted.  Any other dtype or shape raises ``ValueError`` saying what was given.
        """
        image = as_rgb_uint8(image)
        self.reset_image()
        h, w = image.shape[:2]

        eh, ew = _scaled_size(h, w, self.ecp_size)
        ecp_image_u8 = np.ascontiguousarray(_resize(image, (eh, ew)))
        ecp_image = self._to_input(ecp_image_u8, self.ecp.config, int(self.ecp.config.size_multiple))

        max_size = int(self.hrr.config.max_size)
        hh, hw = _scaled_size(h, w, max_size) if max(h, w) > max_size else (h, w)
        working = np.ascontiguousarray(_resize(image, (hh, hw)))
        hrr_image = self._to_input(working, self.hrr.config, int(self.hrr.config.size_multiple))
        features = self.hrr.encode_image(hrr_image)

        self.original_size = (h, w)
        self._ecp_image = ecp_image
        self._ecp_image_u8 = ecp_image_u8
        self._ecp_size_hw = (eh, ew)
        self._hrr_size_hw = (hh, hw)
        self._hrr_padded_hw = tuple(hrr_image.shape[-2:])
        self._hrr_features = features
        self._hrr_image_u8 = working

    def _require_image(self) -> None:
        if not self.is_image_set:
            raise RuntimeError("no image set: call predictor.set_image(image) before predicting")

    # ------------------------------------------------------------------ clicks

    def click_maps(self, clicks: Iterable[ClickLike]) -> np.ndarray:
        """Disk maps of ``clicks`` (original-image pixels) on the padded ECP input grid.

        Returns float32 (C, H, W) with channels (fg, bg, nt), then the prior map of an ECP with
        a ``prior`` (``ntclick.prior``), ``(H, W) = ecp_input_shape``; disk radius
        ``ecp.config.click_radius`` pixels of that grid.  Raises ``ValueError`` for
        a click outside the image, like :meth:`predict`.
        """
        self._require_image()
        h, w = self.original_size  # type: ignore[misc]
        return self._image_maps(validate_clicks(clicks, (h, w)))

    def _image_maps(self, clicks: Sequence[Click], previous: np.ndarray | None = None) -> np.ndarray:
        """:meth:`click_maps` of validated ``clicks`` on the whole image; ``previous``: the
        previous mask, bool at the working size (:meth:`_working_mask`), for ECP's prior."""
        h, w = self.original_size  # type: ignore[misc]
        eh, ew = self._ecp_size_hw  # type: ignore[misc]
        return self._ecp_maps(
            self._ecp_image_u8,
            clicks,
            (ew / w, eh / h),
            self.ecp_input_shape,
            self._mask_on(previous, (eh, ew)),
        )

    def _ecp_maps(
        self,
        image: np.ndarray,
        clicks: Sequence[Click],
        scale: tuple[float, float],
        shape: tuple[int, int],
        previous: np.ndarray | None = None,
    ) -> np.ndarray:
        """ECP's click maps (C, H, W) of ``clicks`` on ``image`` (uint8, ECP's input size before
        padding), on the padded input grid ``shape`` = (H, W); ``previous``, a bool mask on
        ``image``, starts the prior (see :meth:`predict`'s ``prev_mask``)."""
        c = self.ecp.config
        return ecp_input_maps(
            image,
            clicks,
            radius=float(c.click_radius),
            prior=c.prior,
            prior_iterations=c.prior_iterations,
            prior_size=c.prior_size,
            scale=scale,
            shape=shape,
            previous=previous,
        )

    def _parse_clicks(
        self,
        clicks: Iterable[ClickLike] | Click | None,
        point_coords: np.ndarray | Sequence | None,
        point_labels: np.ndarray | Sequence | None,
    ) -> list[Click]:
        if clicks is not None and (point_coords is not None or point_labels is not None):
            raise ValueError("give either clicks or point_coords/point_labels, not both")
        if (point_coords is None) != (point_labels is None):
            raise ValueError("point_coords and point_labels must be given together")
        if point_coords is not None:
            clicks = clicks_from_arrays(point_coords, point_labels)  # type: ignore[arg-type]
        if clicks is None:
            return []
        if isinstance(clicks, Click):
            clicks = [clicks]
        if isinstance(clicks, (str, bytes, np.ndarray)):
            raise ValueError(
                f"clicks must be a list of Click(x, y, kind) or (x, y, kind) tuples, got {type(clicks).__name__}; "
                "use point_coords=/point_labels= for arrays"
            )
        return validate_clicks(clicks, self.original_size)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ prediction

    def predict(
        self,
        clicks: Iterable[ClickLike] | Click | None = None,
        *,
        point_coords: np.ndarray | Sequence | None = None,
        point_labels: np.ndarray | Sequence | None = None,
        prev_mask: np.ndarray | None = None,
    ) -> Prediction:
        """Segment the current image from all the clicks so far.

        Args:
            clicks: list of :class:`~ntclick.clicks.Click` (or ``(x, y, kind)`` tuples), ``x``
                the column and ``y`` the row in original-image pixels, kind fg / bg / nt.
            point_coords: alternatively, SAM-style float (N, 2) array of ``(x, y)``.
            point_labels: int (N,) with 1 = fg, 0 = bg, 2 = nt (with ``point_coords``).
            prev_mask: optionally the previous answer (``mask`` of the last call), a binary
                (H, W) mask at the original resolution (bool, 0/1 or 0/255).  ECP's GrabCut
                prior then starts from it instead of from the clicks alone, so that one more
                click corrects the last mask rather than starting over (SAM's ``mask_input``
                plays this part).  Needs an ECP with a prior channel (``ecp.config.prior``)
                unless ``click_guard`` is on, which then checks the last click against it
                instead of against its own answer to the earlier clicks.

        Returns:
            :class:`~ntclick.prediction.Prediction` at the original resolution (H, W): ``mask``
            bool, ``soft`` float32 in [0, 1], ``fbu`` uint8 0 / 128 / 255.  No click gives an
            empty mask and an all-background FBU map (the networks are not run).

        Raises:
            RuntimeError: no image set.
            ValueError: a click outside the image, non-finite, of unknown kind/label, or both
                ``clicks`` and ``point_coords``/``point_labels`` given; ``prev_mask`` not a
                binary mask of the image's size, or given to an ECP without a prior channel
                while ``click_guard`` is off.
        """
        self._require_image()
        parsed = self._parse_clicks(clicks, point_coords, point_labels)
        h, w = self.original_size  # type: ignore[misc]
        if not parsed:
            return Prediction(
                mask=np.zeros((h, w), dtype=bool),
                soft=np.zeros((h, w), dtype=np.float32),
                fbu=np.full((h, w), BG, dtype=np.uint8),
            )
        # prev_mask feeds ECP's prior when it has one, and click_guard when it is on.
        use_prior = prev_mask is not None and (self.ecp.config.prior != "none" or not self.click_guard)
        previous = self._working_mask(prev_mask) if use_prior else None
        prediction = self._predict_parsed(parsed, previous)
        if self.click_guard:
            given = None if prev_mask is None else as_bool_mask(prev_mask, "prev_mask", (h, w))
            prediction = self._guard(prediction, parsed, given)
        return prediction

    def _predict_parsed(self, parsed: list[Click], previous: np.ndarray | None) -> Prediction:
        """:meth:`predict` for validated, non-empty clicks, before ``click_guard``."""
        soft, fbu = self._predict_clicks(parsed, previous)
        soft_np = soft[0].cpu().numpy()
        fbu_np = fbu[0].cpu().numpy()
        mask = soft_np > self.mask_threshold
        if self.grabcut_iterations:
            mask = self._grabcut_band(soft_np, fbu_np, parsed)
            # GrabCut's answer is hard: in the band it decided (and wherever it changed the answer)
            # the soft mask is that answer, so soft > t gives this mask for any threshold t.
            decided = (fbu_np == UNCERTAIN) | (mask != (soft_np > self.mask_threshold))
            soft_np[decided] = mask[decided]
        if self.click_components:
            mask, soft_np, fbu_np = self._click_components(mask, soft_np, fbu_np, parsed)
        return Prediction(mask=mask, soft=soft_np, fbu=fbu_np)

    def _guard(self, prediction: Prediction, clicks: list[Click], given: np.ndarray | None) -> Prediction:
        """See ``click_guard``: ``given`` is the caller's ``prev_mask`` (bool, original size)."""
        settings = (tuple(sorted(self.predictor_config.items())), self.guard_settings)
        if settings != self._answers_settings:
            self._answers, self._answers_settings = {}, settings
        key = tuple(clicks)
        mask = prediction.mask
        if len(clicks) >= 2:
            largest = None
            if given is not None:
                previous = given
            else:
                previous = self._own_answer(clicks[:-1])
                largest = max(area for k, (_, area) in self._answers.items() if k == key[: len(k)])
            guarded = guard_mask(previous, mask, clicks[-1], self.guard_settings, largest=largest)
            changed = guarded != mask
            if changed.any():
                soft, fbu = prediction.soft, prediction.fbu
                soft[changed] = guarded[changed]
                fbu[changed] = np.where(guarded[changed], FG, BG)
                prediction = Prediction(mask=guarded, soft=soft, fbu=fbu)
                mask = guarded
        # Keep only this list's prefixes; an answer that depended on a caller's prev_mask is
        # not the predictor's own, so it is not cached.
        self._answers = {k: v for k, v in self._answers.items() if k == key[: len(k)]}
        if given is None:
            self._answers[key] = (np.packbits(mask, axis=-1), int(np.count_nonzero(mask)))
        return prediction

    def _own_answer(self, clicks: list[Click]) -> np.ndarray:
        """The guarded bool mask for ``clicks`` (non-empty), from the cache or prefix by prefix."""
        w = self.original_size[1]  # type: ignore[index]
        known = next((n for n in range(len(clicks), 0, -1) if tuple(clicks[:n]) in self._answers), 0)
        for n in range(known + 1, len(clicks) + 1):
            self._guard(self._predict_parsed(clicks[:n], None), clicks[:n], None)
        return np.unpackbits(self._answers[tuple(clicks)][0], axis=-1, count=w).astype(bool)

    def _click_components(
        self, mask: np.ndarray, soft: np.ndarray, fbu: np.ndarray, clicks: Sequence[Click]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """See ``click_components``: the changed pixels take the new answer in all three maps."""
        from ntclick.components import click_components

        new = click_components(mask, clicks, click_radius=self.CLICK_RADIUS)
        changed = new != mask
        soft[changed] = new[changed]
        fbu[changed] = np.where(new[changed], FG, BG)
        return new, soft, fbu

    def _working_mask(self, prev_mask: np.ndarray) -> np.ndarray:
        """``prev_mask`` checked, as bool at the working size (hh, hw)."""
        if self.ecp.config.prior == "none":
            raise ValueError(
                "prev_mask needs an ECP with a prior channel (ecp.config.prior 'grabcut'); "
                "this ECP has prior 'none', so it cannot take a previous mask"
            )
        h, w = self.original_size  # type: ignore[misc]
        previous = as_bool_mask(prev_mask, "prev_mask", (h, w))
        hh, hw = self._hrr_size_hw  # type: ignore[misc]
        if (hh, hw) != (h, w):
            previous = cv2.resize(previous.astype(np.uint8), (hw, hh), interpolation=cv2.INTER_NEAREST) > 0
        return previous

    @staticmethod
    def _mask_on(previous: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
        """A working-size bool mask (or crop) shrunk to ``size`` = (h, w) by area, fg above half."""
        if previous is None:
            return None
        h, w = size
        return cv2.resize(previous.astype(np.float32), (w, h), interpolation=cv2.INTER_AREA) > 0.5

    def _grabcut_band(self, soft: np.ndarray, fbu: np.ndarray, clicks: Sequence[Click]) -> np.ndarray:
        """GrabCut on the uncertain band at the working size (see ``grabcut_iterations``);
        ``soft``, ``fbu`` and the returned bool mask are (H, W) at the original size."""
        from ntclick.band_grabcut import grabcut_band

        h, w = self.original_size  # type: ignore[misc]
        hh, hw = self._hrr_size_hw  # type: ignore[misc]
        points = clicks
        if (hh, hw) != (h, w):  # above hrr.config.max_size: work on the cached working image
            soft = cv2.resize(soft, (hw, hh), interpolation=cv2.INTER_LINEAR)
            fbu = cv2.resize(fbu, (hw, hh), interpolation=cv2.INTER_NEAREST)
            points = scale_clicks(clicks, (self.hrr_scale, self.hrr_scale), (hh, hw))
        mask = grabcut_band(
            self._hrr_image_u8,  # type: ignore[arg-type]
            soft,
            fbu,
            points,
            iterations=self.grabcut_iterations,
            threshold=self.mask_threshold,
            max_side=self.GRABCUT_MAX_SIDE,
        )
        if (hh, hw) != (h, w):
            mask = cv2.resize(mask.astype(np.uint8), (w, h), interpolation=cv2.INTER_NEAREST) > 0
        return mask

    @torch.inference_mode()
    def predict_torch(self, click_maps: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Batched prediction for the current image: one result per set of clicks.

        Args:
            click_maps: float (B, C, H, W) disk maps (fg, bg, nt), then the prior map when
                ``ecp.config.prior`` is set (C = ``ecp.config.click_channels``), on the padded
                ECP input grid, ``(H, W) = ecp_input_shape``; build each with :meth:`click_maps`.

        Returns:
            ``(soft, fbu)`` on the predictor's device at the original resolution: ``soft``
            float32 (B, H, W) in [0, 1] and ``fbu`` uint8 (B, H, W) with 0 / 128 / 255.
        """
        self._require_image()
        expected = (self.ecp.config.click_channels, *self.ecp_input_shape)
        if click_maps.ndim != 4 or tuple(click_maps.shape[1:]) != expected:
            raise ValueError(
                f"click_maps must have shape (B, {expected[0]}, {expected[1]}, {expected[2]}), "
                f"got {tuple(click_maps.shape)}"
            )
        return self._finish(self._ecp_logits(click_maps))

    @torch.inference_mode()
    def _predict_clicks(
        self, clicks: list[Click], previous: np.ndarray | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """:meth:`predict_torch` for one validated click list, with zoom-in when enabled;
        ``previous``: the previous mask, bool at the working size, for ECP's prior."""
        maps = torch.from_numpy(self._image_maps(clicks, previous))[None]
        grid = None
        if self.brs_steps:  # click pixels on the ECP grid, only BRS reads them
            h, w = self.original_size  # type: ignore[misc]
            eh, ew = self._ecp_size_hw  # type: ignore[misc]
            grid = self._grid_points(clicks, (ew / w, eh / h), (eh, ew))
        logits = self._ecp_logits(maps, grid)
        if self.zoom_in and len(clicks) >= self.ZOOM_MIN_CLICKS:
            box = self.zoom_box(logits[0].argmax(dim=0), clicks)
            if box is not None:
                logits = self._zoom_logits(logits, clicks, box, previous)
        return self._finish(logits)

    def _ecp_logits(
        self, click_maps: torch.Tensor, points: list[tuple[int, int, ClickKind]] | None = None
    ) -> torch.Tensor:
        """ECP logits (B, 3, hh, hw) float32 at the HRR working size, padding cropped.  With
        ``points`` (one click list's ``(row, col, kind)`` on the ECP grid), BRS when enabled."""
        b = click_maps.shape[0]
        eh, ew = self._ecp_size_hw  # type: ignore[misc]
        hh, hw = self._hrr_size_hw  # type: ignore[misc]
        logits = self._run_ecp(
            self._ecp_image.expand(b, -1, -1, -1), click_maps.to(self.device, self.dtype), points
        )
        # Crop the padding, then upsample the logits (not the argmax) for smooth region borders.
        return F.interpolate(
            logits[:, :, :eh, :ew].float(), size=(hh, hw), mode="bilinear", align_corners=False
        )

    def zoom_box(self, classes: torch.Tensor, clicks: Sequence[Click]) -> tuple[int, int, int, int] | None:
        """The zoom-in crop ``(y0, y1, x0, x1)`` in HRR working pixels, or None when not worth it.

        Args:
            classes: (hh, hw) FBU class indices (0 bg, 1 uncertain, 2 fg) of the first pass at
                the HRR working size.
            clicks: the clicks, in original-image pixels.
        """
        self._require_image()
        hh, hw = self._hrr_size_hw  # type: ignore[misc]
        rows, cols = [], []
        # Extent from per-row / per-column flags: no (N, 2) index tensor for a 4096 px object.
        obj = classes != _FBU_CLASS_BG
        object_rows, object_cols = obj.any(dim=1).nonzero()[:, 0], obj.any(dim=0).nonzero()[:, 0]
        if object_rows.numel():
            rows += [int(object_rows[0]), int(object_rows[-1])]
            cols += [int(object_cols[0]), int(object_cols[-1])]
        for x, y, kind in self._working_points(clicks):
            if kind is not ClickKind.BG:
                rows.append(min(int(y), hh - 1))
                cols.append(min(int(x), hw - 1))
        if not rows:
            return None
        least = min(self.ecp_size, hh, hw)
        sides = []
        for lo, hi, limit in ((min(rows), max(rows), hh), (min(cols), max(cols), hw)):
            centre = (lo + hi + 1) / 2
            side = min(limit, max(least, int(np.ceil((hi - lo + 1) * self.ZOOM_EXPAND))))
            start = int(np.clip(round(centre - side / 2), 0, limit - side))
            sides.append((start, start + side))
        (y0, y1), (x0, x1) = sides
        if max(hh, hw) / max(y1 - y0, x1 - x0) < self.ZOOM_MIN_GAIN:
            return None
        return y0, y1, x0, x1

    def _zoom_logits(
        self,
        logits: torch.Tensor,
        clicks: Sequence[Click],
        box: tuple[int, int, int, int],
        previous: np.ndarray | None = None,
    ) -> torch.Tensor:
        """Replace ``logits`` (1, 3, hh, hw) inside ``box`` by ECP's logits on that crop, in place
        (the caller owns the first pass's tensor; at 4096 px a copy would be 150 MB per click)."""
        y0, y1, x0, x1 = box
        ch, cw = _scaled_size(y1 - y0, x1 - x0, self.ecp_size)
        ecp_c = self.ecp.config
        crop_u8 = np.ascontiguousarray(_resize(self._hrr_image_u8[y0:y1, x0:x1], (ch, cw)))
        crop = self._to_input(crop_u8, ecp_c, int(ecp_c.size_multiple))
        points = self._working_points(clicks)
        inside = [Click(x - x0, y - y0, kind) for x, y, kind in points if x0 <= x < x1 and y0 <= y < y1]
        crop_previous = None if previous is None else self._mask_on(previous[y0:y1, x0:x1], (ch, cw))
        maps = self._ecp_maps(
            crop_u8, inside, (cw / (x1 - x0), ch / (y1 - y0)), tuple(crop.shape[-2:]), crop_previous
        )
        grid = (
            self._grid_points(inside, (cw / (x1 - x0), ch / (y1 - y0)), (ch, cw)) if self.brs_steps else None
        )
        crop_logits = self._run_ecp(crop, torch.from_numpy(maps)[None].to(self.device, self.dtype), grid)
        crop_logits = F.interpolate(
            crop_logits[:, :, :ch, :cw].float(), size=(y1 - y0, x1 - x0), mode="bilinear", align_corners=False
        )
        logits[:, :, y0:y1, x0:x1] = crop_logits
        return logits

    def _run_ecp(
        self, image: torch.Tensor, maps: torch.Tensor, points: list[tuple[int, int, ClickKind]] | None
    ) -> torch.Tensor:
        """ECP on one input; with ``points`` and ``brs_steps`` the clicks are enforced (BRS)."""
        if not self.brs_steps or not points:
            return self.ecp(image, maps)
        from ntclick.modeling.brs import click_consistent_logits

        # BRS needs autograd; the features are recomputed outside inference mode so that
        # they can be saved for the decoder's backward pass. The maps are cloned out of
        # inference mode too: an ECP with a prior reads them again in its head, and autograd
        # cannot save an inference tensor (the prior conv's weights require grad).
        with torch.inference_mode(False), torch.no_grad():
            maps = maps.clone()
            features = self.ecp.forward_features(image, maps)
        with torch.inference_mode(False), torch.enable_grad():
            logits = click_consistent_logits(
                self.ecp,
                features,
                tuple(image.shape[-2:]),
                points,
                steps=self.brs_steps,
                target=self.BRS_TARGET,
                click_maps=maps,
            )
        return logits.detach()

    @staticmethod
    def _grid_points(
        clicks: Sequence[Click], scale: tuple[float, float], size: tuple[int, int]
    ) -> list[tuple[int, int, ClickKind]]:
        """Clicks -> ``(row, col, kind)`` pixels on a grid ``size`` = (h, w) scaled by ``scale``
        = (sx, sy) (:func:`~ntclick.clicks.scale_point`), clipped into the grid."""
        h, w = size
        points = []
        for c in clicks:
            x, y = scale_point(c.x, c.y, scale)
            points.append((int(np.clip(round(y), 0, h - 1)), int(np.clip(round(x), 0, w - 1)), c.kind))
        return points

    def _working_points(self, clicks: Sequence[Click]) -> list[tuple[float, float, ClickKind]]:
        """Clicks as ``(x, y, kind)`` in HRR working pixels (:func:`~ntclick.clicks.scale_point`),
        clipped at 0."""
        s = (self.hrr_scale, self.hrr_scale)
        points = []
        for c in clicks:
            x, y = scale_point(c.x, c.y, s)
            points.append((max(x, 0.0), max(y, 0.0), c.kind))
        return points

    def _finish(self, logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """ECP logits at the working size -> (soft, fbu) at the original size (see predict_torch)."""
        hh, hw = self._hrr_size_hw  # type: ignore[misc]
        h, w = self.original_size  # type: ignore[misc]
        classes = logits.argmax(dim=1).to(torch.uint8)  # (B, hh, hw): 0 = bg, 1 = uncertain, 2 = fg

        if self.refine:
            del logits
            ph, pw = self._hrr_padded_hw  # type: ignore[misc]
            fbu_unit = F.pad(classes.to(self.dtype) * 0.5, (0, pw - hw, 0, ph - hh))[:, None]  # padding = bg
            # Features of batch 1 broadcast over the B FBU maps.
            soft = self.hrr.forward_from_features(self._hrr_features, fbu_unit)[:, 0, :hh, :hw].float()
        else:  # ECP alone: its fg probability, half of the uncertain one
            probs = logits.softmax(dim=1)
            del logits
            soft = probs[:, _FBU_CLASS_FG] + 0.5 * probs[:, _FBU_CLASS_UNCERTAIN]
            del probs
        if self.clamp_to_fbu:
            soft = self._clamp(soft, classes)
        if (hh, hw) != (h, w):
            soft = F.interpolate(soft[:, None], size=(h, w), mode="bilinear", align_corners=False)[:, 0]
            classes = F.interpolate(classes[:, None].float(), size=(h, w), mode="nearest-exact")
            classes = classes[:, 0].to(torch.uint8)
            if self.clamp_to_fbu:
                soft = self._clamp(soft, classes)
        lut = torch.tensor([BG, UNCERTAIN, FG], dtype=torch.uint8, device=classes.device)
        return soft.clamp_(0.0, 1.0), lut[classes.int()]

    @staticmethod
    def _clamp(soft: torch.Tensor, classes: torch.Tensor) -> torch.Tensor:
        soft = torch.where(classes == _FBU_CLASS_FG, torch.ones_like(soft), soft)
        return torch.where(classes == _FBU_CLASS_BG, torch.zeros_like(soft), soft)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(ecp={self.ecp.config.name!r}, hrr={self.hrr.config.name!r}, "
            f"device={str(self.device)!r}, dtype={str(self.dtype).removeprefix('torch.')!r}, "
            f"ecp_size={self.ecp_size}, mask_threshold={self.mask_threshold}, clamp_to_fbu={self.clamp_to_fbu}, "
            f"refine={self.refine}, zoom_in={self.zoom_in}, brs_steps={self.brs_steps}, "
            f"grabcut_iterations={self.grabcut_iterations}, click_components={self.click_components}, "
            f"click_guard={self.click_guard})"
        )
