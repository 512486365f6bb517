"""Can a small network decide ECP's uncertain band better than GrabCut?  A probe, not a feature.

The band oracle (``band_oracle.py``) shows that ECP's certain regions are nearly right and its
band is where the clicks go.  This probe trains a small U-Net that sees everything the band step
sees, and GrabCut's answer too, and measures how many band pixels it gets right on held-out
objects, beside GrabCut and ECP's own soft mask:

- ``generate``: the bundled predictor (band step off) meets the standard clicker on objects of
  a folder (``benchmarks/make_bsds_val.py --split train`` writes one from BSDS500-train); after each
  click it stores ECP's soft mask and FBU map and GrabCut's band answer (exactly the band step's
  call), and the clicker follows GrabCut's mask, as in ``ntclick eval``.  One ``<name>.npz`` per
  object, written atomically; ``--shard i --shards n`` splits the work between processes.
- ``train``: a U-Net over 9 channels (RGB, ECP soft, certain fg, band, GrabCut's answer, fg and
  bg click disks), binary cross-entropy on band pixels only, random 192 px crops centred on a
  band pixel, flips; every 20th object is held out.  Every ``--check-every`` steps it prints the
  held-out band accuracy of the network, of GrabCut and of ECP's soft mask (> 0.5), mean over
  predictions, and saves the weights (atomically) to ``--out``.
- ``evaluate``: ``ntclick eval``'s harness (stop at 90%) with the trained network deciding the
  band after GrabCut (``ProbePredictor``); resumable jsonl like ``ntclick eval``'s.

    python benchmarks/make_bsds_val.py --split train --objects 1 --seed 7 --out data/bsds_train1
    for s in 0 1; do OMP_NUM_THREADS=1 python benchmarks/band_resolver_probe.py generate \\
        --dataset folder=data/bsds_train1 --out data/band_train --shard $s --shards 2 & done; wait
    OMP_NUM_THREADS=2 python benchmarks/band_resolver_probe.py train --data data/band_train \\
        --steps 1500 --out runs/band_resolver.pt --json benchmarks/results/fourteenth_round/band_resolver_probe.json
    python benchmarks/band_resolver_probe.py evaluate --probe runs/band_resolver.pt \\
        --dataset folder=data/bsds_val --out benchmarks/results/fourteenth_round/val

Fourteenth round: the network never beat GrabCut on held-out band pixels (docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from ntclick.clicks import Click, encode_disks
from ntclick.modeling.config import IMAGENET_MEAN, IMAGENET_STD

IN_CHANNELS = 9
CLICK_KINDS = ("bg", "fg", "nt")  # the code stored for each click is its index here


def features(
    image: np.ndarray,
    soft: np.ndarray,
    fbu: np.ndarray,
    grabcut: np.ndarray,
    clicks: np.ndarray,
    radius: int = 5,
) -> np.ndarray:
    """float32 (9, H, W): normalized RGB, ECP soft (uint8 0..255 in), certain fg, band, GrabCut's
    answer, fg and bg click disks of ``radius``.  ``clicks``: (N, 3) rows (x, y, code), code 0 bg,
    1 fg, 2 nt (nt clicks are not painted: the probe's data has none)."""
    h, w = fbu.shape
    mean, std = np.array(IMAGENET_MEAN, np.float32), np.array(IMAGENET_STD, np.float32)
    rgb = ((image.astype(np.float32) - mean) / std).transpose(2, 0, 1)
    disks = encode_disks(
        [Click(float(x), float(y), CLICK_KINDS[int(c)]) for x, y, c in clicks], (h, w), radius
    )
    rest = np.stack([soft / 255.0, fbu == 255, fbu == 128, grabcut, disks[0], disks[1]]).astype(np.float32)
    return np.concatenate([rgb, rest])


def band_logits(model, x: np.ndarray) -> np.ndarray:
    """The network on one ``features`` array (9, H, W): float32 logits (H, W) (input padded to a
    multiple of 8 by replication, output cropped)."""
    import torch
    import torch.nn.functional as F

    h, w = x.shape[1:]
    with torch.inference_mode():
        padded = F.pad(torch.from_numpy(x)[None], (0, (-w) % 8, 0, (-h) % 8), mode="replicate")
        return model(padded)[0, 0, :h, :w].numpy()


def build_unet(widths: tuple[int, int, int, int] = (16, 32, 64, 96)):
    """The probe's U-Net (three poolings, a dilated context conv): (B, 9, H, W) -> (B, 1, H, W)
    logits; H and W multiples of 8."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    def block(i: int, o: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
            nn.Conv2d(o, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU(inplace=True),
        )  # fmt: skip

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            w = widths
            self.enc = nn.ModuleList(
                [block(IN_CHANNELS, w[0]), block(w[0], w[1]), block(w[1], w[2]), block(w[2], w[3])]
            )
            self.context = nn.Sequential(
                nn.Conv2d(w[3], w[3], 3, padding=4, dilation=4, bias=False),
                nn.BatchNorm2d(w[3]),
                nn.ReLU(inplace=True),
            )
            self.dec = nn.ModuleList(
                [block(w[3] + w[2], w[2]), block(w[2] + w[1], w[1]), block(w[1] + w[0], w[0])]
            )
            self.head = nn.Conv2d(w[0], 1, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            for i, enc in enumerate(self.enc):
                x = enc(x if i == 0 else F.max_pool2d(x, 2))
                skips.append(x)
            x = self.context(skips.pop())
            for dec in self.dec:
                skip = skips.pop()
                x = dec(
                    torch.cat(
                        [F.interpolate(x, size=skip.shape[-2:], mode="bilinear", align_corners=False), skip],
                        1,
                    )
                )
            return self.head(x)

    return UNet()


# ---------------------------------------------------------------------------- generate


def generate(weights: str, dataset, out: Path, shard: int = 0, shards: int = 1, max_clicks: int = 15) -> int:
    """Write ``out/<name>.npz`` for this shard's objects (skipping those already written); returns
    how many were written.  Arrays: image, gt, soft / fbu / grabcut (K, H, W) uint8 / uint8 / bool
    after clicks 1..K, clicks (K, 3) float32 (x, y, code), ious (K,) of GrabCut's mask.  The
    clicker is ``ntclick eval``'s (standard protocol, stop at 90%) following GrabCut's mask."""
    from ntclick import NTClickPredictor
    from ntclick.eval.protocol import ClickProtocol, run_object

    out.mkdir(parents=True, exist_ok=True)
    recorder = ProbePredictor(NTClickPredictor.from_pretrained(weights, grabcut_iterations=0))
    protocol = ClickProtocol("standard", max_clicks=max_clicks, target_iou=0.9)
    written = 0
    for i, sample in enumerate(dataset):
        if i % shards != shard or (out / f"{sample.name}.npz").exists():
            continue
        loaded = sample.load()
        recorder.steps.clear()
        result = run_object(recorder, loaded, protocol)
        if not result.clicks:
            continue
        codes = np.array([(c.x, c.y, CLICK_KINDS.index(c.kind)) for c in result.clicks], np.float32)
        softs, fbus, cuts = (np.stack(a) for a in zip(*recorder.steps, strict=True))
        tmp = out / f"{sample.name}.tmp.npz"
        np.savez_compressed(
            tmp, image=loaded.image, gt=loaded.gt, soft=softs, fbu=fbus, grabcut=cuts,
            clicks=codes, ious=np.array(result.ious),
        )  # fmt: skip
        os.replace(tmp, out / f"{sample.name}.npz")
        written += 1
        print(
            f"{i + 1}/{len(dataset)} {sample.name}: {len(result.ious)} clicks, IoU {result.ious[-1]:.3f}",
            file=sys.stderr,
            flush=True,
        )
    return written


# ---------------------------------------------------------------------------- train


def band_accuracies(model, objects: list[dict]) -> tuple[np.ndarray, int]:
    """Mean band accuracy (network, GrabCut, ECP soft > 0.5) over every prediction with a band."""
    total, n = np.zeros(3), 0
    model.eval()
    for o in objects:
        for k in range(len(o["soft"])):
            band = o["fbu"][k] == 128
            if not band.any():
                continue
            x = features(o["image"], o["soft"][k], o["fbu"][k], o["grabcut"][k], o["clicks"][: k + 1])
            net = band_logits(model, x) > 0
            gt = o["gt"][band]
            total += [
                (net[band] == gt).mean(),
                (o["grabcut"][k][band] == gt).mean(),
                ((o["soft"][k][band] > 127) == gt).mean(),
            ]
            n += 1
    model.train()
    return total / max(n, 1), n


def train(
    data: Path, steps: int, out: Path, check_every: int = 500, batch: int = 8, crop: int = 192, seed: int = 0
) -> list[dict]:
    """Train the probe; returns one row per check (step, loss, the three held-out accuracies)."""
    import torch
    import torch.nn.functional as F

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    files = sorted(data.glob("*.npz"))
    if not files:
        raise FileNotFoundError(f"no .npz files in {data}: run the generate step first")
    objects = [dict(np.load(f)) for f in files]
    held_out = objects[::20]
    training = [o for i, o in enumerate(objects) if i % 20]
    items = [(i, k) for i, o in enumerate(training) for k in range(len(o["soft"]))]
    print(
        f"{len(training)} training objects ({len(items)} predictions), {len(held_out)} held out",
        file=sys.stderr,
    )

    def draw(o: dict, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        x = features(o["image"], o["soft"][k], o["fbu"][k], o["grabcut"][k], o["clicks"][: k + 1])
        y, band = o["gt"].astype(np.float32), (o["fbu"][k] == 128).astype(np.float32)
        h, w = y.shape
        rows, cols = np.nonzero(band)
        cy, cx = h // 2, w // 2
        if len(rows):  # centre the crop on a band pixel
            j = rng.integers(len(rows))
            cy, cx = rows[j], cols[j]
        y0, x0 = (
            int(np.clip(cy - crop // 2, 0, max(0, h - crop))),
            int(np.clip(cx - crop // 2, 0, max(0, w - crop))),
        )
        x, y, band = (
            x[:, y0 : y0 + crop, x0 : x0 + crop],
            y[y0 : y0 + crop, x0 : x0 + crop],
            band[y0 : y0 + crop, x0 : x0 + crop],
        )
        if rng.random() < 0.5:
            x, y, band = x[:, :, ::-1], y[:, ::-1], band[:, ::-1]
        return np.ascontiguousarray(x), np.ascontiguousarray(y), np.ascontiguousarray(band)

    model = build_unet()
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=2e-3, total_steps=steps, pct_start=0.1)
    rows, running, t0 = [], 0.0, time.time()
    for step in range(1, steps + 1):
        drawn = [draw(training[i], k) for i, k in (items[j] for j in rng.integers(len(items), size=batch))]
        x, y, band = (torch.from_numpy(np.stack([d[c] for d in drawn])) for c in range(3))
        logits = model(x)
        loss = (
            F.binary_cross_entropy_with_logits(logits, y[:, None], reduction="none") * band[:, None]
        ).sum()
        loss = loss / band.sum().clamp(min=1)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        running = loss.item() if step == 1 else 0.98 * running + 0.02 * loss.item()
        if step % 50 == 0:
            print(
                f"step {step}/{steps}: loss {running:.4f}, {time.time() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
        if step % check_every == 0 or step == steps:
            acc, n = band_accuracies(model, held_out)
            rows.append(
                {
                    "step": step,
                    "loss": round(running, 4),
                    "network": acc[0],
                    "grabcut": acc[1],
                    "ecp": acc[2],
                    "predictions": n,
                }
            )
            print(
                f"step {step}: held-out band accuracy network {acc[0]:.4f}, GrabCut {acc[1]:.4f}, ECP {acc[2]:.4f} ({n} predictions)",
                flush=True,
            )
            tmp = out.with_name(out.name + ".tmp")
            torch.save(model.state_dict(), tmp)
            os.replace(tmp, out)
    return rows


class ProbePredictor:
    """The bundled predictor's band step, seen from the probe (``set_image`` / ``predict``, for
    ``ntclick.eval``): ECP with the band step off, then GrabCut on its band exactly as the band
    step calls it.  Without ``model`` the mask is GrabCut's (the shipped answer) and each call's
    (ECP soft as uint8, FBU map, GrabCut's mask) is appended to ``steps``; with the trained
    network, it decides the band pixels and the certain regions stay ECP's."""

    def __init__(self, predictor, model=None) -> None:
        self.predictor, self.model = predictor, None if model is None else model.eval()
        self.image: np.ndarray | None = None
        self.steps: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def set_image(self, image: np.ndarray) -> None:
        self.image = image
        self.predictor.set_image(image)

    def predict(self, clicks):
        from ntclick.band_grabcut import grabcut_band
        from ntclick.prediction import Prediction

        ecp = self.predictor.predict(clicks)
        threshold = self.predictor.mask_threshold
        grabcut = grabcut_band(self.image, ecp.soft, ecp.fbu, clicks, iterations=3, threshold=threshold)
        soft_u8 = np.round(ecp.soft * 255).astype(np.uint8)
        if self.model is None:
            self.steps.append((soft_u8, ecp.fbu, grabcut))
            mask = grabcut
        else:
            codes = np.array([(c.x, c.y, CLICK_KINDS.index(c.kind.value)) for c in clicks], np.float32)
            logits = band_logits(self.model, features(self.image, soft_u8, ecp.fbu, grabcut, codes))
            mask = np.where(ecp.fbu == 128, logits > 0, ecp.fbu == 255)
        return Prediction(mask=mask, soft=mask.astype(np.float32), fbu=ecp.fbu)

    def describe(self) -> dict:
        from ntclick.eval.protocol import describe_predictor

        band = "GrabCut (band step)" if self.model is None else "band_resolver_probe U-Net"
        return {**describe_predictor(self.predictor), "band": band}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("generate")
    g.add_argument("--weights", default="weights/ntclick-tiny")
    g.add_argument("--dataset", required=True, help="NAME or NAME=PATH, as for ntclick eval")
    g.add_argument("--out", type=Path, required=True)
    g.add_argument("--shard", type=int, default=0)
    g.add_argument("--shards", type=int, default=1)
    t = sub.add_parser("train")
    t.add_argument("--data", type=Path, required=True)
    t.add_argument("--steps", type=int, default=1500)
    t.add_argument("--check-every", type=int, default=500)
    t.add_argument("--out", type=Path, required=True, help="the network's state dict (.pt)")
    t.add_argument("--json", type=Path, help="write the held-out accuracies here")
    e = sub.add_parser("evaluate")
    e.add_argument("--weights", default="weights/ntclick-tiny")
    e.add_argument("--probe", type=Path, required=True, help="the train step's state dict")
    e.add_argument("--dataset", required=True, help="NAME or NAME=PATH, as for ntclick eval")
    e.add_argument("--protocol", choices=("standard", "nt"), default="standard")
    e.add_argument("--out", type=Path, required=True, help="folder for <label>_<dataset>_<protocol>.jsonl")
    e.add_argument("--label", default="probe")
    args = parser.parse_args(argv)
    if args.command == "generate":
        from ntclick.eval import open_dataset

        name, _, path = args.dataset.partition("=")
        if not 0 <= args.shard < args.shards:
            parser.error(f"--shard must be in [0, --shards), got {args.shard} of {args.shards}")
        generate(args.weights, open_dataset(name, path or None), args.out, args.shard, args.shards)
        return 0
    if args.command == "evaluate":
        import torch

        from ntclick import NTClickPredictor
        from ntclick.eval import evaluate, open_dataset
        from ntclick.eval.report import summarize

        model = build_unet()
        model.load_state_dict(torch.load(args.probe, map_location="cpu", weights_only=True))
        predictor = ProbePredictor(
            NTClickPredictor.from_pretrained(args.weights, grabcut_iterations=0), model
        )
        name, _, path = args.dataset.partition("=")
        dataset = open_dataset(name, path or None)
        out = args.out / f"{args.label}_{dataset.name}_{args.protocol}.jsonl"
        results = evaluate(
            predictor, dataset, args.protocol, target_iou=0.9, model=args.label, jsonl_path=out
        )
        s = summarize(results)
        print(
            f"{args.label}, {dataset.name}, {args.protocol}: NoC@85 {s.noc['85']:.2f}, NoC@90 {s.noc['90']:.2f}"
        )
        return 0
    rows = train(args.data, args.steps, args.out, args.check_every)
    if args.json:
        from ntclick.image_io import atomic_write_bytes

        atomic_write_bytes(
            args.json, (json.dumps({"data": str(args.data), "checks": rows}, indent=2) + "\n").encode()
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
