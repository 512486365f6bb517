"""benchmarks/average_ecp.py: the weighted mean of ECP weights, as an exportable checkpoint."""

from __future__ import annotations

import pytest
import torch
from script_loader import load_script
from tiny_models import ECP_TINY, tiny_networks

soup = load_script("benchmarks/average_ecp.py")


def _checkpoint(path, ecp):
    from ntclick.train.checkpoint import save_checkpoint

    save_checkpoint(
        path, {"task": "ecp", "step": 7, "model_config": ecp.config.to_dict(), "model": ecp.state_dict()}
    )
    return path


def test_mean_of_a_checkpoint_and_a_weights_folder(tmp_path, tiny_weights):
    ecp_a, _ = tiny_networks(seed=3)
    first = _checkpoint(tmp_path / "a.pt", ecp_a)
    out = tmp_path / "soup.pt"
    argv = [
        "--ecp",
        str(first),
        "--ecp",
        str(tiny_weights),
        "--weight",
        "3",
        "--weight",
        "1",
        "--out",
        str(out),
    ]
    assert soup.main(argv) == 0
    written = torch.load(out, map_location="cpu", weights_only=False)
    assert written["step"] == 7 and written["task"] == "ecp"  # the first checkpoint's layout is kept
    b = soup.ecp_state(tiny_weights)
    for key, value in ecp_a.state_dict().items():
        assert written["model"][key].dtype == value.dtype
        if value.is_floating_point():
            torch.testing.assert_close(written["model"][key], 0.75 * value + 0.25 * b[key].float())
    assert not list(tmp_path.glob("*.tmp*"))  # written atomically, nothing left over


def test_sources_of_another_config_are_refused(tmp_path):
    from ntclick.modeling import build_ecp

    ecp_a, _ = tiny_networks(seed=0)
    other = build_ecp("tiny", **{**ECP_TINY, "decoder_dim": 16})
    states = [ecp_a.state_dict(), other.state_dict()]
    with pytest.raises(ValueError, match="shape|other tensors"):
        soup.average(states, [1.0, 1.0])
    with pytest.raises(ValueError, match="weights"):
        soup.average(states[:1], [1.0, 1.0])
    with pytest.raises(ValueError, match="positive sum"):
        soup.average([ecp_a.state_dict()] * 2, [0.0, 0.0])


def test_the_first_source_must_be_a_checkpoint(tmp_path, tiny_weights, capsys):
    with pytest.raises(SystemExit):
        soup.main(["--ecp", str(tiny_weights), "--ecp", str(tiny_weights), "--out", str(tmp_path / "x.pt")])
    assert "training checkpoint" in capsys.readouterr().err


def test_a_foreign_or_hrr_checkpoint_is_refused(tmp_path, tiny_weights):
    foreign = tmp_path / "foreign.pt"
    torch.save({"model": {}}, foreign)
    out = tmp_path / "x.pt"
    with pytest.raises(ValueError, match="not an ntclick training checkpoint"):
        soup.main(["--ecp", str(foreign), "--ecp", str(tiny_weights), "--out", str(out)])
    from ntclick.train.checkpoint import save_checkpoint

    _, hrr = tiny_networks(seed=1)
    save_checkpoint(
        tmp_path / "hrr.pt", {"task": "hrr", "model_config": hrr.config.to_dict(), "model": hrr.state_dict()}
    )
    with pytest.raises(ValueError, match="expected 'ecp'"):
        soup.main(["--ecp", str(tmp_path / "hrr.pt"), "--ecp", str(tiny_weights), "--out", str(out)])
    assert not out.exists()
