"""The predictor examples run as scripts (subprocess) with tiny weights saved to a temporary folder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ntclick.image_io import load_image, load_mask

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(script: str, *args: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture()
def weights(tiny_weights) -> Path:
    return tiny_weights


def test_quickstart(weights, tmp_path):
    out = run("quickstart.py", "--weights", str(weights), "--out", "mask.png", cwd=tmp_path)
    mask = load_mask(tmp_path / "mask.png")
    assert mask.shape == (300, 451) and set(np.unique(mask).tolist()) <= {0, 255}
    assert f"{100 * (mask > 0).mean():.1f}% foreground" in out


def test_interactive_session_with_weights(weights, tmp_path):
    out = run("interactive_session.py", "--weights", str(weights), "--out-dir", "s", cwd=tmp_path)
    overlays = sorted((tmp_path / "s").glob("step*_overlay.png"))
    assert [p.name for p in overlays] == [f"step{i:02d}_overlay.png" for i in range(1, 7)]
    assert out.count("click ") == 6 and "set_image:" in out
    assert load_image(overlays[-1]).shape == (300, 451, 3)


def test_interactive_session_carries_the_previous_mask(tmp_path):
    """With --prev-mask and the bundled (prior) ECP the session passes each step's mask to the
    next; the last overlay then differs from a session on the clicks alone (the default)."""
    run("interactive_session.py", "--prev-mask", "--out-dir", "a", cwd=tmp_path)
    run("interactive_session.py", "--out-dir", "b", cwd=tmp_path)
    first = [load_image(tmp_path / d / "step01_overlay.png") for d in "ab"]
    last = [load_image(tmp_path / d / "step06_overlay.png") for d in "ab"]
    assert np.array_equal(*first)  # no previous mask at the first click
    assert not np.array_equal(*last)


def test_interactive_session_with_grabcut(tmp_path):
    run("interactive_session.py", "--baseline", "grabcut", "--out-dir", "s", cwd=tmp_path)
    overlays = sorted((tmp_path / "s").glob("step*_overlay.png"))
    fbus = sorted((tmp_path / "s").glob("step*_fbu.png"))
    assert len(overlays) == len(fbus) == 6
    # Each step draws one more click, so consecutive overlays differ.
    images = [load_image(p) for p in overlays]
    assert all(not np.array_equal(a, b) for a, b in zip(images[:-1], images[1:], strict=True))
    # The baseline gets no previous mask even when asked (measured worse with it).
    run("interactive_session.py", "--baseline", "grabcut", "--prev-mask", "--out-dir", "t", cwd=tmp_path)
    assert np.array_equal(images[-1], load_image(tmp_path / "t" / "step06_overlay.png"))


def test_interactive_session_click_guard(tmp_path):
    """--click-guard reaches the predictor: with the bundled weights the third click (fg on the
    cat's chest) floods without the guard and is held back with it; the first click is alike."""
    guarded = run("interactive_session.py", "--click-guard", "--out-dir", "g", cwd=tmp_path)
    run("interactive_session.py", "--out-dir", "p", cwd=tmp_path)
    first = [load_image(tmp_path / d / "step01_overlay.png") for d in "gp"]
    third = [load_image(tmp_path / d / "step03_overlay.png") for d in "gp"]
    assert np.array_equal(*first) and not np.array_equal(*third)
    assert guarded.count("click ") == 6
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / "interactive_session.py"), "--baseline", "grabcut", "--click-guard"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "--click-guard applies to --weights" in result.stderr
