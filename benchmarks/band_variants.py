"""Variants of the band step (``grabcut_iterations``) measured on the BSDS validation folder.

The sixth round's selection table in ``docs/benchmarks.md`` comes from this script. Each variant
wraps the shipped predictor from outside the package, so the package keeps only what was
chosen:

- ``shipped``: the weights' stored settings, unchanged (the reference row);
- ``ring``: ECP's *certain background* stays only probable within ``--value`` x the equivalent
  radius of ECP's non-background region (so GrabCut may grow the object there);
  ``--first-only`` does this at the first click only;
- ``flip``: ECP also runs on the mirrored image and click maps; the mean of both logits is used;
- ``uncertain-bias``: ``--value`` is subtracted from ECP's *uncertain* logit (every ECP pass,
  zoom-in included) before anything reads it: a positive value narrows the uncertain band, a
  negative one widens it (twelfth round);
- ``reach``: band pixels farther than ``--value`` x the equivalent radius of the object's core
  (ECP's certain foreground and the fg / nt click disks) from that core become definite
  background, so GrabCut cannot fill a band far wider than the object (twelfth round);
- ``click-radius``: the band step's definite click disks get radius ``--value`` px (5 shipped);
- ``margin``: ECP's certain regions are shrunk by ``--value`` px before they become definite;
- ``release``: within ``--value`` px of each fg (bg) click, ECP's definite bg (fg) seeds become
  probable bg (fg), so GrabCut may move them; ``release-click``: they become probable of the
  click's class instead (seventh round);
- ``components``: after the band step, foreground components (8-connected) that hold no fg or
  nt click within ``--value`` px become background; ``components-holes`` also fills background
  components that touch no image edge and hold no bg click (seventeenth round; the package's
  ``click_components`` setting is the second, with the nt radius three times larger);
- ``seed-components``: before GrabCut, fg and probable-fg seeds in 8-connected components that
  hold no fg or nt click within ``--value`` px become probable bg, so the colour models do not
  learn from pieces nobody clicked (seventeenth round; with the weights' stored
  ``click_components`` the answer is filtered afterwards as well);
- ``components-guard``: the package's ``click_components`` rule (fg radius ``--value``, nt three
  times that), except that a dropped piece holding any of ECP's certain foreground is kept and a
  filled hole holding any of ECP's certain background stays open: only what the band step's
  colour rule made is undone (seventeenth round);
- ``zoom-components``: the zoom-in box is framed on the first pass's object (fg and uncertain
  pixels) without its 8-connected components that hold no fg or nt click within ``--value`` px,
  so a stray piece does not widen the crop (seventeenth round);
- ``walk``: the band is decided by a random walker with a prior term (``random_walk``): the
  band seeds' definite pixels are fixed, image edges (Lab colour differences) weigh the
  4-neighbour smoothness, and ``--value`` weighs the pull towards ECP's soft mask;
  ``walk-grabcut``: the pull is towards the shipped band step's answer instead (GrabCut's mask
  smoothed along image edges; eighteenth round).

    python benchmarks/band_variants.py --weights weights/ntclick-tiny --variant ring --value 1 \\
        --dataset folder=data/bsds_val --out benchmarks/results/sixth_round

Writes ``<out>/<label>_<dataset>_<protocol>.jsonl`` (resumable, like ``ntclick eval``) and prints
a one-line summary. Standard protocol (``--protocol nt`` for NTClick's), stopped at
``--target-iou`` (0.9), as the selection runs.
"""

from __future__ import annotations

import argparse
import functools
from pathlib import Path

import cv2
import numpy as np

VARIANTS = (
    "shipped",
    "ring",
    "flip",
    "uncertain-bias",
    "reach",
    "click-radius",
    "margin",
    "release",
    "release-click",
    "components",
    "components-holes",
    "seed-components",
    "walk",
    "walk-grabcut",
    "zoom-components",
    "components-guard",
)


def ring_seeds(seeds: np.ndarray, fbu: np.ndarray, factor: float) -> np.ndarray:
    """Definite-bg seeds (``cv2.GC_BGD``) that came from ECP's certain background and lie within
    ``factor`` x the equivalent radius (``sqrt(area / pi)``) of its non-background region become
    probable bg (``cv2.GC_PR_BGD``); a new array, ``seeds`` untouched.  Click disks must be
    painted again afterwards (a bg click's disk is definite)."""
    from ntclick.fbu import BG

    out = seeds.copy()
    object_like = fbu != BG
    if factor <= 0 or not object_like.any():
        return out
    radius = factor * np.sqrt(object_like.sum() / np.pi)
    distance = cv2.distanceTransform((~object_like).astype(np.uint8), cv2.DIST_L2, 3)
    out[(out == cv2.GC_BGD) & (fbu == BG) & (distance <= radius)] = cv2.GC_PR_BGD
    return out


def reach_seeds(
    seeds: np.ndarray, fbu: np.ndarray, clicks, factor: float, click_radius: int = 5
) -> np.ndarray:
    """Band pixels (``fbu == UNCERTAIN``) farther than ``factor`` x the equivalent radius
    (``sqrt(area / pi)``) of the object's core from it become definite bg (``cv2.GC_BGD``); the
    core is ECP's certain fg plus the fg / nt click disks of ``click_radius``.  No core: unchanged.
    A new array; click disks must be painted again afterwards."""
    from ntclick.clicks import ClickKind, as_click
    from ntclick.fbu import FG, UNCERTAIN

    out = seeds.copy()
    core = (fbu == FG).astype(np.uint8)
    for click in map(as_click, clicks):
        if click.kind is not ClickKind.BG:
            cv2.circle(core, (int(round(click.x)), int(round(click.y))), int(click_radius), 1, -1)
    if factor <= 0 or not core.any():
        return out
    radius = factor * np.sqrt(core.sum() / np.pi)
    distance = cv2.distanceTransform(1 - core, cv2.DIST_L2, 3)
    out[(fbu == UNCERTAIN) & (distance > radius)] = cv2.GC_BGD
    return out


def release_seeds(seeds: np.ndarray, clicks, radius: float, to_click_class: bool = False) -> np.ndarray:
    """Within ``radius`` px of each fg (bg) click, definite bg (fg) seeds become probable: of
    their own class, or with ``to_click_class`` of the click's.  nt clicks free nothing.  A new
    array; click disks must be painted again afterwards."""
    from ntclick.clicks import ClickKind, as_click

    out = seeds.copy()
    h, w = seeds.shape
    yy, xx = np.ogrid[:h, :w]
    for click in map(as_click, clicks):
        if click.kind is ClickKind.NT:
            continue
        disk = (xx - click.x) ** 2 + (yy - click.y) ** 2 <= radius * radius
        if click.kind is ClickKind.FG:
            opposite, freed = cv2.GC_BGD, cv2.GC_PR_FGD if to_click_class else cv2.GC_PR_BGD
        else:
            opposite, freed = cv2.GC_FGD, cv2.GC_PR_BGD if to_click_class else cv2.GC_PR_FGD
        out[disk & (seeds == opposite)] = freed
    return out


def click_components(mask: np.ndarray, clicks, radius: float, fill_holes: bool = False) -> np.ndarray:
    """The package's :func:`ntclick.components.click_components` with one ``radius`` for fg, nt
    and bg clicks (the package's setting gives nt clicks three times the radius).  The round's
    ``components5`` and ``components-holes5`` runs were made with an inline copy that measured
    distances from the click's exact point; ``components-holes5`` equals the package's ``cc`` run
    click for click."""
    from ntclick.components import click_components as package_rule

    r = max(int(np.ceil(radius)), 0)
    return package_rule(mask, clicks, click_radius=r, nt_radius=r, fill_holes=fill_holes)


def seed_components(seeds: np.ndarray, clicks, radius: float) -> np.ndarray:
    """Fg-like seeds (``cv2.GC_FGD`` / ``cv2.GC_PR_FGD``) in components that
    :func:`click_components` would drop become ``cv2.GC_PR_BGD``; a new array, click disks must
    be painted again afterwards."""
    fg_like = (seeds == cv2.GC_FGD) | (seeds == cv2.GC_PR_FGD)
    kept = click_components(fg_like, clicks, radius)
    out = seeds.copy()
    out[fg_like & ~kept] = cv2.GC_PR_BGD
    return out


def _zoom_components(predictor, radius: float) -> None:
    """Wrap ``predictor.zoom_box`` so that the first pass's unclicked object components do not
    count towards the box."""
    import torch

    from ntclick.clicks import scale_clicks

    zoom_box = predictor.zoom_box

    def wrapped(classes, clicks):
        points = scale_clicks(clicks, (predictor.hrr_scale, predictor.hrr_scale), classes.shape)
        kept = click_components((classes != 0).cpu().numpy(), points, radius)
        return zoom_box(classes.masked_fill(torch.from_numpy(~kept).to(classes.device), 0), clicks)

    predictor.zoom_box = wrapped


def guarded_components(mask: np.ndarray, fbu: np.ndarray, clicks, radius: int) -> np.ndarray:
    """:func:`ntclick.components.click_components` (``click_radius`` ``radius``), then every
    dropped 8-connected piece that holds an FBU-foreground pixel comes back and every filled
    4-connected hole that holds an FBU-background pixel opens again.  A new bool array."""
    from ntclick.clicks import ClickKind, as_click
    from ntclick.components import click_components as package_rule
    from ntclick.fbu import BG, FG

    kept = package_rule(mask, clicks, click_radius=radius, fill_holes=False)
    n, labels = cv2.connectedComponents((mask & ~kept).astype(np.uint8), connectivity=8)
    back = np.unique(labels[(fbu == FG) & (labels > 0)])
    kept |= np.isin(labels, back[back > 0])
    bg_clicks = [c for c in map(as_click, clicks) if c.kind is ClickKind.BG]  # holes only: no anchor
    filled = package_rule(kept, bg_clicks, click_radius=radius, fill_holes=True)
    n, labels = cv2.connectedComponents((filled & ~kept).astype(np.uint8), connectivity=4)
    shut = np.unique(labels[(fbu == BG) & (labels > 0)])
    return filled & ~np.isin(labels, shut[shut > 0])


def _guarded(predictor, radius: int) -> None:
    """Wrap ``predictor.predict`` (its own ``click_components`` off) with :func:`guarded_components`."""
    from ntclick.clicks import validate_clicks
    from ntclick.fbu import BG, FG
    from ntclick.prediction import Prediction

    predictor.click_components = False
    predict = predictor.predict

    def wrapped(clicks=None, **kwargs):
        p = predict(clicks, **kwargs)
        points = validate_clicks(list(clicks or []), p.mask.shape)
        mask = guarded_components(p.mask, p.fbu, points, radius) if points else p.mask
        changed = mask != p.mask
        soft, fbu = p.soft.copy(), p.fbu.copy()
        soft[changed] = mask[changed]
        fbu[changed] = np.where(mask[changed], FG, BG)
        return Prediction(mask=mask, soft=soft, fbu=fbu)

    predictor.predict = wrapped


def _components(predictor, radius: float, fill_holes: bool) -> None:
    """Wrap ``predictor.predict`` so its mask (and the soft mask where the mask changed) goes
    through :func:`click_components`; the predictor's own ``click_components`` is turned off."""
    from ntclick.clicks import validate_clicks
    from ntclick.prediction import Prediction

    predictor.click_components = False
    predict = predictor.predict

    def wrapped(clicks=None, **kwargs):
        prediction = predict(clicks, **kwargs)
        points = validate_clicks(list(clicks or []), prediction.mask.shape)
        mask = click_components(prediction.mask, points, radius, fill_holes)
        soft = prediction.soft.copy()
        soft[mask != prediction.mask] = mask[mask != prediction.mask]
        return Prediction(mask=mask, soft=soft, fbu=prediction.fbu)

    predictor.predict = wrapped


def _edge_weights(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Random-walker edge weights between 4-neighbours: exp(-beta |Lab difference|^2), beta
    from the image's mean squared difference (as GrabCut's pairwise term)."""
    lab = cv2.cvtColor(image, cv2.COLOR_RGB2LAB).astype(np.float32)
    dx = ((lab[:, 1:] - lab[:, :-1]) ** 2).sum(-1)
    dy = ((lab[1:] - lab[:-1]) ** 2).sum(-1)
    beta = 1.0 / (2.0 * (dx.sum() + dy.sum()) / max(1, dx.size + dy.size) + 1e-6)
    return np.exp(-beta * dx) + 1e-4, np.exp(-beta * dy) + 1e-4


def random_walk(
    image: np.ndarray, known: np.ndarray, values: np.ndarray, prior: np.ndarray, lam: float, iters: int = 300
) -> np.ndarray:
    """Minimise sum_edges w (x_i - x_j)^2 + lam * sum_unknown (x_i - prior_i)^2 with x fixed to
    ``values`` where ``known`` (a random walker with a prior term), by Jacobi-preconditioned
    conjugate gradients on the pixel grid.  float32 (H, W)."""
    wx, wy = _edge_weights(image)
    m = (~known).astype(np.float32)
    deg = np.zeros(known.shape, np.float32)
    deg[:, 1:] += wx
    deg[:, :-1] += wx
    deg[1:] += wy
    deg[:-1] += wy

    def neighbours(z: np.ndarray) -> np.ndarray:
        out = np.zeros_like(z)
        out[:, 1:] += wx * z[:, :-1]
        out[:, :-1] += wx * z[:, 1:]
        out[1:] += wy * z[:-1]
        out[:-1] += wy * z[1:]
        return out

    def apply(z: np.ndarray) -> np.ndarray:  # the system's matrix on the unknown pixels
        return m * ((deg + lam) * z - neighbours(z))

    prior = prior.astype(np.float32)
    b = m * (lam * prior + neighbours(np.where(known, values, 0).astype(np.float32)))
    diag = m * (deg + lam) + (1 - m)
    z = m * prior
    r = b - apply(z)
    pz = r / diag
    p, rz = pz.copy(), float((r * pz).sum())
    tol = 1e-3 * (float(np.sqrt((b * b).sum())) + 1e-9)
    for _ in range(iters):
        ap = apply(p)
        alpha = rz / (float((p * ap).sum()) + 1e-12)
        z += alpha * p
        r -= alpha * ap
        if float(np.sqrt((r * r).sum())) < tol:
            break
        pz = r / diag
        rz_new = float((r * pz).sum())
        p, rz = pz + (rz_new / rz) * p, rz_new
    return np.where(known, values, z)


def _patch_walk(lam: float, prior_from: str) -> None:
    """The band step decided by :func:`random_walk` from the band seeds' definite pixels, with
    ECP's soft mask (``prior_from`` "soft") or GrabCut's answer ("grabcut") as the prior."""
    import ntclick.band_grabcut as band

    original = band.grabcut_band

    def walk_band(image, soft, fbu, clicks, **kwargs):
        seeds = band.band_seeds(soft, fbu, clicks, threshold=kwargs.get("threshold", 0.5))
        known = (seeds == cv2.GC_FGD) | (seeds == cv2.GC_BGD)
        if prior_from == "grabcut":
            prior = original(image, soft, fbu, clicks, **kwargs).astype(np.float32)
        else:
            prior = soft
        x = random_walk(image, known, (seeds == cv2.GC_FGD).astype(np.float32), prior, lam)
        return x > 0.5

    band.grabcut_band = walk_band


def _patch_seeds(rule) -> None:
    """Apply ``rule(seeds, fbu, clicks) -> seeds`` after the package's band seeds, then paint
    the click disks again with the package's own rules."""
    import ntclick.band_grabcut as band
    from ntclick.baselines.grabcut import paint_click_seeds
    from ntclick.clicks import validate_clicks

    original = band.band_seeds

    def band_seeds(soft, fbu, clicks, **kwargs):
        clicks = validate_clicks(list(clicks), fbu.shape)
        seeds = rule(original(soft, fbu, clicks, **kwargs), fbu, clicks)
        radius = int(kwargs.get("click_radius", 5))
        nt_radius = kwargs.get("nt_radius")
        paint_click_seeds(seeds, clicks, radius, 3 * radius if nt_radius is None else int(nt_radius))
        return seeds

    band.band_seeds = band_seeds


def _patch_ring(factor: float, first_only: bool) -> None:
    def rule(seeds, fbu, clicks):
        return seeds if first_only and len(clicks) != 1 else ring_seeds(seeds, fbu, factor)

    _patch_seeds(rule)


def _wrap_ecp(predictor, forward) -> None:
    """Replace the predictor's ECP by one whose logits are ``forward(ecp, image, maps)``."""
    import torch

    class WrappedECP(torch.nn.Module):
        def __init__(self, ecp):
            super().__init__()
            self.inner, self.config = ecp, ecp.config

        def forward(self, image, maps):
            return forward(self.inner, image, maps)

    predictor.ecp = WrappedECP(predictor.ecp).eval()


def _flip_ecp(predictor) -> None:
    def mirrored_mean(ecp, image, maps):
        mirrored = ecp(image.flip(-1), maps.flip(-1)).flip(-1)
        return (ecp(image, maps) + mirrored) / 2

    _wrap_ecp(predictor, mirrored_mean)


def _bias_uncertain(predictor, bias: float) -> None:
    from ntclick.fbu import FBU_VALUES, UNCERTAIN

    channel = FBU_VALUES.index(UNCERTAIN)

    def biased(ecp, image, maps):
        logits = ecp(image, maps).clone()
        logits[:, channel] -= bias
        return logits

    _wrap_ecp(predictor, biased)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weights", default="weights/ntclick-tiny")
    parser.add_argument("--variant", choices=VARIANTS, default="shipped")
    parser.add_argument("--value", type=float, default=None, help="the variant's number (see above)")
    parser.add_argument("--first-only", action="store_true", help="ring: at the first click only")
    parser.add_argument(
        "--click-components", action="store_true", help="the predictor's click_components on (label gets -cc)"
    )
    parser.add_argument("--dataset", default="folder=data/bsds_val", help="NAME or NAME=PATH")
    parser.add_argument("--protocol", choices=("standard", "nt"), default="standard")
    parser.add_argument("--target-iou", type=float, default=0.9)
    parser.add_argument("--out", default="benchmarks/results/sixth_round")
    args = parser.parse_args(argv)
    if args.variant not in ("shipped", "flip") and args.value is None:
        parser.error(f"--variant {args.variant} needs --value")

    import ntclick.band_grabcut as band
    from ntclick import NTClickPredictor

    label = args.variant if args.value is None else f"{args.variant}{args.value:g}"
    if args.variant == "ring":
        _patch_ring(args.value, args.first_only)
        label += "-first" if args.first_only else ""
    elif args.variant == "reach":
        _patch_seeds(lambda seeds, fbu, clicks: reach_seeds(seeds, fbu, clicks, args.value))
    elif args.variant in ("release", "release-click"):
        to_click = args.variant == "release-click"
        _patch_seeds(lambda seeds, fbu, clicks: release_seeds(seeds, clicks, args.value, to_click))
    elif args.variant in ("click-radius", "margin"):
        key = "click_radius" if args.variant == "click-radius" else "margin"
        band.grabcut_band = functools.partial(band.grabcut_band, **{key: int(args.value)})
    elif args.variant == "seed-components":
        _patch_seeds(lambda seeds, fbu, clicks: seed_components(seeds, clicks, args.value))
    elif args.variant in ("walk", "walk-grabcut"):
        _patch_walk(args.value, "grabcut" if args.variant == "walk-grabcut" else "soft")
    predictor = NTClickPredictor.from_pretrained(args.weights)
    if args.click_components:
        predictor.click_components = True
        label += "-cc"
    if args.variant == "flip":
        _flip_ecp(predictor)
    elif args.variant == "uncertain-bias":
        _bias_uncertain(predictor, args.value)
    elif args.variant == "components-guard":
        _guarded(predictor, int(args.value))
    elif args.variant == "zoom-components":
        _zoom_components(predictor, args.value)
    elif args.variant in ("components", "components-holes"):
        _components(predictor, args.value, args.variant == "components-holes")
    run_variant(predictor, label, args.dataset, args.target_iou, args.out, args.protocol)
    return 0


def wrap_mask_step(predictor, step) -> None:
    """Wrap ``predictor`` so each answer's mask goes through ``step(image, mask, clicks)``
    (image uint8 RGB as given to ``set_image``, mask bool (H, W), clicks as ``Click``; returns a
    bool mask); the soft mask becomes that mask (0 / 1), the FBU map stays the predictor's.
    Shared by ``edge_refiner.py`` and ``edge_snap.py``."""
    from ntclick.clicks import as_click
    from ntclick.prediction import Prediction

    predict, set_image = predictor.predict, predictor.set_image
    current = {}

    def keep_image(image, *args, **kwargs):
        current["image"] = np.asarray(image)
        return set_image(image, *args, **kwargs)

    def stepped(clicks, **kwargs):
        prediction = predict(clicks, **kwargs)
        mask = step(current["image"], prediction.mask, [as_click(c) for c in clicks])
        return Prediction(mask=mask, soft=mask.astype(np.float32), fbu=prediction.fbu)

    predictor.set_image, predictor.predict = keep_image, stepped


def run_variant(
    predictor, label: str, dataset_spec: str, target_iou: float, out: str, protocol: str = "standard"
) -> None:
    """The selection run: ``protocol`` on ``dataset_spec`` (NAME or NAME=PATH), objects stopped
    at ``target_iou``, resumable jsonl ``<out>/<label>_<dataset>_<protocol>.jsonl``, and a
    one-line summary.  Shared with ``memory_variants.py``."""
    from ntclick.eval import evaluate, open_dataset, summarize

    name, _, path = dataset_spec.partition("=")
    dataset = open_dataset(name, path or None)
    results = evaluate(
        predictor,
        dataset,
        protocol,
        target_iou=target_iou,
        model=label,
        jsonl_path=Path(out) / f"{label}_{dataset.name}_{protocol}.jsonl",
    )
    s = summarize(results).to_dict()
    print(
        f"{label}: objects {s['objects']}, NoC@85 {s['noc']['85']:.2f}, NoC@90 {s['noc']['90']:.2f}, "
        f"NoF@90 {s['nof']['90']}, 1-mIoU {100 * s['miou'][0]:.1f}, 5-mIoU {100 * s['miou'][4]:.1f}"
    )


if __name__ == "__main__":
    raise SystemExit(main())
