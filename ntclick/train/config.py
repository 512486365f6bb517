"""Training configuration: one flat dataclass for both networks, read from JSON.

A config file in ``configs/`` is a JSON object whose keys are :class:`TrainConfig` fields;
``--set key=value`` on the command line overrides one field (the value is parsed as JSON
when it can be, else taken as a string).  Unknown keys are errors that name the key and
list the valid ones, so a typo never silently falls back to a default.

Paths in data sources may contain ``{data}``, expanded to the shared data folder
(``NTCLICK_DATA`` or ``<repo root>/../shared/data``) and ``{repo}``, the repository root.

Torch-free.
"""

from __future__ import annotations

import dataclasses
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["TrainConfig", "TASKS", "AMP_DTYPES", "load_config", "apply_overrides", "data_root", "expand_path"]

TASKS = ("ecp", "hrr")
AMP_DTYPES = ("none", "bf16", "fp16")


@dataclass
class TrainConfig:
    """Everything one training run needs.  Defaults are the ones DESIGN.md fixes."""

    task: str = "ecp"  # "ecp" or "hrr"
    # Model: a preset of ntclick.modeling ("tiny", "small", "base", "large") plus field overrides.
    model: str = "tiny"
    model_overrides: dict[str, Any] = field(default_factory=dict)
    init: str | None = None  # start from these weights: a training checkpoint (.pt) or a weights folder

    # Data: a list of source specs (see ntclick.train.sources.build_source), mixed by "weight".
    data: list[dict[str, Any]] = field(default_factory=list)
    val_data: list[dict[str, Any]] = field(default_factory=list)  # empty: no validation
    val_samples: int = 64  # fixed validation samples drawn once from val_data
    input_size: int = 448  # ECP: long side of the (downsampled) training images, padded square
    crop_size: int = (
        2048  # HRR: side of the random square crop, a multiple of the model's size_multiple (128)
    )

    # Augmentation (geometric ones are applied to image and target together).
    hflip: bool = True
    scale_range: tuple[float, float] = (0.75, 1.25)
    color_jitter: float = 0.2  # max relative change of brightness / contrast / saturation

    # Ground-truth FBU (training recipe) and clicks.
    fbu_kernel_range: tuple[int, int] = (15, 30)
    max_fg_clicks: int = 3  # initial clicks: fg count uniform in [1, max], bg and nt in [0, max]
    max_bg_clicks: int = 3
    max_nt_clicks: int = 2
    max_extra_clicks: int = 3  # ECP iterative training: up to this many clicks from the model's own errors
    iterative_prob: float = 0.8  # probability that a step simulates extra clicks at all
    # ECP with a prior, iterative steps: the fraction of samples whose prior (in the later simulation
    # rounds and in the trained input) starts from the model's previous mask, as predict(prev_mask=)
    # does at inference, instead of from the clicks alone (the sixteenth round).
    prior_from_previous_prob: float = 0.0
    fbu_degrade_prob: float = 0.5  # HRR: probability that the input FBU is degraded like ECP's mistakes
    fbu_from_ecp: str | None = None  # HRR: a frozen ECP (checkpoint or weights) predicting some input FBUs
    fbu_from_ecp_prob: float = 0.5  # HRR: fraction of samples whose input FBU comes from that ECP

    # ECP loss: weight of the fg/bg confusion term (ntclick.train.losses.ecp_loss); 0 = cross-entropy.
    ecp_confusion_weight: float = 0.0

    # HRR loss weights.
    l1_weight: float = 1.0
    grad_weight: float = 1.0

    # Optimisation.
    batch_size: int = 8  # per process
    steps: int = 10000
    lr: float = 1e-4
    min_lr_ratio: float = 0.01  # cosine decays to lr * min_lr_ratio
    weight_decay: float = 0.05
    betas: tuple[float, float] = (0.9, 0.999)
    warmup_steps: int = 500
    grad_clip: float = 1.0  # max global gradient norm; 0 disables clipping
    # Moving average of the weights (ntclick.train.ema), decay per step; 0 = off.  When on,
    # validation and checkpoint_best.pt use the average, and export takes it.
    ema_decay: float = 0.0
    amp: str = "bf16"  # autocast dtype on CUDA: "none", "bf16" or "fp16"; CPU always runs float32

    # Bookkeeping.
    seed: int = 0
    num_workers: int = 4
    log_every: int = 10
    ckpt_every: int = 500
    keep_every: int = 0  # also keep checkpoint_step<N>.pt at every multiple of this step (0 = none)
    val_every: int = 0  # 0: validate only at the end (when val_data or val_clicker_data is set)
    # ECP: clicker validation (ntclick.train.clicker_validation): NoC of the predictor on held-out
    # objects at every validation point; the best checkpoint is kept as checkpoint_best.pt.
    val_clicker_data: str | None = None  # "folder=PATH" (or NAME / NAME=PATH of ntclick.eval); None: off
    val_clicker_objects: int = 0  # the first N objects; 0 = all
    val_clicker_target: float = 0.9  # NoC counts clicks until this IoU (20 when never reached)
    val_clicker_settings: dict[str, Any] = field(
        default_factory=lambda: {"zoom_in": True, "grabcut_iterations": 3}
    )  # NTClickPredictor keyword arguments: the settings the weights will ship with
    # The click protocols of ntclick.eval ("standard", "nt"); with several, checkpoint_best.pt is
    # chosen on the mean of their NoC (the twelfth round: a gain in one protocol can cost the other).
    val_clicker_protocols: list[str] = field(default_factory=lambda: ["standard"])
    # Clicker validation hands the predictor its previous mask from the second click on
    # (ntclick eval --prev-mask), for ECPs meant to be used that way.
    val_clicker_prev_mask: bool = False

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first field with an impossible value."""
        if self.task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {self.task!r}")
        if self.amp not in AMP_DTYPES:
            raise ValueError(f"amp must be one of {AMP_DTYPES}, got {self.amp!r}")
        if not isinstance(self.model_overrides, dict):
            raise ValueError(f"model_overrides must be a JSON object, got {self.model_overrides!r}")
        for name in ("data", "val_data"):
            specs = getattr(self, name)
            if not isinstance(specs, list) or not all(isinstance(s, dict) for s in specs):
                raise ValueError(f"{name} must be a list of source objects, got {specs!r}")
        if self.input_size <= 0 or self.input_size % 16:
            raise ValueError(
                f"input_size must be a positive multiple of 16 (ECP patch size), got {self.input_size}"
            )
        if self.crop_size <= 0 or self.crop_size % 16:
            # The exact multiple (patch x window, 128 by default) is checked against the model.
            raise ValueError(f"crop_size must be a positive multiple of 16, got {self.crop_size}")
        positive = ("batch_size", "steps", "log_every", "ckpt_every", "lr", "val_samples")
        for name in positive:
            if not 0 < getattr(self, name) < float("inf"):
                raise ValueError(f"{name} must be a finite number > 0, got {getattr(self, name)!r}")
        non_negative = (
            "warmup_steps",
            "grad_clip",
            "weight_decay",
            "num_workers",
            "val_every",
            "keep_every",
            "val_clicker_objects",
            "max_bg_clicks",
            "max_nt_clicks",
            "max_extra_clicks",
            "color_jitter",
            "ecp_confusion_weight",
            "l1_weight",
            "grad_weight",
            "min_lr_ratio",
        )
        for name in non_negative:
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1) (0 = off), got {self.ema_decay!r}")
        if self.max_fg_clicks < 1:
            raise ValueError(f"max_fg_clicks must be >= 1, got {self.max_fg_clicks}")
        for name in ("iterative_prob", "prior_from_previous_prob", "fbu_degrade_prob", "fbu_from_ecp_prob"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {getattr(self, name)!r}")
        if self.val_clicker_data is not None:
            if self.task != "ecp":
                raise ValueError("val_clicker_data (clicker validation) is for ECP runs only")
            if not isinstance(self.val_clicker_data, str) or not self.val_clicker_data.strip():
                raise ValueError(
                    f"val_clicker_data must be 'folder=PATH' or a dataset name, got {self.val_clicker_data!r}"
                )
        if not 0.0 < self.val_clicker_target <= 1.0:
            raise ValueError(f"val_clicker_target must be in (0, 1], got {self.val_clicker_target!r}")
        if not isinstance(self.val_clicker_settings, dict):
            raise ValueError(f"val_clicker_settings must be a JSON object, got {self.val_clicker_settings!r}")
        from ntclick.eval.protocol import CLICKERS

        protocols = self.val_clicker_protocols
        if (
            not isinstance(protocols, (list, tuple))
            or not protocols
            or any(p not in CLICKERS for p in protocols)
            or len(set(protocols)) != len(protocols)
        ):
            raise ValueError(
                f"val_clicker_protocols must be a non-empty list of distinct protocols from "
                f"{', '.join(CLICKERS)}, got {protocols!r}"
            )
        self.val_clicker_protocols = list(protocols)
        for name in ("scale_range", "fbu_kernel_range", "betas"):
            value = getattr(self, name)
            if not (isinstance(value, (list, tuple)) and len(value) == 2):
                raise ValueError(f"{name} must be a pair [low, high], got {value!r}")
            setattr(self, name, tuple(value))
        lo, hi = self.scale_range
        if not 0 < lo <= hi:
            raise ValueError(f"scale_range must satisfy 0 < low <= high, got {self.scale_range}")
        lo, hi = self.fbu_kernel_range
        if not 1 <= lo <= hi:
            raise ValueError(f"fbu_kernel_range must satisfy 1 <= low <= high, got {self.fbu_kernel_range}")

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        for name in ("scale_range", "fbu_kernel_range", "betas"):
            d[name] = list(d[name])
        return d

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> TrainConfig:
        """Build from a mapping; unknown keys raise ``ValueError`` naming them."""
        if not isinstance(d, Mapping):
            raise ValueError(f"a training config must be a JSON object, got {type(d).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(
                f"unknown training config key(s) {unknown}; valid keys are: {', '.join(sorted(known))}"
            )
        return cls(**dict(d))


def _parse_value(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text  # bare strings need no quotes on the command line: --set model=base


def apply_overrides(config: TrainConfig, overrides: Iterable[str]) -> TrainConfig:
    """Apply ``key=value`` strings; ``model_overrides.depth=2`` sets one key of a dict field.

    Returns a new, validated config.  Malformed items and unknown keys raise ``ValueError``.
    """
    d = config.to_dict()
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"override {item!r} is not of the form key=value")
        value = _parse_value(raw)
        head, dot, sub = key.partition(".")
        if head not in d:
            raise ValueError(
                f"unknown training config key {head!r} in override {item!r}; valid keys are: {', '.join(sorted(d))}"
            )
        if dot:
            if not isinstance(d[head], dict):
                raise ValueError(
                    f"override {item!r}: {head!r} is not an object, set it whole with {head}=<value>"
                )
            d[head] = {**d[head], sub: value}
        else:
            d[head] = value
    return TrainConfig.from_dict(d)


def load_config(
    path: str | os.PathLike, overrides: Iterable[str] = (), defaults: Mapping[str, Any] | None = None
) -> TrainConfig:
    """Read a JSON config file, fill keys it does not set from ``defaults``, apply ``key=value`` overrides."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"training config not found: {p}")
    try:
        d = json.loads(p.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"training config {p} is not valid JSON: {exc}") from None
    if isinstance(d, dict) and defaults:
        d = {**defaults, **d}
    try:
        config = TrainConfig.from_dict(d)
        return apply_overrides(config, overrides)
    except ValueError as exc:
        raise ValueError(f"{p}: {exc}") from None


def repo_root() -> Path:
    return Path(__file__).resolve().parents[2]


def data_root() -> Path:
    """The shared data folder: ``$NTCLICK_DATA`` or ``<repo root>/../shared/data``."""
    env = os.environ.get("NTCLICK_DATA")
    return Path(env) if env else repo_root().parent / "shared" / "data"


def expand_path(path: str | os.PathLike) -> Path:
    """Expand ``{data}``, ``{repo}`` and ``~`` in a path from a config."""
    text = str(path).replace("{data}", str(data_root())).replace("{repo}", str(repo_root()))
    return Path(text).expanduser()
