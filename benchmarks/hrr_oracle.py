"""How good is HRR on its own?  Refine the ground truth's own FBU map and score the result.

ECP's errors and HRR's are mixed in every evaluation number.  This benchmark removes ECP: each
object's FBU map is made from its ground-truth mask with the evaluation recipe
(``ntclick.fbu.fbu_from_mask``: a 5 x 5 kernel, ``--iterations`` erosions/dilations, so the
uncertain band is about ``2 * 2 * iterations`` pixels wide) and HRR resolves the band, exactly
as the predictor does after ECP (``clamp_to_fbu`` on).  The IoU it reaches is a ceiling for
the whole pipeline at that band width.  For reference it also scores three resolutions of the
same band that need no network:

- ``fg only``: the band called background;
- ``fg + band``: the band called foreground;
- ``grabcut band``: OpenCV GrabCut with the definite regions fixed and the band probable,
  started from HRR's answer (``--grabcut-iterations`` iterations): a classical colour model.

    python benchmarks/hrr_oracle.py --weights PATH --dataset folder=DIR [--limit N]
    python benchmarks/hrr_oracle.py --weights PATH --dataset berkeley --iterations 1 3
    python benchmarks/hrr_oracle.py --quick    # random tiny-preset networks, two drawn objects: seconds

Prints a table and writes ``benchmarks/results/hrr_oracle_<weights>.json`` (atomically).
Never used for selecting or tuning anything.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import cv2
import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"


def grabcut_band(image: np.ndarray, fbu: np.ndarray, start: np.ndarray, iterations: int) -> np.ndarray:
    """GrabCut on ``image`` (RGB uint8) deciding only the band of ``fbu``, from mask ``start``."""
    seeds = np.where(start, cv2.GC_PR_FGD, cv2.GC_PR_BGD).astype(np.uint8)
    seeds[fbu == 255] = cv2.GC_FGD
    seeds[fbu == 0] = cv2.GC_BGD
    if not ((seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)).any():
        return start
    cv2.setRNGSeed(0)
    try:
        cv2.grabCut(
            np.ascontiguousarray(image[:, :, ::-1]),
            seeds,
            None,
            np.zeros((1, 65)),
            np.zeros((1, 65)),
            iterations,
            cv2.GC_INIT_WITH_MASK,
        )
    except cv2.error:  # a colour model with too few samples: keep the start
        return start
    return (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)


def _draw_objects(root: Path) -> None:
    """Two 96 x 128 images with a bright disk and a bright bar on dark noise, and their masks."""
    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for i in range(2):
        gt = np.zeros((96, 128), np.uint8)
        cv2.circle(gt, (40 + 30 * i, 48), 22, 255, -1)
        cv2.line(gt, (10, 80), (120, 70 - 40 * i), 255, 3)
        img = rng.integers(0, 80, (96, 128, 3), dtype=np.uint8)
        img[gt > 0] = rng.integers(160, 256, (int((gt > 0).sum()), 3), dtype=np.uint8)
        cv2.imwrite(str(root / "images" / f"o{i}.png"), img)
        cv2.imwrite(str(root / "masks" / f"o{i}.png"), gt)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--weights", help="NTClick weights folder or Hub id")
    p.add_argument("--dataset", help="NAME[=PATH] as for `ntclick eval`")
    p.add_argument(
        "--quick", action="store_true", help="random tiny networks on two drawn objects (a smoke run)"
    )
    p.add_argument("--iterations", type=int, nargs="+", default=[1, 3], help="band recipes to score")
    p.add_argument("--grabcut-iterations", type=int, default=3)
    p.add_argument("--limit", type=int, default=None, help="only the first N objects")
    p.add_argument("--out", type=Path, default=None, help="JSON path (default under benchmarks/results)")
    args = p.parse_args(argv)
    if not args.quick and not (args.weights and args.dataset):
        p.error("--weights and --dataset are required (or --quick)")

    import torch

    from ntclick.commands.eval import _parse_dataset
    from ntclick.eval import open_dataset
    from ntclick.fbu import fbu_from_mask, fbu_to_classes
    from ntclick.image_io import atomic_write_bytes
    from ntclick.metrics import boundary_iou, iou
    from ntclick.predictor import NTClickPredictor

    if args.quick:
        import tempfile

        from ntclick.modeling import build_ecp, build_hrr

        torch.manual_seed(0)  # the tiny presets, randomly initialised (as bench_predictor --quick)
        predictor = NTClickPredictor(build_ecp("tiny"), build_hrr("tiny"), ecp_size=64)
        root = Path(tempfile.mkdtemp(prefix="hrr_oracle_quick_"))
        _draw_objects(root)
        dataset = open_dataset("folder", str(root))
        args.weights = "random tiny-preset networks (--quick)"
        args.out = args.out or RESULTS / "hrr_oracle_quick.json"
    else:
        predictor = NTClickPredictor.from_pretrained(args.weights)
        name, path = _parse_dataset(args.dataset)
        dataset = open_dataset(name, path)
    n = len(dataset) if args.limit is None else min(args.limit, len(dataset))
    methods = ("hrr", "fg_only", "fg_plus_band", "grabcut_band")
    scores = {it: {m: [] for m in methods} for it in args.iterations}
    start = time.perf_counter()
    for i in range(n):
        sample = dataset[i].load()
        predictor.set_image(sample.image)
        for it in args.iterations:
            fbu = fbu_from_mask(sample.gt, 5, it)
            hh, hw = predictor._hrr_size_hw
            classes = fbu_to_classes(cv2.resize(fbu, (hw, hh), interpolation=cv2.INTER_NEAREST))
            logits = torch.nn.functional.one_hot(torch.from_numpy(classes.astype(np.int64)), 3)
            with torch.inference_mode():  # the predictor's own path after ECP
                soft, _ = predictor._finish(logits.permute(2, 0, 1)[None].float() * 10.0)
            hrr = soft[0].numpy() > 0.49
            masks = {
                "hrr": hrr,
                "fg_only": fbu == 255,
                "fg_plus_band": fbu != 0,
                "grabcut_band": grabcut_band(sample.image, fbu, hrr, args.grabcut_iterations),
            }
            for m, mask in masks.items():
                scores[it][m].append((iou(mask, sample.gt), boundary_iou(mask, sample.gt)))
        print(
            f"\r{i + 1}/{n} objects, {time.perf_counter() - start:.0f} s", end="", file=sys.stderr, flush=True
        )
    print(file=sys.stderr)

    rows = []
    print(f"\n{n} objects of {dataset.name}, weights {args.weights}\n")
    print("| band recipe | resolution | mIoU | boundary IoU |")
    print("|---|---|---:|---:|")
    for it in args.iterations:
        for m in methods:
            a = np.array(scores[it][m])
            row = {
                "iterations": it,
                "method": m,
                "miou": float(a[:, 0].mean()),
                "boundary_iou": float(a[:, 1].mean()),
            }
            rows.append(row)
            print(f"| k5 x{it} | {m} | {100 * row['miou']:.1f} | {100 * row['boundary_iou']:.1f} |")
    out = args.out or RESULTS / f"hrr_oracle_{Path(str(args.weights).rstrip('/')).name}_{dataset.name}.json"
    payload = {"weights": str(args.weights), "dataset": dataset.name, "objects": n, "rows": rows}
    atomic_write_bytes(out, (json.dumps(payload, indent=2) + "\n").encode())
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
