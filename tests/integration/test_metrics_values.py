"""Every metric of CONTRACT §7 after known traffic through a real `lunaroute serve` (one
process, then a supervisor with two workers) and the strict mock: the values, not only the
names — request counts per label set, token sums, histogram counts per phase, attempts per
outcome, fallbacks, PII findings, the open circuit, the budget ratio, refusals, recording
failures, the in-flight gauge and the cost from the price table."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from argon2 import PasswordHasher
from prometheus_client.parser import text_string_to_metric_families

from lunaroute.limits import shipped_prices
from lunaroute.tenancy.keys import generate_key

from .gateway import Gateway, free_port, provider, rule

# A cheap argon2id cost: the server verifies these as any other hash.
_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
MAIN_KEY = generate_key()
RATE_KEY = generate_key()
BUDGET_TOKENS = 1000
PATH = "/v1/chat/completions"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def _keys() -> list[dict]:
    scopes = ["openai_ingress", "anthropic_ingress"]
    return [
        {"id": "k_main", "name": "main", "key_hash": _HASHER.hash(MAIN_KEY), "scopes": scopes, "budget_id": "b_main"},
        {
            "id": "k_rate",
            "name": "rate",
            "key_hash": _HASHER.hash(RATE_KEY),
            "scopes": scopes,
            "rate_limit": {"requests_per_second": 0.01, "burst": 1},
        },
    ]


def _gateway(root, mock_url: str, workers: int) -> Gateway:
    key_env = {"api_key_env": "LR_TEST_UPSTREAM_KEY"}
    providers = [
        provider("up-openai", "openai", mock_url, **key_env),
        provider("up-anthropic", "anthropic", mock_url, **key_env),
        provider(
            "dead",
            "openai",
            f"http://127.0.0.1:{free_port()}",
            circuit_breaker={"failure_threshold": 2, "reset_timeout_ms": 600000},
            **key_env,
        ),
    ]
    rules = [
        rule("plain", "openai", "gpt-4o-mini", "up-openai", priority=10),
        rule("translated", "openai", "claude-sonnet-4-5", "up-anthropic", priority=20),
        rule(
            "fallback",
            "openai",
            "fb-model",
            "dead",
            priority=30,
            fallbacks=[{"provider": "up-openai", "model": "gpt-4o-mini"}],
        ),
        rule("dead-only", "openai", "dead-model", "dead", priority=40),
    ]
    gw = Gateway(
        root,
        providers,
        rules,
        workers=workers,
        env={"LR_TEST_UPSTREAM_KEY": "sk-upstream-test"},
        keys=_keys(),
        budgets=[
            {
                "id": "b_main",
                "scope": {"type": "key", "id": "k_main"},
                "windows": [{"type": "daily", "limits": {"tokens": BUDGET_TOKENS}}],
            }
        ],
        storage={"sessions": {"enabled": True, "flush_interval_ms": 50}},
        sections={"pii": {"enabled": True, "detectors": ["email"]}},
    )
    # Session files go under sessions/YYYY/MM/DD: a plain file where this year's directory
    # belongs makes every write fail, so each recorded exchange is one recording error.
    sessions = gw.config_dir / "data" / "sessions"
    sessions.mkdir(parents=True)
    for year in {time.strftime("%Y", time.gmtime()), time.strftime("%Y")}:
        (sessions / year).write_text("not a directory")
    return gw


def _samples(text: str) -> Samples:
    out: Samples = {}
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _family(samples: Samples, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: v for (n, labels), v in samples.items() if n == name}


def _chat(client: httpx.Client, gw: Gateway, key: str, model: str, text: str = "hi", stream: bool = False):
    body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
    headers = {"authorization": f"Bearer {key}"}
    if not stream:
        return client.post(gw.openai_url + PATH, json=body, headers=headers)
    with client.stream("POST", gw.openai_url + PATH, json=body, headers=headers) as r:
        r.read()
        return r


@pytest.fixture(params=[1, 2], ids=["workers-1", "workers-2"])
def gateway(request, tmp_path, mock_upstream) -> Iterator[Gateway]:
    gw = _gateway(tmp_path, mock_upstream.url, request.param).start()
    yield gw
    assert gw.stop() == 0, gw.logs()


def _scrape_until(gw: Gateway, done, timeout: float = 10.0) -> Samples:
    """Workers publish their counts about once a second: scrape until `done(samples)`."""
    deadline = time.monotonic() + timeout
    while True:
        samples = _samples(gw.metrics())
        if done(samples) or time.monotonic() > deadline:
            return samples
        time.sleep(0.1)


def test_every_metric_counts_what_happened(gateway, mock_upstream):
    gw = gateway
    prices = shipped_prices()
    usage = {"input_tokens": 11, "output_tokens": 5}
    translated_usage = {"input_tokens": 7, "output_tokens": 3}
    # a fresh connection per request: with two workers, requests spread over both
    limits = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(timeout=15, limits=limits) as client:
        # 3 relayed answers, 2 translated streams, 1 served by a fallback, 1 with an email in it
        mock_upstream.script([{"path": "/v1/chat/completions", "usage": usage} for _ in range(3)])
        assert [_chat(client, gw, MAIN_KEY, "gpt-4o-mini").status_code for _ in range(3)] == [200] * 3
        mock_upstream.script([{"path": "/v1/messages", "usage": translated_usage} for _ in range(2)])
        streams = [_chat(client, gw, MAIN_KEY, "claude-sonnet-4-5", stream=True) for _ in range(2)]
        assert [r.status_code for r in streams] == [200, 200]
        mock_upstream.script([{"path": "/v1/chat/completions", "usage": usage}])
        assert _chat(client, gw, MAIN_KEY, "fb-model").status_code == 200
        mock_upstream.script([{"path": "/v1/chat/completions", "usage": usage}])
        r = _chat(client, gw, MAIN_KEY, "gpt-4o-mini", text="write to alice@example.com today")
        assert r.status_code == 200
        # the second failure on `dead` opens its circuit; the third request skips it
        assert _chat(client, gw, MAIN_KEY, "dead-model").status_code == 502
        assert _chat(client, gw, MAIN_KEY, "dead-model").status_code == 502
        assert _chat(client, gw, MAIN_KEY, "no-such-model").status_code == 404
        assert _chat(client, gw, "not-a-key", "gpt-4o-mini").status_code == 401
        # the rate-limited key: its one-request burst, then a refusal
        mock_upstream.script([{"path": "/v1/chat/completions", "usage": usage}])
        assert _chat(client, gw, RATE_KEY, "gpt-4o-mini").status_code == 200
        assert _chat(client, gw, RATE_KEY, "gpt-4o-mini").status_code == 429
    assert mock_upstream.pending_script() == []
    sent_email = [r for r in mock_upstream.requests() if "alice@example.com" in str(r["json"])]
    assert sent_email == []  # redacted before it left

    served = 3 + 2 + 1 + 1 + 1  # answers the pipeline observed, phase by phase
    tokens_in = 6 * usage["input_tokens"] + 2 * translated_usage["input_tokens"]
    tokens_out = 6 * usage["output_tokens"] + 2 * translated_usage["output_tokens"]

    def settled(s: Samples) -> bool:
        return (
            _value(s, "lunaroute_request_duration_seconds_count", phase="total") >= served
            and _value(s, "lunaroute_recording_errors_total") >= served + 2 + 1
            and _value(s, "lunaroute_rate_limited_total") >= 1
        )

    s = _scrape_until(gw, settled)
    requests = _family(s, "lunaroute_requests_total")
    assert requests == {
        (("listener", "openai"), ("model", "gpt-4o-mini"), ("provider", "up-openai"), ("status", "200")): 6.0,
        (("listener", "openai"), ("model", "claude-sonnet-4-5"), ("provider", "up-anthropic"), ("status", "200")): 2.0,
        (("listener", "openai"), ("model", "other"), ("provider", ""), ("status", "502")): 2.0,
        (("listener", "openai"), ("model", "other"), ("provider", ""), ("status", "404")): 1.0,
        (("listener", "openai"), ("model", "other"), ("provider", ""), ("status", "401")): 1.0,
        (("listener", "openai"), ("model", "other"), ("provider", ""), ("status", "429")): 1.0,
    }, requests
    for phase in ("ingress", "normalize", "route", "egress", "total"):
        assert _value(s, "lunaroute_request_duration_seconds_count", phase=phase) == served, phase
        assert _value(s, "lunaroute_request_duration_seconds_bucket", phase=phase, le="+Inf") == served
        assert _value(s, "lunaroute_request_duration_seconds_sum", phase=phase) > 0, phase
    # the smallest bucket is 10 µs
    assert ("lunaroute_request_duration_seconds_bucket", (("le", "1e-05"), ("phase", "ingress"))) in s
    assert _value(s, "lunaroute_ttft_seconds_count") == 2
    assert (
        0 < _value(s, "lunaroute_ttft_seconds_sum") < _value(s, "lunaroute_request_duration_seconds_sum", phase="total")
    )
    assert _value(s, "lunaroute_tokens_total", direction="input") == tokens_in
    assert _value(s, "lunaroute_tokens_total", direction="output") == tokens_out
    assert _value(s, "lunaroute_fallbacks_total") == 1
    assert _family(s, "lunaroute_upstream_attempts_total") == {
        (("outcome", "ok"), ("provider", "up-openai")): 6.0,
        (("outcome", "ok"), ("provider", "up-anthropic")): 2.0,
        (("outcome", "connect"), ("provider", "dead")): 2.0,
        (("outcome", "circuit_open"), ("provider", "dead")): 1.0,
    }
    assert _family(s, "lunaroute_circuit_breaker_state") == {
        (("provider", "dead"),): 1.0,
        (("provider", "up-anthropic"),): 0.0,
        (("provider", "up-openai"),): 0.0,
    }
    assert _family(s, "lunaroute_pii_detections_total") == {(("type", "email"),): 1.0}
    assert _value(s, "lunaroute_pii_redactions_total") == 1
    assert _value(s, "lunaroute_rate_limited_total") == 1
    main_tokens = tokens_in + tokens_out - usage["input_tokens"] - usage["output_tokens"]
    assert _value(s, "lunaroute_budget_usage_ratio", budget="b_main", window="daily") == pytest.approx(
        main_tokens / BUDGET_TOKENS
    )
    # every exchange that reached the pipeline after admission is recorded, and each fails
    assert _value(s, "lunaroute_recording_errors_total") == served + 2 + 1
    cost = {
        ("up-openai", "gpt-4o-mini"): 6 * prices.cost_cents("gpt-4o-mini", 11, 5) / 100,
        ("up-anthropic", "claude-sonnet-4-5"): 2 * prices.cost_cents("claude-sonnet-4-5", 7, 3) / 100,
    }
    got_cost = {(dict(k)["provider"], dict(k)["model"]): v for k, v in _family(s, "lunaroute_cost_usd_total").items()}
    assert got_cost == pytest.approx(cost) and all(v > 0 for v in cost.values())
    assert _value(s, "lunaroute_inflight_requests") == 0


def test_inflight_counts_a_request_while_it_runs(gateway, mock_upstream):
    gw = gateway
    mock_upstream.script([{"path": "/v1/chat/completions", "hang_ms": 2500}])
    result: list[int] = []

    def slow() -> None:
        with httpx.Client(timeout=15) as client:
            result.append(_chat(client, gw, MAIN_KEY, "gpt-4o-mini").status_code)

    t = threading.Thread(target=slow)
    t.start()
    busy = _scrape_until(gw, lambda s: _value(s, "lunaroute_inflight_requests") >= 1, timeout=2.4)
    assert _value(busy, "lunaroute_inflight_requests") == 1
    t.join()
    assert result == [200]
    idle = _scrape_until(gw, lambda s: _value(s, "lunaroute_inflight_requests") == 0)
    assert _value(idle, "lunaroute_inflight_requests") == 0
    assert (
        _value(
            idle, "lunaroute_requests_total", listener="openai", provider="up-openai", model="gpt-4o-mini", status="200"
        )
        == 1
    )
