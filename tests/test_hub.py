"""Weights I/O: save/load round trip, the Hugging Face cache offline, strict errors, push_to_hub."""

from __future__ import annotations

import json
import re
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file
from tiny_models import tiny_networks

from ntclick import hub
from ntclick.clicks import Click
from ntclick.predictor import NTClickPredictor


def _image(h: int = 96, w: int = 160, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


CLICKS = [Click(40, 30, "fg"), Click(120, 70, "bg"), Click(80, 50, "nt")]


@pytest.fixture()
def weights(tiny_weights) -> Path:
    return tiny_weights


@pytest.fixture()
def no_network(monkeypatch):
    """Make any attempt to open a network connection fail loudly."""

    def refuse(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _predict(predictor: NTClickPredictor):
    predictor.set_image(_image())
    return predictor.predict(CLICKS)


# --------------------------------------------------------------------------- round trip


def test_save_then_load_gives_identical_outputs(tmp_path, no_network):
    ecp, hrr = tiny_networks(seed=3)
    before = NTClickPredictor(ecp, hrr, ecp_size=128, mask_threshold=0.4, clamp_to_fbu=False)
    expected = _predict(before)

    folder = before.save_pretrained(tmp_path / "w")
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.safetensors",
    ]  # no temp files left
    config = json.loads((folder / "config.json").read_text())
    assert config["format_version"] == hub.FORMAT_VERSION == 1
    assert config["predictor"] == {
        "ecp_size": 128,
        "mask_threshold": 0.4,
        "clamp_to_fbu": False,
        "refine": True,
        "zoom_in": False,
        "brs_steps": 0,
        "grabcut_iterations": 0,
        "click_components": False,
        "click_guard": False,
    }
    assert config["ecp"] == ecp.config.to_dict() and config["hrr"] == hrr.config.to_dict()
    with safe_open(folder / "model.safetensors", "pt") as f:
        assert f.metadata() == {"format": "pt"}
        keys = set(f.keys())
    assert keys == {f"ecp.{k}" for k in ecp.state_dict()} | {f"hrr.{k}" for k in hrr.state_dict()}

    after = NTClickPredictor.from_pretrained(folder)
    assert (after.ecp_size, after.mask_threshold, after.clamp_to_fbu) == (128, 0.4, False)
    got = _predict(after)
    np.testing.assert_array_equal(got.soft, expected.soft)
    np.testing.assert_array_equal(got.fbu, expected.fbu)
    np.testing.assert_array_equal(got.mask, expected.mask)


def test_cnn_ecp_round_trip_keeps_batchnorm_statistics_and_refuses_brs(tmp_path, no_network):
    """An ECP with a ResNet body (``backbone="resnet18"``) saves, loads and predicts like the ViT."""
    from ntclick.modeling import build_ecp

    _, hrr = tiny_networks(seed=4)
    torch.manual_seed(4)
    ecp = build_ecp("tiny", backbone="resnet18", unet_widths=(16, 8, 8, 8), prior="grabcut")
    with torch.no_grad():  # running statistics away from their initial values
        ecp.train()(torch.randn(2, 3, 64, 64) * 3 + 1, torch.rand(2, 4, 64, 64))
    ecp.eval()
    before = NTClickPredictor(ecp, hrr, ecp_size=128, zoom_in=True, grabcut_iterations=3)
    expected = _predict(before)
    assert expected.mask.shape == (96, 160) and expected.mask.any()
    folder = before.save_pretrained(tmp_path / "w")
    assert json.loads((folder / "config.json").read_text())["ecp"]["backbone"] == "resnet18"
    after = NTClickPredictor.from_pretrained(folder)
    var = "body.encoder.bn1.running_var"
    assert not torch.equal(ecp.state_dict()[var], torch.ones_like(ecp.state_dict()[var]))
    torch.testing.assert_close(after.ecp.state_dict()[var], ecp.state_dict()[var])
    got = _predict(after)
    np.testing.assert_array_equal(got.fbu, expected.fbu)
    np.testing.assert_array_equal(got.mask, expected.mask)
    with pytest.raises(ValueError, match="brs_steps needs a ViT ECP.*resnet18"):
        NTClickPredictor.from_pretrained(folder, brs_steps=5)


def test_save_in_float16_and_load_in_float32(tmp_path):
    ecp, hrr = tiny_networks()
    hub.save_pretrained(tmp_path, ecp, hrr, dtype="float16")
    stored = load_file(tmp_path / "model.safetensors")
    assert {t.dtype for t in stored.values() if t.is_floating_point()} == {torch.float16}
    ecp2, hrr2, settings = hub.load_pretrained(tmp_path)
    assert settings == hub.PREDICTOR_DEFAULTS
    assert not ecp2.training and not hrr2.training
    assert {p.dtype for p in ecp2.parameters()} == {torch.float32}
    w = next(iter(ecp.state_dict().keys()))
    torch.testing.assert_close(ecp2.state_dict()[w], ecp.state_dict()[w].half().float())


def test_load_with_dtype(weights):
    ecp, hrr, _ = hub.load_pretrained(weights, dtype="bfloat16")
    assert {p.dtype for p in ecp.parameters()} == {torch.bfloat16}
    assert {p.dtype for p in hrr.parameters()} == {torch.bfloat16}


def test_from_pretrained_overrides_and_rejects_unknown(weights):
    p = NTClickPredictor.from_pretrained(weights, mask_threshold=0.7)
    assert (p.ecp_size, p.mask_threshold, p.clamp_to_fbu) == (128, 0.7, True)
    with pytest.raises(TypeError, match="unknown predictor settings"):
        NTClickPredictor.from_pretrained(weights, threshold=0.7)


# --------------------------------------------------------------------------- Hugging Face cache


def _fill_hf_cache(cache: Path, repo_id: str, weights: Path, commit: str, ref: str = "main") -> Path:
    """Lay files out as huggingface_hub's cache does: models--ORG--NAME/{refs,snapshots}."""
    repo_dir = cache / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo_dir / "snapshots" / commit
    snapshot.mkdir(parents=True)
    for name in ("config.json", "model.safetensors"):
        shutil.copy(weights / name, snapshot / name)
    (repo_dir / "refs").mkdir(exist_ok=True)
    (repo_dir / "refs" / ref).write_text(commit)
    return snapshot


def test_load_from_prefilled_cache_offline(tmp_path, weights, monkeypatch, no_network):
    from huggingface_hub import hf_hub_download, try_to_load_from_cache

    cache = tmp_path / "hf-cache"
    snapshot = _fill_hf_cache(cache, "ntclick-org/ntclick-tiny", weights, "a" * 40)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    # huggingface_hub itself resolves the cache to our files ...
    cached = try_to_load_from_cache("ntclick-org/ntclick-tiny", "model.safetensors", cache_dir=cache)
    assert Path(cached) == snapshot / "model.safetensors"
    assert Path(
        hf_hub_download("ntclick-org/ntclick-tiny", "config.json", cache_dir=cache, local_files_only=True)
    ) == (snapshot / "config.json")
    # ... and so does the predictor, through hf_hub_download, without any network.
    config_path, weights_path = hub.resolve_files("ntclick-org/ntclick-tiny", cache_dir=cache)
    assert (config_path, weights_path) == (snapshot / "config.json", snapshot / "model.safetensors")
    from_cache = NTClickPredictor.from_pretrained("ntclick-org/ntclick-tiny", cache_dir=cache)
    from_folder = NTClickPredictor.from_pretrained(weights)
    np.testing.assert_array_equal(_predict(from_cache).soft, _predict(from_folder).soft)


def test_cache_revision_and_local_files_only(tmp_path, weights, monkeypatch, no_network):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    cache = tmp_path / "hf-cache"
    snapshot = _fill_hf_cache(cache, "org/tiny", weights, "b" * 40, ref="v1")
    config_path, _ = hub.resolve_files("org/tiny", cache_dir=cache, revision="v1", local_files_only=True)
    assert config_path == snapshot / "config.json"
    with pytest.raises(FileNotFoundError, match="not in the Hugging Face cache"):
        hub.resolve_files("org/tiny", cache_dir=cache, revision="v2", local_files_only=True)


def test_offline_repo_missing_from_cache(tmp_path, monkeypatch, no_network):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(FileNotFoundError, match=r"config\.json of Hub repo 'org/absent'.*offline mode"):
        hub.load_pretrained("org/absent", cache_dir=tmp_path)


def test_local_folder_never_touches_the_hub(weights, monkeypatch, no_network):
    import huggingface_hub

    def refuse(*args, **kwargs):
        raise AssertionError("hf_hub_download called for a local folder")

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", refuse)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    ecp, hrr, settings = hub.load_pretrained(weights)
    assert settings["ecp_size"] == 128 and ecp.config.embed_dim == 32


def test_not_a_folder_nor_repo_id(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a valid Hugging Face Hub repo id"):
        hub.load_pretrained(str(tmp_path / "no" / "such" / "folder"))


def test_mistyped_path_under_an_existing_folder_is_not_sent_to_the_hub(tmp_path, monkeypatch, no_network):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    with pytest.raises(FileNotFoundError, match="weights folder 'runs/exprt' not found"):
        hub.load_pretrained("runs/exprt")


def test_file_instead_of_folder(weights):
    with pytest.raises(ValueError, match="is a file; pass the folder"):
        hub.load_pretrained(weights / "model.safetensors")


# --------------------------------------------------------------------------- bad files


def _copy(weights: Path, dst: Path) -> Path:
    shutil.copytree(weights, dst)
    return dst


def _edit_config(folder: Path, edit) -> None:
    config = json.loads((folder / "config.json").read_text())
    edit(config)
    (folder / "config.json").write_text(json.dumps(config))


def _edit_tensors(folder: Path, edit) -> None:
    tensors = load_file(folder / "model.safetensors")
    edit(tensors)
    save_file(tensors, folder / "model.safetensors", metadata={"format": "pt"})


def _drop_first_hrr(t):
    del t[next(k for k in t if k.startswith("hrr."))]


BAD_FILES = {
    "missing tensor": (
        lambda f: _edit_tensors(f, _drop_first_hrr),
        "model.safetensors",
        r"missing 1 tensor\(s\): hrr\.",
    ),
    "unexpected tensor": (
        lambda f: _edit_tensors(f, lambda t: t.update({"ecp.extra.weight": torch.zeros(2)})),
        "model.safetensors",
        r"unexpected 1 tensor\(s\): ecp\.extra\.weight",
    ),
    "tensor outside both networks": (
        lambda f: _edit_tensors(f, lambda t: t.update({"decoder.weight": torch.zeros(2)})),
        "model.safetensors",
        r"outside 'ecp\.'/'hrr\.': decoder\.weight",
    ),
    "shape mismatch": (
        lambda f: _edit_config(f, lambda c: c["ecp"].update(decoder_dim=16)),
        "model.safetensors",
        r"shape mismatch.*ecp\.decoder\.mlp\.0\.weight has shape \(8, 32, 1, 1\).*needs \(16, 32, 1, 1\)",
    ),
    "newer format version": (
        lambda f: _edit_config(f, lambda c: c.update(format_version=2)),
        "config.json",
        "format_version 2 is newer than this ntclick supports",
    ),
    "missing format version": (
        lambda f: _edit_config(f, lambda c: c.pop("format_version")),
        "config.json",
        "missing or invalid 'format_version'",
    ),
    "unknown network key": (
        lambda f: _edit_config(f, lambda c: c["hrr"].update(windowsize=4)),
        "config.json",
        r"invalid network config: unknown HRRConfig key\(s\) \['windowsize'\]",
    ),
    "unknown predictor key": (
        lambda f: _edit_config(f, lambda c: c["predictor"].update(threshold=1)),
        "config.json",
        r"unknown predictor settings \['threshold'\]",
    ),
    "invalid json": (
        lambda f: (f / "config.json").write_text("{not json"),
        "config.json",
        "not a valid JSON file",
    ),
    "pickle instead of safetensors": (
        lambda f: torch.save({"ecp.x": torch.zeros(2)}, f / "model.safetensors"),
        "model.safetensors",
        "not a valid safetensors file.*only safetensors are loaded",
    ),
    "truncated safetensors": (
        lambda f: (f / "model.safetensors").write_bytes((f / "model.safetensors").read_bytes()[:100]),
        "model.safetensors",
        "not a valid safetensors file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_files_raise_naming_file_and_problem(case, weights, tmp_path):
    damage, filename, problem = BAD_FILES[case]
    folder = _copy(weights, tmp_path / "w")
    damage(folder)
    with pytest.raises(ValueError) as info:
        hub.load_pretrained(folder)
    message = str(info.value)
    assert message.startswith(str(folder / filename)), message
    assert re.search(problem, message), message


def test_missing_weights_file_mentions_safetensors(weights, tmp_path):
    folder = _copy(weights, tmp_path / "w")
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    with pytest.raises(FileNotFoundError, match=r"has no model\.safetensors .*only safetensors"):
        hub.load_pretrained(folder)


# --------------------------------------------------------------------------- publishing and parsing


def test_push_to_hub_uploads_a_loadable_folder(weights, tmp_path, monkeypatch):
    import huggingface_hub

    calls = {}

    class FakeApi:
        def __init__(self, token=None):
            calls["token"] = token

        def create_repo(self, repo_id, *, private=None, exist_ok=False, token=None):
            calls["create_repo"] = (repo_id, private, exist_ok)

        def upload_folder(self, *, repo_id, folder_path, commit_message, revision, token):
            calls["upload"] = (repo_id, revision)
            shutil.copytree(folder_path, tmp_path / "uploaded")
            return "commit-info"

    monkeypatch.setattr(huggingface_hub, "HfApi", FakeApi)
    predictor = NTClickPredictor.from_pretrained(weights)
    assert predictor.push_to_hub("me/ntclick-tiny", private=True, token="t0k") == "commit-info"
    assert calls == {
        "token": "t0k",
        "create_repo": ("me/ntclick-tiny", True, True),
        "upload": ("me/ntclick-tiny", None),
    }
    reloaded = NTClickPredictor.from_pretrained(tmp_path / "uploaded")
    np.testing.assert_array_equal(_predict(reloaded).soft, _predict(predictor).soft)


@pytest.mark.parametrize(
    "given, expected",
    [
        (None, torch.float32),
        ("fp16", torch.float16),
        ("bfloat16", torch.bfloat16),
        (torch.float32, torch.float32),
    ],
)
def test_parse_dtype(given, expected):
    assert hub.parse_dtype(given) is expected


@pytest.mark.parametrize("bad", ["float64", "int8", torch.float64, 3])
def test_parse_dtype_rejects(bad):
    with pytest.raises(ValueError, match="unsupported dtype"):
        hub.parse_dtype(bad)


def test_parse_device():
    assert hub.parse_device(None) == torch.device("cpu")
    with pytest.raises(ValueError, match="invalid device 'gpu0'"):
        hub.parse_device("gpu0")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            hub.parse_device("cuda")
