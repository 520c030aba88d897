"""`server.workers` > 1: a worker never outlives its supervisor, however the supervisor ends."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from .conftest import standard_gateway
from .procs import alive, children_of, kill_all, listening, wait_until


def _spawn(gw) -> subprocess.Popen:
    gw.log_path = gw.root / "lunaroute.log"
    gw._log = open(gw.log_path, "wb")
    return subprocess.Popen(
        [sys.executable, "-m", "lunaroute", "serve", "--config-dir", str(gw.config_dir)],
        stdout=gw._log,
        stderr=subprocess.STDOUT,
        env={**os.environ, **gw.env},
    )


def _assert_nothing_left(gw, workers: set[int]) -> None:
    ports = (gw.openai_port, gw.anthropic_port, gw.metrics_port)
    gone = wait_until(lambda: not any(alive(p) for p in workers) and not any(listening(p) for p in ports), 5)
    survivors = sorted(p for p in workers if alive(p))
    assert gone, f"workers {survivors} outlived the supervisor; listening: {[p for p in ports if listening(p)]}"


def test_sigterm_while_workers_start_leaves_no_worker(tmp_path, mock_upstream):
    gw = standard_gateway(tmp_path, mock_upstream.url, workers=3)
    proc = _spawn(gw)
    workers: set[int] = set()
    try:
        # The moment the first worker exists, the supervisor is still forking or setting up.
        assert wait_until(lambda: bool(workers.update(children_of(proc.pid)) or workers), 20, interval=0.001)
        proc.send_signal(signal.SIGTERM)
        while proc.poll() is None and len(workers) <= 10:
            workers |= children_of(proc.pid)
            time.sleep(0.005)
        code = proc.wait(10)
        _assert_nothing_left(gw, workers)
        assert code == 0, gw.logs()
    finally:
        kill_all([proc.pid, *workers])
        proc.wait(5)
        gw._log.close()


def test_supervisor_killed_takes_its_workers_down(tmp_path, mock_upstream):
    gw = standard_gateway(tmp_path, mock_upstream.url, workers=3).start()
    workers: set[int] = set()
    try:
        assert wait_until(lambda: len(children_of(gw.proc.pid)) == 3, 10)
        workers = children_of(gw.proc.pid)
        assert listening(gw.openai_port)
        gw.proc.send_signal(signal.SIGKILL)
        gw.proc.wait(5)
        _assert_nothing_left(gw, workers)
    finally:
        kill_all(workers)
        gw.stop()
