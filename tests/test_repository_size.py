"""The tracked tree must stay small enough to travel to a lent GPU machine.

The device tool copies the working tree (tracked files and untracked files git does not ignore)
to the machine and refuses more than 64 MiB in all; a GPU training run also carries the 9.8 MiB
training-data pack (``docs/scripts/pack_training_data.py``), which leaves 54.2 MiB for the tree.
The bundled weights alone are 41.8 MB; the per-object results under ``benchmarks/results/`` are
stored gzip-compressed for this reason (``benchmarks/README.md``).
"""

from __future__ import annotations

import pytest
from tracked_files import tracked_files

MiB = 2**20
DEVICE_LIMIT_MIB = 64.0
TRAINING_PACK_MIB = 9.8
# Tree + pack comfortably under the device limit: 2.2 MiB to spare for the next rounds' results.
TARGET_MIB = 52.0
# What the tree may not outgrow meanwhile: it was 55.6 MiB once the results were compressed,
# still over the target; lower this as the tree shrinks, never raise it to make room.
CEILING_MIB = 56.0

WHY = (
    f"the device tool sends at most {DEVICE_LIMIT_MIB:g} MiB (tracked + untracked-not-ignored files), "
    f"and a GPU training run also carries the {TRAINING_PACK_MIB:g} MiB training-data pack; "
    "compress new results (gzip -9 -n, benchmarks/README.md) or keep large files out of git"
)


def _tracked_mib() -> float:
    return sum(p.stat().st_size for p in tracked_files()) / MiB


def test_tracked_files_do_not_outgrow_the_ceiling():
    size = _tracked_mib()
    assert size > 40, "the bundled weights alone are 41.8 MB: not the repository's file list?"
    assert size <= CEILING_MIB, f"tracked files are {size:.1f} MiB, over {CEILING_MIB:g} MiB: {WHY}"


@pytest.mark.xfail(
    strict=True,
    reason="tracked tree 55.6 MiB after compressing the stored results: 3.6 MiB over the target, "
    "and with the pack over the device limit (docs/training.md, 'A lent GPU'); when this passes, "
    "drop the mark and lower CEILING_MIB",
)
def test_tracked_files_leave_room_for_the_training_pack():
    size = _tracked_mib()
    assert size <= TARGET_MIB, (
        f"tracked files are {size:.1f} MiB, over the {TARGET_MIB:g} MiB target "
        f"({size + TRAINING_PACK_MIB:.1f} MiB with the pack): {WHY}"
    )
