"""When the writer writes: whole batches as they fill, everything queued once the flush
interval is over (or on flush), never a handful just because a wake-up was left pending."""

from __future__ import annotations

import time
from pathlib import Path

from lunaroute.recording import Recorder, RecorderSettings

from .helpers import exchange


def _session_files(data_dir: Path) -> int:
    return sum(1 for _ in (data_dir / "sessions").glob("*/*/*/*.session"))


def _wait_for(predicate, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_between_intervals_only_whole_batches_are_written(tmp_path: Path) -> None:
    # queue_size 400: batches of 100. A long interval, so only full batches can be written.
    rec = Recorder(tmp_path, RecorderSettings(queue_size=400, flush_interval_s=30.0, fsync="never"))
    try:
        assert rec.flush(10)  # started: start-up writes whatever is queued by then
        for i in range(250):
            rec.observe(exchange(i))
        assert _wait_for(lambda: rec.written == 200)
        time.sleep(0.5)  # the 50 left wait for the next batch or the interval
        assert rec.written == 200
        assert rec.queued == 50
        assert _session_files(tmp_path) == 200
        assert rec.flush(10)
        assert rec.written == 250 and rec.queued == 0
    finally:
        assert rec.close(10)
    assert _session_files(tmp_path) == 250 and rec.errors == 0


def test_a_partial_batch_is_written_when_the_interval_is_over(tmp_path: Path) -> None:
    rec = Recorder(tmp_path, RecorderSettings(queue_size=400, flush_interval_s=0.3, fsync="never"))
    try:
        assert rec.flush(10)
        started = time.monotonic()
        for i in range(150):
            rec.observe(exchange(i))
        assert _wait_for(lambda: rec.written == 150, timeout=5.0)  # no flush() asked for
        assert time.monotonic() - started < 3.0
    finally:
        assert rec.close(10)
