"""The moving average of the weights during training (ntclick.train.ema; CPU, tiny models)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from torch import nn

from ntclick.cli import main as cli_main
from ntclick.hub import load_pretrained
from ntclick.train.checkpoint import load_checkpoint, model_from_checkpoint
from ntclick.train.config import TrainConfig
from ntclick.train.ema import ModelEMA
from ntclick.train.trainer import train
from tests.test_train import _few_threads, _state_equal, make_bsds, tiny_config  # noqa: F401 (autouse fixture)


def test_update_follows_the_warmed_up_decay_and_copies_integer_buffers() -> None:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    ema = ModelEMA(model, decay=0.3)
    start = {k: v.clone() for k, v in model.state_dict().items()}
    expected = {k: v.clone() for k, v in start.items() if v.dtype.is_floating_point}
    decays = []
    for _ in range(5):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        model.train()(torch.randn(4, 3))  # moves BatchNorm's running statistics and its counter
        d = ema.current_decay()
        decays.append(d)
        for k in expected:
            expected[k] = d * expected[k] + (1 - d) * model.state_dict()[k]
        ema.update(model)
    # (1 + n) / (10 + n) for the first updates, then the configured decay.
    assert decays == pytest.approx([0.1, 2 / 11, 3 / 12, 0.3, 0.3])
    assert ema.current_decay() == 0.3 and ema.updates == 5
    averaged = ema.module.state_dict()
    for k, v in expected.items():
        torch.testing.assert_close(averaged[k], v)
    counter = "1.num_batches_tracked"
    assert averaged[counter].item() == model.state_dict()[counter].item() == 5
    assert not any(p.requires_grad for p in ema.module.parameters())
    assert not ema.module.training

    restored = ModelEMA(model, decay=0.3)
    restored.load_state_dict(ema.state_dict())
    assert restored.updates == 5 and _state_equal(restored.module.state_dict(), averaged)


@pytest.mark.parametrize("decay", [-0.1, 1.0, 1.5])
def test_decay_outside_0_1_is_refused(decay: float) -> None:
    with pytest.raises(ValueError, match="decay must be in"):
        ModelEMA(nn.Linear(2, 2), decay)
    with pytest.raises(ValueError, match="ema_decay must be in"):
        TrainConfig(ema_decay=decay)


def test_training_keeps_the_average_resumes_it_exactly_and_export_takes_it(tmp_path: Path) -> None:
    data = make_bsds(tmp_path / "bsds")
    config = tiny_config("ecp", data, ema_decay=0.9)
    full = train(config, tmp_path / "full", progress=False)
    train(config, tmp_path / "split", progress=False, stop_at_step=4)
    train(config, tmp_path / "split", resume=True, progress=False)
    a = load_checkpoint(full.checkpoint, "ecp")
    b = load_checkpoint(tmp_path / "split" / "checkpoint_last.pt", "ecp")
    assert a["ema"]["updates"] == b["ema"]["updates"] == full.step == 10
    assert _state_equal(a["ema"]["model"], b["ema"]["model"])  # the average survives a resume
    assert _state_equal(a["model"], full.model.state_dict())
    assert _state_equal(a["ema"]["model"], full.ema.state_dict())
    assert not _state_equal(a["ema"]["model"], a["model"])  # an average, not the last weights

    # Loading: the average by default, the raw weights on request.
    assert _state_equal(model_from_checkpoint(full.checkpoint, "ecp").state_dict(), a["ema"]["model"])
    assert _state_equal(model_from_checkpoint(full.checkpoint, "ecp", ema=False).state_dict(), a["model"])

    # Export: the average by default, --raw-weights for the last step's weights.
    hrr_run = train(tiny_config("hrr", data, steps=1), tmp_path / "hrr", progress=False)
    for flag, expected in (([], a["ema"]["model"]), (["--raw-weights"], a["model"])):
        out = tmp_path / f"w{len(flag)}"
        args = ["export", "--ecp", str(full.checkpoint), "--hrr", str(hrr_run.checkpoint), "--out", str(out)]
        assert cli_main(args + flag) == 0
        ecp, _, _ = load_pretrained(out)
        assert _state_equal(ecp.state_dict(), expected)


def test_without_ema_the_checkpoint_has_no_average(tmp_path: Path) -> None:
    result = train(
        tiny_config("ecp", make_bsds(tmp_path / "bsds"), steps=2), tmp_path / "run", progress=False
    )
    assert result.ema is None and "ema" not in load_checkpoint(result.checkpoint)
    with pytest.raises(ValueError, match="no moving average"):
        model_from_checkpoint(result.checkpoint, "ecp", ema=True)
    # The default and ema=False both give the trained weights.
    assert _state_equal(
        model_from_checkpoint(result.checkpoint, "ecp").state_dict(), result.model.state_dict()
    )
