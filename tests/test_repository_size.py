"""The tracked tree must stay small enough to travel to a lent GPU machine with the training data.

The device tool copies the working tree (tracked files and untracked files git does not ignore)
to the machine and refuses more than 64 MiB in all; a GPU training run also carries the
training-data pack (``docs/scripts/pack_training_data.py``, docs/training.md).  The bundled
weights alone are 41.8 MB; the per-object results under ``benchmarks/results/`` are stored
xz-compressed for this reason (``benchmarks/README.md``).
"""

from __future__ import annotations

from script_loader import load_script
from tracked_files import tracked_files

MiB = 2**20
DEVICE_LIMIT_MIB = 64.0
# The training-data pack at pack_training_data.py's default JPEG quality (70): 8,997,071 bytes,
# measured 2026-12-07 with `python docs/scripts/pack_training_data.py --src
# ../shared/data/BSDS500-train --out /tmp/pack70` (401 images, 2158 label maps; quality 80 gave
# 10,316,609 bytes).  Measure it again when the data, --long-side or the default quality change.
TRAINING_PACK_MIB = 8_997_071 / MiB
PACK_QUALITY = 70
# Room for the untracked files that travel too (a new run not yet committed, notes).
MARGIN_MIB = 1.0
TREE_LIMIT_MIB = DEVICE_LIMIT_MIB - TRAINING_PACK_MIB - MARGIN_MIB  # 54.4 MiB

WHY = (
    f"the device tool that lends GPU machines sends at most {DEVICE_LIMIT_MIB:g} MiB (tracked and "
    f"untracked-not-ignored files), and a GPU training run also carries the {TRAINING_PACK_MIB:.1f} MiB "
    f"training-data pack, so the tree may take {TREE_LIMIT_MIB:.1f} MiB ({MARGIN_MIB:g} MiB to spare). "
    "Compress new results before committing them (xz -9 -T1, benchmarks/README.md), keep weights "
    "small (fp16, no optimizer state), and keep large files (data, runs, checkpoints) out of git"
)


def test_tracked_files_leave_room_for_the_training_pack():
    size = sum(p.stat().st_size for p in tracked_files()) / MiB
    assert size > 40, "the bundled weights alone are 41.8 MB: not the repository's file list?"
    assert size <= TREE_LIMIT_MIB, (
        f"tracked files are {size:.2f} MiB, {size - TREE_LIMIT_MIB:.2f} MiB over {TREE_LIMIT_MIB:.2f} MiB "
        f"({size + TRAINING_PACK_MIB:.1f} MiB with the pack): {WHY}"
    )


def test_the_pack_size_was_measured_at_the_default_quality():
    packer = load_script("docs/scripts/pack_training_data.py")
    assert packer.DEFAULT_QUALITY == PACK_QUALITY, (
        "pack_training_data.py's default quality changed: measure the pack again and update "
        "TRAINING_PACK_MIB and PACK_QUALITY here"
    )
