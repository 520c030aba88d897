"""The shipped Prometheus files and Grafana dashboard against the real thing: Debian's
`prometheus` scrapes a real `lunaroute serve` (the shipped prometheus.yml and rules.yml, with
the target and intervals of this machine) under traffic that touches every feature; then
every dashboard query returns data (what Grafana would draw), the alert rules load, and the
alerts this traffic should raise evaluate to something."""

from __future__ import annotations

import json
import math
import subprocess
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator

import httpx
import pytest
import yaml
from argon2 import PasswordHasher

from lunaroute.tenancy.keys import generate_key
from tests.integration.gateway import Gateway, free_port, provider, rule
from tests.mock_upstream.fixture import session_mock_upstream

from .test_deploy_files import PROMETHEUS, _tool, dashboard_targets

_HASHER = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
MAIN, SPENDER = generate_key(), generate_key()
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _gateway(root, mock_url: str) -> Gateway:
    key_env = {"api_key_env": "LR_TEST_UPSTREAM_KEY"}
    dead = f"http://127.0.0.1:{free_port()}"
    return Gateway(
        root,
        [
            provider("up-openai", "openai", mock_url, **key_env),
            provider("up-anthropic", "anthropic", mock_url, **key_env),
            provider("dead", "openai", dead, circuit_breaker={"failure_threshold": 2, "reset_timeout_ms": 600000}),
        ],
        [
            rule("plain", "openai", "gpt-4o", "up-openai", priority=10),
            rule("translated", "openai", "claude-sonnet-4-5", "up-anthropic", priority=20),
            rule(
                "fb",
                "openai",
                "fb-model",
                "dead",
                priority=30,
                fallbacks=[{"provider": "up-openai", "model": "gpt-4o"}],
            ),
            rule("dead-only", "openai", "dead-model", "dead", priority=40),
        ],
        env={"LR_TEST_UPSTREAM_KEY": "sk-upstream-test"},
        keys=[
            {"id": "k_main", "name": "main", "key_hash": _HASHER.hash(MAIN)},
            {"id": "k_spend", "name": "spend", "key_hash": _HASHER.hash(SPENDER), "budget_id": "b_small"},
        ],
        budgets=[
            {
                "id": "b_small",
                "scope": {"type": "key", "id": "k_spend"},
                "windows": [{"type": "daily", "limits": {"tokens": 60}}],
            }
        ],
        storage={"sessions": {"enabled": True}},
        sections={"pii": {"enabled": True, "detectors": ["email"]}},
    )


class Prometheus:
    def __init__(self, root, target: str) -> None:
        shipped = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text())
        shipped["global"] = {"scrape_interval": "1s", "evaluation_interval": "1s"}
        shipped["scrape_configs"][0]["static_configs"][0]["targets"] = [target]
        (root / "prometheus.yml").write_text(yaml.safe_dump(shipped))
        (root / "rules.yml").write_text((PROMETHEUS / "rules.yml").read_text())
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(root / "prometheus.log", "wb")
        self.proc = subprocess.Popen(
            [
                _tool("prometheus"),
                f"--config.file={root / 'prometheus.yml'}",
                f"--storage.tsdb.path={root / 'tsdb'}",
                f"--web.listen-address=127.0.0.1:{self.port}",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with _OPENER.open(self.url + "/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("prometheus did not become ready")

    def api(self, path: str, **params: str):
        query = urllib.parse.urlencode(params)
        with _OPENER.open(f"{self.url}/api/v1/{path}?{query}", timeout=10) as r:
            doc = json.loads(r.read())
        assert doc["status"] == "success", doc
        return doc["data"]

    def values(self, expr: str) -> list[float]:
        return [float(s["value"][1]) for s in self.api("query", query=expr)["result"]]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)
        self.log.close()


@pytest.fixture
def stack(tmp_path) -> Iterator[tuple[Gateway, Prometheus]]:
    _tool("prometheus")
    mock = session_mock_upstream()
    mock.reset()
    gw = _gateway(tmp_path / "gw", mock.url).start()
    prom = None
    try:
        prom = Prometheus(tmp_path, f"127.0.0.1:{gw.metrics_port}")
        yield gw, prom
    finally:
        if prom is not None:
            prom.stop()
        assert gw.stop() == 0, gw.logs()


def _traffic(gw: Gateway, stop: threading.Event) -> None:
    main = {"authorization": f"Bearer {MAIN}"}
    with httpx.Client(timeout=15) as client:

        def chat(model: str, *, stream: bool = False, text: str = "hi", headers=main) -> int:
            body = {"model": model, "messages": [{"role": "user", "content": text}], "stream": stream}
            with client.stream("POST", gw.openai_url + "/v1/chat/completions", json=body, headers=headers) as r:
                r.read()
            return r.status_code

        # the budget is spent once: its ratio passes 100% and the next request is refused
        for _ in range(30):
            if chat("gpt-4o", headers={"authorization": f"Bearer {SPENDER}"}) == 429:
                break
        while not stop.is_set():
            chat("gpt-4o")
            chat("gpt-4o", stream=True)
            chat("claude-sonnet-4-5", stream=True)
            chat("fb-model")
            chat("dead-model")
            chat("no-such-model")
            chat("gpt-4o", text="write to alice@example.com")
            time.sleep(0.1)


def test_every_panel_fills_and_the_alerts_see_the_traffic(stack):
    gw, prom = stack
    stop = threading.Event()
    worker = threading.Thread(target=_traffic, args=(gw, stop), daemon=True)
    worker.start()
    queries = [
        (title, expr.replace("$__rate_interval", "15s").replace("$__range", "5m"))
        for title, expr in dashboard_targets()
    ]
    empty: list[str] = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            empty = [title for title, expr in queries if not [v for v in prom.values(expr) if not math.isnan(v)]]
            if not empty:
                break
            time.sleep(1)
    finally:
        stop.set()
        worker.join(30)
    assert empty == [], (empty, gw.logs()[-2000:])

    rules = [r for g in prom.api("rules")["groups"] for r in g["rules"]]
    shipped = yaml.safe_load((PROMETHEUS / "rules.yml").read_text())["groups"][0]["rules"]
    assert sorted(r["name"] for r in rules) == sorted(r["alert"] for r in shipped)
    assert all(r["health"] in ("ok", "unknown") for r in rules), rules
    exprs = {r["alert"]: r["expr"] for r in shipped}
    assert prom.values(exprs["LunaRouteCircuitBreakerOpen"]) == [1.0]  # `dead`
    assert prom.values(exprs["LunaRouteBudgetExceeded"]) and min(prom.values(exprs["LunaRouteBudgetExceeded"])) > 0.9
    assert prom.values(exprs["LunaRouteHighErrorRate"])  # one request in seven is a 502
    assert prom.values(exprs["LunaRouteDown"]) == []
    assert prom.values('up{job="lunaroute"}') == [1.0]
