"""JSON lines files, plain or compressed: the one reader of stored results and training logs.

The per-object results stored in the repository are xz-compressed (``benchmarks/README.md``),
the files ``ntclick eval`` and ``ntclick train`` write are plain; both are read here, by the
name's suffix, with the standard library alone (no NumPy, no torch).
"""

from __future__ import annotations

import gzip
import lzma
import os
import zlib
from pathlib import Path

__all__ = ["COMPRESSED_SUFFIXES", "resolve_jsonl", "read_jsonl_lines"]

# Compressed JSON lines read by suffix, and looked for in this order when a plain name is missing:
# the results stored in the repository are ``.xz`` (benchmarks/README.md); ``.gz`` is still read.
COMPRESSED_SUFFIXES = (".xz", ".gz")


def resolve_jsonl(path: str | os.PathLike) -> Path:
    """The file holding the JSON lines named ``path``: ``path`` itself when it exists, else its
    compressed copy ``path + ".xz"``, else ``path + ".gz"``, the first that exists (results stored
    in the repository are kept xz-compressed, see ``benchmarks/README.md``, so ``x.jsonl`` still
    finds ``x.jsonl.xz``).  A plain file wins over its compressed copies; a name that already ends
    in ``.xz`` or ``.gz`` is taken as it is.  ``FileNotFoundError`` when none exists."""
    p = Path(path)
    if p.is_file():
        return p
    if p.suffix in COMPRESSED_SUFFIXES:
        raise FileNotFoundError(f"results file not found: {p}")
    copies = [p.with_name(p.name + suffix) for suffix in COMPRESSED_SUFFIXES]
    for copy in copies:
        if copy.is_file():
            return copy
    raise FileNotFoundError(f"results file not found: {p} (nor {', '.join(c.name for c in copies)})")


def _decompress(path: Path, data: bytes) -> bytes:
    """``data`` read from ``path``, decompressed by its suffix (``.xz``: :mod:`lzma`; ``.gz``:
    :mod:`gzip`; anything else is plain).  A corrupt or truncated file raises ``ValueError``."""
    if path.suffix not in COMPRESSED_SUFFIXES:
        return data
    kind = "xz" if path.suffix == ".xz" else "gzip"
    try:
        if not data:  # gzip reads an empty file as empty text; a stored file is never empty
            raise EOFError("the file is empty")
        if path.suffix == ".xz":
            return lzma.decompress(data, format=lzma.FORMAT_XZ)
        return gzip.decompress(data)
    # lzma.LZMAError: corrupt or truncated xz; gzip.BadGzipFile (an OSError): not gzip;
    # EOFError: a truncated gzip stream; zlib.error: corrupt deflate data.
    except (lzma.LZMAError, OSError, EOFError, zlib.error) as exc:
        raise ValueError(f"{path}: not a readable {kind} file ({exc})") from None


def read_jsonl_lines(path: str | os.PathLike) -> list[str]:
    """The text lines of a JSON lines file, plain or compressed by its suffix (``.xz`` read with
    the standard library's :mod:`lzma`, ``.gz`` with :mod:`gzip`); ``path`` is found as
    :func:`resolve_jsonl` finds it (``x.jsonl``, else ``x.jsonl.xz``, else ``x.jsonl.gz``).  A
    corrupt or truncated compressed file, or text that is not UTF-8, raises ``ValueError`` naming
    the file.  The one reader of stored results: :func:`ntclick.eval.read_jsonl` and
    :func:`ntclick.train.metrics_log.read_metrics` go through it."""
    p = resolve_jsonl(path)
    data = _decompress(p, p.read_bytes())
    try:
        return data.decode("utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise ValueError(f"{p}: not UTF-8 JSON lines ({exc})") from None
