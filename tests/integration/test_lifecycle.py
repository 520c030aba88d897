"""Lifecycle with real signals: drain on SIGTERM, defaults on first start, fuzzed bodies."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .conftest import standard_gateway


def test_sigterm_during_stream_completes_stream_and_exits_zero(tmp_path, mock_upstream):
    gw = standard_gateway(tmp_path, mock_upstream.url).start()
    mock_upstream.script([{"delay_between_events_ms": 150}])
    got: dict = {}

    def client() -> None:
        with httpx.stream(
            "POST",
            gw.openai_url + "/v1/chat/completions",
            timeout=20,
            json={
                "model": "gpt-4o",
                "stream": True,
                "messages": [{"role": "user", "content": "one two three four five six seven eight"}],
            },
        ) as r:
            got["status"] = r.status_code
            got["body"] = b"".join(r.iter_bytes())

    t = threading.Thread(target=client)
    t.start()
    time.sleep(0.5)  # the stream is under way
    gw.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    # no new connections once draining
    refused = False
    try:
        httpx.post(gw.openai_url + "/v1/chat/completions", json={}, timeout=1)
    except httpx.HTTPError:
        refused = True
    t.join(20)
    code = gw.stop()
    assert got["status"] == 200
    assert got["body"].rstrip().endswith(b"data: [DONE]"), got["body"][-200:]
    assert b"eight" in got["body"]
    assert refused
    assert code == 0, gw.logs()


def _port_taken(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def test_serve_writes_defaults_into_empty_config_dir(tmp_path):
    import pytest

    taken = [p for p in (8080, 8081, 9090) if _port_taken(p)]
    if taken:
        pytest.skip(f"the default ports {taken} are in use by another process on this machine")
    cfg = tmp_path / "fresh"
    env = dict(os.environ, LUNAROUTE_CONFIG_DIR=str(cfg))
    proc = subprocess.Popen(
        [sys.executable, "-m", "lunaroute"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        ok = False
        while time.monotonic() < deadline and not ok:
            try:
                with urllib.request.urlopen("http://127.0.0.1:9090/healthz", timeout=1) as r:
                    ok = r.status == 200
            except OSError:
                time.sleep(0.1)
        assert ok, f"default config did not come up: {proc.stdout.read() if proc.poll() is not None else ''}"
        assert (cfg / "server.yaml").exists() and (cfg / "routes.json").exists()
        assert (cfg / "keys" / "session.key").stat().st_mode & 0o777 == 0o600
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(30)
        proc.stdout.close()
    assert code == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=12,
)
message = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "assistant", "system", "tool", "x", 3]), "content": json_values}
)
bodies = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.fixed_dictionaries(
        {
            "model": st.sampled_from(["gpt-4o", "claude-x", "", 5, None]),
            "messages": st.one_of(st.lists(message, max_size=3), json_values),
        },
        optional={
            "stream": json_values,
            "max_tokens": json_values,
            "tools": json_values,
            "temperature": json_values,
            "system": json_values,
            "tool_choice": json_values,
        },
    ).map(lambda d: json.dumps(d).encode()),
)


def test_fuzzed_bodies_never_get_a_5xx(tmp_path, mock_upstream):
    gw = standard_gateway(tmp_path, mock_upstream.url).start()
    client = httpx.Client(timeout=10)
    try:

        @settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
        @given(body=bodies, dialect=st.sampled_from(["openai", "anthropic"]))
        def check(body: bytes, dialect: str) -> None:
            url = gw.openai_url + "/v1/chat/completions" if dialect == "openai" else gw.anthropic_url + "/v1/messages"
            r = client.post(url, content=body, headers={"content-type": "application/json"})
            assert r.status_code < 500, (body, r.status_code, r.text)
            if r.status_code >= 400:
                err = r.json()
                if dialect == "openai":
                    assert set(err["error"]) >= {"message", "type"}
                else:
                    assert err["type"] == "error" and "message" in err["error"]

        check()
    finally:
        client.close()
        assert gw.stop() == 0
    assert "Traceback" not in gw.logs()


def test_pure_python_fallback_serves_streams(tmp_path, mock_upstream):
    """LUNAROUTE_NATIVE=0 (CPUs the native code cannot serve): same answers, all in Python."""
    gw = standard_gateway(tmp_path, mock_upstream.url)
    gw.env["LUNAROUTE_NATIVE"] = "0"
    gw.start()
    try:
        with httpx.stream(
            "POST",
            gw.anthropic_url + "/v1/messages",
            timeout=10,
            json={
                "model": "gpt-4o",
                "max_tokens": 30,
                "stream": True,
                "messages": [{"role": "user", "content": "python all the way"}],
            },
        ) as r:
            body = b"".join(r.iter_bytes())
        assert r.status_code == 200
        assert b"event: message_stop" in body and b"python" in body and b"way" in body
    finally:
        assert gw.stop() == 0
    doctor = subprocess.run(
        [sys.executable, "-m", "lunaroute.doctor"],
        capture_output=True,
        text=True,
        env=dict(os.environ, LUNAROUTE_NATIVE="0"),
    )
    assert "sse      python" in doctor.stdout
