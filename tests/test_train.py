"""Training loops, losses, checkpoints/resume, CLI and export on tiny models and images (CPU)."""

from __future__ import annotations

import contextlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from ntclick.cli import main as cli_main
from ntclick.clicks import Click, click_pixel
from ntclick.fbu import BG, FG, UNCERTAIN, fbu_to_unit
from ntclick.image_io import save_image
from ntclick.modeling import normalize_image
from ntclick.train.checkpoint import LAST_CHECKPOINT, load_checkpoint, save_checkpoint
from ntclick.train.config import TrainConfig
from ntclick.train.dataset import SampleStream, ShardedStepSampler, collate
from ntclick.train.losses import IGNORE_INDEX, ecp_loss, fbu_targets, hrr_loss, sobel
from ntclick.train.run_environment import capture_environment, environment_changes
from ntclick.train.samples import make_ecp_sample, make_hrr_sample
from ntclick.train.sources import build_sources
from ntclick.train.trainer import (
    build_model,
    build_optimizer,
    encode_click_batch,
    lr_factor,
    simulate_extra_clicks,
    train,
)

TINY_ECP = {
    "depth": 2,
    "embed_dim": 32,
    "num_heads": 2,
    "pos_embed_size": 64,
    "pyramid_widths": [8, 8, 16, 16],
    "decoder_dim": 16,
}
TINY_HRR = {
    "depth": 2,
    "embed_dim": 32,
    "num_heads": 2,
    "window_size": 4,  # size multiple 64 instead of 128: tiny crops
    "pos_embed_size": 64,
    "detail_widths": [8, 8, 16, 16],
    "fusion_widths": [16, 16, 8, 8],
    "head_width": 8,
}


@pytest.fixture(autouse=True)
def _few_threads():
    # Tiny models gain nothing from threads, and the tests share a small machine.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def make_bsds(root: Path, count: int = 4) -> Path:
    """BSDS-like data: 48x64 images with four coloured quadrant regions (label maps 1..4)."""
    labels = np.ones((48, 64), np.uint8)
    labels[:, 32:] += 1
    labels[24:] += 2
    palette = np.array([[0, 0, 0], [200, 40, 40], [40, 200, 40], [40, 40, 200], [200, 200, 40]], np.uint8)
    rng = np.random.default_rng(0)
    for i in range(count):
        noise = rng.integers(-20, 20, (48, 64, 3))
        save_image(root / "images" / f"{i}.png", np.clip(palette[labels] + noise, 0, 255).astype(np.uint8))
        save_image(root / "regions" / f"{i}_0.png", labels)
    return root


def tiny_config(task: str, data_root: Path, **overrides) -> TrainConfig:
    base = dict(
        task=task,
        model_overrides=TINY_ECP if task == "ecp" else TINY_HRR,
        data=[{"type": "bsds", "root": str(data_root), "max_area": 0.6}],
        input_size=64,
        crop_size=64,
        fbu_kernel_range=(3, 7),
        batch_size=2,
        steps=10,
        lr=2e-3,
        warmup_steps=2,
        amp="none",
        num_workers=0,
        log_every=1,
        ckpt_every=100,
    )
    return TrainConfig(**{**base, **overrides})


# ---------------------------------------------------------------------------- losses, schedule, data


def test_losses() -> None:
    ramp = torch.arange(6.0).repeat(5, 1)[None, None]  # d/dx = 1 per pixel
    g = sobel(ramp)
    assert torch.allclose(g[0, 0, :, 1:-1], torch.full((5, 4), 8.0)) and torch.allclose(
        g[0, 1], torch.zeros(5, 6)
    )
    target = torch.zeros(1, 1, 8, 8)
    target[..., 2:6, 2:6] = 1
    valid = torch.ones(1, 1, 8, 8, dtype=torch.bool)
    loss, parts = hrr_loss(target.clone(), target, valid)
    assert float(loss) == 0.0 and parts == {"l1": 0.0, "grad": 0.0}
    loss, parts = hrr_loss(torch.zeros_like(target), target, valid, grad_weight=0.0)
    assert float(loss) == pytest.approx(16 / 64) and parts["grad"] > 0
    gt = torch.tensor([[[BG, UNCERTAIN], [FG, FG]]], dtype=torch.uint8)
    ok = torch.tensor([[[True, True], [True, False]]])
    assert fbu_targets(gt, ok).tolist() == [[[0, 1], [2, IGNORE_INDEX]]]
    logits = torch.full((1, 3, 2, 2), -20.0)
    logits[0, 0, 0, 0] = logits[0, 1, 0, 1] = logits[0, 2, 1, 0] = 20.0  # right where valid, wrong at (1, 1)
    assert float(ecp_loss(logits, gt, ok)) < 1e-6


def test_ecp_confusion_term_penalises_only_the_opposite_certain_class() -> None:
    gt = torch.tensor([[[FG, BG, UNCERTAIN, FG]]], dtype=torch.uint8)
    valid = torch.tensor([[[True, True, True, False]]])
    torch.manual_seed(0)
    logits = torch.randn(1, 3, 1, 4)
    p = logits.softmax(1)[0, :, 0]
    # fg target: 1 - p(bg); bg target: 1 - p(fg); uncertain: nothing; invalid pixel ignored.
    expected = -(torch.log(1 - p[0, 0]) + torch.log(1 - p[2, 1])) / 3
    extra = ecp_loss(logits, gt, valid, confusion_weight=2.0) - ecp_loss(logits, gt, valid)
    assert float(extra) == pytest.approx(2.0 * float(expected), rel=1e-5)
    # Uncertain is free: a fg pixel called uncertain costs cross-entropy but no confusion term.
    hedged = torch.tensor([-30.0, 30.0, 0.0])[None, :, None, None].expand(1, 3, 1, 4)
    wrong = torch.tensor([30.0, -30.0, 0.0])[None, :, None, None].expand(1, 3, 1, 4)
    fg = torch.full((1, 1, 4), FG, dtype=torch.uint8)
    every = torch.ones(1, 1, 4, dtype=torch.bool)
    hedged_extra = ecp_loss(hedged, fg, every, confusion_weight=1.0) - ecp_loss(hedged, fg, every)
    assert float(hedged_extra) < 1e-6
    wrong_loss = ecp_loss(wrong, fg, every, confusion_weight=1.0)
    assert torch.isfinite(wrong_loss) and float(wrong_loss - ecp_loss(wrong, fg, every)) > 25
    with pytest.raises(ValueError, match="ecp_confusion_weight"):
        TrainConfig(ecp_confusion_weight=-1.0)


def test_lr_schedule_warms_up_then_decays() -> None:
    config = TrainConfig(steps=100, warmup_steps=10, min_lr_ratio=0.1)
    factors = [lr_factor(s, config) for s in range(100)]
    assert factors[0] == pytest.approx(0.1) and factors[9] == pytest.approx(1.0)
    assert all(a >= b for a, b in zip(factors[10:], factors[11:], strict=False))
    assert lr_factor(100, config) == pytest.approx(0.1)


def test_sample_stream_is_deterministic_and_sharded(tmp_path: Path) -> None:
    config = tiny_config("ecp", make_bsds(tmp_path / "bsds"))
    stream = SampleStream(build_sources(config.data), config)
    a, b, c = stream[5], stream[5], stream[6]
    assert torch.equal(a["image"], b["image"]) and a["clicks"] == b["clicks"]
    assert not (torch.equal(a["image"], c["image"]) and a["clicks"] == c["clicks"])
    ranks = [list(ShardedStepSampler(2, 3, 5, rank=r, world_size=2)) for r in range(2)]
    assert ranks == [[12, 13, 16, 17], [14, 15, 18, 19]]
    batch = collate([a, c])
    assert (
        batch["image"].shape == (2, 3, 64, 64)
        and batch["image"].dtype == torch.uint8
        and len(batch["clicks"]) == 2
    )


def test_simulated_clicks_come_from_fbu_errors(tmp_path: Path) -> None:
    config = tiny_config("ecp", make_bsds(tmp_path / "bsds"))
    torch.manual_seed(0)
    net = build_model(config)
    stream = SampleStream(build_sources(config.data), config)
    batch = collate([stream[i] for i in range(2)])
    images = normalize_image(batch["image"], net.config.pixel_mean, net.config.pixel_std)
    gt, valid = batch["gt_fbu"].numpy(), batch["valid"].numpy()
    out = simulate_extra_clicks(net, images, batch["clicks"], gt, valid, 3, contextlib.nullcontext)
    assert net.training  # restored
    expected = {"fg": FG, "bg": BG, "nt": UNCERTAIN}
    for before, after, g, v in zip(batch["clicks"], out, gt, valid, strict=True):
        assert after[: len(before)] == before and len(before) < len(after) <= len(before) + 3
        for c in after[len(before) :]:
            row, col = click_pixel(c)
            assert v[row, col] and g[row, col] == expected[c.kind.value]


# ---------------------------------------------------------------------------- overfitting


def _fixed_ecp_batch(config: TrainConfig):
    rng = np.random.default_rng(0)
    samples = []
    for i in range(2):
        image = rng.integers(70, 130, (64, 64, 3)).astype(np.uint8)
        target = np.zeros((64, 64), np.float32)
        target[14 + 4 * i : 46, 10 : 40 + 6 * i] = 1
        image[target > 0] += 90
        samples.append(make_ecp_sample(image, target, rng, config))
    return samples


def test_tiny_ecp_overfits_a_fixed_batch() -> None:
    config = TrainConfig(
        task="ecp", model_overrides=TINY_ECP, input_size=64, lr=3e-3, fbu_kernel_range=(5, 7)
    )
    torch.manual_seed(0)
    model = build_model(config)
    optimizer = build_optimizer(model, config)
    samples = _fixed_ecp_batch(config)
    raw = torch.from_numpy(np.stack([s.image for s in samples])).permute(0, 3, 1, 2)
    images = normalize_image(raw, model.config.pixel_mean, model.config.pixel_std)
    maps = encode_click_batch(
        [s.clicks for s in samples],
        raw,
        np.stack([s.valid for s in samples]),
        model.config,
        torch.device("cpu"),
    )
    gt = torch.from_numpy(np.stack([s.gt_fbu for s in samples]))
    valid = torch.from_numpy(np.stack([s.valid for s in samples]))
    losses = []
    for _ in range(30):
        loss = ecp_loss(model(images, maps), gt, valid)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] / 5, losses


def test_tiny_hrr_overfits_a_fixed_batch() -> None:
    config = TrainConfig(
        task="hrr",
        model_overrides=TINY_HRR,
        crop_size=64,
        lr=3e-3,
        fbu_degrade_prob=0.0,
        fbu_kernel_range=(5, 7),
    )
    torch.manual_seed(0)
    model = build_model(config)
    optimizer = build_optimizer(model, config)
    rng = np.random.default_rng(0)
    image = rng.integers(70, 130, (64, 64, 3)).astype(np.uint8)
    target = np.zeros((64, 64), np.float32)
    target[15:45, 10:50] = 1
    target[30, :] = 1  # a one-pixel wire
    image[target > 0] += 90
    s = make_hrr_sample(image, target, rng, config)
    x = normalize_image(
        torch.from_numpy(s.image[None]).permute(0, 3, 1, 2), model.config.pixel_mean, model.config.pixel_std
    )
    fbu = torch.from_numpy(fbu_to_unit(s.fbu))[None, None]
    t, v = torch.from_numpy(s.target)[None, None], torch.from_numpy(s.valid)[None, None]
    losses = []
    for _ in range(40):
        loss, _ = hrr_loss(model(x, fbu), t, v)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    assert losses[-1] < losses[0] / 5, losses


# ---------------------------------------------------------------------------- loop, resume, CLI, export


def _state_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_resume_is_exact(tmp_path: Path) -> None:
    data = make_bsds(tmp_path / "bsds")
    config = tiny_config(
        "ecp",
        data,
        iterative_prob=1.0,
        max_extra_clicks=2,
        model_overrides={**TINY_ECP, "drop_path_rate": 0.2},
    )
    full = train(config, tmp_path / "full", progress=False)
    first = train(config, tmp_path / "split", progress=False, stop_at_step=5)
    assert first.step == 5 and load_checkpoint(first.checkpoint)["step"] == 5
    second = train(config, tmp_path / "split", resume=True, progress=False)
    assert full.step == second.step == 10
    a, b = load_checkpoint(full.checkpoint, "ecp"), load_checkpoint(second.checkpoint, "ecp")
    assert _state_equal(a["model"], b["model"])
    assert a["optimizer"]["state"].keys() == b["optimizer"]["state"].keys()
    assert all(
        _state_equal(a["optimizer"]["state"][k], b["optimizer"]["state"][k]) for k in a["optimizer"]["state"]
    )
    assert a["scheduler"] == b["scheduler"]
    log_a, log_b = (
        [
            r
            for r in map(json.loads, (tmp_path / run / "metrics.jsonl").read_text().splitlines())
            if r["split"] == "train"
        ]
        for run in ("full", "split")
    )
    assert [r["step"] for r in log_b] == list(range(1, 11))
    assert [r["loss"] for r in log_a] == [r["loss"] for r in log_b]
    assert log_a[-1]["clicks"] > 1  # iterative clicks were simulated


def test_the_environment_is_recorded_and_resuming_in_another_one_warns(tmp_path: Path) -> None:
    config = tiny_config("ecp", make_bsds(tmp_path / "bsds"), steps=4)
    out = tmp_path / "run"
    here = capture_environment(torch.device("cpu"))
    assert here["torch"] == torch.__version__ and here["torch_threads"] == torch.get_num_threads()
    assert here["device"] == "cpu" and here["cuda"] is None and here["world_size"] == 1
    assert here["cpu_capability"] == torch.backends.cpu.get_cpu_capability() and isinstance(here["cpu"], str)
    train(config, out, progress=False, stop_at_step=2)
    ckpt = load_checkpoint(out / LAST_CHECKPOINT, "ecp")
    assert ckpt["environment"] == here

    with warnings.catch_warnings():  # the same environment: no warning
        warnings.filterwarnings("error", message=".*another environment")
        train(config, out, progress=False, resume=True, stop_at_step=3)

    ckpt = load_checkpoint(out / LAST_CHECKPOINT, "ecp")
    ckpt["environment"] = {
        **ckpt["environment"],
        "torch": "1.0.0",
        "torch_threads": here["torch_threads"] + 3,
    }
    save_checkpoint(out / LAST_CHECKPOINT, {k: v for k, v in ckpt.items() if k not in ("format", "version")})
    with pytest.warns(RuntimeWarning, match="another environment") as caught:
        train(config, out, progress=False, resume=True)
    message = str(caught[0].message)
    assert f"torch 1.0.0 -> {torch.__version__}" in message
    assert f"torch_threads {here['torch_threads'] + 3} -> {here['torch_threads']}" in message
    assert "numpy" not in message  # only what changed is named
    records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
    starts = [r for r in records if r["split"] == "start"]
    assert [r["step"] for r in starts] == [0, 2, 3] and all(r["environment"] == here for r in starts)
    assert [r["step"] for r in records if r["split"] == "train"] == [1, 2, 3, 4]


def test_environment_changes() -> None:
    env = {"torch": "2.1", "torch_threads": 2, "cuda": None}
    assert environment_changes(None, env) == [] and environment_changes({}, env) == []
    assert environment_changes(env, dict(env)) == []
    assert environment_changes(env, {**env, "torch_threads": 1, "cuda": "12.4"}) == [
        "torch_threads 2 -> 1",
        "cuda None -> 12.4",
    ]
    assert environment_changes({**env, "gone": 1}, env) == ["gone 1 -> None"]


def test_max_minutes_stops_with_a_checkpoint_and_resumes(tmp_path: Path, capsys) -> None:
    data = make_bsds(tmp_path / "bsds")
    config = tiny_config("ecp", data, steps=6)
    full = train(config, tmp_path / "full", progress=False)
    first = train(config, tmp_path / "split", progress=False, max_minutes=1e-9)  # out of time after step 1
    assert first.step == 1 and load_checkpoint(first.checkpoint)["step"] == 1
    assert "stopping at step 1" in capsys.readouterr().out
    second = train(config, tmp_path / "split", resume=True, progress=True, max_minutes=60)
    assert second.step == full.step == 6
    # capsys is no terminal: a plain progress line reaches the log (at the end, within 30 s)
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert any(line.startswith("train ecp: 6/6 steps (100%), ") and "loss " in line for line in err), err
    # The start-up summary names what a resumed run continues with.
    assert f"steps 1 -> 6, batch 2 x 1, data bsds:bsds; torch {torch.__version__}, " in captured.out
    assert f", {torch.get_num_threads()} thread(s)" in captured.out
    assert _state_equal(
        load_checkpoint(full.checkpoint)["model"], load_checkpoint(second.checkpoint)["model"]
    )
    with pytest.raises(ValueError, match="max_minutes must be > 0"):
        train(config, tmp_path / "bad", progress=False, max_minutes=0)


def test_resume_guards(tmp_path: Path) -> None:
    data = make_bsds(tmp_path / "bsds")
    config = tiny_config("ecp", data, steps=2)
    with pytest.raises(FileNotFoundError, match="checkpoint not found"):
        train(config, tmp_path / "run", resume=True, progress=False)
    train(config, tmp_path / "run", progress=False)
    with pytest.raises(ValueError, match="already holds a checkpoint"):
        train(config, tmp_path / "run", progress=False)
    changed = tiny_config("ecp", data, steps=4, seed=1)
    with pytest.raises(ValueError, match=r"changed \['seed'\]"):
        train(changed, tmp_path / "run", resume=True, progress=False)
    with pytest.raises(ValueError, match="holds a 'ecp' network, expected 'hrr'"):
        load_checkpoint(tmp_path / "run" / LAST_CHECKPOINT, "hrr")
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="cannot read as a training checkpoint"):
        load_checkpoint(tmp_path / "junk.pt")


def test_cli_trains_both_networks_and_exports(tmp_path: Path) -> None:
    hub = pytest.importorskip("ntclick.hub")
    data = make_bsds(tmp_path / "bsds")
    paths = {}
    for task in ("ecp", "hrr"):
        config = tiny_config(
            task, data, steps=3, val_data=[{"type": "bsds", "root": str(data)}], val_samples=2
        )
        path = tmp_path / f"{task}.json"
        path.write_text(json.dumps(config.to_dict()))
        out = tmp_path / f"run_{task}"
        assert (
            cli_main(["train", task, "--config", str(path), "--set", "steps=2", "--out", str(out), "--quiet"])
            == 0
        )
        assert {p.name for p in out.iterdir()} >= {
            "config.json",
            "metrics.jsonl",
            "loss_curve.png",
            LAST_CHECKPOINT,
        }
        records = [json.loads(x) for x in (out / "metrics.jsonl").read_text().splitlines()]
        assert [r["step"] for r in records if r["split"] == "train"] == [1, 2]
        val = [r for r in records if r["split"] == "val"]
        assert len(val) == 1 and np.isfinite(val[0]["loss"]) and ("fbu_acc" in val[0] or "iou" in val[0])
        paths[task] = out / LAST_CHECKPOINT
    # Wrong task for the config, and an unknown override, are one-line user errors (exit 2).
    assert (
        cli_main(["train", "hrr", "--config", str(tmp_path / "ecp.json"), "--out", str(tmp_path / "x")]) == 2
    )
    assert cli_main(["train", "ecp", "--config", str(tmp_path / "ecp.json"), "--set", "stepz=1"]) == 2

    weights = tmp_path / "weights"
    assert (
        cli_main(["export", "--ecp", str(paths["ecp"]), "--hrr", str(paths["hrr"]), "--out", str(weights)])
        == 0
    )
    ecp, hrr, settings = hub.load_pretrained(weights)
    assert settings["ecp_size"] == 64
    assert _state_equal(ecp.state_dict(), load_checkpoint(paths["ecp"])["model"])
    assert _state_equal(hrr.state_dict(), load_checkpoint(paths["hrr"])["model"])
    assert (
        cli_main(["export", "--ecp", str(paths["hrr"]), "--hrr", str(paths["hrr"]), "--out", str(weights)])
        == 2
    )
    # A new ECP with the HRR of an existing weights folder, and predictor settings stored with them.
    mixed = tmp_path / "mixed"
    args = ["export", "--ecp", str(paths["ecp"]), "--hrr", str(weights), "--out", str(mixed)]
    assert cli_main([*args, "--setting", "zoom_in=true", "--setting", "grabcut_iterations=3"]) == 0
    ecp2, hrr2, settings = hub.load_pretrained(mixed)
    assert (settings["zoom_in"], settings["grabcut_iterations"], settings["ecp_size"]) == (True, 3, 64)
    assert _state_equal(hrr2.state_dict(), hrr.state_dict()) and _state_equal(
        ecp2.state_dict(), ecp.state_dict()
    )
    assert cli_main([*args, "--setting", "zoom=true"]) == 2  # unknown setting
    assert cli_main([*args, "--setting", "zoom_in"]) == 2  # no value
    assert cli_main([*args, "--setting", "zoom_in=yes"]) == 2  # not JSON


def test_fine_tune_from_weights_folder(tmp_path: Path) -> None:
    hub = pytest.importorskip("ntclick.hub")
    data = make_bsds(tmp_path / "bsds")
    config = tiny_config("hrr", data, steps=1)
    torch.manual_seed(5)
    ecp = build_model(tiny_config("ecp", data))
    hrr = build_model(config)
    hub.save_pretrained(tmp_path / "w", ecp, hrr)
    tuned = tiny_config("hrr", data, steps=1, lr=1e-12, warmup_steps=0, init=str(tmp_path / "w"))
    result = train(tuned, tmp_path / "run", progress=False)
    trained = load_checkpoint(result.checkpoint)["model"]
    # lr ~ 0: the fine-tuned weights are still the initial ones, not a fresh initialisation
    # (BatchNorm running statistics do move: they are buffers, not parameters).
    assert all(torch.allclose(trained[k], v, atol=1e-6) for k, v in hrr.named_parameters())
    bad = tiny_config(
        "hrr", data, steps=1, init=str(tmp_path / "w"), model_overrides={**TINY_HRR, "embed_dim": 48}
    )
    with pytest.raises(ValueError, match="do not fit the configured hrr model"):
        train(bad, tmp_path / "run_bad", progress=False)


def test_checkpoint_save_is_atomic_and_round_trips(tmp_path: Path) -> None:
    path = save_checkpoint(tmp_path / "c.pt", {"task": "hrr", "step": 3, "model": {"w": torch.ones(2)}})
    assert [p.name for p in tmp_path.iterdir()] == ["c.pt"]  # no temporary file left behind
    ckpt = load_checkpoint(path, "hrr")
    assert ckpt["step"] == 3 and torch.equal(ckpt["model"]["w"], torch.ones(2))


def test_non_finite_training_stops_with_a_clear_error(tmp_path: Path) -> None:
    config = tiny_config("hrr", make_bsds(tmp_path / "bsds"), steps=3, lr=1e30, warmup_steps=0)
    with pytest.raises(RuntimeError, match="non-finite loss or gradients at step 1"):
        train(config, tmp_path / "run", progress=False)


def test_hrr_trains_on_fbu_predicted_by_a_frozen_ecp(tmp_path: Path) -> None:
    from ntclick.train.ecp_guidance import load_frozen_ecp, predict_crop_fbu

    data = make_bsds(tmp_path / "bsds")
    ecp_run = train(tiny_config("ecp", data, steps=1), tmp_path / "ecp", progress=False)
    ecp = load_frozen_ecp(ecp_run.checkpoint, torch.device("cpu"))
    assert not ecp.training and not any(p.requires_grad for p in ecp.parameters())
    images = torch.randint(0, 256, (2, 3, 128, 128), dtype=torch.uint8)
    valid = torch.ones(2, 1, 128, 128, dtype=torch.bool)
    valid[1, :, 100:] = False
    clicks = [[], [Click(10.0, 20.0, "fg")]]
    fbu = predict_crop_fbu(ecp, images, clicks, valid, contextlib.nullcontext)
    assert fbu.shape == (2, 1, 128, 128) and set(fbu.unique().tolist()) <= {0.0, 0.5, 1.0}
    assert not fbu[1, :, 100:].any()

    config = tiny_config("hrr", data, steps=2, fbu_from_ecp=str(ecp_run.checkpoint), fbu_from_ecp_prob=1.0)
    train(config, tmp_path / "hrr", progress=False)
    records = [json.loads(x) for x in (tmp_path / "hrr" / "metrics.jsonl").read_text().splitlines()]
    assert [r["fbu_from_ecp"] for r in records if r["split"] == "train"] == [1.0, 1.0]
    wrong = tiny_config("hrr", data, steps=1, fbu_from_ecp=str(tmp_path / "hrr" / LAST_CHECKPOINT))
    with pytest.raises(ValueError, match="holds a 'hrr' network, expected 'ecp'"):
        train(wrong, tmp_path / "hrr_wrong", progress=False)


def test_ecp_training_chains_the_prior_from_the_previous_mask(tmp_path: Path, monkeypatch) -> None:
    import ntclick.train.trainer as trainer

    data = make_bsds(tmp_path / "bsds")
    prior = {**TINY_ECP, "prior": "grabcut", "prior_iterations": 1}
    calls: list[list[bool]] = []  # per encode_click_batch call: which samples got a previous mask
    real = trainer.encode_click_batch

    def recording(clicks, images, valid, config, device, previous=None):
        calls.append([m is not None for m in previous] if previous is not None else [False] * len(clicks))
        return real(clicks, images, valid, config, device, previous)

    monkeypatch.setattr(trainer, "encode_click_batch", recording)
    common = dict(model_overrides=prior, steps=2, iterative_prob=1.0, max_extra_clicks=2)
    config = tiny_config("ecp", data, prior_from_previous_prob=1.0, **common)
    train(config, tmp_path / "chain", progress=False)
    # Per step: the first simulation round has no previous mask; the later rounds and the
    # trained input (one call more than the rounds) start from the last round's mask.
    expected = []
    for step in range(2):
        rounds = trainer._num_extra_clicks(config, step)
        expected += [[False, False]] + [[True, True]] * rounds
    assert calls == expected
    calls.clear()
    train(tiny_config("ecp", data, **common), tmp_path / "plain", progress=False)
    assert len(calls) == len(expected) and not any(any(c) for c in calls)
    for option in (dict(prior_from_previous_prob=0.5), dict(val_clicker_prev_mask=True)):
        with pytest.raises(ValueError, match=f"{next(iter(option))} needs an ECP with a prior"):
            train(
                tiny_config("ecp", data, steps=1, **option),
                tmp_path / f"none_{next(iter(option))}",
                progress=False,
            )


def _map_in_clicker_pool() -> list[int]:
    from ntclick.train.trainer import _clicker_pool

    return list(_clicker_pool().map(abs, [-1, -2, -3]))


def test_clicker_pool_works_in_a_forked_child() -> None:
    """DDP/DataLoader children forked after the parent used the pool get a pool that runs work."""
    import multiprocessing

    assert _map_in_clicker_pool() == [1, 2, 3]  # the parent's pool now has threads
    with multiprocessing.get_context("fork").Pool(1) as pool:
        assert pool.apply_async(_map_in_clicker_pool).get(timeout=60) == [1, 2, 3]


def test_keep_every_keeps_a_checkpoint_per_multiple_across_a_resume(tmp_path: Path) -> None:
    data = make_bsds(tmp_path / "bsds")
    config = tiny_config("ecp", data, steps=6, keep_every=2, ckpt_every=5)
    train(config, tmp_path / "run", progress=False, stop_at_step=3)
    train(config, tmp_path / "run", resume=True, progress=False)
    kept = sorted(p.name for p in (tmp_path / "run").glob("checkpoint_step*.pt"))
    assert kept == ["checkpoint_step2.pt", "checkpoint_step4.pt", "checkpoint_step6.pt"]
    # Each kept file is the run's state at its step: the same weights as a run stopped there.
    stopped = train(config, tmp_path / "stopped", progress=False, stop_at_step=4)
    four = load_checkpoint(tmp_path / "run" / "checkpoint_step4.pt", "ecp")
    assert four["step"] == 4 and _state_equal(four["model"], load_checkpoint(stopped.checkpoint)["model"])
    assert not _state_equal(four["model"], load_checkpoint(tmp_path / "run" / "checkpoint_step6.pt")["model"])
    with pytest.raises(ValueError, match="keep_every must be >= 0"):
        tiny_config("ecp", data, keep_every=-1)
