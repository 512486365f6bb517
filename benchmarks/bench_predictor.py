"""Speed and memory of NTClickPredictor: ``set_image`` time and per-click ``predict`` time.

Cases: presets (tiny, base) x image sizes (1024x768, 4096x3072), randomly initialised
networks (speed does not depend on the weights' values).  Each case runs in a fresh
subprocess so that its peak memory is its own: peak resident memory (CPU) or peak allocated
GPU memory (CUDA).  Per click is the median over ``--clicks`` calls of ``predict`` with a
growing click list (one more click each call, as in an interaction), after one untimed warm-up
call; ``set_image`` is the median over ``--repeats`` calls.

Usage::

    python benchmarks/bench_predictor.py                      # full table on CPU (slow: base at 4096x3072 takes minutes per click on 2 cores)
    python benchmarks/bench_predictor.py --device cuda --dtype bfloat16
    python benchmarks/bench_predictor.py --quick              # tiny preset, small images, seconds

Writes ``benchmarks/results/predictor_<device>_<dtype>.json`` (``predictor_quick.json`` with
``--quick``) and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def _rss_mib() -> float:
    # ru_maxrss is KiB on Linux, bytes on macOS.
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


def run_case(
    preset: str,
    size: tuple[int, int],
    device: str,
    dtype: str,
    clicks: int,
    repeats: int,
    threads: int | None,
) -> dict:
    """One case in this process; returns its measurements."""
    import numpy as np
    import torch

    if threads:
        torch.set_num_threads(threads)

    from ntclick.clicks import Click
    from ntclick.modeling import build_ecp, build_hrr
    from ntclick.predictor import NTClickPredictor

    w, h = size
    rss_before = _rss_mib()
    torch.manual_seed(0)
    predictor = NTClickPredictor(build_ecp(preset), build_hrr(preset), device=device, dtype=dtype)
    dev = predictor.device

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    set_times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        predictor.set_image(image)
        sync()
        set_times.append(time.perf_counter() - start)

    kinds = ["fg", "bg", "nt"]
    session = [Click(w / 2, h / 2, "fg")] + [
        Click(float(rng.uniform(0, w - 1)), float(rng.uniform(0, h - 1)), kinds[i % 3]) for i in range(clicks)
    ]
    sync()
    start = time.perf_counter()
    predictor.predict(session[:1])  # warm-up: first-call kernel selection and allocations
    sync()
    first_click = time.perf_counter() - start
    click_times = []
    for n in range(2, clicks + 2):
        sync()
        start = time.perf_counter()
        predictor.predict(session[:n])
        sync()
        click_times.append(time.perf_counter() - start)

    result = {
        "preset": preset,
        "width": w,
        "height": h,
        "hrr_input": list(predictor.hrr_input_shape),
        "ecp_input": list(predictor.ecp_input_shape),
        "set_image_s": statistics.median(set_times),
        "first_click_s": first_click,
        "per_click_s": statistics.median(click_times),
        "clicks_timed": clicks,
        "set_image_repeats": repeats,
    }
    if dev.type == "cuda":
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
    result["peak_rss_mib"] = _rss_mib()
    result["rss_before_models_mib"] = rss_before
    return result


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid size {text!r}: expected WxH such as 1024x768") from None
    return w, h


def _machine(device: str, threads: int | None) -> dict:
    import torch

    info = {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "torch_threads": threads or torch.get_num_threads(),
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(torch.device(device))
    return info


def _table(rows: list[dict]) -> str:
    lines = [
        "| preset | image (W x H) | HRR input | set_image (s) | first click (s) | per click (s) "
        "| peak memory (MiB) | before networks (MiB) |",
        "|---|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['preset']} | {r['width']} x {r['height']} | | failed: {r['error']} | | | | |")
            continue
        mem = r.get("peak_gpu_mib", r["peak_rss_mib"])
        kind = "GPU" if "peak_gpu_mib" in r else "RSS"
        lines.append(
            f"| {r['preset']} | {r['width']} x {r['height']} | {r['hrr_input'][1]} x {r['hrr_input'][0]} "
            f"| {r['set_image_s']:.3f} | {r['first_click_s']:.3f} | {r['per_click_s']:.3f} | {mem:.0f} ({kind}) "
            f"| {r['rss_before_models_mib']:.0f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny preset on 256x192 and 512x384, 2 clicks")
    parser.add_argument("--presets", nargs="+", default=["tiny", "base"])
    parser.add_argument("--sizes", nargs="+", type=_parse_size, default=[(1024, 768), (4096, 3072)])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--clicks", type=int, default=3, help="timed predict calls per case")
    parser.add_argument("--repeats", type=int, default=3, help="timed set_image calls per case")
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    parser.add_argument("--out", type=Path, default=None, help="JSON output path")
    parser.add_argument(
        "--case", default=None, help=argparse.SUPPRESS
    )  # internal: PRESET:WxH in this process
    args = parser.parse_args(argv)

    if args.case:
        preset, size = args.case.split(":")
        result = run_case(
            preset, _parse_size(size), args.device, args.dtype, args.clicks, args.repeats, args.threads
        )
        print(json.dumps(result))
        return 0

    if args.quick:
        args.presets, args.sizes, args.clicks, args.repeats = ["tiny"], [(256, 192), (512, 384)], 2, 1
    rows = []
    for preset in args.presets:
        for w, h in args.sizes:
            cmd = [sys.executable, __file__, "--case", f"{preset}:{w}x{h}", "--device", args.device]
            cmd += ["--dtype", args.dtype, "--clicks", str(args.clicks), "--repeats", str(args.repeats)]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            if proc.returncode != 0:
                reason = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
                rows.append({"preset": preset, "width": w, "height": h, "error": reason[:200]})
            else:
                rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            print(_table(rows[-1:]).splitlines()[-1], flush=True)

    if args.out is None:
        suffix = "quick" if args.quick else f"{args.device.replace(':', '')}_{args.dtype}"
        args.out = RESULTS / f"predictor_{suffix}.json"
    payload = {
        "benchmark": "predictor",
        "quick": args.quick,
        "device": args.device,
        "dtype": args.dtype,
        "machine": _machine(args.device, args.threads),
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(
            ["python", "benchmarks/bench_predictor.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "results": rows,
    }
    from ntclick.image_io import atomic_write_bytes

    atomic_write_bytes(args.out, (json.dumps(payload, indent=2) + "\n").encode())
    print()
    print(_table(rows))
    print(f"\nwrote {args.out}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
