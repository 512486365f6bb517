"""The files git tracks in this checkout, for tests about the repository itself (its size, the
stored results).  Such a test skips where there is no git or no checkout (an installed package,
an unpacked sdist)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def tracked_files(*pathspecs: str) -> list[Path]:
    """The tracked files matching ``pathspecs`` (all with none) that exist in the working tree;
    ``pytest.skip`` outside a git checkout of this repository."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=REPO, capture_output=True, text=True)
    if top.returncode != 0 or Path(top.stdout.strip()).resolve() != REPO.resolve():
        pytest.skip(f"{REPO} is not a git checkout")
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--", *pathspecs], cwd=REPO, capture_output=True, check=True
    ).stdout.split(b"\0")
    paths = (REPO / os.fsdecode(p) for p in listed if p)
    return [p for p in paths if p.is_file()]
