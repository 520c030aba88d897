"""A second `lunaroute serve` on addresses another instance holds refuses to start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import urllib.request

import httpx
import pytest
import yaml

from .conftest import standard_gateway
from .procs import children_of, wait_until

# /proc/net/tcp socket state of a connection in TIME_WAIT
_TCP_TIME_WAIT = "06"


def _serve(config_dir, timeout: float = 15) -> subprocess.CompletedProcess:
    proc = subprocess.Popen(
        [sys.executable, "-m", "lunaroute", "serve", "--config-dir", str(config_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        # It started instead of refusing: stop it and its workers so the test can report that.
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        return subprocess.CompletedProcess(proc.args, None, out, err)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _still_serves(gw) -> None:
    with urllib.request.urlopen(gw.metrics_url + "/healthz", timeout=5) as r:
        assert r.status == 200
    r = httpx.post(
        gw.openai_url + "/v1/chat/completions",
        json={"model": "gpt-4o", "messages": [{"role": "user", "content": "still there"}]},
        timeout=10,
    )
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("workers", [1, 2])
def test_second_instance_on_the_same_ports_fails_at_once(tmp_path, mock_upstream, workers):
    gw = standard_gateway(tmp_path, mock_upstream.url, workers=workers).start()
    try:
        second = _serve(gw.config_dir)
        assert second.returncode == 1, f"the second instance did not refuse: {second.stderr[-2000:]}"
        assert second.stderr.strip() == f"lunaroute: 127.0.0.1:{gw.openai_port} (listener openai) is already in use"
        assert "Traceback" not in second.stderr + second.stdout
        _still_serves(gw)
    finally:
        assert gw.stop() == 0, gw.logs()


def test_metrics_address_in_use_is_named(tmp_path, mock_upstream):
    gw = standard_gateway(tmp_path / "first", mock_upstream.url).start()
    other = standard_gateway(tmp_path / "second", mock_upstream.url)
    other.server_yaml["observability"]["metrics"]["bind"] = f"127.0.0.1:{gw.metrics_port}"
    other.write("server.yaml", yaml.safe_dump(other.server_yaml))
    try:
        second = _serve(other.config_dir)
        assert second.returncode == 1, second.stderr[-2000:]
        assert second.stderr.strip() == f"lunaroute: 127.0.0.1:{gw.metrics_port} (metrics listener) is already in use"
        _still_serves(gw)
    finally:
        assert gw.stop() == 0, gw.logs()


def _time_wait_on(port: int) -> bool:
    with open("/proc/net/tcp") as f:
        rows = [line.split() for line in f.read().splitlines()[1:]]
    return any(r[3] == _TCP_TIME_WAIT and int(r[1].rsplit(":", 1)[1], 16) == port for r in rows)


def test_restart_with_connections_in_time_wait(tmp_path, mock_upstream):
    """The stopping gateway closes its keep-alive connections itself, so their ends linger in
    TIME_WAIT on its ports: that must not count as "in use" for the next start."""
    gw = standard_gateway(tmp_path, mock_upstream.url).start()
    with socket.create_connection(("127.0.0.1", gw.openai_port)) as conn:
        conn.sendall(b"GET /v1/models HTTP/1.1\r\nhost: x\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 200")
        assert gw.stop() == 0, gw.logs()
        conn.settimeout(5)
        while conn.recv(65536):  # the rest of the answer, then the gateway's close
            pass
    assert _time_wait_on(gw.openai_port)
    gw.start()
    try:
        _still_serves(gw)
    finally:
        assert gw.stop() == 0, gw.logs()


def test_own_workers_share_their_ports(tmp_path, mock_upstream):
    """Only the supervisor probes, before forking: its workers all bind the same ports."""
    gw = standard_gateway(tmp_path, mock_upstream.url, workers=3).start()
    try:
        assert wait_until(lambda: len(children_of(gw.proc.pid)) == 3, 10)
        workers = children_of(gw.proc.pid)
        for _ in range(6):
            _still_serves(gw)
        assert children_of(gw.proc.pid) == workers  # none failed to bind and was replaced
        assert "failed to start" not in gw.logs() and "exited unexpectedly" not in gw.logs()
    finally:
        assert gw.stop() == 0, gw.logs()
