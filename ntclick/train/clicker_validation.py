"""Clicker validation: measure ECP checkpoints by the number of clicks, as they will be used.

The trainer's loss validation (``val_data``) scores one ECP forward on clicks drawn from the
ground truth.  The sixth training round found that it does not predict what users and the
benchmarks see: an ECP whose validation FBU accuracy rose needed 1.0 to 1.6 *more* clicks to
90% IoU on the BSDS validation folder.  With ``val_clicker_data`` set, an ECP run also runs
the evaluation's own loop (:func:`ntclick.eval.protocol.run_object`: the standard clicker,
the predictor with the settings it will ship with) on a folder of held-out objects at every
validation point, logs NoC and mIoU, and keeps the checkpoint with the fewest clicks as
``checkpoint_best.pt``.  ``val_clicker_protocols`` may name the nt protocol too (NTClick's
clicker over FBU maps); with several protocols the logged ``noc`` / ``miou1`` / ``miou5`` are
their means (what chooses the best checkpoint), ``nof`` their sum, and each protocol's own
numbers are logged as ``noc_<protocol>`` etc.: the twelfth round found an ECP that saved
standard clicks and cost nt ones.

Under ``torchrun`` each rank runs its share of the objects and the sums are reduced, so the
cost per validation is (objects x clicks x predictor time) / ranks.  The predictor runs ECP
only (``refine`` is off: an ECP run has no matching HRR); the band step and zoom-in, which are
not networks, run as configured.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from ntclick.train.config import TrainConfig, expand_path

__all__ = ["BEST_CHECKPOINT", "BENCHMARK_TEST_SETS", "ClickerValidator", "is_better", "progress_line"]

BEST_CHECKPOINT = "checkpoint_best.pt"
# The benchmarks' test sets: choosing checkpoints on them would overstate the numbers reported on them.
BENCHMARK_TEST_SETS = ("grabcut", "berkeley")


class ClickerValidator:
    """Runs the evaluation's clicker loop for an ECP on the configured validation objects.

    Args:
        config: the run's config; reads ``val_clicker_data`` (``NAME=PATH`` or a dataset
            name, paths may use ``{data}`` / ``{repo}``), ``val_clicker_objects`` (first N
            objects, 0 = all), ``val_clicker_target`` (the IoU that counts as done),
            ``val_clicker_settings`` (:class:`~ntclick.NTClickPredictor` keyword arguments) and
            ``val_clicker_protocols`` (``"standard"`` and / or ``"nt"``) and
            ``val_clicker_prev_mask`` (the predictor gets its previous mask from the second click on).
    """

    def __init__(self, config: TrainConfig) -> None:
        from ntclick.eval.datasets import open_dataset
        from ntclick.eval.protocol import ClickProtocol

        if not config.val_clicker_data:
            raise ValueError("val_clicker_data is not set")
        name, _, path = str(config.val_clicker_data).partition("=")
        name = name.strip()
        if name.lower() in BENCHMARK_TEST_SETS:
            raise ValueError(
                f"val_clicker_data={config.val_clicker_data!r}: {name} is a benchmark test set; choosing "
                "checkpoints on it would overstate the numbers reported on it. Use a validation folder "
                "of held-out training objects (benchmarks/make_bsds_val.py) as folder=PATH"
            )
        try:
            dataset = open_dataset(name, str(expand_path(path)) if path else None)
        except (FileNotFoundError, ValueError) as exc:
            raise type(exc)(f"val_clicker_data={config.val_clicker_data!r}: {exc}") from None
        n = len(dataset) if config.val_clicker_objects == 0 else min(config.val_clicker_objects, len(dataset))
        self.samples = [dataset[i] for i in range(n)]
        self.protocols = [
            ClickProtocol(
                p, target_iou=float(config.val_clicker_target), prev_mask=config.val_clicker_prev_mask
            )
            for p in config.val_clicker_protocols
        ]
        self.settings = {"refine": False, **dict(config.val_clicker_settings)}
        allowed = _predictor_options()
        unknown = sorted(set(self.settings) - allowed)
        if unknown:
            raise ValueError(
                f"val_clicker_settings: unknown predictor option(s) {unknown}; valid: {', '.join(sorted(allowed))}"
            )
        if self.settings["refine"]:
            raise ValueError("val_clicker_settings: refine must be false (an ECP run has no matching HRR)")
        self._hrr: nn.Module | None = None

    @property
    def target(self) -> float:
        """The IoU that counts as done."""
        return float(self.protocols[0].target_iou)  # type: ignore[arg-type]

    def spec(self) -> dict[str, Any]:
        """What the numbers depend on besides the weights; a best score is only kept across a
        resume when this is unchanged."""
        spec: dict[str, Any] = {
            "objects": [s.name for s in self.samples],
            "target": self.target,
            "settings": self.settings,
        }
        names = [p.clicker for p in self.protocols]
        if names != ["standard"]:  # runs from before the option keep their best score on resume
            spec["protocols"] = names
        if self.protocols[0].prev_mask:
            spec["prev_mask"] = True
        return spec

    def _predictor(self, ecp: nn.Module, device: torch.device) -> Any:
        from ntclick.modeling import build_hrr
        from ntclick.predictor import NTClickPredictor

        if self._hrr is None:
            # Never run (refine is off); the predictor needs one for its working size only.
            self._hrr = build_hrr("tiny")
        return NTClickPredictor(ecp, self._hrr, device=device, dtype="float32", **self.settings)

    def __call__(
        self, ecp: nn.Module, device: torch.device, rank: int = 0, world_size: int = 1
    ) -> dict[str, float]:
        """Evaluate ``ecp`` (an unwrapped training ECP; its train/eval mode is restored).

        Returns (the same on every rank) ``noc`` (mean clicks to ``target``, 20 when never),
        ``nof`` (objects that never reach it), ``miou1`` / ``miou5`` (mean IoU after 1 / 5
        clicks, a reached IoU carried forward) and ``objects``.  With several protocols,
        ``noc`` / ``miou1`` / ``miou5`` are the means over them, ``nof`` the sum, and each
        protocol's own values come as ``noc_<protocol>``, ``nof_<protocol>``, ...
        """
        from ntclick.eval.protocol import run_object

        was_training = ecp.training
        try:
            predictor = self._predictor(ecp, device)
            curves: dict[str, list[list[float]]] = {p.clicker: [] for p in self.protocols}
            for sample in self.samples[rank::world_size]:
                loaded = sample.load()  # decoded once for all protocols
                for protocol in self.protocols:
                    run = run_object(predictor, loaded, protocol, dataset="val", model="train")
                    curves[protocol.clicker].append(run.ious)
            per_protocol = {
                p.clicker: self._scores(curves[p.clicker], int(p.max_clicks), device, world_size)
                for p in self.protocols
            }
        finally:
            ecp.train(was_training)
        if len(per_protocol) == 1:
            return next(iter(per_protocol.values()))
        runs = list(per_protocol.values())
        scores = {key: sum(s[key] for s in runs) / len(runs) for key in ("noc", "miou1", "miou5")}
        scores.update(nof=sum(s["nof"] for s in runs), objects=runs[0]["objects"])
        for name, s in per_protocol.items():
            scores.update({f"{key}_{name}": s[key] for key in ("noc", "nof", "miou1", "miou5")})
        return scores

    def _scores(
        self, curves: list[list[float]], max_clicks: int, device: torch.device, world_size: int
    ) -> dict[str, float]:
        """NoC, NoF, mIoU@1/5 and the object count of this rank's curves, reduced over ranks."""
        from ntclick.metrics import miou_at_k, noc, nof

        n, k = max_clicks, len(curves)
        # Sums (not means) so that ranks add up; a curve stopped at the target counts its last IoU.
        sums = torch.tensor(
            [
                k,
                sum(noc(c, self.target, n) for c in curves),
                nof(curves, self.target, n),
                k * miou_at_k(curves, 1) if k else 0.0,
                k * miou_at_k(curves, 5) if k else 0.0,
            ],
            dtype=torch.float64,
            device=device,
        )
        if world_size > 1:
            torch.distributed.all_reduce(sums)
        count = max(1.0, float(sums[0]))
        return {
            "noc": float(sums[1]) / count,
            "nof": float(sums[2]),
            "miou1": float(sums[3]) / count,
            "miou5": float(sums[4]) / count,
            "objects": float(sums[0]),
        }


def _predictor_options() -> set[str]:
    """NTClickPredictor's keyword options, less the two the validator sets itself."""
    import inspect

    from ntclick.predictor import NTClickPredictor

    params = inspect.signature(NTClickPredictor.__init__).parameters
    return {n for n, p in params.items() if p.kind is p.KEYWORD_ONLY} - {"device", "dtype"}


def is_better(metrics: dict[str, float], best: dict[str, Any] | None) -> bool:
    """Fewer clicks wins; equal clicks, the higher IoU after 5 clicks."""
    if best is None:
        return True
    return (metrics["noc"], -metrics["miou5"]) < (best["noc"], -best["miou5"])


def progress_line(step: int, target: float, scores: dict[str, float], best: dict[str, Any]) -> str:
    """The trainer's one-line report of a clicker validation; with several protocols the NoC is
    their mean, and each protocol's own NoC follows it."""
    protocols = [k[len("noc_") :] for k in scores if k.startswith("noc_")]
    noc = f"NoC@{round(100 * target)} {scores['noc']:.2f}"
    if protocols:
        noc += " (mean of " + ", ".join(f"{p} {scores['noc_' + p]:.2f}" for p in protocols) + ")"
    return (
        f"step {step}: {noc} on {int(scores['objects'])} objects, 5-mIoU {100 * scores['miou5']:.1f}"
        f" (best {best['noc']:.2f} at step {best['step']})"
    )
