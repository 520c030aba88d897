"""The metrics/health listener of a real `lunaroute serve`: security headers, bounded labels."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from .conftest import standard_gateway

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _get(url: str) -> tuple[int, dict[str, str]]:
    try:
        with _OPENER.open(url, timeout=5) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}
    except urllib.error.HTTPError as err:
        with err:
            return err.code, {k.lower(): v for k, v in err.headers.items()}


@pytest.mark.parametrize("workers", [1, 2])
def test_every_ops_response_carries_the_security_headers(tmp_path, mock_upstream, workers):
    gw = standard_gateway(tmp_path, mock_upstream.url, workers=workers).start()
    try:
        for path, status in (("/metrics", 200), ("/healthz", 200), ("/readyz", 200), ("/nope", 404)):
            got, headers = _get(gw.metrics_url + path)
            assert got == status, path
            assert headers.get("x-content-type-options") == "nosniff", (path, headers)
            # plain HTTP: HSTS is only for TLS listeners (browsers ignore it over HTTP anyway)
            assert "strict-transport-security" not in headers, path
    finally:
        assert gw.stop() == 0, gw.logs()


def _request_series(gw) -> dict[tuple, float]:
    out = {}
    for fam in text_string_to_metric_families(gw.metrics()):
        for s in fam.samples:
            if s.name == "lunaroute_requests_total":
                lb = s.labels
                out[(lb["listener"], lb["provider"], lb["model"], lb["status"])] = s.value
    return out


def _scrape_until(gw, expected: dict[tuple, float], timeout: float = 10) -> dict[tuple, float]:
    """Workers publish their counts about once a second: wait for the expected totals."""
    deadline = time.monotonic() + timeout
    while True:
        got = _request_series(gw)
        if got == expected or time.monotonic() > deadline:
            return got
        time.sleep(0.1)


def _chat(client: httpx.Client, gw, model: str) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "count me"}]}
    return client.post(gw.openai_url + "/v1/chat/completions", json=body).status_code


@pytest.mark.parametrize("workers", [1, 2])
def test_unknown_model_names_count_as_other_and_no_series_disappears(tmp_path, mock_upstream, workers):
    gw = standard_gateway(tmp_path, mock_upstream.url, workers=workers).start()
    unknown = [f"no-such-model-{i}" for i in range(50)]
    try:
        # a fresh connection each time: with several workers, requests spread over them
        with httpx.Client(timeout=10, limits=httpx.Limits(max_keepalive_connections=0)) as client:
            assert [_chat(client, gw, m) for m in unknown[:25]] == [404] * 25
            assert [_chat(client, gw, "renamed") for _ in range(3)] == [200] * 3
            first_expected = {
                ("openai", "", "other", "404"): 25.0,
                # the config names it (target model of rule oai-renamed)
                ("openai", "up-openai", "gpt-4o-mini", "200"): 3.0,
            }
            first = _scrape_until(gw, first_expected)
            assert first == first_expected
            assert [_chat(client, gw, m) for m in unknown[25:]] == [404] * 25
            assert [_chat(client, gw, "gpt-4o") for _ in range(2)] == [200] * 2
        expected = {
            ("openai", "", "other", "404"): 50.0,
            ("openai", "up-openai", "gpt-4o-mini", "200"): 3.0,
            # a glob route passed the name on and a configured provider served it
            ("openai", "up-openai", "gpt-4o", "200"): 2.0,
        }
        second = _scrape_until(gw, expected)
        assert second == expected
        assert all(second[k] >= v for k, v in first.items())
        assert not any(k[2].startswith("no-such-model") for k in second)
    finally:
        assert gw.stop() == 0, gw.logs()
