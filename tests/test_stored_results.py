"""The results stored under ``benchmarks/results/``: gzip-compressed JSON lines, written
deterministically (``gzip -9 -n``), readable, and the results files the docs name exist."""

from __future__ import annotations

import gzip
import re

import pytest
from tracked_files import REPO, tracked_files

from ntclick.train.metrics_log import MetricsLog, read_metrics

# Files whose commands and prose name stored results.
DOC_GLOBS = ("README.md", "docs/*.md", "benchmarks/README.md", "benchmarks/*.py", "docs/scripts/*.py")
# A results file named in the docs; {ds}, ${p}, $p, <run> and * are placeholders.  Commands name
# the stored files they read as .jsonl.gz, and files they write themselves (--out) as .jsonl.
RESULTS_REF = re.compile(r"benchmarks/results/[A-Za-z0-9_./{}*$<>:\-]+?\.jsonl(?:\.gz)?(?![\w.])")
PLACEHOLDER = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_]+|\{[^}]*\}|<[^>]*>")


def test_no_plain_json_lines_are_tracked_under_results():
    plain = [p.relative_to(REPO).as_posix() for p in tracked_files("benchmarks/results/*.jsonl")]
    assert plain == [], (
        f"{len(plain)} uncompressed JSON lines files under benchmarks/results/ (e.g. {plain[0]}): "
        "store them as `gzip -9 -n FILE.jsonl` (benchmarks/README.md)"
    )


def test_stored_results_are_deterministic_readable_gzip():
    stored = tracked_files("benchmarks/results/*.jsonl.gz")
    assert len(stored) >= 290  # every round's per-object results and training metrics
    for path in stored:
        header = path.read_bytes()[:10]
        assert header[:3] == b"\x1f\x8b\x08", f"{path}: not a gzip file"
        # gzip -n: no file name (FNAME flag) and no time stamp, so recompressing gives the same bytes.
        assert not header[3] & 0x08 and header[4:8] == b"\0\0\0\0", f"{path}: compress with gzip -9 -n"
        with gzip.open(path) as f:  # the whole stream, CRC checked
            first = f.readline()
            f.read()
        assert first.startswith(b"{"), f"{path}: not JSON lines"


def test_stored_results_named_in_the_docs_exist():
    texts = [p for pattern in DOC_GLOBS for p in sorted(REPO.glob(pattern))]
    if not (REPO / "benchmarks" / "results").is_dir() or not texts:
        pytest.skip("no checkout: the docs or the stored results are not here")
    refs = {(p.relative_to(REPO).as_posix(), m) for p in texts for m in RESULTS_REF.findall(p.read_text())}
    assert sum(ref.endswith(".gz") for _, ref in refs) > 20  # the docs' commands read many stored runs

    def stored(ref: str) -> bool:  # a file written by its command block is stored compressed since
        pattern = PLACEHOLDER.sub("*", ref)
        return any(REPO.glob(pattern)) or (not ref.endswith(".gz") and any(REPO.glob(pattern + ".gz")))

    missing = sorted(f"{doc}: {ref}" for doc, ref in refs if not stored(ref))
    assert missing == [], "results named in the docs do not exist (as .jsonl or .jsonl.gz):\n" + "\n".join(
        missing
    )


def test_training_metrics_read_from_a_compressed_copy(tmp_path):
    path = tmp_path / "run.metrics.jsonl"
    log = MetricsLog(path)
    log.write({"step": 10, "split": "train", "loss": 0.71})
    log.write({"step": 20, "split": "val", "loss": 0.52})
    records = read_metrics(path)
    assert [r["step"] for r in records] == [10, 20]
    stored = path.with_name(path.name + ".gz")
    stored.write_bytes(gzip.compress(path.read_bytes(), mtime=0))
    assert read_metrics(stored) == records
    path.unlink()
    assert read_metrics(path) == records  # the plain name finds the stored copy
