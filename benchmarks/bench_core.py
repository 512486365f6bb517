"""Time the torch-free core that runs once per simulated click in evaluation.

Times ``fbu_from_mask``, ``next_click``, ``next_fbu_click``, ``iou`` and ``boundary_iou`` on
synthetic but realistic masks (a large blob with thin strands, and a prediction that misses
strands, erodes one side and adds a false-positive blob) at 1024x1024 and 4096x4096, and the
predictor's optional band step ``grabcut_band`` (3 iterations, as the bundled weights run it)
on a noisy two-colour image of the ground truth with the prediction as the network's guess.

    python benchmarks/bench_core.py            # full run, median of 7 repeats
    python benchmarks/bench_core.py --quick    # tiny sizes, seconds: checks that it works

Prints a table and writes ``benchmarks/results/bench_core.json`` (atomically).  The target is
under 100 ms per call at 4096x4096, well below a network's own time per click.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

import ntclick
from ntclick.band_grabcut import grabcut_band
from ntclick.clicker import next_click, next_fbu_click
from ntclick.fbu import fbu_from_mask
from ntclick.image_io import atomic_write_bytes
from ntclick.metrics import boundary_iou, iou

RESULTS = Path(__file__).resolve().parent / "results" / "bench_core.json"


def make_masks(size: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(gt, pred) bool (size, size): a blob with thin strands, and a flawed prediction of it."""
    rng = np.random.default_rng(seed)
    s = size / 1024  # geometry scales with the image
    gt = np.zeros((size, size), np.uint8)
    centre = (size // 2, size // 2)
    cv2.ellipse(gt, centre, (int(300 * s), int(220 * s)), 20, 0, 360, 255, -1)
    strands = np.zeros_like(gt)
    for _ in range(24):  # hair- or wire-like strands, 1-3 px wide, leaving the blob
        angle = rng.uniform(0, 2 * np.pi)
        r0, r1 = 200 * s, rng.uniform(380, 500) * s
        p0 = (int(centre[0] + r0 * np.cos(angle)), int(centre[1] + r0 * np.sin(angle)))
        p1 = (int(centre[0] + r1 * np.cos(angle)), int(centre[1] + r1 * np.sin(angle)))
        cv2.line(strands, p0, p1, 255, int(rng.integers(1, 4)), cv2.LINE_8)
    gt = cv2.bitwise_or(gt, strands)
    pred = cv2.ellipse(np.zeros_like(gt), centre, (int(300 * s), int(220 * s)), 20, 0, 360, 255, -1)
    half = np.zeros_like(gt)
    half[:, size // 2 :] = 255
    eroded = cv2.erode(pred, np.ones((7, 7), np.uint8), iterations=max(1, int(2 * s)))
    pred = np.where(half > 0, eroded, pred)  # the right side eroded: a thin false-negative band
    cv2.circle(pred, (int(150 * s), int(150 * s)), int(60 * s), 255, -1)  # a false-positive blob
    return gt > 0, pred > 0


def median_ms(fn: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median wall time and median process CPU time (all threads) per call, in ms."""
    fn()  # warm-up (first-call allocations, OpenCV thread pool)
    wall, cpu = [], []
    for _ in range(repeats):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return statistics.median(wall) * 1000, statistics.median(cpu) * 1000


def run(sizes: list[int], repeats: int) -> list[dict]:
    rows = []
    for size in sizes:
        gt, pred = make_masks(size)
        empty = np.zeros_like(gt)
        gt_fbu, pred_fbu = fbu_from_mask(gt), fbu_from_mask(pred)
        empty_fbu = fbu_from_mask(empty)
        rng = np.random.default_rng(1)
        image = np.where(gt[..., None], np.uint8([200, 60, 40]), np.uint8([40, 90, 190]))
        image = cv2.add(image, rng.integers(0, 40, image.shape, dtype=np.uint8))
        soft = cv2.GaussianBlur(pred.astype(np.float32), (0, 0), 2.0 * size / 1024)
        band_fbu = fbu_from_mask(pred, 5, max(3, size // 256))
        band_click = [(size // 2, size // 2, "fg")]
        cases = {
            "fbu_from_mask": lambda gt=gt: fbu_from_mask(gt),
            "next_click (first click, empty pred)": lambda gt=gt, e=empty: next_click(e, gt),
            "next_click (flawed pred)": lambda gt=gt, p=pred: next_click(p, gt),
            "next_fbu_click (first click, empty pred)": lambda g=gt_fbu, e=empty_fbu: next_fbu_click(e, g),
            "next_fbu_click (flawed pred)": lambda g=gt_fbu, p=pred_fbu: next_fbu_click(p, g),
            "iou": lambda gt=gt, p=pred: iou(p, gt),
            "boundary_iou": lambda gt=gt, p=pred: boundary_iou(p, gt),
            "grabcut_band (3 iterations)": lambda i=image, s=soft, f=band_fbu, c=band_click: grabcut_band(
                i, s, f, c
            ),
        }
        for name, fn in cases.items():
            wall, cpu = median_ms(fn, repeats)
            rows.append(
                {"function": name, "size": size, "median_ms": round(wall, 3), "median_cpu_ms": round(cpu, 3)}
            )
            print(f"  {name:<42} {size:>5}^2  {wall:9.2f} ms wall  {cpu:9.2f} ms cpu", file=sys.stderr)
    return rows


def print_table(rows: list[dict], sizes: list[int]) -> None:
    """A Markdown table: one row per function, wall and CPU ms per size."""
    names = list(dict.fromkeys(r["function"] for r in rows))
    cols = [f"{s}^2 {kind} (ms)" for s in sizes for kind in ("wall", "CPU")]
    print(f"| {'function':<42} | " + " | ".join(f"{c:>16}" for c in cols) + " |")
    print("|" + "-" * 44 + "|" + "|".join("-" * 18 for _ in cols) + "|")
    for name in names:
        cells = {r["size"]: r for r in rows if r["function"] == name}
        values = [cells[s][key] for s in sizes for key in ("median_ms", "median_cpu_ms")]
        print(f"| {name:<42} | " + " | ".join(f"{v:>16.2f}" for v in values) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes and 2 repeats: a smoke test")
    parser.add_argument(
        "--sizes", type=int, nargs="+", default=None, help="square image sides (default 1024 4096)"
    )
    parser.add_argument("--repeats", type=int, default=None, help="timed repeats per case (default 7)")
    parser.add_argument("--threads", type=int, default=None, help="OpenCV threads (default: OpenCV's choice)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    args = parser.parse_args(argv)
    sizes = args.sizes or ([128, 256] if args.quick else [1024, 4096])
    repeats = args.repeats or (2 if args.quick else 7)
    if args.threads is not None:
        cv2.setNumThreads(args.threads)

    rows = run(sizes, repeats)
    print_table(rows, sizes)
    print("(median ms per call; CPU time sums the threads and is less inflated by other processes)")
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    result = {
        "benchmark": "bench_core",
        "quick": args.quick,
        "repeats": repeats,
        "statistic": "median wall time per call (median_ms) and median process CPU time (median_cpu_ms), ms",
        "results": rows,
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "opencv_threads": cv2.getNumThreads(),
            "load_average_1_5_15": load,
        },
        "versions": {"ntclick": ntclick.__version__, "numpy": np.__version__, "opencv": cv2.__version__},
        "time_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    atomic_write_bytes(args.out, (json.dumps(result, indent=2) + "\n").encode())
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
