"""Cost of the networks: HRR forward time and peak memory by size, and params / FLOPs per preset.

Every timing runs in a fresh subprocess (so one run's allocations cannot hide in another's peak):
the model is built, warmed up on a small input, then ``encode_image`` (the per-image part) and
``forward_from_features`` (the per-click part) are timed under ``torch.inference_mode``.
Peak memory is the process's peak RSS (``resource.getrusage(RUSAGE_SELF).ru_maxrss``) minus
its RSS just before the measured forward (model and input tensors excluded) on CPU, and
``torch.cuda.max_memory_allocated`` (bf16 autocast) on CUDA.

Parameters and FLOPs are counted on the ``meta`` device with ``torch.utils.flop_counter`` (no
compute, seconds): one multiply-add = 2 FLOPs, convolutions, linears and attention matmuls.

Usage::

    python benchmarks/bench_models.py            # full: tiny and base at 1024^2 .. 4096^2 (long!)
    python benchmarks/bench_models.py --quick    # small sizes, seconds; JSON into a temp folder
    python benchmarks/bench_models.py --presets tiny --sizes 768x1024,3072x4096 --patterns default
    python benchmarks/bench_models.py --flops-only   # params / FLOPs of every preset, seconds

Writes ``benchmarks/results/bench_models.json`` (atomically; ``--quick`` writes into a temporary
folder unless ``--out`` is given) and prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
FULL_SIZES = "1024x1024,2048x2048,4096x4096,768x1024,3072x4096"
QUICK_SIZES = "256x256,512x384"
PRESETS = ("tiny", "small", "base", "large")


def _current_rss_bytes() -> int:
    """Resident set size now (Linux /proc), else the peak so far."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return _peak_rss_bytes()


def _peak_rss_bytes() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024  # bytes on macOS, KiB on Linux


def measure(spec: dict[str, Any]) -> dict[str, Any]:
    """One timing run (called inside the worker subprocess)."""
    import torch

    from ntclick.modeling import build_hrr

    if spec.get("threads"):
        torch.set_num_threads(spec["threads"])
    device = torch.device(spec["device"])
    cuda = device.type == "cuda"
    overrides = {} if spec["pattern"] == "default" else {"block_pattern": spec["pattern"]}
    torch.manual_seed(0)
    model = build_hrr(spec["preset"], **overrides).eval().to(device)
    h, w = spec["size"]
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=cuda)

    def run(height: int, width: int) -> tuple[tuple[float, float], list[tuple[float, float]]]:
        """(wall s, CPU s) of encode_image and of each forward_from_features."""
        image = torch.randn(1, 3, height, width, device=device)
        fbu = torch.full((1, 1, height, width), 0.5, device=device)
        fbu[..., : height // 2, :] = 1.0
        if cuda:
            torch.cuda.synchronize()
        start, cpu = time.perf_counter(), time.process_time()
        features = model.encode_image(image)
        if cuda:
            torch.cuda.synchronize()
        encode = (time.perf_counter() - start, time.process_time() - cpu)
        clicks = []
        for _ in range(spec["repeats"]):
            start, cpu = time.perf_counter(), time.process_time()
            mask = model.forward_from_features(features, fbu)
            if cuda:
                torch.cuda.synchronize()
            clicks.append((time.perf_counter() - start, time.process_time() - cpu))
            del mask
        return encode, clicks

    m = model.config.size_multiple
    with torch.inference_mode(), autocast:
        run(2 * m, 2 * m)  # warm-up: kernel selection and allocator pools off the clock
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats(device)
            base = torch.cuda.memory_allocated(device)
        else:
            base = _current_rss_bytes()
        encode, clicks = run(h, w)
        peak = (torch.cuda.max_memory_allocated(device) if cuda else _peak_rss_bytes()) - base
    click = min(clicks)
    return {
        "encode_s": round(encode[0], 4),
        "per_click_s": round(click[0], 4),
        "forward_s": round(encode[0] + click[0], 4),
        # CPU seconds of the process (all threads): on a shared machine, wall time / CPU time
        # shows how much of the wall time was spent waiting for cores.
        "encode_cpu_s": round(encode[1], 4),
        "per_click_cpu_s": round(click[1], 4),
        "peak_mib": round(peak / 2**20, 1),
        "dtype": "bfloat16 autocast" if cuda else "float32",
        "threads": torch.get_num_threads(),
    }


def run_in_subprocess(spec: dict[str, Any], timeout: float) -> dict[str, Any]:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {**spec, "error": f"timeout after {timeout:.0f} s"}
    if done.returncode != 0:
        reason = "killed (out of memory?)" if done.returncode < 0 else done.stderr.strip().splitlines()[-1:]
        return {**spec, "error": f"exit {done.returncode}: {reason}"}
    return {**spec, **json.loads(done.stdout.strip().splitlines()[-1])}


def count_costs(presets: list[str], size: tuple[int, int], ecp_size: int) -> list[dict[str, Any]]:
    """Params and forward FLOPs per preset, counted on the meta device."""
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from ntclick.modeling import build_ecp, build_hrr

    rows = []
    cases = [("ecp", "default", (ecp_size, ecp_size)), ("ecp", "default", size), ("hrr", "default", size)]
    cases.append(("hrr", "global", size))
    for preset in presets:
        for network, pattern, (h, w) in cases:
            overrides = {"block_pattern": "global"} if pattern == "global" else {}
            with torch.device("meta"):
                model = (build_ecp if network == "ecp" else build_hrr)(preset, **overrides).eval()
                second = torch.zeros(1, 3 if network == "ecp" else 1, h, w)
                inputs = (torch.zeros(1, 3, h, w), second)
            counter = FlopCounterMode(display=False)
            with counter:  # meta tensors cost nothing; no_grad trips FlopCounterMode's module hooks
                model(*inputs)
            rows.append(
                {
                    "network": network,
                    "preset": preset,
                    "pattern": pattern if network == "hrr" else "global",
                    "size": [h, w],
                    "params_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 2),
                    "gflops": round(counter.get_total_flops() / 1e9, 1),
                }
            )
    return rows


def _parse_sizes(text: str) -> list[tuple[int, int]]:
    sizes = []
    for item in text.split(","):
        h, _, w = item.strip().partition("x")
        sizes.append((int(h), int(w or h)))
    return sizes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes and tiny only, seconds")
    parser.add_argument(
        "--presets", default=None, help="HRR presets to time (default tiny,base; quick: tiny)"
    )
    parser.add_argument("--sizes", default=None, help=f"HxW list (default {FULL_SIZES}; quick {QUICK_SIZES})")
    parser.add_argument("--patterns", default="default,global", help="attention patterns to time")
    parser.add_argument(
        "--global-max-tokens",
        type=int,
        default=None,
        help="skip global attention above this many tokens (default 4096 on CPU = 1024^2, 16384 on CUDA)",
    )
    parser.add_argument(
        "--repeats", type=int, default=2, help="per-click passes per run (the minimum is kept)"
    )
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="torch CPU threads (default: torch's choice; 1 is far more stable on a busy machine)",
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds per run")
    parser.add_argument("--no-flops", action="store_true", help="skip the params / FLOPs table")
    parser.add_argument(
        "--flops-only",
        action="store_true",
        help="only the params / FLOPs table (no timing; writes benchmarks/results/model_costs.json)",
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON output path")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:  # inside the fresh subprocess
        print(json.dumps(measure(json.loads(args.worker))))
        return 0

    import torch

    from ntclick.image_io import atomic_write_bytes
    from ntclick.modeling import HRR_PRESETS

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    presets = [] if args.flops_only else (args.presets or ("tiny" if args.quick else "tiny,base")).split(",")
    sizes = _parse_sizes(args.sizes or (QUICK_SIZES if args.quick else FULL_SIZES))
    global_max = args.global_max_tokens or (16384 if device.startswith("cuda") else 4096)
    if args.out is not None:
        out = args.out
    elif args.flops_only:
        out = REPO / "benchmarks" / "results" / "model_costs.json"
    elif args.quick:  # a smoke test must not overwrite the real results
        out = Path(tempfile.mkdtemp(prefix="ntclick_bench_models_")) / "bench_models.json"
    else:
        out = REPO / "benchmarks" / "results" / "bench_models.json"

    runs = []
    if presets:
        print(
            f"{'preset':6} {'pattern':8} {'size':>10} {'encode s':>9} {'click s':>8} {'total s':>8} "
            f"{'click cpu s':>11} {'peak MiB':>9}"
        )
    for preset in presets:
        patch = HRR_PRESETS[preset].patch_size
        for pattern in args.patterns.split(","):
            for h, w in sizes:
                size = f"{h}x{w}"
                if pattern == "global" and (h // patch) * (w // patch) > global_max:
                    print(f"{preset:6} {pattern:8} {size:>10}  skipped (> {global_max} tokens)")
                    continue
                spec = {
                    "preset": preset,
                    "pattern": pattern,
                    "size": [h, w],
                    "device": device,
                    "threads": args.threads,
                }
                spec["repeats"] = 1 if h * w > 2048 * 2048 else args.repeats
                row = run_in_subprocess(spec, args.timeout)
                runs.append(row)
                if "error" in row:
                    print(f"{preset:6} {pattern:8} {size:>10}  {row['error']}")
                else:
                    print(
                        f"{preset:6} {pattern:8} {size:>10} {row['encode_s']:9.3f} {row['per_click_s']:8.3f} "
                        f"{row['forward_s']:8.3f} {row['per_click_cpu_s']:11.3f} {row['peak_mib']:9.1f}",
                        flush=True,
                    )

    costs = []
    if not args.no_flops:
        costs = count_costs(list(PRESETS) if not args.quick else ["tiny"], (1024, 1024), 448)
        print(f"\n{'network':7} {'preset':6} {'pattern':8} {'size':>10} {'params M':>9} {'GFLOPs':>9}")
        for r in costs:
            size = f"{r['size'][0]}x{r['size'][1]}"
            print(
                f"{r['network']:7} {r['preset']:6} {r['pattern']:8} {size:>10} {r['params_m']:9.2f} {r['gflops']:9.1f}"
            )

    result = {
        "benchmark": "bench_models",
        "quick": args.quick,
        "machine": {
            "device": device,
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "torch": torch.__version__,
            "gpu": torch.cuda.get_device_name(0) if device.startswith("cuda") else None,
        },
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "hrr_runs": runs,
        "costs": costs,
    }
    atomic_write_bytes(out, (json.dumps(result, indent=2) + "\n").encode())
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
