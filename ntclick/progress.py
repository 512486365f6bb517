"""Progress reports for long work that read well in a terminal and in a log file.

In a terminal a tqdm bar is the right report; in a log file (``nohup``, a batch scheduler, CI) a
bar is either absent (tqdm switches itself off without a TTY) or a smear of carriage returns, and
Python block-buffers the output, so hours of training or evaluation showed nothing until the end.
:class:`Progress` draws the bar on a TTY and otherwise writes one plain, flushed line at most every
``interval_s`` seconds, plus one at the end::

    train ecp: 1530/2300 steps (66%), 0.52 steps/s, elapsed 0:00:58, left about 0:24:40, loss 0.6842

Standard library only (tqdm is imported lazily for the bar), so torch-free modules may use it.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any, TypeVar

__all__ = ["Progress", "format_duration", "track"]

T = TypeVar("T")


def format_duration(seconds: float) -> str:
    """``h:mm:ss`` for a non-negative number of seconds (rounded down to whole seconds)."""
    s = max(0, int(seconds))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _is_tty(stream: IO[str]) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (ValueError, OSError):  # a closed or detached stream
        return False


class Progress:
    """Counts units of work towards ``total`` and reports it.

    Args:
        total: units the work has in all (steps, objects, images); ``>= initial``.
        desc: what the work is, the start of every line (``"train ecp"``).
        unit: the unit's name, plural in lines (``"step"`` -> ``"steps"``).
        initial: units already done (a resumed run starts here; rates count only new units).
        enabled: ``False`` reports nothing at all.
        stream: where reports go (default ``sys.stderr``).
        interval_s: in plain mode, the fewest seconds between two lines.
        bar: ``True`` draws a tqdm bar, ``False`` writes plain lines; ``None`` (default) picks the
            bar when ``stream`` is a TTY.
        clock: seconds as a float, monotonic (tests pass a fake one).
    """

    def __init__(
        self,
        total: int,
        desc: str,
        unit: str = "it",
        *,
        initial: int = 0,
        enabled: bool = True,
        stream: IO[str] | None = None,
        interval_s: float = 30.0,
        bar: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if total < 0 or initial < 0 or initial > total:
            raise ValueError(f"need 0 <= initial <= total, got initial={initial}, total={total}")
        if interval_s < 0:
            raise ValueError(f"interval_s must be >= 0, got {interval_s}")
        self.total, self.desc, self.unit = int(total), desc, unit
        self.n = self.initial = int(initial)
        self.enabled = enabled
        self.stream = sys.stderr if stream is None else stream
        self.interval_s = float(interval_s)
        self._clock = clock
        self._start = self._last_line = clock()
        self._postfix: dict[str, Any] = {}
        self._emitted_n: int | None = None
        self._closed = False
        self._bar = None
        if enabled and (_is_tty(self.stream) if bar is None else bar):
            from tqdm import tqdm

            self._bar = tqdm(total=total, initial=initial, desc=desc, unit=unit, file=self.stream)

    @property
    def plain(self) -> bool:
        """Whether reports are plain lines (enabled, no bar)."""
        return self.enabled and self._bar is None

    def update(self, n: int = 1, **postfix: Any) -> None:
        """Count ``n`` more units; ``postfix`` (``loss=0.68``) is shown from now on."""
        self.n += n
        if postfix:
            self.set_postfix(**postfix)
        if self._bar is not None:
            self._bar.update(n)
        elif self.plain and self._clock() - self._last_line >= self.interval_s:
            self._emit()

    def set_postfix(self, **postfix: Any) -> None:
        """Values shown after the counts (floats with 4 significant digits)."""
        self._postfix.update(postfix)
        if self._bar is not None:
            self._bar.set_postfix({k: _fmt(v) for k, v in self._postfix.items()}, refresh=False)

    def write(self, message: str) -> None:
        """A line of its own (a validation result) that does not break the bar; flushed."""
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.write(message, file=self.stream)
        else:
            self._print(message)

    def line(self) -> str:
        """The plain report of where the work stands now."""
        elapsed = self._clock() - self._start
        done = self.n - self.initial
        units = self.unit if self.unit.endswith("s") else self.unit + "s"
        parts = [f"{self.desc}: {self.n}/{self.total} {units}"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        if done > 0 and elapsed > 0:
            rate = done / elapsed
            parts.append(f"{rate:.3g} {units}/s" if rate >= 1 else f"{1 / rate:.3g} s/{self.unit}")
        parts.append(f"elapsed {format_duration(elapsed)}")
        if done > 0 and self.n < self.total:
            parts.append(f"left about {format_duration(elapsed / done * (self.total - self.n))}")
        parts += [f"{k} {_fmt(v)}" for k, v in self._postfix.items()]
        return ", ".join(parts)

    def close(self) -> None:
        """End the report (plain mode: a last line, unless the previous one already says it all)."""
        if self._closed:
            return
        self._closed = True
        if self._bar is not None:
            self._bar.close()
        elif self.plain and self._emitted_n != self.n:
            self._emit()

    def _emit(self) -> None:
        self._print(self.line())
        self._last_line, self._emitted_n = self._clock(), self.n

    def _print(self, text: str) -> None:
        print(text, file=self.stream, flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def track(
    items: Iterable[T], desc: str, unit: str = "it", *, total: int | None = None, **kwargs: Any
) -> Iterator[T]:
    """Iterate ``items`` while a :class:`Progress` counts them (``total`` defaults to ``len``)."""
    if total is None:
        total = len(items)  # type: ignore[arg-type]
    with Progress(total, desc, unit, **kwargs) as progress:
        for item in items:
            yield item
            progress.update()
