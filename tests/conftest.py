"""Shared fixtures. Torch is imported only by the fixtures that need it."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory) -> Path:
    """A weights folder (``config.json`` + ``model.safetensors``) of random tiny networks, ECP at 128 px."""
    from tiny_models import tiny_networks

    from ntclick.hub import save_pretrained

    ecp, hrr = tiny_networks(seed=0)
    folder = tmp_path_factory.mktemp("weights") / "ntclick-tiny"
    save_pretrained(folder, ecp, hrr, predictor_config={"ecp_size": 128})
    return folder
