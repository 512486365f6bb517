"""Per-click time of a weights folder with ECP's GrabCut prior at several sizes (``prior_size``).

The bundled weights with their stored settings run the prior twice per click (whole image and
zoom crop) beside ECP and the band step's GrabCut; ``ECPConfig.prior_size`` runs the prior on a
smaller copy.  For each size this script sets a bundled example image and times ``predict`` with
a growing list of clicks (one more each call, as in an interaction, after one untimed call),
median over ``--clicks`` calls.  Accuracy of the sizes under the bundled ECP:
docs/benchmarks.md, fifteenth round (176 px level with 0, 128 px half a click more).

    python benchmarks/bench_prior_size.py                       # bundled weights, coffee.png, 0 / 176 / 128
    python benchmarks/bench_prior_size.py --threads 1 --sizes 0 128

Prints a table and writes ``benchmarks/results/prior_size_<device>.json`` (atomically).
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
# Clicks on examples/images/coffee.png (600 x 400): the cup, then corrections around it.
CLICKS = [
    (200, 150, "fg"),
    (430, 120, "bg"),
    (120, 250, "fg"),
    (330, 330, "bg"),
    (260, 200, "fg"),
    (60, 60, "bg"),
]


def time_clicks(predictor, image: np.ndarray, clicks: list, prior_size: int) -> list[float]:
    """Seconds of each ``predict`` call with clicks 1..k (k = 2..len), after an untimed call
    with the first click; ``predictor.ecp.config.prior_size`` is set to ``prior_size``."""
    predictor.ecp.config.prior_size = int(prior_size)
    predictor.set_image(image)
    predictor.predict(clicks[:1])
    seconds = []
    for k in range(2, len(clicks) + 1):
        start = time.perf_counter()
        predictor.predict(clicks[:k])
        seconds.append(time.perf_counter() - start)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default=str(REPO / "weights" / "ntclick-tiny"))
    parser.add_argument("--image", default=str(REPO / "examples" / "images" / "coffee.png"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[0, 176, 128])
    parser.add_argument("--threads", type=int, default=None, help="torch and OpenCV threads")
    parser.add_argument(
        "--out", default=None, help="JSON path (default benchmarks/results/prior_size_<device>.json)"
    )
    args = parser.parse_args(argv)

    import cv2
    import torch

    from ntclick import NTClickPredictor
    from ntclick.image_io import atomic_write_bytes, load_image

    if args.threads:
        torch.set_num_threads(args.threads)
        cv2.setNumThreads(args.threads)
    predictor = NTClickPredictor.from_pretrained(args.weights)
    image = load_image(args.image)
    rows = []
    for size in args.sizes:
        seconds = time_clicks(predictor, image, CLICKS, size)
        rows.append({"prior_size": size, "median_s": statistics.median(seconds), "seconds": seconds})
    print(f"| prior_size | s per click (median of {len(CLICKS) - 1}) |\n|---:|---:|")
    for r in rows:
        print(f"| {r['prior_size'] or '0 (input size)'} | {r['median_s']:.3f} |")
    out = Path(args.out or REPO / "benchmarks" / "results" / f"prior_size_{predictor.device.type}.json")
    record = {
        "weights": str(args.weights),
        "image": str(args.image),
        "image_size": list(image.shape[:2]),
        "threads": args.threads or torch.get_num_threads(),
        "machine": platform.processor() or platform.machine(),
        "rows": rows,
    }
    atomic_write_bytes(out, (json.dumps(record, indent=2) + "\n").encode())
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
