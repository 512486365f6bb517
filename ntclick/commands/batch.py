"""``ntclick batch``: segment many images from a jobs file of clicks (a dataset pipeline's step).

The jobs file is JSON Lines, one object per line (blank lines are skipped)::

    {"image": "photos/cat.jpg", "clicks": ["fg:120,80", "bg:10,10"]}
    {"image": "photos/cat.jpg", "clicks": [[200, 150, "fg"]], "name": "cat_tail"}
    {"image": "photos/dog.png", "clicks": [{"x": 40, "y": 52, "kind": "nt"}], "prev_mask": "dog_0.png"}

- ``image``: the image's path, relative to the jobs file's folder unless absolute;
- ``clicks``: the clicks in the image's pixels (``x`` the column, ``y`` the row), each
  ``"KIND:X,Y"`` as ``ntclick predict --click`` takes it, ``[x, y, kind]`` or
  ``{"x": .., "y": .., "kind": ..}``, kind ``fg``, ``bg`` or ``nt``;
- ``name`` (optional): the output's file stem, by default the image's stem; two jobs may not
  write the same file;
- ``prev_mask`` (optional): a previous mask (0/255 PNG, the image's size) the clicks correct, as
  ``ntclick predict --prev-mask``.

Each job writes ``OUT/NAME.png`` (0/255) and, with ``--overlays DIR`` / ``--soft DIR`` /
``--fbu DIR``, the overlay, the soft mask (0..255) or the FBU map as ``DIR/NAME.png``.
``--annotations FILE.jsonl`` also writes, at the end, one line per job with a mask: its name,
image, size, COCO RLE ``segmentation``, ``area`` and ``bbox`` (:mod:`ntclick.mask_formats`). The
whole file is checked before any weights are loaded (every problem is listed with its line).
Masks already in ``OUT`` are kept, so an interrupted run resumes where it stopped
(``--overwrite`` redoes them). Consecutive jobs on the same image share one ``set_image``.

Example::

    ntclick batch jobs.jsonl --weights weights/ntclick-tiny --out masks/ --overlays overlays/
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from ntclick.commands._predictor_options import (
    add_loading_options,
    add_predictor_options,
    add_source_options,
    make_predictor,
)

__all__ = ["BatchJob", "read_jobs", "register"]

_KEYS = {"image", "clicks", "name", "prev_mask"}


@dataclass(frozen=True)
class BatchJob:
    """One line of a jobs file: ``line`` (1-based), the resolved ``image`` path, the ``clicks``
    (list of :class:`~ntclick.clicks.Click`), the output ``name`` and an optional ``prev_mask`` path."""

    line: int
    image: Path
    clicks: list
    name: str
    prev_mask: Path | None = None


def _parse_click(item):
    from ntclick.clicks import Click

    if isinstance(item, str):
        from ntclick.commands.predict import parse_click_arg

        try:
            return parse_click_arg(item)
        except argparse.ArgumentTypeError as exc:
            raise ValueError(str(exc)) from None
    if isinstance(item, dict):
        if set(item) != {"x", "y", "kind"}:
            raise ValueError(f"a click object needs exactly the keys x, y and kind, got {sorted(item)}")
        item = [item["x"], item["y"], item["kind"]]
    if isinstance(item, list) and len(item) == 3:
        x, y, kind = item
        if isinstance(x, bool) or isinstance(y, bool) or not all(isinstance(v, (int, float)) for v in (x, y)):
            raise ValueError(f"click coordinates must be numbers, got {item!r}")
        return Click(float(x), float(y), kind)
    raise ValueError(f'a click is "KIND:X,Y", [x, y, kind] or {{"x", "y", "kind"}}, got {item!r}')


def _parse_job(text: str, line: int, folder: Path) -> BatchJob:
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(record, dict):
        raise ValueError(f"expected a JSON object, got {type(record).__name__}")
    unknown = set(record) - _KEYS
    if unknown:
        raise ValueError(f"unknown key(s) {sorted(unknown)}; a job has image, clicks, name, prev_mask")
    for key in ("image", "clicks"):
        if key not in record:
            raise ValueError(f"missing {key!r}")
    if not isinstance(record["image"], str) or not record["image"]:
        raise ValueError(f"'image' must be a path, got {record['image']!r}")
    if not isinstance(record["clicks"], list) or not record["clicks"]:
        raise ValueError("'clicks' must be a non-empty list")
    clicks = [_parse_click(item) for item in record["clicks"]]
    image = folder / record["image"]
    if not image.is_file():
        raise ValueError(f"image {str(image)!r} does not exist")
    name = record.get("name", image.stem)
    if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or os.sep in name:
        raise ValueError(f"'name' must be a file stem without a folder, got {name!r}")
    prev_mask = None
    if record.get("prev_mask") is not None:
        if not isinstance(record["prev_mask"], str):
            raise ValueError(f"'prev_mask' must be a path, got {record['prev_mask']!r}")
        prev_mask = folder / record["prev_mask"]
        if not prev_mask.is_file():
            raise ValueError(f"prev_mask {str(prev_mask)!r} does not exist")
    return BatchJob(line, image, clicks, name, prev_mask)


def read_jobs(path: str | os.PathLike) -> list[BatchJob]:
    """Parse and check a jobs file (format: the module's docstring), without reading any image.

    Raises:
        FileNotFoundError: no such file.
        ValueError: every bad line (``line N: what is wrong``), or no job at all.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"jobs file {str(path)!r} does not exist")
    folder = path.parent
    jobs: list[BatchJob] = []
    problems: list[str] = []
    owner: dict[str, int] = {}
    with open(path, encoding="utf-8") as f:
        for number, text in enumerate(f, start=1):
            if not text.strip():
                continue
            try:
                job = _parse_job(text, number, folder)
            except ValueError as exc:
                problems.append(f"line {number}: {exc}")
                continue
            if job.name in owner:
                problems.append(
                    f"line {number}: output name {job.name!r} is already written by line {owner[job.name]}; "
                    "give the jobs distinct 'name's"
                )
                continue
            owner[job.name] = number
            jobs.append(job)
    if problems:
        shown = problems[:20] + ([f"... and {len(problems) - 20} more"] if len(problems) > 20 else [])
        raise ValueError(f"{path}: {len(problems)} bad job(s):\n  " + "\n  ".join(shown))
    if not jobs:
        raise ValueError(f"{path}: no jobs (one JSON object per line)")
    return jobs


def _write_annotations(path: str | None, jobs: list[BatchJob], out: Path) -> None:
    """One JSON line per job whose mask is in ``out`` (this run's or an earlier one's), written
    atomically: ``name``, ``image``, ``height``, ``width``, ``segmentation`` (COCO RLE), ``area``
    and ``bbox`` (COCO ``[x, y, width, height]``)."""
    if path is None:
        return
    from ntclick.image_io import atomic_write_bytes, load_mask
    from ntclick.mask_formats import mask_bbox, mask_to_rle

    lines = []
    for job in jobs:
        file = out / f"{job.name}.png"
        if not file.exists():
            continue
        mask = load_mask(file) > 0
        record = {
            "name": job.name,
            "image": str(job.image),
            "height": mask.shape[0],
            "width": mask.shape[1],
            "segmentation": mask_to_rle(mask),
            "area": int(mask.sum()),
            "bbox": mask_bbox(mask),
        }
        lines.append(json.dumps(record) + "\n")
    atomic_write_bytes(path, "".join(lines).encode("utf-8"))
    print(f"wrote {len(lines)} annotation(s) to {path}", flush=True)


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "batch",
        help="segment many images from a jobs file of clicks (JSON Lines)",
        description=(
            'Segment every job of JOBS (JSON Lines: one {"image": PATH, "clicks": [...]} per line, '
            'optional "name" and "prev_mask"; paths relative to JOBS\'s folder) and write OUT/NAME.png '
            "(0/255). Masks already written are kept, so a stopped run resumes; see the docs for the format."
        ),
    )
    p.add_argument("jobs", metavar="JOBS", help="the jobs file (.jsonl)")
    add_source_options(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the masks (created if needed)")
    p.add_argument(
        "--overlays", metavar="DIR", help="also write each mask and its clicks drawn over the image"
    )
    p.add_argument("--soft", metavar="DIR", help="also write each soft mask scaled to 0..255 (DIR/NAME.png)")
    p.add_argument("--fbu", metavar="DIR", help="also write each FBU map (0 bg, 128 uncertain, 255 fg)")
    p.add_argument(
        "--annotations",
        metavar="FILE.jsonl",
        help="also write one line per job: name, image, height, width, COCO RLE segmentation, area, bbox",
    )
    p.add_argument("--overwrite", action="store_true", help="redo jobs whose mask is already in --out")
    p.add_argument(
        "--keep-going",
        action="store_true",
        help="a job that fails (e.g. a click outside its image) is reported and skipped, not fatal; "
        "the exit status is 1 if any failed",
    )
    add_loading_options(p)
    add_predictor_options(p)
    p.set_defaults(func=handler)


def handler(args: argparse.Namespace) -> int:
    import numpy as np

    from ntclick.image_io import load_image, load_mask, save_image
    from ntclick.visualize import overlay_mask

    jobs = read_jobs(args.jobs)
    for option, folder in (
        ("--out", args.out),
        ("--overlays", args.overlays),
        ("--soft", args.soft),
        ("--fbu", args.fbu),
    ):
        if folder is not None and Path(folder).exists() and not Path(folder).is_dir():
            raise ValueError(f"{option} {folder!r} is a file; it must be a folder (or not exist yet)")
    if args.annotations is not None and Path(args.annotations).is_dir():
        raise ValueError(f"--annotations {args.annotations!r} is a folder; it must be a file path")
    out = Path(args.out)
    extras = {
        kind: Path(folder)
        for kind, folder in (("overlay", args.overlays), ("soft", args.soft), ("fbu", args.fbu))
        if folder
    }
    todo = [j for j in jobs if args.overwrite or not (out / f"{j.name}.png").exists()]
    if len(todo) < len(jobs):
        print(f"{len(jobs) - len(todo)} of {len(jobs)} job(s) already have a mask in {out}; skipped")
    if not todo:
        _write_annotations(args.annotations, jobs, out)
        return 0
    predictor = make_predictor(args)
    for folder in (out, *extras.values()):
        folder.mkdir(parents=True, exist_ok=True)

    failed: list[str] = []
    current: Path | None = None
    image = None
    start = time.perf_counter()
    for i, job in enumerate(todo, start=1):
        t0 = time.perf_counter()
        try:
            if job.image != current:
                current = None  # a failed load must not leave the last image in place
                image = load_image(job.image)
                predictor.set_image(image)
                current = job.image
            previous = None if job.prev_mask is None else load_mask(job.prev_mask)
            prediction = predictor.predict(job.clicks, prev_mask=previous)
        except (ValueError, FileNotFoundError, RuntimeError) as exc:
            message = f"line {job.line} ({job.name}): {exc}"
            if not args.keep_going:
                raise ValueError(f"{args.jobs}: {message}") from None
            failed.append(message)
            print(f"[{i}/{len(todo)}] {job.name}: failed: {exc}", file=sys.stderr, flush=True)
            continue
        # The extras first: a job whose mask exists is done, so the mask is written last.
        if "overlay" in extras:
            save_image(
                extras["overlay"] / f"{job.name}.png", overlay_mask(image, prediction.mask, job.clicks)
            )
        if "soft" in extras:
            save_image(extras["soft"] / f"{job.name}.png", np.round(prediction.soft * 255).astype(np.uint8))
        if "fbu" in extras:
            save_image(extras["fbu"] / f"{job.name}.png", prediction.fbu)
        save_image(out / f"{job.name}.png", prediction.mask)
        h, w = prediction.mask.shape
        print(
            f"[{i}/{len(todo)}] {job.name}: {len(job.clicks)} click(s), {w}x{h}, "
            f"{100 * prediction.mask.mean():.1f}% foreground, {time.perf_counter() - t0:.2f} s",
            flush=True,
        )
    done = len(todo) - len(failed)
    print(f"wrote {done} mask(s) to {out} in {time.perf_counter() - start:.1f} s", flush=True)
    _write_annotations(args.annotations, jobs, out)
    if failed:
        print(f"{len(failed)} job(s) failed:\n  " + "\n  ".join(failed), file=sys.stderr)
        return 1
    return 0
