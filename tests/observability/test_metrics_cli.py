"""`lunaroute metrics` against a real `lunaroute serve` after known traffic: the JSON figures
(requests, error rate, latency by phase, tokens, cost, circuits, budgets), the text summary
with colour on a real terminal and none in a pipe, and `--watch` refreshing until Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest
from argon2 import PasswordHasher

from lunaroute.limits import shipped_prices
from lunaroute.tenancy.keys import generate_key
from tests.integration.gateway import Gateway, free_port, provider, rule
from tests.mock_upstream.fixture import session_mock_upstream

KEY = generate_key()
_HASH = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(KEY)
HEADERS = {"authorization": f"Bearer {KEY}"}
CLEAR = "\x1b[H\x1b[2J"  # cursor home, clear screen


def _cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    return subprocess.run(
        [sys.executable, "-m", "lunaroute", "metrics", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def _chat(gw: Gateway, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    with httpx.Client(timeout=15) as client:
        return client.post(gw.openai_url + "/v1/chat/completions", json=body, headers=HEADERS).status_code


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Iterator[Gateway]:
    mock = session_mock_upstream()
    mock.reset()
    key_env = {"api_key_env": "LR_TEST_UPSTREAM_KEY"}
    providers = [
        provider("up-openai", "openai", mock.url, **key_env),
        provider(
            "dead",
            "openai",
            f"http://127.0.0.1:{free_port()}",
            circuit_breaker={"failure_threshold": 1, "reset_timeout_ms": 600000},
            **key_env,
        ),
    ]
    rules = [rule("ok", "openai", "gpt-4o", "up-openai"), rule("dead", "openai", "dead-model", "dead")]
    gw = Gateway(
        tmp_path_factory.mktemp("metrics-cli"),
        providers,
        rules,
        env={"LR_TEST_UPSTREAM_KEY": "sk-upstream-test"},
        keys=[{"id": "k1", "name": "k1", "key_hash": _HASH, "budget_id": "b1"}],
        budgets=[
            {
                "id": "b1",
                "scope": {"type": "key", "id": "k1"},
                "windows": [{"type": "daily", "limits": {"tokens": 200}}],
            }
        ],
    ).start()
    mock.script([{"path": "/v1/chat/completions", "usage": {"input_tokens": 40, "output_tokens": 10}}] * 3)
    assert [_chat(gw, "gpt-4o") for _ in range(3)] == [200] * 3
    assert _chat(gw, "dead-model") == 502
    # workers publish nothing here (one process): the scrape is current
    yield gw
    assert gw.stop() == 0, gw.logs()


def test_json_has_every_figure(served):
    done = _cli("--url", served.metrics_url + "/metrics", "--json")
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    req = doc["requests"]
    assert req["total"] == 4 and req["server_errors"] == 1 and req["client_errors"] == 0
    assert req["error_rate"] == pytest.approx(0.25)
    assert {"provider": "up-openai", "status": "200", "count": 3.0} in req["by_provider_status"]
    for phase in ("ingress", "route", "normalize", "egress", "total"):
        lat = doc["latency_s"][phase]
        assert lat["count"] == 3 and 0 < lat["p50"] <= lat["p95"] <= lat["p99"], (phase, lat)
    assert doc["tokens"] == {"input": 120.0, "output": 30.0}
    assert doc["cost_usd"]["total"] == pytest.approx(3 * shipped_prices().cost_cents("gpt-4o", 40, 10) / 100)
    assert doc["circuit_breakers"] == {"dead": "open", "up-openai": "closed"}
    assert doc["budgets"] == [{"budget": "b1", "window": "daily", "ratio": pytest.approx(150 / 200)}]
    assert {"provider": "dead", "outcome": "connect", "count": 1.0} in doc["upstream_attempts"]
    narrowed = json.loads(_cli("--url", served.metrics_url + "/metrics", "--json", "--provider", "dead").stdout)
    assert narrowed["requests"]["total"] == 0 and narrowed["circuit_breakers"] == {"dead": "open"}


def test_text_is_plain_in_a_pipe_and_coloured_on_a_terminal(served):
    url = served.metrics_url + "/metrics"
    plain = _cli("--url", url)
    assert plain.returncode == 0, plain.stderr
    out = plain.stdout
    assert "\x1b[" not in out
    assert "requests since start: 4" in out and "errors: 1 (25.0%): 4xx 0, 5xx 1" in out
    assert "tokens: input 120, output 30" in out and "cost: $" in out and "up-openai/gpt-4o" in out
    assert "circuit breakers: dead open, up-openai closed" in out and "budgets: b1 daily 75%" in out
    for phase in ("ingress", "route", "normalize", "egress", "total"):
        assert re.search(rf"^  {phase} +[0-9.]+ (µs|ms|s) ", out, re.M), (phase, out)

    primary, secondary = os.openpty()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lunaroute", "metrics", "--url", url],
            stdout=secondary,
            stderr=subprocess.PIPE,
            env={k: v for k, v in os.environ.items() if k != "NO_COLOR"},
        )
        os.close(secondary)
        assert proc.wait(60) == 0
        tty_out = _read_all(primary)
    finally:
        os.close(primary)
    assert "\x1b[31mdead open\x1b[0m" in tty_out  # an open circuit in red
    assert "\x1b[32mup-openai closed\x1b[0m" in tty_out


def _read_all(fd: int) -> str:
    chunks = []
    while select.select([fd], [], [], 0.5)[0]:
        try:
            data = os.read(fd, 65536)
        except OSError:  # the terminal's other end closed
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode()


def test_watch_shows_each_interval_until_ctrl_c(served):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "lunaroute",
            "metrics",
            "--url",
            served.metrics_url + "/metrics",
            "--json",
            "--watch",
            "0.5s",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = json.loads(proc.stdout.readline())
        assert first["window_s"] is None and first["requests"]["total"] == 4  # since start
        assert _chat(served, "gpt-4o") == 200
        later = [json.loads(proc.stdout.readline()) for _ in range(3)]
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(10)
    assert code == 0, proc.stderr.read()
    assert all(doc["window_s"] == 0.5 for doc in later)
    # the one request lands in exactly one interval
    assert sum(doc["requests"]["total"] for doc in later) == 1, later


def test_window_and_watch_do_not_combine(served):
    done = _cli("--url", served.metrics_url + "/metrics", "--watch", "1s", "--window", "1s")
    assert done.returncode == 2 and "do not combine" in done.stderr


def test_watch_redraws_a_terminal(served):
    primary, secondary = os.openpty()
    out = ""
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lunaroute", "metrics", "--url", served.metrics_url + "/metrics", "--watch", "0.3s"],
            stdout=secondary,
            stderr=subprocess.PIPE,
        )
        os.close(secondary)
        deadline = time.monotonic() + 20
        while out.count(CLEAR) < 2 and time.monotonic() < deadline:
            if select.select([primary], [], [], 0.2)[0]:
                out += os.read(primary, 65536).decode()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0
    finally:
        os.close(primary)
    assert out.count(CLEAR) >= 2 and "requests in the last 0.3 s" in out, out
