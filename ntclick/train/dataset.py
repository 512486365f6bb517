"""The torch data pipeline: a deterministic, sharded stream of training samples.

Sample number ``n`` is a pure function of ``(seed, stream, n)``: its random generator is
``numpy.random.default_rng([seed, stream, n])``, which picks the source, the item and every
augmentation.  Step ``s`` on rank ``r`` of ``world`` processes, with per-process batch ``b``,
reads the samples ``n = (s * world + r) * b + i`` for ``i < b``: ranks never share a sample
(like ``DistributedSampler``) and resuming at step ``s`` needs nothing but ``s``; the number
of DataLoader workers does not change the data.

Items are dicts of CPU tensors (images stay uint8 until they are on the device) plus, for
ECP, the list of initial clicks; :func:`collate` batches them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, Sampler

from ntclick.fbu import fbu_to_unit
from ntclick.train.config import TrainConfig
from ntclick.train.samples import make_ecp_sample, make_hrr_sample
from ntclick.train.sources import MixedSource

__all__ = ["TRAIN_STREAM", "VAL_STREAM", "SampleStream", "ShardedStepSampler", "collate"]

TRAIN_STREAM = 0
VAL_STREAM = 1


class SampleStream(Dataset):
    """Map-style dataset over sample numbers: ``stream[n]`` is training sample ``n``.

    ECP items: ``image`` uint8 (3, S, S), ``gt_fbu`` uint8 (S, S), ``valid`` bool (S, S),
    ``clicks`` list of :class:`~ntclick.clicks.Click` (sample pixels).
    HRR items: ``image`` uint8 (3, C, C), ``fbu`` float32 (1, C, C) with 0 / 0.5 / 1,
    ``target`` float32 (1, C, C) in [0, 1], ``valid`` bool (1, C, C), ``clicks`` (empty unless
    ``config.fbu_from_ecp`` is set).
    """

    def __init__(self, source: MixedSource, config: TrainConfig, stream: int = TRAIN_STREAM) -> None:
        self.source, self.config, self.stream = source, config, stream

    def __len__(self) -> int:
        return 2**62  # an endless stream; samplers choose which numbers to read

    def __getitem__(self, n: int) -> dict[str, Any]:
        rng = np.random.default_rng([self.config.seed, self.stream, int(n)])
        image, target, _ = self.source.draw(rng)
        if self.config.task == "ecp":
            s = make_ecp_sample(image, target, rng, self.config)
            return {
                "image": torch.from_numpy(np.ascontiguousarray(s.image.transpose(2, 0, 1))),
                "gt_fbu": torch.from_numpy(s.gt_fbu),
                "valid": torch.from_numpy(s.valid),
                "clicks": s.clicks,
            }
        h = make_hrr_sample(image, target, rng, self.config)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(h.image.transpose(2, 0, 1))),
            "fbu": torch.from_numpy(fbu_to_unit(h.fbu))[None],
            "target": torch.from_numpy(h.target)[None],
            "valid": torch.from_numpy(h.valid)[None],
            "clicks": h.clicks,
        }


class ShardedStepSampler(Sampler[int]):
    """Sample numbers for one rank, steps ``[start_step, stop_step)``, ``batch_size`` per step."""

    def __init__(
        self, batch_size: int, start_step: int, stop_step: int, rank: int = 0, world_size: int = 1
    ) -> None:
        if not 0 <= rank < world_size:
            raise ValueError(f"rank must be in [0, {world_size}), got {rank}")
        self.batch_size, self.start_step, self.stop_step = batch_size, start_step, stop_step
        self.rank, self.world_size = rank, world_size

    def __iter__(self) -> Iterator[int]:
        for step in range(self.start_step, self.stop_step):
            first = (step * self.world_size + self.rank) * self.batch_size
            yield from range(first, first + self.batch_size)

    def __len__(self) -> int:
        return max(0, self.stop_step - self.start_step) * self.batch_size


def collate(items: list[dict[str, Any]]) -> dict[str, Any]:
    """Stack tensors along a new batch dimension; lists (clicks) become a list per sample."""
    out: dict[str, Any] = {}
    for key, first in items[0].items():
        values = [item[key] for item in items]
        out[key] = torch.stack(values) if isinstance(first, torch.Tensor) else values
    return out
