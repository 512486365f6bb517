"""Summaries of per-object results: NoC, NoF, mIoU@k, boundary IoU, seconds per click; tables.

Everything here is recomputed from :class:`~ntclick.eval.protocol.ObjectResult` records, so a
summary can always be rebuilt from the per-object JSON lines (:func:`summarize_jsonl`).

Definitions (RITM / SimpleClick):

- ``NoC@t``: mean over objects of the first click count whose IoU >= t (``max_clicks`` when
  never reached).
- ``NoF@t``: number of objects that never reach IoU t within ``max_clicks``.
- ``mIoU@k``: mean IoU after click k; ``5-mIoU`` = mIoU@5.  A curve that stopped early (target
  reached, or nothing left to correct) keeps its last value.
- ``BIoU@5``: mean boundary IoU after click 5 (same extension rule).
- ``s/click``: mean wall time of one ``predict`` call (``set_image`` time reported apart).

Torch-free.
"""

from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ntclick import metrics
from ntclick.eval.protocol import ObjectResult, read_jsonl
from ntclick.image_io import atomic_write_bytes

__all__ = [
    "THRESHOLDS",
    "Summary",
    "summarize",
    "summarize_jsonl",
    "summaries_to_markdown",
    "summaries_to_csv",
    "write_summaries",
]

THRESHOLDS = (0.85, 0.90, 0.95)


@dataclass
class Summary:
    """The metrics of one (model, dataset, protocol) group.

    ``noc`` / ``nof`` map a threshold label (``"85"``, ``"90"``, ``"95"``) to NoC (float) and
    NoF (int); ``miou`` is mIoU@1..max_clicks (float, fraction in [0, 1]).
    """

    model: str
    dataset: str
    protocol: str
    objects: int
    failed: int
    max_clicks: int
    noc: dict[str, float]
    nof: dict[str, int]
    miou: list[float]
    biou_at_5: float
    seconds_per_click: float
    set_image_seconds: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def miou_at_5(self) -> float:
        return self.miou[min(5, self.max_clicks) - 1] if self.miou else float("nan")

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["miou_at_5"] = self.miou_at_5
        return d


def _extend(curve: Sequence[float], n: int) -> np.ndarray:
    c = np.asarray(curve, dtype=np.float64)
    if c.size == 0:
        return np.zeros(n)
    return np.concatenate([c[:n], np.full(max(0, n - c.size), c[-1])])


def summarize(results: Sequence[ObjectResult], max_clicks: int | None = None) -> Summary:
    """Metrics of one group of results (same model, dataset and protocol).

    ``max_clicks`` defaults to the protocol's.  Objects with ``error`` set are counted in
    ``failed`` and otherwise left out.
    """
    if not results:
        raise ValueError("no results to summarize")
    ok = [r for r in results if r.error is None]
    first = results[0]
    n = int(max_clicks or first.settings.get("max_clicks", 20))
    curves = [r.ious for r in ok]
    noc = {
        f"{round(t * 100)}": float(np.mean([metrics.noc(c, t, n) for c in curves]))
        if curves
        else float("nan")
        for t in THRESHOLDS
    }
    nof = {f"{round(t * 100)}": int(metrics.nof(curves, t, n)) if curves else 0 for t in THRESHOLDS}
    miou = [float(v) for v in metrics.miou_curve(curves, n)] if curves else []
    bious = [_extend(r.boundary_ious, 5)[4] for r in ok]
    seconds = [s for r in ok for s in r.seconds]
    return Summary(
        model=first.model,
        dataset=first.dataset,
        protocol=first.protocol,
        objects=len(ok),
        failed=len(results) - len(ok),
        max_clicks=n,
        noc=noc,
        nof=nof,
        miou=miou,
        biou_at_5=float(np.mean(bious)) if bious else float("nan"),
        seconds_per_click=float(np.mean(seconds)) if seconds else float("nan"),
        set_image_seconds=float(np.mean([r.set_image_seconds for r in ok])) if ok else float("nan"),
        settings=dict(first.settings),
    )


def summarize_jsonl(path: str | os.PathLike, max_clicks: int | None = None) -> list[Summary]:
    """Rebuild the summaries from a per-object JSON lines file (one per group found in it)."""
    groups: dict[tuple, list[ObjectResult]] = {}
    for r in read_jsonl(path):
        key = (r.model, r.dataset, r.protocol, json.dumps(r.settings, sort_keys=True))
        groups.setdefault(key, []).append(r)
    return [summarize(g, max_clicks) for g in groups.values()]


_COLUMNS = (
    ("model", lambda s: s.model),
    ("dataset", lambda s: s.dataset),
    ("protocol", lambda s: s.protocol),
    ("objects", lambda s: str(s.objects)),
    ("NoC@85", lambda s: f"{s.noc['85']:.2f}"),
    ("NoC@90", lambda s: f"{s.noc['90']:.2f}"),
    ("NoC@95", lambda s: f"{s.noc['95']:.2f}"),
    ("NoF@85", lambda s: str(s.nof["85"])),
    ("NoF@90", lambda s: str(s.nof["90"])),
    ("NoF@95", lambda s: str(s.nof["95"])),
    ("1-mIoU", lambda s: f"{100 * s.miou[0]:.2f}" if s.miou else "nan"),
    ("5-mIoU", lambda s: f"{100 * s.miou_at_5:.2f}"),
    ("BIoU@5", lambda s: f"{100 * s.biou_at_5:.2f}"),
    ("s/click", lambda s: f"{s.seconds_per_click:.3f}"),
)


def summaries_to_markdown(summaries: Sequence[Summary]) -> str:
    """A Markdown table, one row per summary (IoUs in percent)."""
    head = [name for name, _ in _COLUMNS]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for s in summaries:
        lines.append("| " + " | ".join(fmt(s) for _, fmt in _COLUMNS) + " |")
    return "\n".join(lines) + "\n"


def summaries_to_csv(summaries: Sequence[Summary]) -> str:
    """CSV with the table's columns plus ``mIoU@1..N`` (fractions, full precision)."""
    n = max((s.max_clicks for s in summaries), default=0)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow([name for name, _ in _COLUMNS] + [f"mIoU@{k}" for k in range(1, n + 1)])
    for s in summaries:
        writer.writerow([fmt(s) for _, fmt in _COLUMNS] + [f"{v:.6f}" for v in s.miou])
    return buf.getvalue()


def write_summaries(
    summaries: Sequence[Summary], out_dir: str | os.PathLike, stem: str = "summary"
) -> list[Path]:
    """Write ``<stem>.json``, ``<stem>.md`` and ``<stem>.csv`` atomically into ``out_dir``."""
    out = Path(out_dir)
    paths = [out / f"{stem}.json", out / f"{stem}.md", out / f"{stem}.csv"]
    payload = json.dumps([s.to_dict() for s in summaries], indent=2)
    atomic_write_bytes(paths[0], (payload + "\n").encode("utf-8"))
    atomic_write_bytes(paths[1], summaries_to_markdown(summaries).encode("utf-8"))
    atomic_write_bytes(paths[2], summaries_to_csv(summaries).encode("utf-8"))
    return paths
