"""The canned upstream: nginx (1 worker) answering from memory on 127.0.0.1:18000 (or the
run's port), pinned to the load CPU. Config and bodies come from nginx/gen_conf.py (committed);
configs.render_mock_conf() sets the port."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from .http_probe import port_busy

STREAM_PREFIX = "/stream"


class MockError(RuntimeError):
    """The nginx mock did not come up."""


def start_mock(workdir: Path, conf: Path, port: int, cpu: int = 1, nginx: str = "nginx") -> subprocess.Popen:
    """nginx in the foreground (`daemon off`) with its prefix (logs, temp dirs) under workdir."""
    if port_busy(port):
        raise MockError(f"127.0.0.1:{port} is already in use (another mock?); pick other ports (--port-offset)")
    prefix = workdir / "nginx-mock"
    for d in ("logs", "tmp"):
        (prefix / d).mkdir(parents=True, exist_ok=True)
    cmd = ["taskset", "-c", str(cpu), nginx, "-p", f"{prefix}/", "-c", str(conf), "-g", "daemon off;"]
    with open(prefix / "logs" / "stdout.log", "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    for _ in range(200):
        if proc.poll() is not None:
            raise MockError(f"nginx mock exited with code {proc.returncode}: see {prefix}/logs/")
        if port_busy(port):
            return proc
        time.sleep(0.05)
    stop_mock(proc)
    raise MockError(f"nginx mock did not open 127.0.0.1:{port} within 10 s")


def stop_group(proc: subprocess.Popen, grace_s: float = 10.0) -> int | None:
    """SIGTERM a process group this harness started (the mock, a gateway, a helper); SIGKILL
    it if it has not exited after grace_s. Returns the exit code."""
    if proc.poll() is not None:
        return proc.returncode
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return proc.poll()
    try:
        return proc.wait(timeout=grace_s)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return proc.wait(timeout=5)


def stop_mock(proc: subprocess.Popen) -> None:
    """Stop the nginx process group this module started (master + its worker)."""
    stop_group(proc)
