"""What a click costs: ntclick next to Segment Anything and a SimpleClick-style ViT, one run.

Every case runs in a fresh subprocess on the same machine, with the same random images, the same
number of torch threads and the same click sequence, so its peak memory is its own.  All networks
are randomly initialised: speed does not depend on the weights' values.

Models (rows):

- ``ntclick-tiny``, ``ntclick-base``: :class:`ntclick.NTClickPredictor` (ECP + HRR with the
  default window/grid attention).
- ``ntclick-base-global``: the same with every HRR block global attention, i.e. what grid
  attention saves.  Cases whose estimated time per click (FLOPs over this machine's measured
  matrix-multiply rate, x1.5) exceeds ``--max-case-s`` are
  skipped and the estimate is reported instead.
- ``sam-vit-b``: ``segment_anything.SamPredictor`` with ``sam_model_registry["vit_b"]()`` (needs
  ``pip install "ntclick[peers]"``); it resizes every image to its 1024 input.
- ``simpleclick-vit-b``: a SimpleClick-style plain global-attention ViT-B at 448 with click
  embedding, re-run on every click; ntclick's ECP-base stands in for it (same backbone, patch
  16, 448 input, click patch embedding; its output upsampled to the image).

Per case: ``set_image`` (the image-only work), the first mask after it, and the median time of a
further click (``--clicks`` calls with a growing click list), each as a user calls it (NumPy in,
NumPy mask out at the original size).  Peak memory is the worker's peak resident memory (CPU) or
peak allocated GPU memory (CUDA).  For ntclick rows, ``x floor`` is the time per click over its
floor: the per-click FLOPs (ECP + HRR's per-click part, counted by ``torch.utils.flop_counter``)
divided by the matrix-multiply rate measured in the same run.  On CUDA, the run also times one
whole HRR-base forward pass at 4096 x 4096 against its FLOP floor (``--floor-preset``).

Usage::

    pip install -e ".[peers,plot]"
    python benchmarks/compare_peers.py                    # CPU, float32, all models and sizes
    python benchmarks/compare_peers.py --device cuda --dtype bfloat16
    python benchmarks/compare_peers.py --quick            # small images, seconds

Writes ``benchmarks/results/peers_<device>_<dtype>.json`` (``peers_quick.json`` with ``--quick``),
prints a Markdown table of absolute times and of ratios against SAM ViT-B at the same image size,
and with ``--plot PATH`` draws time per click against image size, one line per model.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench_predictor import _machine, _parse_size  # sibling script: benchmarks/ is on sys.path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"

MODELS = ("ntclick-tiny", "ntclick-base", "ntclick-base-global", "sam-vit-b", "simpleclick-vit-b")
DEFAULT_SIZES = ((1024, 768), (2048, 1536), (4096, 3072))
QUICK_SIZES = ((256, 192), (512, 384))
REFERENCE = "sam-vit-b"
# Time over FLOP floor assumed when estimating a skipped case: ntclick-base-global measured 1.2x
# at 1024x768 and 1.3x at 2048x1536 on the project's CPU (benchmarks/results/peers_cpu_float32.json).
ATTENTION_SLOWDOWN = 1.5
# "Session": what a user waits for in a typical interaction, set_image plus this many clicks.
SESSION_CLICKS = 5


def _peak_rss_mib() -> float:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS, KiB on Linux


# ---------------------------------------------------------------- measurements (worker side)


def matmul_rate(device: str, dtype: str, seconds: float = 1.0) -> float:
    """Measured dense matrix-multiply rate in FLOP/s (square matrices, the given dtype)."""
    import torch

    dev = torch.device(device)
    torch_dtype = getattr(torch, dtype)
    n = 8192 if dev.type == "cuda" else 2048
    a = torch.randn(n, n, device=dev).to(torch_dtype)
    b = torch.randn(n, n, device=dev).to(torch_dtype)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    with torch.inference_mode():
        torch.mm(a, b)  # warm-up
        sync()
        best, spent = float("inf"), 0.0
        while spent < seconds:
            start = time.perf_counter()
            torch.mm(a, b)
            sync()
            elapsed = time.perf_counter() - start
            best, spent = min(best, elapsed), spent + elapsed
    return 2 * n**3 / best


def count_flops(fn) -> float:
    """FLOPs of ``fn()`` (matmuls and convolutions), as counted by torch's FlopCounterMode."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return float(counter.get_total_flops())


def ntclick_click_flops(preset: str, ecp_hw: tuple[int, int], hrr_hw: tuple[int, int], pattern: str) -> float:
    """FLOPs of one ntclick click: ECP forward + HRR's per-click part, on the meta device."""
    import torch

    from ntclick.modeling import build_ecp, build_hrr

    overrides = {"block_pattern": "global"} if pattern == "global" else {}
    with torch.device("meta"):
        ecp = build_ecp(preset).eval()
        hrr = build_hrr(preset, **overrides).eval()
        image_e, maps = torch.zeros(1, 3, *ecp_hw), torch.zeros(1, 3, *ecp_hw)
        image_h, fbu = torch.zeros(1, 3, *hrr_hw), torch.zeros(1, 1, *hrr_hw)
        features = hrr.encode_image(image_h)
        return count_flops(lambda: ecp(image_e, maps)) + count_flops(
            lambda: hrr.forward_from_features(features, fbu)
        )


class _Session:
    """The common shape of every model's case: build, set_image, predict(points)."""

    def __init__(self, model: str, device: str, dtype: str):
        import torch

        self.model = model
        self.device = torch.device(device)
        self.dtype = dtype
        torch.manual_seed(0)
        if model.startswith("ntclick-"):
            self._build_ntclick(model)
        elif model == "sam-vit-b":
            self._build_sam()
        elif model == "simpleclick-vit-b":
            self._build_simpleclick()
        else:
            raise ValueError(f"unknown model {model!r}; known: {', '.join(MODELS)}")

    # ntclick ---------------------------------------------------------------------------
    def _build_ntclick(self, model: str) -> None:
        from ntclick.modeling import build_ecp, build_hrr
        from ntclick.predictor import NTClickPredictor

        preset = model.split("-")[1]
        overrides = {"block_pattern": "global"} if model.endswith("-global") else {}
        self.preset, self.pattern = preset, "global" if overrides else "default"
        self.predictor = NTClickPredictor(
            build_ecp(preset), build_hrr(preset, **overrides), device=self.device, dtype=self.dtype
        )

        def set_image(image):
            self.predictor.set_image(image)

        def predict(coords, labels):
            return self.predictor.predict(point_coords=coords, point_labels=labels).mask

        self.set_image, self.predict = set_image, predict

    # Segment Anything ----------------------------------------------------------------
    def _build_sam(self) -> None:
        import torch

        try:
            from segment_anything import SamPredictor, sam_model_registry
        except ImportError as err:
            raise RuntimeError('segment-anything is not installed: pip install "ntclick[peers]"') from err
        sam = sam_model_registry["vit_b"]().to(self.device).eval()  # no checkpoint: random weights
        predictor = SamPredictor(sam)
        autocast = torch.autocast(
            self.device.type, dtype=getattr(torch, self.dtype), enabled=self.dtype != "float32"
        )

        def set_image(image):
            with torch.inference_mode(), autocast:
                predictor.set_image(image)

        def predict(coords, labels):
            # SAM's labels: 1 fg, 0 bg; it has no noise-tolerant click (nt counts as fg).  The
            # torch entry point keeps bf16 outputs away from NumPy (which has no bf16).
            points = torch.as_tensor(
                predictor.transform.apply_coords(coords, predictor.original_size),
                dtype=torch.float,
                device=self.device,
            )
            kinds = torch.as_tensor((labels > 0).astype(int), device=self.device)
            with torch.inference_mode(), autocast:
                masks, scores, _ = predictor.predict_torch(points[None], kinds[None], multimask_output=True)
            return masks[0, int(scores[0].float().argmax())].cpu().numpy()

        self.set_image, self.predict = set_image, predict

    # SimpleClick-style ViT-B (ECP-base) ----------------------------------------------------
    def _build_simpleclick(self) -> None:
        import numpy as np
        import torch
        import torch.nn.functional as F

        from ntclick.clicks import clicks_from_arrays, encode_disks
        from ntclick.modeling import build_ecp, normalize_image, pad_to_multiple
        from ntclick.predictor import _resize, _scaled_size

        torch_dtype = getattr(torch, self.dtype)
        ecp = build_ecp("base").to(self.device, torch_dtype).eval()
        config = ecp.config
        state: dict[str, Any] = {}

        def set_image(image):  # SimpleClick's per-image work: resize and normalize only
            h, w = image.shape[:2]
            eh, ew = _scaled_size(h, w, config.input_size)
            x = torch.from_numpy(np.ascontiguousarray(_resize(image, (eh, ew)))).to(self.device)
            x = normalize_image(x.permute(2, 0, 1)[None], config.pixel_mean, config.pixel_std)
            state.update(x=pad_to_multiple(x, config.patch_size).to(torch_dtype), hw=(h, w), small=(eh, ew))

        @torch.inference_mode()
        def predict(coords, labels):  # the whole ViT-B runs again on every click
            (h, w), (eh, ew) = state["hw"], state["small"]
            clicks = clicks_from_arrays(coords, labels)
            maps = encode_disks(
                clicks, state["x"].shape[-2:], radius=config.click_radius, scale=(ew / w, eh / h)
            )
            logits = ecp(state["x"], torch.from_numpy(maps)[None].to(self.device, torch_dtype))
            logits = F.interpolate(logits[:, :, :eh, :ew].float(), size=(h, w), mode="bilinear")
            return (logits[0].argmax(dim=0) == 2).cpu().numpy()  # the fg class

        self.set_image, self.predict = set_image, predict


def run_case(model: str, size: tuple[int, int], device: str, dtype: str, clicks: int, repeats: int) -> dict:
    """One case in this process (the worker): times and peak memory."""
    import numpy as np
    import torch

    dev = torch.device(device)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    w, h = size
    rss_before = _peak_rss_mib()
    session = _Session(model, device, dtype)
    if dev.type == "cuda":
        torch.cuda.reset_peak_memory_stats(dev)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    # A warm-up at a small size keeps one-off kernel selection off the clock.
    session.set_image(image[: min(h, 256), : min(w, 256)].copy())
    session.predict(np.array([[8.0, 8.0]]), np.array([1]))

    set_times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        session.set_image(image)
        sync()
        set_times.append(time.perf_counter() - start)
    # The same click sequence for every model: the centre, then random fg / bg / nt points.
    coords = np.array(
        [[w / 2, h / 2]] + [[rng.uniform(0, w - 1), rng.uniform(0, h - 1)] for _ in range(clicks)]
    )
    labels = np.array([1] + [(1, 0, 2)[i % 3] for i in range(clicks)])
    sync()
    start = time.perf_counter()
    mask = session.predict(coords[:1], labels[:1])
    sync()
    first = time.perf_counter() - start
    if mask.shape != (h, w):
        raise RuntimeError(f"{model} returned a {mask.shape} mask for a {h}x{w} image")
    click_times = []
    for n in range(2, clicks + 2):
        sync()
        start = time.perf_counter()
        session.predict(coords[:n], labels[:n])
        sync()
        click_times.append(time.perf_counter() - start)

    result: dict[str, Any] = {
        "model": model,
        "width": w,
        "height": h,
        "set_image_s": statistics.median(set_times),
        "first_mask_s": first,
        "per_click_s": statistics.median(click_times),
        "clicks_timed": clicks,
        "peak_rss_mib": _peak_rss_mib(),
        "rss_before_models_mib": rss_before,
    }
    if dev.type == "cuda":
        result["peak_gpu_mib"] = torch.cuda.max_memory_allocated(dev) / 2**20
    if model.startswith("ntclick-"):
        p = session.predictor
        result["hrr_input"] = list(p.hrr_input_shape)
        result["click_gflops"] = (
            ntclick_click_flops(session.preset, p.ecp_input_shape, p.hrr_input_shape, session.pattern) / 1e9
        )
    return result


def run_forward_floor(preset: str, size: int, device: str, dtype: str) -> dict:
    """One whole HRR forward pass (encode + per-click part) at ``size`` x ``size`` vs its FLOP floor."""
    import torch

    from ntclick.modeling import build_hrr

    dev = torch.device(device)
    torch_dtype = getattr(torch, dtype)
    torch.manual_seed(0)
    hrr = build_hrr(preset).to(dev, torch_dtype).eval()
    with torch.device("meta"):
        meta = build_hrr(preset).eval()
        flops = count_flops(lambda: meta(torch.zeros(1, 3, size, size), torch.zeros(1, 1, size, size)))
    image = torch.randn(1, 3, size, size, device=dev, dtype=torch_dtype)
    fbu = torch.full((1, 1, size, size), 0.5, device=dev, dtype=torch_dtype)
    times = []
    with torch.inference_mode():
        hrr(image[..., :256, :256], fbu[..., :256, :256])  # warm-up
        for _ in range(3 if dev.type == "cuda" else 1):
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            start = time.perf_counter()
            hrr(image, fbu)
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            times.append(time.perf_counter() - start)
    rate = matmul_rate(device, dtype)
    return {
        "preset": preset,
        "size": size,
        "forward_s": min(times),
        "gflops": flops / 1e9,
        "matmul_tflops": rate / 1e12,
        "floor_s": flops / rate,
        "x_floor": min(times) / (flops / rate),
    }


# ---------------------------------------------------------------- driver (parent side)


def run_worker(args: list[str], timeout: float) -> dict:
    """Run this script with ``args`` in a fresh process; its last stdout line is the JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=REPO)
    except subprocess.TimeoutExpired:
        return {"error": f"timeout after {timeout:.0f} s"}
    if done.returncode != 0:
        if done.returncode < 0:
            return {"error": f"killed by signal {-done.returncode} (out of memory?)"}
        lines = done.stderr.strip().splitlines() or [f"exit code {done.returncode}"]
        return {"error": lines[-1][:300]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def estimated_click_s(gflops: float, rate_tflops: float) -> float:
    """A rough time per click from FLOPs (attention runs below the matmul rate, hence the factor)."""
    return ATTENTION_SLOWDOWN * gflops / (rate_tflops * 1e3)


def refresh_estimates(rows: list[dict], rate_tflops: float) -> list[dict]:
    """Skipped rows get ``estimated_click_s`` and their reason from their FLOPs and the rate."""
    out = []
    for row in rows:
        if "skipped" in row and "click_gflops" in row:
            estimate = estimated_click_s(row["click_gflops"], rate_tflops)
            row = {
                **row,
                "estimated_click_s": estimate,
                "skipped": f"~{estimate:.0f} s per click estimated from {row['click_gflops']:.0f} GFLOPs",
            }
        out.append(row)
    return out


def _plot_title(payload: dict) -> str:
    return f"per click, {payload['device']} {payload['dtype']}, {payload['machine']['torch_threads']} threads"


def session_s(row: dict) -> float:
    """``set_image`` + first mask + the further clicks of a ``SESSION_CLICKS``-click interaction."""
    return row["set_image_s"] + row["first_mask_s"] + (SESSION_CLICKS - 1) * row["per_click_s"]


def add_ratios(rows: list[dict], rate_tflops: float | None) -> list[dict]:
    """Per row: ``*_vs_ref`` = its time over SAM ViT-B's at the same image size (None where either
    is missing) and ``x_floor`` = per click over the FLOP floor (ntclick rows with FLOPs)."""
    reference = {(r["width"], r["height"]): r for r in rows if r["model"] == REFERENCE and "error" not in r}
    out = []
    for row in rows:
        row = dict(row)
        if "per_click_s" in row:
            row["session_s"] = session_s(row)
        ref = reference.get((row["width"], row["height"]))
        if ref is not None:
            ref = {**ref, "session_s": session_s(ref)}
        for key in ("set_image_s", "first_mask_s", "per_click_s", "session_s"):
            ok = ref is not None and "error" not in row and "skipped" not in row and ref[key] > 0
            row[key.removesuffix("_s") + "_vs_ref"] = row[key] / ref[key] if ok else None
        if rate_tflops and "click_gflops" in row and "per_click_s" in row:
            row["floor_s"] = row["click_gflops"] / (rate_tflops * 1e3)
            row["x_floor"] = row["per_click_s"] / row["floor_s"]
        out.append(row)
    return out


def _num(value: float | None, fmt: str) -> str:
    return "" if value is None else format(value, fmt)


def format_table(rows: list[dict]) -> str:
    """Markdown table: absolute times, memory, ratios against SAM ViT-B, and x FLOP floor."""
    lines = [
        f"| model | image (W x H) | set_image s | first mask s | per click s | {SESSION_CLICKS}-click session s "
        f"| peak MiB | per click / SAM | session / SAM | x floor |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        image = f"{r['width']} x {r['height']}"
        if "error" in r or "skipped" in r:
            why = f"failed: {r['error']}" if "error" in r else f"skipped: {r['skipped']}"
            lines.append(f"| {r['model']} | {image} | {why} | | | | | | | |")
            continue
        mem = r.get("peak_gpu_mib", r["peak_rss_mib"])
        lines.append(
            f"| {r['model']} | {image} | {r['set_image_s']:.3f} | {r['first_mask_s']:.3f} "
            f"| {r['per_click_s']:.3f} | {session_s(r):.2f} | {mem:.0f} | {_num(r.get('per_click_vs_ref'), '.2f')} "
            f"| {_num(r.get('session_vs_ref'), '.2f')} | {_num(r.get('x_floor'), '.1f')} |"
        )
    return "\n".join(lines)


def plot(rows: list[dict], path: Path, title: str) -> None:
    """Time per click against image size (megapixels, log-log), one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for model in MODELS:
        points = sorted(
            (r["width"] * r["height"] / 1e6, r["per_click_s"])
            for r in rows
            if r["model"] == model and "per_click_s" in r
        )
        if points:
            line = ax.plot(*zip(*points, strict=True), marker="o", label=model)[0]
            estimates = [
                (r["width"] * r["height"] / 1e6, r["estimated_click_s"])
                for r in rows
                if r["model"] == model and "estimated_click_s" in r
            ]
            if estimates:  # skipped cases: their FLOP estimate, dashed, open marker
                x, y = zip(*sorted([points[-1], *estimates]), strict=True)
                ax.plot(
                    x,
                    y,
                    ls="--",
                    marker="o",
                    mfc="none",
                    color=line.get_color(),
                    label=f"{model} (estimated)",
                )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("image size (megapixels)")
    ax.set_ylabel("time per further click (s)")
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    from ntclick.image_io import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=120, format=path.suffix.lstrip(".") or "png")
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="small images, 1 click, ntclick-tiny/base and SAM only (seconds)"
    )
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--sizes", nargs="+", type=_parse_size, default=list(DEFAULT_SIZES))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--clicks", type=int, default=3, help="timed further clicks per case")
    parser.add_argument("--repeats", type=int, default=2, help="timed set_image calls per case")
    parser.add_argument("--threads", type=int, default=None, help="torch threads in every worker")
    parser.add_argument(
        "--max-case-s", type=float, default=600.0, help="skip cases estimated slower per click"
    )
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds before a case is stopped")
    parser.add_argument(
        "--floor-preset", default=None, help="HRR preset of the forward-vs-floor row (CUDA default: base)"
    )
    parser.add_argument("--floor-size", type=int, default=4096)
    parser.add_argument("--out", type=Path, default=None, help="JSON output path")
    parser.add_argument("--plot", type=Path, default=None, help="write the per-click plot here (PNG)")
    parser.add_argument(
        "--from-json",
        type=Path,
        default=None,
        help="re-print the table (and --plot) from a saved run instead of measuring",
    )
    parser.add_argument("--case", default=None, help=argparse.SUPPRESS)  # worker: MODEL:WxH
    parser.add_argument("--rate", action="store_true", help=argparse.SUPPRESS)  # worker: matmul rate
    parser.add_argument("--forward", default=None, help=argparse.SUPPRESS)  # worker: PRESET:SIZE
    args = parser.parse_args(argv)

    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    if args.case:
        model, size = args.case.rsplit(":", 1)
        print(
            json.dumps(run_case(model, _parse_size(size), args.device, args.dtype, args.clicks, args.repeats))
        )
        return 0
    if args.rate:
        print(json.dumps({"matmul_tflops": matmul_rate(args.device, args.dtype) / 1e12}))
        return 0
    if args.forward:
        preset, size = args.forward.split(":")
        print(json.dumps(run_forward_floor(preset, int(size), args.device, args.dtype)))
        return 0

    if args.from_json:
        saved = json.loads(args.from_json.read_text())
        rows = add_ratios(refresh_estimates(saved["results"], saved["matmul_tflops"]), saved["matmul_tflops"])
        print(format_table(rows))
        if args.plot:
            plot(rows, args.plot, _plot_title(saved))
            print(f"wrote {args.plot}")
        return 0
    if args.quick:
        args.sizes, args.clicks, args.repeats = list(QUICK_SIZES), 1, 1
        args.models = [m for m in args.models if m not in ("ntclick-base-global", "simpleclick-vit-b")]
    common = ["--device", args.device, "--dtype", args.dtype]
    if args.threads:
        common += ["--threads", str(args.threads)]
    rate = run_worker(["--rate", *common], args.timeout).get("matmul_tflops")
    print(f"matrix-multiply rate: {_num(rate, '.3f')} TFLOP/s ({args.device}, {args.dtype})", flush=True)

    rows: list[dict] = []
    for model in args.models:
        for w, h in args.sizes:
            case = {"model": model, "width": w, "height": h}
            if model == "ntclick-base-global" and rate:
                # Estimated from FLOPs before running: global attention grows with pixels squared.
                hrr_hw = (-(-h // 16) * 16, -(-w // 16) * 16)
                ecp_hw = (448 * h // max(h, w), 448 * w // max(h, w))
                gflops = ntclick_click_flops("base", ecp_hw, hrr_hw, "global") / 1e9
                if estimated_click_s(gflops, rate) > args.max_case_s:
                    rows.append(refresh_estimates([{**case, "click_gflops": gflops, "skipped": ""}], rate)[0])
                    print(format_table(rows[-1:]).splitlines()[-1], flush=True)
                    continue
            cmd = [
                "--case",
                f"{model}:{w}x{h}",
                *common,
                "--clicks",
                str(args.clicks),
                "--repeats",
                str(args.repeats),
            ]
            rows.append({**case, **run_worker(cmd, args.timeout)})
            print(format_table(add_ratios(rows[-1:], rate)).splitlines()[-1], flush=True)

    forward = None
    floor_preset = args.floor_preset or ("base" if args.device.startswith("cuda") else None)
    if floor_preset:
        size = 512 if args.quick else args.floor_size
        forward = run_worker(["--forward", f"{floor_preset}:{size}", *common], args.timeout)
        print(f"HRR-{floor_preset} forward {size}x{size}: {json.dumps(forward)}", flush=True)

    rows = add_ratios(rows, rate)
    if args.out is None:
        suffix = "quick" if args.quick else f"{args.device.replace(':', '')}_{args.dtype}"
        args.out = RESULTS / f"peers_{suffix}.json"
    payload = {
        "benchmark": "compare_peers",
        "quick": args.quick,
        "device": args.device,
        "dtype": args.dtype,
        "machine": _machine(args.device, args.threads),
        "matmul_tflops": rate,
        "weights": "randomly initialised (speed does not depend on the weights' values)",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(
            ["python", "benchmarks/compare_peers.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "results": rows,
        "hrr_forward_vs_floor": forward,
    }
    from ntclick.image_io import atomic_write_bytes

    atomic_write_bytes(args.out, (json.dumps(payload, indent=2) + "\n").encode())
    print()
    print(format_table(rows))
    print(f"\nwrote {args.out}")
    if args.plot:
        plot(rows, args.plot, _plot_title(payload))
        print(f"wrote {args.plot}")
    return 1 if any("error" in r for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
