"""Retries, fallbacks, circuit breakers and hot reload against a mock that fails on demand."""

from __future__ import annotations

import concurrent.futures
import threading
import time

import httpx
import pytest

from .gateway import Gateway, provider, rule

KEY_ENV = {"LR_TEST_UPSTREAM_KEY": "sk-test"}
BODY = {"messages": [{"role": "user", "content": "hello"}]}


def _providers(url: str, **breaker) -> list[dict]:
    cb = {"failure_threshold": 2, "reset_timeout_ms": 1500, "half_open_requests": 1, **breaker}
    return [
        provider("primary", "openai", url, api_key_env="LR_TEST_UPSTREAM_KEY", max_retries=1, timeout_ms=800),
        provider("backup", "anthropic", url, api_key_env="LR_TEST_UPSTREAM_KEY", max_retries=0),
        provider("lonely", "openai", url, api_key_env="LR_TEST_UPSTREAM_KEY", max_retries=0, circuit_breaker=cb),
    ]


def _rules() -> list[dict]:
    return [
        rule(
            "with-fallback",
            "openai",
            "gpt-main",
            "primary",
            target_model="gpt-primary",
            fallbacks=[{"provider": "backup", "model": "claude-backup"}],
            priority=1,
        ),
        rule("alone", "openai", "gpt-alone", "lonely", target_model="gpt-lonely", priority=2),
    ]


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    from tests.mock_upstream.fixture import session_mock_upstream

    mock = session_mock_upstream()
    g = Gateway(tmp_path_factory.mktemp("res"), _providers(mock.url), _rules(), env=KEY_ENV).start()
    yield g
    assert g.stop() == 0, g.logs()


def post(gw: Gateway, model: str, client: httpx.Client | None = None) -> httpx.Response:
    c = client or httpx
    return c.post(gw.openai_url + "/v1/chat/completions", json={"model": model, **BODY}, timeout=20)


def upstream_models(mock) -> list[str]:
    return [r["json"]["model"] for r in mock.requests() if r.get("json")]


def test_fallback_serves_when_primary_fails(gw, mock_upstream):
    mock_upstream.script([{"status": 500, "model": "gpt-primary"}, {"status": 503, "model": "gpt-primary"}])
    r = post(gw, "gpt-main")
    assert r.status_code == 200, r.text
    assert r.headers["x-lunaroute-provider"] == "backup"
    assert r.headers["x-lunaroute-model"] == "claude-backup"
    assert r.headers["x-lunaroute-attempts"] == "3"  # primary twice (1 retry), then the fallback
    assert r.json()["object"] == "chat.completion"  # translated back to the caller's dialect
    assert upstream_models(mock_upstream) == ["gpt-primary", "gpt-primary", "claude-backup"]


def test_429_is_retried_after_retry_after(gw, mock_upstream):
    mock_upstream.script([{"status": 429, "retry_after": 1, "model": "gpt-primary"}])
    t = time.monotonic()
    r = post(gw, "gpt-main")
    assert r.status_code == 200
    assert r.headers["x-lunaroute-provider"] == "primary"
    assert time.monotonic() - t >= 0.9
    assert upstream_models(mock_upstream) == ["gpt-primary", "gpt-primary"]


def test_reset_and_hang_fall_through_to_backup(gw, mock_upstream):
    # (a reset on a pooled keep-alive connection gets one transparent re-send on a fresh
    # connection, as for any stale connection; the second reset is a real failure)
    mock_upstream.script(
        [
            {"reset": True, "model": "gpt-primary"},
            {"reset": True, "model": "gpt-primary"},
            {"hang_ms": 3000, "model": "gpt-primary"},
        ]
    )
    r = post(gw, "gpt-main")
    assert r.status_code == 200
    assert r.headers["x-lunaroute-provider"] == "backup"
    assert upstream_models(mock_upstream)[-1] == "claude-backup"


def test_4xx_is_not_retried_nor_fallen_back(gw, mock_upstream):
    mock_upstream.script([{"status": 400, "model": "gpt-primary"}])
    r = post(gw, "gpt-main")
    assert r.status_code == 400
    assert upstream_models(mock_upstream) == ["gpt-primary"]


def test_started_stream_is_never_retried(gw, mock_upstream):
    mock_upstream.script([{"stream_die_after": 2, "model": "gpt-primary"}])
    with httpx.stream(
        "POST", gw.openai_url + "/v1/chat/completions", timeout=20, json={"model": "gpt-main", "stream": True, **BODY}
    ) as r:
        body = b"".join(r.iter_bytes())
    assert r.status_code == 200
    assert b'"error"' in body
    assert upstream_models(mock_upstream) == ["gpt-primary"]


def test_breaker_opens_then_recovers_half_open(gw, mock_upstream):
    mock_upstream.script([{"status": 500, "model": "gpt-lonely"}] * 2)
    assert post(gw, "gpt-alone").status_code == 502
    assert post(gw, "gpt-alone").status_code == 502
    # threshold reached: the next requests are refused without touching the provider
    for _ in range(3):
        r = post(gw, "gpt-alone")
        assert r.status_code == 502
        assert "circuit" in r.json()["error"]["message"]
    assert upstream_models(mock_upstream) == ["gpt-lonely", "gpt-lonely"]
    assert 'lunaroute_circuit_breaker_state{provider="lonely"} 1.0' in gw.metrics()
    time.sleep(1.6)  # reset timeout → half-open: one trial goes through and closes it
    assert post(gw, "gpt-alone").status_code == 200
    assert post(gw, "gpt-alone").status_code == 200
    assert 'lunaroute_circuit_breaker_state{provider="lonely"} 0.0' in gw.metrics()


def test_two_workers_share_one_breaker(tmp_path, mock_upstream):
    g = Gateway(
        tmp_path, _providers(mock_upstream.url, reset_timeout_ms=60000), _rules(), env=KEY_ENV, workers=2
    ).start()
    try:
        time.sleep(1.0)  # both workers listening
        mock_upstream.script([{"status": 500, "model": "gpt-lonely"}] * 20)
        codes = []
        for _ in range(12):  # a fresh connection each time: the kernel spreads them over workers
            with httpx.Client(headers={"connection": "close"}) as c:
                codes.append(post(g, "gpt-alone", c).status_code)
        assert set(codes) == {502}
        # Two failures open the one shared circuit; private breakers would have let 4 through.
        assert upstream_models(mock_upstream) == ["gpt-lonely", "gpt-lonely"]
    finally:
        assert g.stop() == 0, g.logs()


def test_hot_reload_under_load_loses_no_request(tmp_path, mock_upstream):
    rules_a = [rule("r", "openai", "gpt-*", "primary", target_model="gpt-a")]
    rules_b = [rule("r", "openai", "gpt-*", "primary", target_model="gpt-b")]
    g = Gateway(tmp_path, _providers(mock_upstream.url), rules_a, env=KEY_ENV).start()
    stop = threading.Event()

    def rewrite() -> None:
        for i in range(20):
            g.write_routes(rules_b if i % 2 == 0 else rules_a)
            time.sleep(0.1)
        stop.set()

    try:
        writer = threading.Thread(target=rewrite)
        writer.start()
        with (
            httpx.Client(limits=httpx.Limits(max_connections=8)) as c,
            concurrent.futures.ThreadPoolExecutor(8) as pool,
        ):
            codes = list(pool.map(lambda _: post(g, "gpt-x", c).status_code, range(1000)))
        writer.join()
        assert codes.count(200) == 1000, {c: codes.count(c) for c in set(codes)}
        served = set(upstream_models(mock_upstream))
        assert served == {"gpt-a", "gpt-b"}  # both versions of the rules were in force
        # a broken edit is rejected and the last good config stays
        g.write("routes.json", "{ not json")
        time.sleep(0.5)
        assert post(g, "gpt-x").status_code == 200
        assert "reload rejected" in g.logs()
    finally:
        assert g.stop() == 0, g.logs()
