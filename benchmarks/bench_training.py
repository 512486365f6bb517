"""Training throughput: samples per second of one optimisation step, and of the data pipeline.

Model rows time ``forward + loss + backward + AdamW step`` (gradient clipping included) on a
fixed random batch, after warm-up steps, for ECP and HRR at the tiny and base presets.
ECP's iterative training adds up to ``max_extra_clicks`` no-grad forwards per step on top
(about a third of a step each); they are not in these numbers.  Data rows time building samples
(decode, augment, FBU, clicks) in one process: a DataLoader with N workers scales it ~N times.

    python benchmarks/bench_training.py                 # CPU: ECP 448, HRR 512
    python benchmarks/bench_training.py --device cuda   # GPU: ECP 448, HRR 2048, bf16
    python benchmarks/bench_training.py --quick         # tiny sizes, a few seconds

Prints a table and writes ``benchmarks/results/training_<device>[_quick].json`` (atomically).
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch

from ntclick.image_io import atomic_write_bytes
from ntclick.modeling import normalize_image
from ntclick.train.config import TrainConfig, data_root
from ntclick.train.losses import ecp_loss, hrr_loss
from ntclick.train.trainer import build_model, build_optimizer

RESULTS = Path(__file__).resolve().parent / "results"


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def bench_model(
    task: str, preset: str, size: int, batch: int, steps: int, warmup: int, device: torch.device, amp: str
) -> dict:
    config = TrainConfig(
        task=task, model=preset, input_size=size if task == "ecp" else 448, crop_size=size, amp=amp
    )
    torch.manual_seed(0)
    model = build_model(config).to(device).train()
    optimizer = build_optimizer(model, config)
    dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(amp)
    use_amp = device.type == "cuda" and dtype is not None
    scaler = torch.amp.GradScaler("cuda", enabled=use_amp and dtype == torch.float16)
    autocast = torch.autocast(device.type, dtype=dtype or torch.float32, enabled=use_amp)
    g = torch.Generator().manual_seed(0)
    images = normalize_image(
        torch.randint(0, 256, (batch, 3, size, size), generator=g, dtype=torch.uint8),
        model.config.pixel_mean,
        model.config.pixel_std,
    ).to(device)
    valid = torch.ones(batch, size, size, dtype=torch.bool, device=device)
    if task == "ecp":
        clicks = (torch.rand(batch, 3, size, size, generator=g) > 0.995).float().to(device)
        gt = torch.tensor([0, 128, 255], dtype=torch.uint8)[
            torch.randint(0, 3, (batch, size, size), generator=g)
        ].to(device)
    else:
        fbu = (torch.randint(0, 3, (batch, 1, size, size), generator=g).float() / 2).to(device)
        target = torch.rand(batch, 1, size, size, generator=g).to(device)

    def step() -> None:
        with autocast:
            out = model(images, clicks) if task == "ecp" else model(images, fbu)
        loss = ecp_loss(out, gt, valid) if task == "ecp" else hrr_loss(out, target, valid[:, None])[0]
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(optimizer)
        scaler.update()

    for _ in range(warmup):
        step()
    _sync(device)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    _sync(device)
    seconds = (time.perf_counter() - start) / steps
    row = {
        "kind": "model",
        "task": task,
        "preset": preset,
        "size": size,
        "batch": batch,
        "amp": amp if use_amp else "none",
        "seconds_per_step": seconds,
        "samples_per_s": batch / seconds,
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
    }
    if device.type == "cuda":
        row["peak_memory_gib"] = torch.cuda.max_memory_allocated(device) / 2**30
    return row


def bench_data(task: str, size: int, count: int) -> dict | None:
    """Samples/s of one process building samples from the real pool (ECP) or synthetic data (HRR)."""
    from ntclick.train.dataset import SampleStream
    from ntclick.train.sources import build_sources

    bsds = data_root() / "BSDS500-train"
    if not bsds.is_dir():
        return None
    if task == "ecp":
        spec = {"type": "bsds", "root": str(bsds)}
        config = TrainConfig(task="ecp", input_size=size, data=[spec])
    else:
        spec = {"type": "synthetic", "backgrounds": str(bsds / "images"), "size": [size, 2 * size]}
        config = TrainConfig(task="hrr", crop_size=size, data=[spec])
    stream = SampleStream(build_sources(config.data), config)
    stream[0]
    start = time.perf_counter()
    for n in range(1, count + 1):
        stream[n]
    seconds = (time.perf_counter() - start) / count
    source = "bsds" if task == "ecp" else f"synthetic {size}-{2 * size}"
    return {"kind": "data", "task": task, "source": source, "size": size, "samples_per_s": 1 / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    parser.add_argument(
        "--quick", action="store_true", help="tiny preset and sizes only: checks the script in seconds"
    )
    parser.add_argument("--presets", default="tiny,base", help="comma-separated presets (default tiny,base)")
    parser.add_argument("--amp", default=None, help="none, bf16 or fp16 (default bf16 on CUDA)")
    parser.add_argument("--steps", type=int, default=None, help="timed steps per row")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    args = parser.parse_args()

    device = torch.device(args.device)
    if args.threads:
        torch.set_num_threads(args.threads)
    amp = args.amp or ("bf16" if device.type == "cuda" else "none")
    cuda = device.type == "cuda"
    if args.quick:
        presets, ecp_size, hrr_size, steps, warmup = ["tiny"], 224, 256, args.steps or 2, 1
        ecp_batch, hrr_batch, data_count = 2, 1, 3
    else:
        presets = args.presets.split(",")
        ecp_size, hrr_size = 448, 2048 if cuda else 512
        steps, warmup = args.steps or (20 if cuda else 3), 3 if cuda else 1
        ecp_batch, hrr_batch, data_count = (16, 2, 20) if cuda else (2, 1, 20)

    rows = []
    for preset in presets:
        rows.append(bench_model("ecp", preset, ecp_size, ecp_batch, steps, warmup, device, amp))
        rows.append(bench_model("hrr", preset, hrr_size, hrr_batch, steps, warmup, device, amp))
        if cuda:
            torch.cuda.empty_cache()
    for task, size in (("ecp", ecp_size), ("hrr", hrr_size)):
        row = bench_data(task, size, data_count)
        if row is not None:
            rows.append(row)

    print(f"{'what':<28} {'size':>5} {'batch':>5} {'amp':>5} {'samples/s':>10} {'s/step':>8}")
    for r in rows:
        if r["kind"] == "model":
            what = f"{r['task']} {r['preset']} train step"
            print(
                f"{what:<28} {r['size']:>5} {r['batch']:>5} {r['amp']:>5} {r['samples_per_s']:>10.2f} {r['seconds_per_step']:>8.3f}"
            )
        else:
            what = f"{r['task']} data ({r['source']})"
            print(f"{what:<28} {r['size']:>5} {1:>5} {'-':>5} {r['samples_per_s']:>10.2f} {'-':>8}")
    device_name = torch.cuda.get_device_name(device) if cuda else platform.processor() or platform.machine()
    result = {
        "benchmark": "training",
        "device": device.type,
        "device_name": device_name,
        "torch_threads": torch.get_num_threads(),
        "quick": args.quick,
        "torch": torch.__version__,
        "rows": rows,
    }
    path = RESULTS / f"training_{device.type}{'_quick' if args.quick else ''}.json"
    atomic_write_bytes(path, (json.dumps(result, indent=2) + "\n").encode())
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
