"""The torch-free core must never import torch, not even indirectly (it runs in data loaders,
evaluation workers and on machines without torch)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Modules that are torch-free by contract (CONTRACTS.md).
CORE_MODULES = [
    "ntclick",
    "ntclick.clicks",
    "ntclick.fbu",
    "ntclick.clicker",
    "ntclick.metrics",
    "ntclick.visualize",
    "ntclick.image_io",
    "ntclick.prediction",
    "ntclick.prior",
    "ntclick.band_grabcut",
    "ntclick.components",
    "ntclick.click_guard",
    "ntclick.mask_formats",
    "ntclick.jsonl_files",
]
# Torch-free modules of other parts; checked when they exist in this checkout.
OPTIONAL_MODULES = [
    "ntclick.baselines.grabcut",
    "ntclick.eval",
    "ntclick.eval.datasets",
    "ntclick.eval.protocol",
    "ntclick.eval.report",
]

_PROBE = """
import importlib, importlib.util, json, sys
required, optional = json.loads(sys.argv[1])
present = [m for m in optional if importlib.util.find_spec(m) is not None]
for name in required + present:
    importlib.import_module(name)
    if "torch" in sys.modules:
        print(json.dumps({"culprit": name}))
        sys.exit(0)
print(json.dumps({"culprit": None, "checked": required + present}))
"""


def _probe(required: list[str], optional: list[str]) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps([required, optional])],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_core_modules_do_not_import_torch():
    report = _probe(CORE_MODULES, [])
    assert report["culprit"] is None, f"importing {report['culprit']} imported torch"
    assert report["checked"] == CORE_MODULES


def test_other_torch_free_modules_do_not_import_torch():
    report = _probe([], OPTIONAL_MODULES)
    if report["culprit"] is None and not report["checked"]:
        pytest.skip("none of the optional torch-free modules exist in this checkout")
    assert report["culprit"] is None, f"importing {report['culprit']} imported torch"


def test_public_names_of_the_core_resolve_without_torch():
    # `from ntclick import Click` goes through the lazy __getattr__ and must stay torch-free too.
    code = (
        "import sys; from ntclick import Click, ClickKind, Prediction; "
        "from ntclick.clicker import next_click; from ntclick.metrics import iou; "
        "print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
