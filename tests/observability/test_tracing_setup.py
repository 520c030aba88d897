"""Tracing's setup and span rules, with the real SDK and exporter sending to a real OTLP/HTTP
receiver: the endpoint, what the config accepts, retry and fallback attempts, cancellation,
and which statuses mark a request span as an error."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from pathlib import Path

import pytest
import yaml

from lunaroute.config import load_config
from lunaroute.errors import ConfigError, UpstreamFailure
from lunaroute.observability.tracing import Tracing, traces_url
from tests.integration.otlp_receiver import OtlpReceiver


def test_the_traces_path_is_added_to_a_bare_origin_only():
    assert traces_url("http://collector:4318") == "http://collector:4318/v1/traces"
    assert traces_url("http://collector:4318/") == "http://collector:4318/v1/traces"
    assert traces_url("https://otel.example/ingest/traces") == "https://otel.example/ingest/traces"


def _config(tmp_path: Path, tracing: dict):
    cfg = tmp_path / "cfg"
    cfg.mkdir(parents=True)
    (cfg / "server.yaml").write_text(yaml.safe_dump({"observability": {"tracing": tracing}}))
    (cfg / "routes.json").write_text('{"rules": []}')
    return load_config(cfg, env={})


def test_the_config_asks_for_an_otlp_http_collector(tmp_path):
    obs = _config(tmp_path, {"enabled": True}).observability
    assert obs.tracing_endpoint == "http://localhost:4318" and obs.sample_rate == 0.1
    with pytest.raises(ConfigError) as err:
        _config(tmp_path / "grpc", {"enabled": True, "endpoint": "grpc://collector:4317"})
    assert str(err.value) == (
        "server.yaml: observability.tracing.endpoint: expected the http(s):// URL of an OTLP/HTTP collector, "
        "got 'grpc://collector:4317'"
    )


def test_off_is_none_and_the_grpc_port_is_named(tmp_path, caplog):
    assert Tracing.from_config(_config(tmp_path, {"enabled": False}).observability) is None
    obs = _config(tmp_path / "on", {"enabled": True, "endpoint": "http://127.0.0.1:4317"}).observability
    with caplog.at_level(logging.WARNING, logger="lunaroute.tracing"):
        tracing = Tracing.from_config(obs)
    assert tracing is not None and tracing.endpoint == "http://127.0.0.1:4317/v1/traces"
    tracing.shutdown()
    assert any("4317 is OTLP/gRPC" in r.getMessage() for r in caplog.records)


class _Response:
    status = 200


class _Served:
    response = _Response()


def _spans(receiver: OtlpReceiver, trace_id: str, count: int):
    spans = receiver.wait_for(trace_id, count, timeout=10)
    assert len(spans) == count, [s.name for s in spans]
    return {s.name + ("#2" if s.name in {x.name for x in spans[: spans.index(s)]} else ""): s for s in spans}


def test_attempt_spans_say_retry_fallback_and_cancellation():
    receiver = OtlpReceiver()
    tracing = Tracing(receiver.url, 1.0, export_delay_ms=50)
    trace_id = os.urandom(16).hex()
    headers = {"traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01"}

    async def scenario() -> None:
        t0 = time.perf_counter()
        trace = tracing.begin("POST", "/v1/messages", "anth", "req_1", headers, t0)

        async def fail(traceparent: str):
            raise UpstreamFailure("status", status=503)

        async def serve(traceparent: str):
            return _Served()

        async def hang(traceparent: str):
            await asyncio.sleep(10)

        with pytest.raises(UpstreamFailure):
            await trace.attempt(fail, "p1", "m1", 0)
        assert await trace.attempt(serve, "p1", "m1", 1) is not None  # a retry on the same target
        task = asyncio.ensure_future(trace.attempt(hang, "p2", "m2", 0))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        trace.failed(504, "timeout_error")
        trace.end()

    try:
        asyncio.run(scenario())
        by = _spans(receiver, trace_id, 5)
    finally:
        tracing.shutdown()
        receiver.close()
    first, retry, cancelled = by["upstream p1"], by["upstream p1#2"], by["upstream p2"]
    assert first.attributes["lunaroute.outcome"] == "status_503" and "lunaroute.retry_reason" not in first.attributes
    assert retry.attributes["lunaroute.retry_reason"] == "status_503"
    assert retry.attributes["lunaroute.fallback"] is False and retry.attributes["lunaroute.attempt"] == 1
    assert retry.attributes["lunaroute.outcome"] == "ok" and retry.attributes["http.response.status_code"] == 200
    assert cancelled.attributes["lunaroute.outcome"] == "cancelled"
    assert cancelled.attributes["lunaroute.fallback"] is True
    root = by["POST /v1/messages"]
    assert root.attributes["http.response.status_code"] == 504 and root.attributes["error.type"] == "timeout_error"
    assert root.status_code == 2  # a 5xx is the server's error
    assert by["egress"].parent_span_id == root.span_id


def test_a_client_error_is_not_a_server_span_error():
    receiver = OtlpReceiver()
    tracing = Tracing(receiver.url, 1.0, export_delay_ms=50)
    trace_id = os.urandom(16).hex()
    try:
        trace = tracing.begin(
            "POST",
            "/v1/chat/completions",
            "oai",
            "req_2",
            {"traceparent": f"00-{trace_id}-{os.urandom(8).hex()}-01"},
            0.0,
        )
        trace.failed(404, "not_found_error")
        trace.end()
        (root,) = receiver.wait_for(trace_id, 1, timeout=10)
    finally:
        tracing.shutdown()
        receiver.close()
    assert root.attributes["error.type"] == "not_found_error" and root.attributes["http.response.status_code"] == 404
    assert root.status_code == 0  # unset
