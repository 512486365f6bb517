"""The click protocol runner: simulate a user clicking until the object is segmented.

For every object: start from an empty prediction, ask the clicker where the next click goes
(``standard``: the RITM/SimpleClick clicker on the binary mask; ``nt``: the NTClick clicker
on the three-class FBU maps), optionally displace it by Gaussian noise, run the predictor
with all clicks so far, and record IoU and boundary IoU at the original resolution (ignore
pixels excluded) after every click.  Up to ``max_clicks`` clicks, or until ``target_iou``.

Any object with ``set_image(image)`` and ``predict(clicks) -> Prediction`` can be evaluated
(the network predictor, the GrabCut baseline, a test oracle).  The binary mask scored is
``prediction.soft > mask_threshold`` (0.49, as RITM and SimpleClick do).

Torch-free: NumPy and OpenCV only (the predictor brings its own dependencies).
"""

from __future__ import annotations

import json
import os
import time
import zlib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from typing import Protocol as TypingProtocol

import numpy as np

from ntclick import clicker, metrics
from ntclick.clicks import Click
from ntclick.eval.datasets import LoadedSample, SegmentationDataset
from ntclick.fbu import fbu_from_mask
from ntclick.image_io import atomic_write_bytes
from ntclick.jsonl_files import COMPRESSED_SUFFIXES, read_jsonl_lines, resolve_jsonl
from ntclick.progress import track

__all__ = [
    "CLICKERS",
    "Predictor",
    "ClickProtocol",
    "ClickRecord",
    "ObjectResult",
    "run_object",
    "prediction_masks",
    "evaluate",
    "read_jsonl",
    "read_jsonl_lines",
    "resolve_jsonl",
    "describe_predictor",
]

CLICKERS = ("standard", "nt")


class Predictor(TypingProtocol):
    """What the harness needs from a predictor.

    A predictor may also have ``describe() -> dict`` (JSON values): what decides its masks.
    It is stored with every result, and :func:`evaluate` resumes only from equal records.
    """

    def set_image(self, image: np.ndarray) -> None: ...

    def predict(self, clicks: list[Click]) -> Any: ...  # and prev_mask= for ClickProtocol.prev_mask


@dataclass(frozen=True)
class ClickProtocol:
    """How the simulated user clicks.

    Attributes:
        clicker: ``"standard"`` (errors of the binary mask, fg/bg clicks) or ``"nt"`` (errors
            of the FBU map against the evaluation-recipe ground-truth FBU map, fg/bg/nt clicks).
        max_clicks: clicks per object.
        noise_sigma: standard deviation in pixels of the Gaussian displacement of each click
            (0 = exact clicks).  The clicker still aims at its intended pixel.
        seed: seed of the noise; each object gets its own generator derived from the seed and
            the object's name, so results do not depend on order, ``--limit`` or resuming.
        target_iou: stop an object once its IoU reaches this; ``None`` records full curves.
        mask_threshold: the scored mask is ``prediction.soft > mask_threshold``.
        boundary_dilation_ratio: band width of boundary IoU, as a fraction of the image diagonal.
        prev_mask: from the second click on, hand the predictor its previous mask
            (``predict(clicks, prev_mask=mask)``), as an interactive tool that keeps the last
            answer would; the predictor must accept it (:class:`~ntclick.NTClickPredictor` with a
            prior ECP, :class:`~ntclick.baselines.GrabCutPredictor`).  Adds ``-prev`` to
            :attr:`name`.
    """

    clicker: str = "standard"
    max_clicks: int = 20
    noise_sigma: float = 0.0
    seed: int = 0
    target_iou: float | None = None
    mask_threshold: float = 0.49
    boundary_dilation_ratio: float = 0.02
    prev_mask: bool = False

    def __post_init__(self) -> None:
        if self.clicker not in CLICKERS:
            raise ValueError(
                f"unknown click protocol {self.clicker!r}: expected one of {', '.join(CLICKERS)}"
            )
        if int(self.max_clicks) < 1:
            raise ValueError(f"max_clicks must be >= 1, got {self.max_clicks}")
        if not self.noise_sigma >= 0:
            raise ValueError(f"noise sigma must be >= 0 pixels, got {self.noise_sigma}")
        if self.target_iou is not None and not 0 < self.target_iou <= 1:
            raise ValueError(f"target IoU must be in (0, 1], got {self.target_iou}")

    @property
    def name(self) -> str:
        """Short label used in tables and file names, e.g. ``standard`` or ``nt-noise5``."""
        noise = f"-noise{self.noise_sigma:g}" if self.noise_sigma > 0 else ""
        return self.clicker + noise + ("-prev" if self.prev_mask else "")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if not self.prev_mask:  # records written before the field existed stay resumable
            del d["prev_mask"]
        return d

    def object_rng(self, object_name: str) -> np.random.Generator:
        """The noise generator of one object: a function of ``seed`` and the object's name only."""
        return np.random.default_rng([int(self.seed), zlib.crc32(object_name.encode("utf-8"))])


@dataclass(frozen=True)
class ClickRecord:
    """One simulated click: where the user aimed and where the (possibly noisy) click landed.

    ``x`` / ``y`` are columns / rows in original-image pixels (``ntclick.clicks`` convention).
    """

    kind: str
    x: float
    y: float
    aimed_x: float
    aimed_y: float

    def click(self) -> Click:
        return Click(self.x, self.y, self.kind)


@dataclass
class ObjectResult:
    """Everything measured on one object; one JSON line in the per-object output.

    Attributes:
        dataset, name: which object.
        model: label of the predictor.
        protocol: :attr:`ClickProtocol.name`; ``settings`` holds the full :class:`ClickProtocol`.
        height, width: image size in pixels.
        clicks: the clicks in order.
        ious: IoU after click 1, 2, ... (ignore pixels excluded).
        boundary_ious: boundary IoU after each click.
        seconds: wall time of each ``predict`` call.
        set_image_seconds: wall time of ``set_image``.
        error: why the object could not be evaluated (only with ``skip_errors``); then the
            lists are empty and the object does not count in the metrics.
        predictor: what decided the masks: the predictor's ``describe()`` (settings and a
            weights digest for :class:`ntclick.NTClickPredictor`); :func:`evaluate` resumes
            only from records whose ``predictor`` equals the running one's.
        source: the folder the dataset was read from (resolved), when it has a ``root``: two
            datasets of one name (two ``folder=`` datasets) are told apart by it.
    """

    dataset: str
    name: str
    model: str
    protocol: str
    settings: dict[str, Any]
    height: int = 0
    width: int = 0
    clicks: list[ClickRecord] = field(default_factory=list)
    ious: list[float] = field(default_factory=list)
    boundary_ious: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    set_image_seconds: float = 0.0
    error: str | None = None
    predictor: dict[str, Any] = field(default_factory=dict)
    source: str | None = None

    def to_json(self) -> str:
        d = asdict(self)
        return json.dumps(d, separators=(",", ":"))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ObjectResult:
        d = dict(d)
        d["clicks"] = [ClickRecord(**c) for c in d.get("clicks", [])]
        return cls(**d)


def prediction_masks(
    prediction: Any, threshold: float, shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """A prediction -> (scored bool mask (H, W), FBU map uint8 (H, W)), as the evaluation scores it.

    Raises ``ValueError`` when the predictor's mask is not of ``shape``; a prediction without an
    FBU map of its own gets :func:`~ntclick.fbu.fbu_from_mask` of its mask."""
    soft = np.asarray(prediction.soft)
    if soft.shape != shape:
        raise ValueError(f"the predictor returned a mask of shape {soft.shape}, expected the image's {shape}")
    mask = soft > threshold
    fbu = np.asarray(prediction.fbu)
    # A predictor without an FBU of its own (all one value) gets the evaluation recipe's FBU of its mask.
    if fbu.shape != shape or fbu.size == 0 or fbu.min() == fbu.max():
        fbu = fbu_from_mask(mask)
    return mask, fbu


def run_object(
    predictor: Predictor,
    sample: LoadedSample,
    protocol: ClickProtocol,
    *,
    dataset: str = "",
    model: str = "",
) -> ObjectResult:
    """Run one object through ``protocol``.

    Args:
        predictor: has ``set_image(image)`` and ``predict(clicks) -> Prediction``.
        sample: the decoded object (image uint8 (H, W, 3), gt and ignore bool (H, W)).
        protocol: how to click.

    Returns:
        The object's curves; ``len(result.ious)`` is ``max_clicks`` unless the target IoU was
        reached or the clicker found no error pixel left (a perfect mask).
    """
    gt, ignore = sample.gt, sample.ignore
    h, w = gt.shape
    rng = protocol.object_rng(sample.name)
    gt_fbu = fbu_from_mask(gt) if protocol.clicker == "nt" else None
    result = ObjectResult(dataset, sample.name, model, protocol.name, protocol.to_dict(), h, w)

    t0 = time.perf_counter()
    predictor.set_image(sample.image)
    result.set_image_seconds = time.perf_counter() - t0

    pred_mask = np.zeros((h, w), bool)
    pred_fbu = np.zeros((h, w), np.uint8)
    aimed: list[Click] = []
    clicks: list[Click] = []
    for _ in range(int(protocol.max_clicks)):
        if protocol.clicker == "nt":
            nxt = clicker.next_fbu_click(pred_fbu, gt_fbu, clicked=aimed, ignore=ignore)
        else:
            nxt = clicker.next_click(pred_mask, gt, clicked=aimed, ignore=ignore)
        if nxt is None:  # nothing left to correct
            break
        placed = nxt
        if protocol.noise_sigma > 0:
            placed = clicker.add_click_noise([nxt], protocol.noise_sigma, rng, (h, w))[0]
        aimed.append(nxt)
        clicks.append(placed)
        result.clicks.append(ClickRecord(placed.kind.value, placed.x, placed.y, nxt.x, nxt.y))

        t0 = time.perf_counter()
        if protocol.prev_mask and len(clicks) > 1:
            prediction = predictor.predict(list(clicks), prev_mask=pred_mask)
        else:
            prediction = predictor.predict(list(clicks))
        result.seconds.append(time.perf_counter() - t0)
        pred_mask, pred_fbu = prediction_masks(prediction, protocol.mask_threshold, (h, w))

        iou = float(metrics.iou(pred_mask, gt, ignore=ignore))
        result.ious.append(iou)
        result.boundary_ious.append(
            float(
                metrics.boundary_iou(
                    pred_mask, gt, dilation_ratio=protocol.boundary_dilation_ratio, ignore=ignore
                )
            )
        )
        if protocol.target_iou is not None and iou >= protocol.target_iou:
            break
    return result


def read_jsonl(path: str | os.PathLike) -> list[ObjectResult]:
    """Read per-object results written by :func:`evaluate`, from a plain or a compressed file
    (``.xz``, as the stored results are, or ``.gz``); ``x.jsonl`` is read from ``x.jsonl.xz`` or
    ``x.jsonl.gz`` when only that exists (:func:`resolve_jsonl`).  A truncated last line (an
    interrupted run) is dropped; any other malformed line raises ``ValueError`` naming it."""
    p = resolve_jsonl(path)
    lines = read_jsonl_lines(p)
    out = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        try:
            out.append(ObjectResult.from_dict(json.loads(line)))
        except (json.JSONDecodeError, TypeError) as exc:
            if i == len(lines) - 1:
                break
            raise ValueError(f"{p}, line {i + 1}: not an ntclick evaluation record ({exc})") from None
    return out


def _stored_jsonl(path: Path) -> Path | None:
    """:func:`resolve_jsonl` of ``path``, or None when neither it nor a compressed copy exists."""
    try:
        return resolve_jsonl(path)
    except FileNotFoundError:
        return None


def _append_line(path: Path, line: str) -> None:
    # One write + fsync per object: an interrupted run loses at most the line being written,
    # and read_jsonl drops such a truncated tail.
    with open(path, "a", encoding="utf-8") as f:
        f.write(line + "\n")
        f.flush()
        os.fsync(f.fileno())


def evaluate(
    predictor: Predictor,
    dataset: SegmentationDataset | Sequence,
    protocol: ClickProtocol | str = "standard",
    *,
    max_clicks: int | None = None,
    noise_sigma: float | None = None,
    seed: int | None = None,
    target_iou: float | None = None,
    model: str = "model",
    limit: int | None = None,
    jsonl_path: str | os.PathLike | None = None,
    resume: bool = True,
    skip_errors: bool = False,
    progress: bool = True,
) -> list[ObjectResult]:
    """Evaluate a predictor on a dataset with one click protocol.

    Args:
        predictor: has ``set_image`` / ``predict`` (see :class:`Predictor`).
        dataset: a :class:`SegmentationDataset` (or any sequence of objects with ``.name``
            and ``.load()``).
        protocol: a :class:`ClickProtocol`, or its clicker name (``"standard"`` / ``"nt"``);
            ``max_clicks``, ``noise_sigma``, ``seed`` and ``target_iou`` override its fields.
        model: label stored with every result.
        limit: evaluate only the first ``limit`` objects.
        jsonl_path: stream one JSON line per object here as soon as it is done (plain JSON
            lines, never compressed).  With ``resume`` (default), objects already in the file
            with the same model label, protocol settings, dataset (name and source folder) and
            predictor (:func:`describe_predictor`: settings and weights) are read back instead
            of being run again; all other lines are dropped.  A file holding another folder's results
            under the same dataset name raises ``ValueError`` instead (two ``folder=`` datasets
            into one output folder would otherwise reuse or delete each other's records).
            When only a compressed copy ``jsonl_path + ".xz"`` or ``+ ".gz"`` exists (a stored
            run; :func:`resolve_jsonl`), its reusable records are read from there and written to
            ``jsonl_path``; the compressed copy is left as it is.
        skip_errors: an object whose files cannot be read is recorded with ``error`` set and
            left out of the metrics, instead of stopping the run.
        progress: report progress over objects on stderr (a bar in a terminal, a plain line
            every 30 s otherwise: :class:`ntclick.progress.Progress`).

    Returns:
        One :class:`ObjectResult` per object, in dataset order.
    """
    if isinstance(protocol, str):
        protocol = ClickProtocol(protocol)
    overrides = {
        k: v
        for k, v in dict(
            max_clicks=max_clicks, noise_sigma=noise_sigma, seed=seed, target_iou=target_iou
        ).items()
        if v is not None
    }
    if overrides:
        protocol = ClickProtocol(**{**protocol.to_dict(), **overrides})
    dataset_name = getattr(dataset, "name", "dataset")
    root = getattr(dataset, "root", None)
    source = str(Path(root).resolve()) if root is not None else None
    samples = list(dataset)[: limit if limit is not None else None]

    described = describe_predictor(predictor)
    done: dict[str, ObjectResult] = {}
    path = Path(jsonl_path) if jsonl_path is not None else None
    if path is not None and path.suffix in COMPRESSED_SUFFIXES:
        raise ValueError(
            f"{path}: evaluate appends plain JSON lines; name a .jsonl file and compress it when done"
        )
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        stored = _stored_jsonl(path) if resume else None
        if stored is not None:
            settings = protocol.to_dict()
            previous = read_jsonl(stored)
            other = next(
                (r.source for r in previous if r.dataset == dataset_name and r.source not in (None, source)),
                None,
            )
            if other is not None:
                # Another dataset of the same name (two folder= datasets): resuming would reuse
                # or delete its records.
                raise ValueError(
                    f"{stored} holds results of dataset {dataset_name!r} read from {other}, not from "
                    f"{source}: write this run to another output folder or label, or do not resume "
                    "(ntclick eval --no-resume) to replace them"
                )
            for r in previous:
                if (
                    r.settings == settings
                    and r.model == model
                    and r.dataset == dataset_name
                    and r.predictor == described
                    and r.source == source
                    and r.error is None
                ):
                    done[r.name] = r
            # Rewrite the file with the reusable records only, so stale or partial lines never mix in.
            atomic_write_bytes(path, "".join(r.to_json() + "\n" for r in done.values()).encode("utf-8"))
        elif path.exists():
            path.unlink()

    results: list[ObjectResult] = []
    # A bar in a terminal, a plain line every 30 s in a log file (ntclick.progress).
    for sample in track(samples, f"{model} {dataset_name} {protocol.name}", "object", enabled=progress):
        if sample.name in done:
            results.append(done[sample.name])
            continue
        try:
            loaded = sample.load()
        except (FileNotFoundError, ValueError) as exc:
            if not skip_errors:
                raise
            r = ObjectResult(
                dataset_name, sample.name, model, protocol.name, protocol.to_dict(), error=str(exc)
            )
        else:
            r = run_object(predictor, loaded, protocol, dataset=dataset_name, model=model)
        r.predictor = described
        r.source = source
        results.append(r)
        if path is not None:
            _append_line(path, r.to_json())
    return results


def describe_predictor(predictor: Any) -> dict[str, Any]:
    """``predictor.describe()`` as plain JSON values (so it compares equal after a round trip
    through a results file), or just the class name for a predictor without ``describe``."""
    describe = getattr(predictor, "describe", None)
    described = describe() if callable(describe) else {"predictor": type(predictor).__name__}
    return json.loads(json.dumps(described))
