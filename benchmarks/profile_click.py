"""Where one click's time goes: ntclick's per-click work split into stages, plus an op profile.

Stages of ``NTClickPredictor.predict`` after ``set_image`` (randomly initialised networks,
random image, batch 1, ``torch.inference_mode``):

- ``ecp``: ECP forward at its input size (448 px long side);
- ``fbu_upsample``: ECP logits bilinearly upsampled to HRR's size, argmax -> FBU map;
- ``hrr_fbu_embed``: the FBU share of HRR's patch embedding (+ the cached RGB share);
- ``hrr_backbone``: HRR's window/grid ViT blocks;
- ``hrr_fuse_1/8 .. hrr_fuse_1/1``: the four fuse-and-upsample stages;
- ``hrr_head``: the full-resolution head + sigmoid;
- ``predict_total``: one whole ``predict`` call (including clamping and the NumPy results).

Each stage is the minimum over ``--repeats`` runs; ``set_image`` is reported for reference.
``--ops`` adds the ten most expensive torch operators of one backbone pass (torch.profiler).

Usage::

    python benchmarks/profile_click.py                       # tiny, 1024x768 and 4096x3072, CPU
    python benchmarks/profile_click.py --preset base --sizes 1024x768 --device cuda --dtype bfloat16
    python benchmarks/profile_click.py --quick

Writes ``benchmarks/results/profile_click_<preset>_<device>.json`` and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"


def profile(preset: str, size: tuple[int, int], device: str, dtype: str, repeats: int, ops: bool) -> dict:
    """Stage times of one click at ``size`` = (W, H)."""
    import numpy as np
    import torch
    import torch.nn.functional as F

    from ntclick.clicks import clicks_from_arrays
    from ntclick.modeling import build_ecp, build_hrr
    from ntclick.predictor import NTClickPredictor

    dev = torch.device(device)

    def timed(fn):
        best, out = float("inf"), None
        for _ in range(repeats):
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            start = time.perf_counter()
            out = fn()
            if dev.type == "cuda":
                torch.cuda.synchronize(dev)
            best = min(best, time.perf_counter() - start)
        return best, out

    torch.manual_seed(0)
    predictor = NTClickPredictor(build_ecp(preset), build_hrr(preset), device=device, dtype=dtype)
    w, h = size
    image = np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)
    coords, labels = np.array([[w / 2, h / 2], [w / 4, h / 4]]), np.array([1, 0])
    predictor.set_image(image[:256, :256].copy())
    predictor.predict(point_coords=coords[:1] / 16, point_labels=labels[:1])  # warm-up off the clock
    set_image, _ = timed(lambda: predictor.set_image(image))
    stages: dict[str, float] = {"set_image": set_image}
    stages["predict_total"], _ = timed(lambda: predictor.predict(point_coords=coords, point_labels=labels))

    ecp, hrr, features = predictor.ecp, predictor.hrr, predictor._hrr_features
    (eh, ew), (hh, hw), (ph, pw) = predictor._ecp_size_hw, predictor._hrr_size_hw, predictor.hrr_input_shape
    maps = torch.from_numpy(predictor.click_maps(clicks_from_arrays(coords, labels)))[None]
    maps = maps.to(dev, predictor.dtype)
    with torch.inference_mode():
        stages["ecp"], logits = timed(lambda: ecp(predictor._ecp_image, maps))

        def fbu_map():
            up = F.interpolate(
                logits[:, :, :eh, :ew].float(), size=(hh, hw), mode="bilinear", align_corners=False
            )
            return F.pad(up.argmax(dim=1).to(predictor.dtype) * 0.5, (0, pw - hw, 0, ph - hh))[:, None]

        stages["fbu_upsample"], fbu = timed(fbu_map)
        stages["hrr_fbu_embed"], x = timed(lambda: hrr.fbu_embed(fbu).add_(features.patch_tokens))
        stages["hrr_backbone"], x = timed(lambda: hrr.backbone(x))
        x = x.permute(0, 3, 1, 2)
        for name, stage, share in zip(("1/8", "1/4", "1/2", "1/1"), hrr.fuse, features.details, strict=True):
            stages[f"hrr_fuse_{name}"], x = timed(lambda stage=stage, x=x, share=share: stage(x, share))
        stages["hrr_head"], _ = timed(lambda: torch.sigmoid(hrr.head(x)))
        top_ops = []
        if ops:
            from torch.profiler import ProfilerActivity
            from torch.profiler import profile as torch_profile

            tokens = hrr.fbu_embed(fbu).add_(features.patch_tokens)
            activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if dev.type == "cuda" else [])
            with torch_profile(activities=activities) as prof:
                hrr.backbone(tokens)
            events = sorted(prof.key_averages(), key=lambda e: e.self_cpu_time_total, reverse=True)
            total = sum(e.self_cpu_time_total for e in events) or 1.0
            top_ops = [
                {
                    "op": e.key,
                    "self_s": e.self_cpu_time_total / 1e6,
                    "share": e.self_cpu_time_total / total,
                    "calls": e.count,
                }
                for e in events[:10]
            ]
    named = [k for k in stages if k not in ("set_image", "predict_total")]
    return {
        "preset": preset,
        "width": w,
        "height": h,
        "hrr_input": [ph, pw],
        "stages_s": stages,
        "stages_sum_s": sum(stages[k] for k in named),
        "backbone_ops": top_ops,
    }


def format_rows(results: list[dict]) -> str:
    names = list(results[0]["stages_s"])
    header = (
        "| stage | " + " | ".join(f"{r['preset']} {r['width']} x {r['height']} (s)" for r in results) + " |"
    )
    lines = [header, "|---|" + "---:|" * len(results)]
    for name in names:
        cells = []
        for r in results:
            value = r["stages_s"][name]
            share = (
                ""
                if name in ("set_image", "predict_total")
                else f" ({value / r['stages_s']['predict_total']:.0%})"
            )
            cells.append(f"{value:.3f}{share}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preset", default="tiny")
    parser.add_argument("--sizes", nargs="+", default=["1024x768", "4096x3072"], help="WxH")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"))
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--no-ops", action="store_true", help="skip the operator profile")
    parser.add_argument("--quick", action="store_true", help="256x192 and 512x384, one repeat")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.quick:
        args.sizes, args.repeats = ["256x192", "512x384"], 1
    results = []
    for text in args.sizes:
        w, h = (int(v) for v in text.lower().split("x"))
        results.append(profile(args.preset, (w, h), args.device, args.dtype, args.repeats, not args.no_ops))
        r = results[-1]
        print(
            f"{args.preset} {w}x{h}: predict {r['stages_s']['predict_total']:.3f} s, "
            f"stages sum {r['stages_sum_s']:.3f} s",
            flush=True,
        )
    print()
    print(format_rows(results))
    for r in results:
        if r["backbone_ops"]:
            print(f"\nbackbone operators, {r['preset']} {r['width']} x {r['height']}:")
            for op in r["backbone_ops"]:
                print(f"  {op['op']:<55} {op['self_s']:8.3f} s  {op['share']:6.1%}  x{op['calls']}")
    out = args.out or RESULTS / (
        "profile_click_quick.json"
        if args.quick
        else f"profile_click_{args.preset}_{args.device.replace(':', '')}.json"
    )
    payload = {
        "benchmark": "profile_click",
        "device": args.device,
        "dtype": args.dtype,
        "torch": torch.__version__,
        "torch_threads": torch.get_num_threads(),
        "weights": "randomly initialised",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": " ".join(
            ["python", "benchmarks/profile_click.py", *(argv if argv is not None else sys.argv[1:])]
        ),
        "results": results,
    }
    from ntclick.image_io import atomic_write_bytes

    atomic_write_bytes(out, (json.dumps(payload, indent=2) + "\n").encode())
    print(f"\nwrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
