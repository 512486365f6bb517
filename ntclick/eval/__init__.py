"""Evaluation of click-based interactive segmentation: datasets, click protocols, metrics, reports.

Typical use::

    from ntclick.baselines import GrabCutPredictor
    from ntclick.eval import evaluate, open_dataset, summarize

    results = evaluate(GrabCutPredictor(), open_dataset("grabcut", "data/GrabCut"), "standard")
    print(summarize(results).noc["90"])

Torch-free: the harness imports NumPy and OpenCV only; a network predictor brings torch itself.
"""

from ntclick.eval.datasets import (
    DATASETS,
    LoadedSample,
    Sample,
    SegmentationDataset,
    folder_dataset,
    list_datasets,
    open_dataset,
)
from ntclick.eval.protocol import (
    ClickProtocol,
    ObjectResult,
    describe_predictor,
    evaluate,
    read_jsonl,
    run_object,
)
from ntclick.eval.report import Summary, summarize, summarize_jsonl, write_summaries

__all__ = [
    "DATASETS",
    "LoadedSample",
    "Sample",
    "SegmentationDataset",
    "folder_dataset",
    "list_datasets",
    "open_dataset",
    "ClickProtocol",
    "ObjectResult",
    "describe_predictor",
    "evaluate",
    "read_jsonl",
    "run_object",
    "Summary",
    "summarize",
    "summarize_jsonl",
    "write_summaries",
]
