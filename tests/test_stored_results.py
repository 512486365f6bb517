"""The results stored under ``benchmarks/results/``: xz-compressed JSON lines, written
deterministically (``xz -9 -T1``), readable, and the results files the docs name exist."""

from __future__ import annotations

import gzip
import lzma
import re

import pytest
from tracked_files import REPO, tracked_files

from ntclick.train.metrics_log import MetricsLog, read_metrics

# Files whose commands and prose name stored results.
DOC_GLOBS = ("README.md", "docs/*.md", "benchmarks/README.md", "benchmarks/*.py", "docs/scripts/*.py")
# A results file named in the docs; {ds}, ${p}, $p, <run> and * are placeholders.  Commands name
# the stored files they read as .jsonl.xz, and files they write themselves (--out) as .jsonl.
RESULTS_REF = re.compile(r"benchmarks/results/[A-Za-z0-9_./{}*$<>:\-]+?\.jsonl(?:\.xz|\.gz)?(?![\w.])")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_]+|\{[^}]*\}|<[^>]*>")
# What `xz -9 -T1` writes before the compressed data, whatever the input: the stream header (magic,
# CRC64 check) and a single-threaded block header (no sizes in it) of one LZMA2 filter with the
# 64 MiB dictionary of preset 9.  Multi-threaded xz (-T0, the default from xz 5.6 on) writes the
# sizes into the block header, so its bytes differ.
XZ_9_T1_HEADER = lzma.compress(b"{}\n", preset=9)[:24]


def test_results_are_stored_as_xz_only():
    other = [
        p.relative_to(REPO).as_posix()
        for p in tracked_files("benchmarks/results/*.jsonl", "benchmarks/results/*.jsonl.gz")
    ]
    assert other == [], (
        f"{len(other)} JSON lines files under benchmarks/results/ not stored as .jsonl.xz "
        f"(e.g. {other[0]}): compress them with `xz -9 -T1 FILE.jsonl` (benchmarks/README.md)"
    )


def test_stored_results_are_deterministic_readable_xz():
    stored = tracked_files("benchmarks/results/*.jsonl.xz")
    assert len(stored) >= 290  # every round's per-object results and training metrics
    for path in stored:
        data = path.read_bytes()
        assert data[:6] == b"\xfd7zXZ\x00", f"{path}: not an xz file"
        assert data[:24] == XZ_9_T1_HEADER, f"{path}: compress with xz -9 -T1 (benchmarks/README.md)"
        text = lzma.decompress(data, format=lzma.FORMAT_XZ)  # the whole stream, CRC64 checked
        assert text.startswith(b"{"), f"{path}: not JSON lines"
    # The same command gives the same bytes again (a sample: compressing at preset 9 is slow).
    for path in stored[::25]:
        data = path.read_bytes()
        assert lzma.compress(lzma.decompress(data), preset=9) == data, f"{path}: not what xz -9 -T1 writes"


def test_stored_results_named_in_the_docs_exist():
    texts = [p for pattern in DOC_GLOBS for p in sorted(REPO.glob(pattern))]
    if not (REPO / "benchmarks" / "results").is_dir() or not texts:
        pytest.skip("no checkout: the docs or the stored results are not here")
    refs = {(p.relative_to(REPO).as_posix(), m) for p in texts for m in RESULTS_REF.findall(p.read_text())}
    assert sum(ref.endswith(".xz") for _, ref in refs) > 20  # the docs' commands read many stored runs

    def stored(ref: str) -> bool:  # a file written by its command block is stored compressed since
        pattern = PLACEHOLDER.sub("*", ref)
        if any(REPO.glob(pattern)):
            return True
        return ref.endswith(".jsonl") and any(any(REPO.glob(pattern + s)) for s in (".xz", ".gz"))

    missing = sorted(f"{doc}: {ref}" for doc, ref in refs if not stored(ref))
    assert missing == [], "results named in the docs do not exist (as .jsonl, .jsonl.xz or .jsonl.gz):\n" + (
        "\n".join(missing)
    )


@pytest.mark.parametrize("suffix", [".xz", ".gz"])
def test_training_metrics_read_from_a_compressed_copy(tmp_path, suffix):
    path = tmp_path / "run.metrics.jsonl"
    log = MetricsLog(path)
    log.write({"step": 10, "split": "train", "loss": 0.71})
    log.write({"step": 20, "split": "val", "loss": 0.52})
    records = read_metrics(path)
    assert [r["step"] for r in records] == [10, 20]
    compress = {".xz": lambda b: lzma.compress(b, preset=9), ".gz": lambda b: gzip.compress(b, mtime=0)}
    stored = path.with_name(path.name + suffix)
    stored.write_bytes(compress[suffix](path.read_bytes()))
    assert read_metrics(stored) == records
    path.unlink()
    assert read_metrics(path) == records  # the plain name finds the stored copy
