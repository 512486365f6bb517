"""Progress reports: a bar in a terminal, plain flushed lines at an interval in a log file."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ntclick.progress import Progress, format_duration, track


class FakeClock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


class FlushCountingStream(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushes = 0

    def flush(self) -> None:
        self.flushes += 1
        super().flush()


class TTYStream(io.StringIO):
    def isatty(self) -> bool:
        return True


def lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_plain_lines_come_at_the_interval_and_once_at_the_end():
    clock, out = FakeClock(), FlushCountingStream()
    p = Progress(10, "train ecp", "step", stream=out, interval_s=30, clock=clock)
    assert p.plain
    for _ in range(3):  # 10 s a step: a line after the third step (30 s)
        clock.t += 10
        p.update()
    assert lines(out) == ["train ecp: 3/10 steps (30%), 10 s/step, elapsed 0:00:30, left about 0:01:10"]
    assert out.flushes >= 1  # a log file sees it now, not when the buffer fills
    for _ in range(2):
        clock.t += 10
        p.update()
    assert len(lines(out)) == 1  # 20 s since the last line
    for _ in range(5):
        clock.t += 10
        p.update()
    p.close()
    p.close()  # idempotent
    got = lines(out)
    assert got[-1] == "train ecp: 10/10 steps (100%), 10 s/step, elapsed 0:01:40"
    assert [g.split(" steps")[0] for g in got] == [
        f"train ecp: {n}/10" for n in (3, 6, 9, 10)
    ]  # 30, 60, 90 s, end


def test_close_does_not_repeat_a_line_that_already_says_it_all():
    clock, out = FakeClock(), io.StringIO()
    p = Progress(2, "eval", "object", stream=out, interval_s=5, clock=clock)
    clock.t += 6
    p.update(2)
    p.close()
    assert lines(out) == ["eval: 2/2 objects (100%), 3 s/object, elapsed 0:00:06"]


def test_a_resumed_run_rates_only_its_own_units_and_shows_the_postfix():
    clock, out = FakeClock(), io.StringIO()
    p = Progress(2300, "train ecp", "step", initial=1500, stream=out, interval_s=0, clock=clock)
    clock.t += 4
    p.update(2, loss=0.68424, lr="1.36e-04")
    assert lines(out) == [
        "train ecp: 1502/2300 steps (65%), 2 s/step, elapsed 0:00:04, left about 0:26:36, loss 0.6842, lr 1.36e-04"
    ]


def test_fast_work_reports_units_per_second():
    clock, out = FakeClock(), io.StringIO()
    with Progress(100, "synthetic", "image", stream=out, interval_s=60, clock=clock) as p:
        clock.t += 2
        p.update(50)
    assert lines(out)[-1].startswith(
        "synthetic: 50/100 images (50%), 25 images/s, elapsed 0:00:02, left about 0:00:02"
    )


def test_write_is_a_line_of_its_own_and_disabled_reports_nothing():
    out = FlushCountingStream()
    p = Progress(5, "train ecp", "step", stream=out, interval_s=0)
    p.write("step 500: NoC@90 11.20 on 20 objects")
    assert lines(out) == ["step 500: NoC@90 11.20 on 20 objects"] and out.flushes >= 1
    quiet = io.StringIO()
    q = Progress(5, "x", stream=quiet, interval_s=0, enabled=False)
    q.update(5)
    q.write("hello")
    q.close()
    assert quiet.getvalue() == "" and not q.plain


def test_a_terminal_gets_a_bar_not_lines():
    out = TTYStream()
    p = Progress(4, "eval", "object", stream=out, interval_s=0)
    assert not p.plain
    p.update(4)
    p.close()
    text = out.getvalue()
    assert "\r" in text and "4/4" in text and "elapsed" not in text


def test_track_counts_and_reports_the_end():
    out = io.StringIO()
    assert list(track(["a", "b", "c"], "eval", "object", stream=out, interval_s=1e9)) == ["a", "b", "c"]
    assert lines(out)[-1].startswith("eval: 3/3 objects (100%)")
    empty = io.StringIO()
    assert list(track([], "eval", "object", stream=empty, interval_s=1e9)) == []
    assert lines(empty) == ["eval: 0/0 objects, elapsed 0:00:00"]


@pytest.mark.parametrize(("total", "initial", "interval"), [(5, 6, 1.0), (-1, 0, 1.0), (5, 0, -1.0)])
def test_bad_arguments_are_named(total, initial, interval):
    with pytest.raises(ValueError, match="initial|interval_s"):
        Progress(total, "x", initial=initial, interval_s=interval)


@given(st.floats(min_value=0, max_value=1e7, allow_nan=False))
def test_format_duration_round_trips_whole_seconds(seconds):
    h, m, s = (int(x) for x in format_duration(seconds).split(":"))
    assert 0 <= m < 60 and 0 <= s < 60
    assert h * 3600 + m * 60 + s == int(seconds)


def test_the_module_does_not_import_torch_or_tqdm():
    code = "import sys, ntclick.progress; print('torch' in sys.modules, 'tqdm' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]
