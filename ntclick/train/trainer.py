"""The training loop for ECP and HRR.

One function, :func:`train`, runs a :class:`~ntclick.train.config.TrainConfig` on one process
or, under ``torchrun``, on many (DistributedDataParallel, each rank reading its own shard of
the sample stream).  Per step:

- ECP: the batch's initial clicks; with probability ``iterative_prob`` the model, in eval
  mode and without gradients, then adds 1 to ``max_extra_clicks`` clicks per sample from its
  own FBU errors with the NT clicker (:func:`ntclick.clicker.next_fbu_click`), as RITM and
  SimpleClick train; then one forward/backward with cross-entropy over (bg, uncertain, fg).
  With ``prior_from_previous_prob``, that fraction of the samples start their GrabCut prior
  from the model's previous mask in the later rounds and in the trained input, as an
  interactive tool that passes ``predict(prev_mask=)`` does.
- HRR: one forward/backward with L1 + Sobel gradient loss.  With ``fbu_from_ecp`` set, a
  fraction ``fbu_from_ecp_prob`` of the samples take their input FBU from a frozen ECP
  (:mod:`ntclick.train.ecp_guidance`) instead of the morphological recipe.

AdamW (no weight decay on biases, norms and position embeddings), linear warm-up then cosine
decay, gradient-norm clipping, bf16/fp16 autocast on CUDA (a GradScaler for fp16).  With
``ema_decay`` a moving average of the weights (:mod:`ntclick.train.ema`) is updated after every
step; validation and ``checkpoint_best.pt`` then use the average, and checkpoints hold both.

Determinism: data depend only on (seed, step, rank) (:mod:`ntclick.train.dataset`), and
torch's global generator (drop path) is re-seeded from (seed, rank, step) at every step, so
a run resumed from a checkpoint continues bit for bit as if never stopped, in the same
environment (versions, device, thread count: :mod:`ntclick.train.run_environment`); checkpoints
record it, and resuming in another one warns.

Outputs in ``out_dir`` (rank 0): ``config.json``, ``metrics.jsonl``, ``loss_curve.png``,
``checkpoint_last.pt``; with clicker validation (``val_clicker_data``, ECP) also
``checkpoint_best.pt``, the checkpoint with the fewest clicks to ``val_clicker_target`` so far
(:mod:`ntclick.train.clicker_validation`); with ``keep_every``, ``checkpoint_step<N>.pt`` at
every multiple N of it.
"""

from __future__ import annotations

import json
import math
import os
import random
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader

from ntclick.clicker import next_fbu_click
from ntclick.clicks import Click
from ntclick.fbu import fbu_from_classes
from ntclick.image_io import atomic_write_bytes
from ntclick.prior import ecp_input_maps
from ntclick.progress import Progress
from ntclick.train.checkpoint import (
    LAST_CHECKPOINT,
    capture_rng_state,
    load_checkpoint,
    load_network,
    restore_rng_state,
    save_checkpoint,
)
from ntclick.train.clicker_validation import BEST_CHECKPOINT, ClickerValidator, is_better, progress_line
from ntclick.train.config import TrainConfig
from ntclick.train.dataset import TRAIN_STREAM, VAL_STREAM, SampleStream, ShardedStepSampler, collate
from ntclick.train.distributed import (
    DistContext,
    all_reduce_mean,
    barrier,
    init_distributed,
    shutdown,
    unwrap_model,
    wrap_model,
)
from ntclick.train.ecp_guidance import load_frozen_ecp, predict_crop_fbu
from ntclick.train.ema import ModelEMA
from ntclick.train.losses import ecp_loss, fbu_targets, hrr_loss
from ntclick.train.metrics_log import MetricsLog, plot_loss_curve
from ntclick.train.run_environment import capture_environment, environment_changes
from ntclick.train.sources import build_sources

__all__ = [
    "TrainResult",
    "train",
    "build_model",
    "build_optimizer",
    "build_scheduler",
    "lr_factor",
    "encode_click_batch",
    "simulate_clicks_and_masks",
    "simulate_extra_clicks",
]

# Fields that define what a run computes: resuming with another value would not continue it.
# (Data paths may change, e.g. on another machine.)
_RUN_DEFINING = ("task", "model", "model_overrides", "seed", "batch_size", "input_size", "crop_size")


@dataclass
class TrainResult:
    """What :func:`train` returns (on every rank; paths are where rank 0 wrote)."""

    out_dir: Path
    step: int
    loss: float | None  # mean train loss over the last logging interval, all ranks
    checkpoint: Path
    val: dict[str, float] | None
    model: nn.Module  # the trained network (unwrapped from DDP), on the training device
    best: dict[str, Any] | None = None  # clicker validation: the best score, its step and checkpoint
    ema: nn.Module | None = None  # with ema_decay: the moving average of the weights (eval mode)


def build_model(config: TrainConfig) -> nn.Module:
    """A freshly initialised ECP or HRR from the config's preset and overrides.

    ECP's ``input_size`` (the resolution the predictor will use) is the training
    ``input_size`` unless ``model_overrides`` sets it.
    """
    from ntclick.modeling import build_ecp, build_hrr

    if config.task == "ecp":
        return build_ecp(config.model, **{"input_size": config.input_size, **config.model_overrides})
    return build_hrr(config.model, **config.model_overrides)


def _load_init_weights(model: nn.Module, config: TrainConfig) -> None:
    """Fine-tuning: copy weights from a training checkpoint or a weights folder / Hub repo."""
    state = load_network(config.init, config.task).state_dict()
    try:
        model.load_state_dict(state)
    except RuntimeError as exc:
        raise ValueError(
            f"init weights {config.init} do not fit the configured {config.task} model "
            f"({config.model} with {config.model_overrides}): {exc}"
        ) from None


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.AdamW:
    """AdamW; biases, normalisation weights and position embeddings get no weight decay."""
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        (no_decay if p.ndim <= 1 or "pos_embed" in name else decay).append(p)
    groups = [
        {"params": decay, "weight_decay": config.weight_decay},
        {"params": no_decay, "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=config.lr, betas=config.betas)


def lr_factor(step: int, config: TrainConfig) -> float:
    """Learning-rate multiplier at ``step``: linear warm-up, then cosine to ``min_lr_ratio``."""
    if step < config.warmup_steps:
        return (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    cosine = 0.5 * (1 + math.cos(math.pi * min(1.0, progress)))
    return config.min_lr_ratio + (1 - config.min_lr_ratio) * cosine


def build_scheduler(
    optimizer: torch.optim.Optimizer, config: TrainConfig
) -> torch.optim.lr_scheduler.LambdaLR:
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: lr_factor(step, config))


def encode_click_batch(
    clicks: list[list[Click]],
    images: torch.Tensor | None,
    valid: np.ndarray,
    config: Any,
    device: torch.device,
    previous: list[np.ndarray | None] | None = None,
) -> torch.Tensor:
    """Per-sample click lists (sample pixels) -> float32 (B, C, H, W) ECP click maps.

    Args:
        clicks: per-sample clicks in sample pixels.
        images: uint8 (B, 3, H, W) samples, read only when ``config.prior`` is set (the prior
            is computed on each sample's unpadded top-left box); may be None otherwise.
        valid: bool (B, H, W), False in padding.
        config: the :class:`~ntclick.modeling.ECPConfig`.
        device: where the maps go.
        previous: per sample None or a bool (H, W) previous mask that starts its prior
            (:func:`ntclick.prior.click_prior`'s ``previous``, as ``predict(prev_mask=)``).
    """
    size = tuple(valid.shape[-2:])
    pixels = None
    if config.prior != "none":
        if images is None:
            raise ValueError(
                "an ECP with a prior needs raw_images: the uint8 images its prior is computed on"
            )
        pixels = images.permute(0, 2, 3, 1).cpu().numpy()

    def maps_for(b: int) -> np.ndarray:
        image, start = None, None
        if pixels is not None:
            h, w = max(1, valid[b].any(axis=1).sum()), max(1, valid[b].any(axis=0).sum())
            image = np.ascontiguousarray(pixels[b, :h, :w])
            if previous is not None and previous[b] is not None:
                start = np.ascontiguousarray(previous[b][:h, :w])
        return ecp_input_maps(
            image,
            clicks[b],
            radius=config.click_radius,
            prior=config.prior,
            prior_iterations=config.prior_iterations,
            prior_size=config.prior_size,
            shape=size,
            previous=start,
        )

    # GrabCut releases the GIL: the batch's priors are computed side by side.
    maps = np.stack(list(_clicker_pool().map(maps_for, range(len(clicks)))))
    return torch.from_numpy(maps).to(device)


def simulate_extra_clicks(*args: Any, **kwargs: Any) -> list[list[Click]]:
    """:func:`simulate_clicks_and_masks` (same arguments) without the masks: the new per-sample
    click lists."""
    return simulate_clicks_and_masks(*args, **kwargs)[0]


def previous_masks(logits: torch.Tensor, valid: np.ndarray) -> np.ndarray:
    """The binary masks a user would see for ECP ``logits`` (B, 3, S, S): fg, and uncertain
    where fg is likelier than bg (the predictor's soft mask ``p_fg + p_unc / 2 >= 0.5``);
    bool (B, S, S), False in padding (``valid`` False).  With ``grabcut_iterations`` the
    predictor decides the uncertain band by GrabCut instead; this stands in for it here
    (a GrabCut per sample and round would double the simulation's prior cost)."""
    classes = logits.argmax(1)
    fg = (classes == 2) | ((classes == 1) & (logits[:, 2] >= logits[:, 0]))
    return fg.cpu().numpy() & valid


@torch.no_grad()
def simulate_clicks_and_masks(
    net: nn.Module,
    images: torch.Tensor,
    clicks: list[list[Click]],
    gt_fbu: np.ndarray,
    valid: np.ndarray,
    num_extra: int,
    autocast: Any,
    raw_images: torch.Tensor | None = None,
    chain: np.ndarray | None = None,
) -> tuple[list[list[Click]], list[np.ndarray | None]]:
    """Iterative click simulation (RITM/SimpleClick): ``num_extra`` rounds of predict, then
    add the NT clicker's next click per sample (none once a sample has no error left).

    Args:
        net: the unwrapped ECP (put in eval mode for the rounds, restored after).
        images: normalised (B, 3, S, S) images on the device.
        clicks: per-sample click lists; not modified.
        gt_fbu: uint8 (B, S, S) ground-truth FBU maps.
        valid: bool (B, S, S), False in padding (never an error, never clicked).
        num_extra: number of rounds.
        autocast: the autocast context factory of the run.
        raw_images: uint8 (B, 3, S, S), the same images before normalisation (needed by an
            ECP with a prior).
        chain: bool (B,): samples whose prior, from the second round on, starts from the
            previous round's mask (:func:`previous_masks`), as ``predict(prev_mask=)``.

    Returns:
        ``(clicks, previous)``: the new per-sample click lists, and per sample the last round's
        mask where ``chain`` is set (None elsewhere), the start of the trained input's prior.
    """
    clicks = [list(c) for c in clicks]
    previous: list[np.ndarray | None] = [None] * len(clicks)
    was_training = net.training
    net.eval()
    try:
        for _ in range(num_extra):
            maps = encode_click_batch(clicks, raw_images, valid, net.config, images.device, previous)
            with autocast():
                logits = net(images, maps)
            pred = logits.argmax(1).to(torch.uint8).cpu().numpy()
            if chain is not None and chain.any():
                masks = previous_masks(logits.float(), valid)
                previous = [masks[b] if chain[b] else None for b in range(len(clicks))]

            def next_for(b: int, pred: np.ndarray = pred) -> Click | None:
                return next_fbu_click(
                    fbu_from_classes(pred[b]), gt_fbu[b], clicked=clicks[b], ignore=~valid[b]
                )

            # The clicker is deterministic and OpenCV/NumPy release the GIL: threads give the
            # same clicks in the same order, faster on GPU machines where it is the bottleneck.
            for b, click in enumerate(_clicker_pool().map(next_for, range(len(clicks)))):
                if click is not None:
                    clicks[b].append(click)
    finally:
        net.train(was_training)
    return clicks, previous


def _chain_mask(config: TrainConfig, rank: int, step: int, batch_size: int) -> np.ndarray:
    """bool (B,): which samples of this step chain their prior (``prior_from_previous_prob``)."""
    return (
        np.random.default_rng([config.seed, 5, rank, step]).random(batch_size)
        < config.prior_from_previous_prob
    )


_POOL: dict[int, ThreadPoolExecutor] = {}


def _clicker_pool() -> ThreadPoolExecutor:
    # One pool per process: a forked child inherits the parent's executor without its threads,
    # and work submitted to it would never run.
    pid = os.getpid()
    if pid not in _POOL:
        _POOL.clear()
        _POOL[pid] = ThreadPoolExecutor(max_workers=max(1, min(8, (os.cpu_count() or 1) // 2)))
    return _POOL[pid]


def _num_extra_clicks(config: TrainConfig, step: int) -> int:
    # Same on every rank (no rank in the seed), so ranks stay in lock step.
    rng = np.random.default_rng([config.seed, 2, step])
    if config.max_extra_clicks == 0 or rng.random() >= config.iterative_prob:
        return 0
    return int(rng.integers(1, config.max_extra_clicks + 1))


def _out_of_time(started: float, max_minutes: float, ctx: DistContext) -> bool:
    """Whether ``max_minutes`` have passed on any rank (all ranks then stop at the same step)."""
    late = torch.tensor(float(time.perf_counter() - started >= 60.0 * max_minutes), device=ctx.device)
    return bool(all_reduce_mean(late, ctx) > 0)


def _step_seed(config: TrainConfig, rank: int, step: int) -> int:
    return int(np.random.default_rng([config.seed, 3, rank, step]).integers(2**62))


def _ecp_fbu_mask(config: TrainConfig, rank: int, step: int, batch_size: int) -> np.ndarray:
    """bool (B,): which samples of this step take their FBU input from the frozen ECP."""
    return np.random.default_rng([config.seed, 4, rank, step]).random(batch_size) < config.fbu_from_ecp_prob


def _forward_loss(
    model: nn.Module,
    batch: dict[str, Any],
    config: TrainConfig,
    step: int,
    device: torch.device,
    autocast: Any,
    ecp_guide: nn.Module | None = None,
    rank: int = 0,
) -> tuple[torch.Tensor, dict[str, float]]:
    from ntclick.modeling import normalize_image

    net = unwrap_model(model)
    images = normalize_image(
        batch["image"].to(device, non_blocking=True), net.config.pixel_mean, net.config.pixel_std
    )
    valid = batch["valid"].to(device, non_blocking=True)
    if config.task == "ecp":
        clicks = batch["clicks"]
        num_extra = _num_extra_clicks(config, step) if model.training else 0
        previous = None
        if num_extra:
            chain = None
            if config.prior_from_previous_prob > 0:
                chain = _chain_mask(config, rank, step, len(clicks))
            clicks, previous = simulate_clicks_and_masks(
                net,
                images,
                clicks,
                batch["gt_fbu"].numpy(),
                batch["valid"].numpy(),
                num_extra,
                autocast,
                batch["image"],
                chain,
            )
        maps = encode_click_batch(
            clicks, batch["image"], batch["valid"].numpy(), net.config, device, previous
        )
        with autocast():
            logits = model(images, maps)
        gt_fbu = batch["gt_fbu"].to(device, non_blocking=True)
        loss = ecp_loss(logits, gt_fbu, valid, confusion_weight=config.ecp_confusion_weight)
        extras = {"clicks": float(np.mean([len(c) for c in clicks]))}
        if not model.training:
            target = fbu_targets(gt_fbu, valid)
            correct = ((logits.argmax(1) == target) & valid).sum()
            extras["fbu_acc"] = float(correct) / max(1.0, float(valid.sum()))
        return loss, extras
    fbu = batch["fbu"].to(device, non_blocking=True)
    target = batch["target"].to(device, non_blocking=True)
    from_ecp = None
    if ecp_guide is not None and model.training:
        from_ecp = _ecp_fbu_mask(config, rank, step, len(fbu))
        if from_ecp.any():
            chosen = np.flatnonzero(from_ecp)
            index = torch.from_numpy(chosen).to(device)
            raw = batch["image"].to(device, non_blocking=True)[index]
            clicks = [batch["clicks"][i] for i in chosen.tolist()]
            predicted = predict_crop_fbu(ecp_guide, raw, clicks, valid[index], autocast)
            fbu = fbu.index_copy(0, index, predicted.to(fbu.dtype))
    with autocast():
        pred = model(images, fbu)
    loss, parts = hrr_loss(pred, target, valid, l1_weight=config.l1_weight, grad_weight=config.grad_weight)
    if from_ecp is not None:
        parts["fbu_from_ecp"] = float(from_ecp.mean())
    if not model.training:
        p, t = (pred.float() >= 0.5) & valid, (target >= 0.5) & valid
        union = float((p | t).sum())
        parts["iou"] = float((p & t).sum()) / union if union else 1.0
    return loss, parts


def _loader(stream: SampleStream, sampler: Any, config: TrainConfig, ctx: DistContext) -> DataLoader:
    return DataLoader(
        stream,
        batch_size=config.batch_size,
        sampler=sampler,
        num_workers=config.num_workers,
        collate_fn=collate,
        pin_memory=ctx.device.type == "cuda",
        persistent_workers=False,
    )


def _validate(
    model: nn.Module, val_stream: SampleStream, config: TrainConfig, ctx: DistContext, autocast: Any
) -> dict[str, float]:
    """Mean loss (and FBU accuracy / IoU) over the fixed validation samples, all ranks."""
    indices = list(range(ctx.rank, config.val_samples, ctx.world_size))
    loader = DataLoader(
        val_stream,
        batch_size=config.batch_size,
        sampler=indices,
        collate_fn=collate,
        num_workers=config.num_workers,
    )
    was_training = model.training
    net = unwrap_model(model)
    net.eval()
    sums: dict[str, float] = {}
    count = 0
    with torch.no_grad():
        for batch in loader:
            loss, extras = _forward_loss(net, batch, config, 0, ctx.device, autocast)
            n = len(batch["image"])
            for key, value in {"loss": float(loss), **extras}.items():
                sums[key] = sums.get(key, 0.0) + value * n
            count += n
    net.train(was_training)
    keys = sorted(sums)
    totals = torch.tensor([sums[k] for k in keys] + [count], dtype=torch.float64, device=ctx.device)
    if ctx.distributed:
        torch.distributed.all_reduce(totals)
    n = max(1.0, float(totals[-1]))
    return {k: float(totals[i]) / n for i, k in enumerate(keys)}


def _check_resumable(saved: dict[str, Any], config: TrainConfig, path: Path) -> None:
    current = config.to_dict()
    changed = [k for k in _RUN_DEFINING if saved.get(k) != current.get(k)]
    if changed:
        raise ValueError(
            f"cannot resume {path}: the config changed {changed} since the checkpoint was written; "
            "resume with the run's config (see config.json in the output folder)"
        )


def train(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    resume: bool = False,
    device: str | None = None,
    progress: bool = True,
    stop_at_step: int | None = None,
    max_minutes: float | None = None,
) -> TrainResult:
    """Train ECP or HRR as configured; see the module doc.

    Args:
        config: the run's configuration.
        out_dir: folder for the config, logs, plot and checkpoints.
        resume: continue from ``out_dir/checkpoint_last.pt`` (its model, optimizer, scheduler,
            scaler, step and RNG states).  Without it an existing checkpoint there is an error.
        device: "cpu", "cuda", "cuda:<i>" or None (CUDA when available).
        progress: show a progress bar and a start-up summary (rank 0, TTY only).
        stop_at_step: stop (with a checkpoint) at this step instead of ``config.steps``, e.g. to
            fit a cluster's time limit; resume later with ``resume=True``.
        max_minutes: also stop (with a checkpoint) at the first step that ends this many
            minutes after training started, e.g. on a machine lent for a fixed time.  The
            learning-rate schedule still follows ``config.steps``.

    Returns:
        A :class:`TrainResult`.
    """
    out = Path(out_dir)
    ctx = init_distributed(device)
    try:
        return _train(
            config,
            out,
            ctx,
            resume=resume,
            progress=progress,
            stop_at_step=stop_at_step,
            max_minutes=max_minutes,
        )
    finally:
        shutdown(ctx)


def _train(
    config: TrainConfig,
    out: Path,
    ctx: DistContext,
    *,
    resume: bool,
    progress: bool,
    stop_at_step: int | None,
    max_minutes: float | None,
) -> TrainResult:
    if max_minutes is not None and not max_minutes > 0:
        raise ValueError(f"max_minutes must be > 0, got {max_minutes}")
    started = time.perf_counter()
    last_path = out / LAST_CHECKPOINT
    environment = capture_environment(ctx.device, ctx.world_size)
    ckpt = None
    if resume:
        ckpt = load_checkpoint(last_path, config.task)
        _check_resumable(ckpt["config"], config, last_path)
        changes = environment_changes(ckpt.get("environment"), environment)
        if changes and ctx.is_main:
            warnings.warn(
                f"{last_path} was written in another environment ({'; '.join(changes)}): the run "
                "continues, but not bit for bit as it would have without the change",
                RuntimeWarning,
                stacklevel=2,
            )
    elif last_path.exists():
        raise ValueError(
            f"{out} already holds a checkpoint ({last_path.name}): pass --resume to continue it, or choose another --out"
        )

    torch.manual_seed(config.seed)  # identical initial weights on every rank
    model = build_model(config).to(ctx.device)
    size, name = (
        (config.input_size, "input_size") if config.task == "ecp" else (config.crop_size, "crop_size")
    )
    if size % model.config.size_multiple:
        raise ValueError(
            f"{name}={size} is not a multiple of {model.config.size_multiple}, which this {config.task} model needs"
        )
    if config.task == "ecp" and model.config.prior == "none":
        for option, on in (
            ("prior_from_previous_prob", config.prior_from_previous_prob > 0),
            ("val_clicker_prev_mask", config.val_clicker_prev_mask),
        ):
            if on:
                raise ValueError(
                    f"{option} needs an ECP with a prior (model_overrides prior 'grabcut'); this one has 'none'"
                )
    if config.init and ckpt is None:
        _load_init_weights(model, config)
    if ctx.distributed and ctx.device.type == "cuda":
        # HRR's decoder has BatchNorm and its per-GPU batches are small: share the statistics.
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    optimizer = build_optimizer(model, config)
    scheduler = build_scheduler(optimizer, config)
    amp_dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(config.amp)
    use_amp = ctx.device.type == "cuda" and amp_dtype is not None
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and amp_dtype == torch.float16)

    def autocast() -> Any:
        return torch.autocast(device_type=ctx.device.type, dtype=amp_dtype or torch.float32, enabled=use_amp)

    step = 0
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        scheduler.load_state_dict(ckpt["scheduler"])
        scaler.load_state_dict(ckpt["scaler"])
        restore_rng_state(ckpt["rng"])
        step = int(ckpt["step"])
    else:
        random.seed(config.seed + ctx.rank)
        np.random.seed(config.seed + ctx.rank)  # noqa: NPY002 - seeds the global state for user code
    ema = None
    if config.ema_decay > 0:
        # A resumed run without a saved average (EMA switched on later) starts it here.
        ema = ModelEMA(model, config.ema_decay, updates=step)
        if ckpt is not None and "ema" in ckpt:
            ema.load_state_dict(ckpt["ema"])
    # What validation and checkpoint_best.pt judge: the average when there is one.
    judged = ema.module if ema is not None else model
    stop = min(config.steps, stop_at_step) if stop_at_step is not None else config.steps

    use_ecp = config.task == "hrr" and config.fbu_from_ecp
    ecp_guide = load_frozen_ecp(config.fbu_from_ecp, ctx.device) if use_ecp else None
    train_stream = SampleStream(build_sources(config.data), config, TRAIN_STREAM)
    val_stream = SampleStream(build_sources(config.val_data), config, VAL_STREAM) if config.val_data else None
    clicker_val = ClickerValidator(config) if config.val_clicker_data else None
    best: dict[str, Any] | None = None  # {"noc", "miou5", "step", "spec"} of checkpoint_best.pt
    if clicker_val is not None and ckpt is not None and ckpt.get("best"):
        # A best score measured on other objects or settings is not comparable: start afresh.
        best = ckpt["best"] if ckpt["best"].get("spec") == clicker_val.spec() else None
    sampler = ShardedStepSampler(config.batch_size, step, stop, ctx.rank, ctx.world_size)
    loader = _loader(train_stream, sampler, config, ctx)

    ddp_model = wrap_model(model, ctx)
    ddp_model.train()
    log = (
        MetricsLog(out / "metrics.jsonl", resume_step=step if ckpt is not None else None)
        if ctx.is_main
        else None
    )
    if log is not None:
        log.write({"step": step, "split": "start", "environment": environment})
    if ctx.is_main:
        atomic_write_bytes(out / "config.json", (json.dumps(config.to_dict(), indent=2) + "\n").encode())
        if progress:
            n_params = sum(p.numel() for p in model.parameters())
            print(
                f"ntclick train {config.task}: {config.model} ({n_params / 1e6:.2f} M parameters), "
                f"{ctx.world_size} process(es) on {ctx.device.type}, steps {step} -> {stop}, "
                f"batch {config.batch_size} x {ctx.world_size}, data {train_stream.source.name}; "
                f"torch {environment['torch']}, {environment['torch_threads']} thread(s)",
                flush=True,
            )

    bar = Progress(stop, f"train {config.task}", "step", initial=step, enabled=progress and ctx.is_main)
    loss_sum = torch.zeros((), dtype=torch.float64, device=ctx.device)
    interval_steps, interval_start = 0, time.perf_counter()
    extra_sums: dict[str, float] = {}  # this rank's loss parts / click counts over the interval
    last_loss: float | None = None
    val_metrics: dict[str, float] | None = None
    params = [p for p in model.parameters() if p.requires_grad]
    max_norm = config.grad_clip if config.grad_clip > 0 else float("inf")

    def write_checkpoint(path: Path = last_path) -> None:
        if not ctx.is_main:
            return
        save_checkpoint(
            path,
            {
                "task": config.task,
                "step": step,
                "config": config.to_dict(),
                "model_config": model.config.to_dict(),
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict(),
                "rng": capture_rng_state(),
                "environment": environment,
                **({"best": best} if best is not None else {}),
                **({"ema": ema.state_dict()} if ema is not None else {}),
            },
        )

    def validate_clicker() -> None:
        nonlocal best
        assert clicker_val is not None
        scores = clicker_val(judged, ctx.device, ctx.rank, ctx.world_size)
        improved = is_better(scores, best)
        if improved:
            best = {"noc": scores["noc"], "miou5": scores["miou5"], "step": step, "spec": clicker_val.spec()}
            write_checkpoint(out / BEST_CHECKPOINT)
        if log is not None:
            log.write({"step": step, "split": "val_clicker", **scores, "best": improved})
        if ctx.is_main and progress:
            bar.write(progress_line(step, clicker_val.target, scores, best))  # type: ignore[arg-type]

    for batch in loader:
        torch.manual_seed(_step_seed(config, ctx.rank, step))
        loss, extras = _forward_loss(
            ddp_model, batch, config, step, ctx.device, autocast, ecp_guide, ctx.rank
        )
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        grad_norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        # The gradients are already averaged over ranks, so every rank sees the same norm and
        # stops together.  (With fp16 the scaler skips steps with inf gradients on its own.)
        if not scaler.is_enabled() and not torch.isfinite(grad_norm):
            raise RuntimeError(
                f"non-finite loss or gradients at step {step} (loss {float(loss.detach())}): lower lr, raise "
                f"warmup_steps or use amp=none; the last checkpoint is {last_path}"
            )
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        if ema is not None:
            ema.update(model)
        step += 1
        loss_sum += loss.detach().double()
        interval_steps += 1
        for key, value in extras.items():
            extra_sums[key] = extra_sums.get(key, 0.0) + value

        if step % config.log_every == 0 or step == stop:
            mean_loss = float(all_reduce_mean(loss_sum / interval_steps, ctx))
            elapsed = time.perf_counter() - interval_start
            record = {
                "step": step,
                "split": "train",
                "loss": mean_loss,
                "lr": optimizer.param_groups[0]["lr"],
                "grad_norm": float(grad_norm),
                "samples_per_s": interval_steps * config.batch_size * ctx.world_size / max(elapsed, 1e-9),
                **{key: value / interval_steps for key, value in extra_sums.items()},
            }
            last_loss = mean_loss
            if log is not None:
                log.write(record)
            bar.set_postfix(loss=f"{mean_loss:.4f}", lr=f"{record['lr']:.2e}")
            loss_sum.zero_()
            interval_steps, interval_start = 0, time.perf_counter()
            extra_sums.clear()
        bar.update(1)  # after the postfix, so a plain line in a log file carries this step's loss
        at_val_point = config.val_every and step % config.val_every == 0 and step != stop
        if val_stream is not None and at_val_point:
            val_metrics = _validate(judged, val_stream, config, ctx, autocast)
            if log is not None:
                log.write({"step": step, "split": "val", **val_metrics})
        if clicker_val is not None and at_val_point:
            validate_clicker()
        if step % config.ckpt_every == 0 and step != stop:
            write_checkpoint()
        if config.keep_every and step % config.keep_every == 0:
            write_checkpoint(out / f"checkpoint_step{step}.pt")  # kept: never overwritten by a later step
        if max_minutes is not None and step != stop and _out_of_time(started, max_minutes, ctx):
            if ctx.is_main:
                print(
                    f"ntclick train: stopping at step {step} after {max_minutes:g} minutes (--max-minutes)",
                    flush=True,
                )
            break
    bar.close()

    if val_stream is not None and step == config.steps:
        val_metrics = _validate(judged, val_stream, config, ctx, autocast)
        if log is not None:
            log.write({"step": step, "split": "val", **val_metrics})
    if clicker_val is not None and step == config.steps:
        validate_clicker()
    write_checkpoint()
    if ctx.is_main and log is not None:
        try:
            plot_loss_curve(log.path, out / "loss_curve.png", title=f"{config.task} {config.model}")
        except RuntimeError as exc:  # matplotlib missing: the run itself succeeded
            print(f"ntclick train: skipped the loss-curve plot: {exc}")
    barrier(ctx)
    return TrainResult(
        out_dir=out,
        step=step,
        loss=last_loss,
        checkpoint=last_path,
        val=val_metrics,
        model=model,
        best=None if best is None else {**best, "checkpoint": out / BEST_CHECKPOINT},
        ema=None if ema is None else ema.module,
    )
