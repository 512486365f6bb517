"""Two CPU processes with the gloo backend train a tiny ECP with DistributedDataParallel."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from ntclick.image_io import save_image
from ntclick.train.checkpoint import load_checkpoint
from ntclick.train.config import TrainConfig
from ntclick.train.trainer import train

pytestmark = pytest.mark.skipif(not dist.is_available() or not dist.is_gloo_available(), reason="needs gloo")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, world_size: int, port: int, config_dict: dict, out: str) -> None:
    # What torchrun would set for this process.
    os.environ.update(
        MASTER_ADDR="127.0.0.1",
        MASTER_PORT=str(port),
        RANK=str(rank),
        WORLD_SIZE=str(world_size),
        LOCAL_RANK=str(rank),
    )
    torch.set_num_threads(1)
    result = train(TrainConfig.from_dict(config_dict), out, device="cpu", progress=False)
    torch.save(result.model.state_dict(), Path(out) / f"rank{rank}.pt")


def _make_bsds(root: Path) -> Path:
    """Four BSDS-like images with quadrant label maps (1..4) and random colours."""
    labels = np.ones((48, 64), np.uint8)
    labels[:, 32:] += 1
    labels[24:] += 2
    rng = np.random.default_rng(0)
    for i in range(4):
        save_image(root / "images" / f"{i}.png", rng.integers(0, 256, (48, 64, 3)).astype(np.uint8))
        save_image(root / "regions" / f"{i}_0.png", labels)
    return root


def test_two_gloo_processes_stay_in_sync(tmp_path: Path) -> None:
    data = _make_bsds(tmp_path / "bsds")
    config = TrainConfig(
        task="ecp",
        model_overrides={
            "depth": 2,
            "embed_dim": 32,
            "num_heads": 2,
            "pos_embed_size": 64,
            "decoder_dim": 16,
        },
        data=[{"type": "bsds", "root": str(data), "max_area": 0.6}],
        input_size=64,
        fbu_kernel_range=(3, 7),
        batch_size=2,
        steps=3,
        lr=1e-3,
        warmup_steps=1,
        amp="none",
        num_workers=0,
        log_every=1,
        max_extra_clicks=1,
        iterative_prob=1.0,
        val_data=[{"type": "bsds", "root": str(data)}],
        val_samples=3,  # uneven over 2 ranks: the reduction must weigh by sample count
    )
    out = tmp_path / "run"
    # fork: the children inherit the imported modules instead of importing torch again.
    method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
    mp.start_processes(
        _worker, args=(2, _free_port(), config.to_dict(), str(out)), nprocs=2, join=True, start_method=method
    )
    states = [torch.load(out / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert states[0].keys() == states[1].keys()
    assert all(torch.equal(states[0][k], states[1][k]) for k in states[0])
    ckpt = load_checkpoint(out / "checkpoint_last.pt", "ecp")
    assert ckpt["step"] == 3 and all(torch.equal(ckpt["model"][k], states[0][k]) for k in states[0])
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    train_records = [r for r in records if r["split"] == "train"]
    assert [r["step"] for r in train_records] == [1, 2, 3]  # one log, from rank 0 only
    assert all(r["samples_per_s"] > 0 for r in train_records)
    assert len([r for r in records if r["split"] == "val"]) == 1
