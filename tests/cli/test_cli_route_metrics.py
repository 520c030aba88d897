"""`lunaroute route --dry-run` and `lunaroute metrics` against real files and a real endpoint."""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import pytest
import yaml

from lunaroute.cli.metrics_summary import Histogram, parse_metrics, render
from lunaroute.dialects.guess import guess_dialect
from lunaroute.observability.metrics import Metrics

from .cli_testkit import one_line, run_cli

ROUTES = {
    "rules": [
        {
            "id": "paid-gpt",
            "priority": 10,
            "listener": "openai",
            "match": {"model": "gpt-4o", "headers": {"X-User-Tier": "paid"}},
            "target": {"provider": "anthropic", "model": "claude-sonnet"},
            "fallbacks": [{"provider": "openai", "model": "gpt-4o-mini"}],
        },
        {
            "id": "gpt",
            "priority": 20,
            "listener": "openai",
            "match": {"model": "gpt-*"},
            "target": {"provider": "openai"},
        },
        {
            "id": "claude",
            "priority": 30,
            "listener": "anthropic",
            "match": {"model": "claude-*"},
            "target": {"provider": "anthropic"},
        },
    ]
}
USER_MESSAGE = {"role": "user", "content": "x"}
OPENAI_BODY = {"model": "gpt-4o", "messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "hi"}]}
ANTHROPIC_BODY = {
    "model": "claude-haiku",
    "max_tokens": 64,
    "system": "s",
    "messages": [{"role": "user", "content": "hi"}],
}


@pytest.fixture
def routed(cfg: Path, tmp_path: Path) -> Path:
    (cfg / "routes.json").write_bytes(orjson.dumps(ROUTES))
    (tmp_path / "openai.json").write_bytes(orjson.dumps(OPENAI_BODY))
    (tmp_path / "anthropic.json").write_bytes(orjson.dumps(ANTHROPIC_BODY))
    return cfg


def _route(cfg: Path, home: Path, *args: str) -> dict:
    done = run_cli("route", *args, "--dry-run", "--config-dir", str(cfg), home=home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_route_dry_run_with_headers_and_fallbacks(routed: Path, tmp_path: Path, home: Path) -> None:
    request = str(tmp_path / "openai.json")
    paid = _route(routed, home, "--request", request, "--header", "X-User-Tier: paid")
    assert paid["rule_id"] == "paid-gpt"
    assert paid["primary"] == {"provider": "anthropic", "model": "claude-sonnet"}
    assert paid["fallbacks"] == [{"provider": "openai", "model": "gpt-4o-mini"}]
    free = _route(routed, home, "--request", request)
    assert free["rule_id"] == "gpt" and free["primary"] == {"provider": "openai", "model": "gpt-4o"}
    assert [s["rule_id"] for s in free["skipped"]] == ["paid-gpt"]


def test_route_guesses_the_dialect_or_obeys_listener(routed: Path, tmp_path: Path, home: Path) -> None:
    request = str(tmp_path / "anthropic.json")
    guessed = _route(routed, home, "--request", request)
    assert guessed["rule_id"] == "claude"
    forced = _route(routed, home, "--request", request, "--listener", "openai")
    assert forced["rule_id"] is None and forced["primary"] is None


def test_route_reads_stdin(routed: Path, home: Path) -> None:
    done = run_cli(
        "route",
        "--request",
        "-",
        "--dry-run",
        "--config-dir",
        str(routed),
        home=home,
        stdin=json.dumps({"model": "gpt-5", "messages": [USER_MESSAGE]}),
    )
    assert done.returncode == 0 and json.loads(done.stdout)["rule_id"] == "gpt"


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{not json", [], "lunaroute: req.json: invalid JSON"),
        ("[1, 2]", [], "lunaroute: req.json: expected a JSON object"),
        ('{"messages": []}', [], "lunaroute: req.json: model: "),
        ('{"model": "gpt-4o", "messages": "hi"}', [], "lunaroute: req.json: messages: not a valid openai request"),
        ('{"model": "gpt-4o"}', ["--listener", "grpc"], "lunaroute: --listener: unknown listener 'grpc'"),
        ('{"model": "gpt-4o"}', ["--header", "no colon"], "lunaroute: --header: expected 'Name: value'"),
    ],
)
def test_route_bad_input(routed: Path, tmp_path: Path, home: Path, content: str, args: list[str], message: str) -> None:
    (tmp_path / "req.json").write_text(content)
    done = run_cli(
        "route", "--request", str(tmp_path / "req.json"), *args, "--dry-run", "--config-dir", str(routed), home=home
    )
    assert done.returncode == 2
    assert one_line(done.stderr).startswith(message)


def test_guess_dialect() -> None:
    assert guess_dialect(OPENAI_BODY) == "openai"
    assert guess_dialect(ANTHROPIC_BODY) == "anthropic"
    assert guess_dialect({"model": "m", "max_tokens": 5, "messages": []}) == "anthropic"
    assert guess_dialect({"model": "m", "max_tokens": 5, "n": 2}) == "openai"
    tool_result = {"model": "m", "messages": [{"role": "tool"}], "max_tokens": 5}
    assert guess_dialect(tool_result) == "openai"
    assert guess_dialect({"model": "m"}) == "openai"


# ---------------------------------------------------------------------- metrics
class _MetricsServer:
    """A real HTTP endpoint serving the gateway's own Metrics registry. Every scrape first
    records 3 more requests, so two scrapes differ by exactly that."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.metrics.set_breaker_states({"openai": 0, "anthropic": 1})
        for seconds in (0.002, 0.004, 0.2):
            self.metrics.phases["total"].observe(seconds)
        self.metrics.tokens_in.inc(100)
        self.metrics.tokens_out.inc(40)
        self.metrics.fallbacks.inc(2)
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                for _ in range(3):
                    owner.metrics.request_done("openai", "openai", "gpt-4o", 200)
                body = owner.metrics.render()
                self.send_response(200)
                self.send_header("Content-Type", owner.metrics.content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def metrics_server() -> Iterator[_MetricsServer]:
    server = _MetricsServer()
    yield server
    server.close()


def test_metrics_summary_from_the_configured_bind(cfg: Path, home: Path, metrics_server: _MetricsServer) -> None:
    doc = yaml.safe_load((cfg / "server.yaml").read_text())
    doc["observability"]["metrics"]["bind"] = f"0.0.0.0:{metrics_server.port}"
    (cfg / "server.yaml").write_text(yaml.safe_dump(doc))
    done = run_cli("metrics", "--config-dir", str(cfg), home=home)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"http://127.0.0.1:{metrics_server.port}/metrics" in out
    assert "requests since start: 3" in out
    assert "openai    200     3" in out
    assert "tokens: input 100, output 40" in out
    assert "fallbacks: 2" in out
    assert "circuit breakers: anthropic open, openai closed" in out
    assert "p50 " in out and "ms" in out


def test_metrics_window_and_provider_filter(home: Path, metrics_server: _MetricsServer) -> None:
    url = f"http://127.0.0.1:{metrics_server.port}/metrics"
    done = run_cli("metrics", "--url", url, "--window", "200ms", "--provider", "anthropic", home=home)
    assert done.returncode == 0, done.stderr
    assert "requests for provider anthropic in the last 0.2 s: 0" in done.stdout
    assert "circuit breakers: anthropic open" in done.stdout and "openai closed" not in done.stdout
    done = run_cli("metrics", "--url", url, "--window", "200ms", home=home)
    assert "requests in the last 0.2 s: 3 (15.0/s)" in done.stdout


def test_metrics_when_no_server_runs(home: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_cli("metrics", "--url", f"http://127.0.0.1:{port}/metrics", home=home)
    assert done.returncode == 1
    line = one_line(done.stderr)
    assert "cannot reach" in line and "lunaroute serve" in line


def test_metrics_disabled_in_config(cfg: Path, home: Path) -> None:
    doc = yaml.safe_load((cfg / "server.yaml").read_text())
    doc["observability"]["metrics"]["enabled"] = False
    (cfg / "server.yaml").write_text(yaml.safe_dump(doc))
    done = run_cli("metrics", "--config-dir", str(cfg), home=home)
    assert done.returncode == 1 and "metrics are disabled" in one_line(done.stderr)


def test_histogram_quantiles() -> None:
    hist = Histogram({0.001: 50.0, 0.01: 90.0, 0.1: 100.0, math.inf: 100.0}, 100.0, 1.0)
    assert hist.quantile(0.5) == pytest.approx(0.001)
    assert hist.quantile(0.7) == pytest.approx(0.001 + 0.009 * 20 / 40)
    assert hist.quantile(0.95) == pytest.approx(0.01 + 0.09 * 5 / 10)
    assert Histogram({1.0: 0.0, math.inf: 2.0}, 2.0).quantile(0.5) == math.inf
    assert Histogram().quantile(0.5) is None


def test_render_of_an_idle_server() -> None:
    text = render(parse_metrics(Metrics().render().decode()))
    assert "requests since start: 0" in text and "p50 -" in text
    assert "circuit breakers: none reported" in text
