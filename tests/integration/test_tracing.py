"""OpenTelemetry traces from a real `lunaroute serve` to a real OTLP/HTTP receiver (protobuf
decoded with opentelemetry-proto): one trace per request under the client's `traceparent`,
a span per phase and per upstream attempt, the provider joins the trace, nothing of the
prompt in any attribute, sampling, and a collector that never answers slows nothing."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import yaml

from .gateway import Gateway, provider, rule
from .otlp_receiver import OtlpReceiver, ReceivedSpan

PROMPT = "the secret plan is in the blue folder"
SERVER, CLIENT = 2, 3  # OTLP SpanKind values


def _gateway(root, mock_url: str, endpoint: str, *, workers: int = 1, sample_rate: float = 1.0) -> Gateway:
    key_env = {"api_key_env": "LR_TEST_UPSTREAM_KEY"}
    providers = [
        provider("anth-a", "anthropic", mock_url, **key_env),
        provider("anth-b", "anthropic", mock_url, **key_env),
        provider("up-openai", "openai", mock_url, **key_env),
    ]
    rules = [
        rule("fb", "openai", "claude-sonnet-4-5", "anth-a", fallbacks=[{"provider": "anth-b"}], priority=10),
        rule("plain", "openai", "gpt-4o-mini", "up-openai", priority=20),
    ]
    gw = Gateway(root, providers, rules, workers=workers, env={"LR_TEST_UPSTREAM_KEY": "sk-upstream-test"})
    gw.server_yaml["observability"]["tracing"] = {"enabled": True, "endpoint": endpoint, "sample_rate": sample_rate}
    gw.write("server.yaml", yaml.safe_dump(gw.server_yaml))
    return gw


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    r = OtlpReceiver()
    yield r
    r.close()


def _stream(gw: Gateway, model: str, headers: dict[str, str]) -> tuple[int, bytes]:
    body = {"model": model, "messages": [{"role": "user", "content": PROMPT}], "stream": True}
    with httpx.Client(timeout=20) as client:
        with client.stream("POST", gw.openai_url + "/v1/chat/completions", json=body, headers=headers) as r:
            return r.status_code, r.read()


def _by_name(spans: list[ReceivedSpan]) -> dict[str, ReceivedSpan]:
    return {s.name: s for s in spans}


@pytest.mark.parametrize("workers", [1, 2])
def test_a_translated_stream_with_a_fallback_is_one_trace(tmp_path, mock_upstream, receiver, workers):
    gw = _gateway(tmp_path, mock_upstream.url, receiver.url, workers=workers).start()
    try:
        trace_id = os.urandom(16).hex()
        client_span = os.urandom(8).hex()
        mock_upstream.script(
            [
                {"path": "/v1/messages", "status": 500},
                {"path": "/v1/messages", "usage": {"input_tokens": 21, "output_tokens": 8}},
            ]
        )
        status, body = _stream(gw, "claude-sonnet-4-5", {"traceparent": f"00-{trace_id}-{client_span}-01"})
        assert status == 200 and b"[DONE]" in body, body[-300:]
        spans = receiver.wait_for(trace_id, 7)
    finally:
        assert gw.stop() == 0, gw.logs()
    names = sorted(s.name for s in spans)
    assert names == sorted(
        [
            "POST /v1/chat/completions",
            "ingress",
            "route",
            "normalize",
            "egress",
            "upstream anth-a",
            "upstream anth-b",
        ]
    ), names
    assert receiver.content_types == {"application/x-protobuf"}
    by = _by_name(spans)
    root = by["POST /v1/chat/completions"]
    # the client's trace goes on: its trace id, its span as our root's parent
    assert root.parent_span_id == client_span and root.kind == SERVER
    assert root.resource["service.name"] == "lunaroute"
    attrs = root.attributes
    assert attrs["http.response.status_code"] == 200
    assert attrs["lunaroute.provider"] == "anth-b" and attrs["lunaroute.listener"] == "openai"
    assert attrs["gen_ai.request.model"] == "claude-sonnet-4-5"
    assert attrs["gen_ai.usage.input_tokens"] == 21 and attrs["gen_ai.usage.output_tokens"] == 8
    assert attrs["lunaroute.attempts"] == 2 and attrs["lunaroute.fallbacks_tried"] == 1
    assert attrs["lunaroute.stream"] is True and attrs["lunaroute.ttft_ms"] > 0
    for phase in ("ingress", "route", "normalize", "egress"):
        span = by[phase]
        assert span.parent_span_id == root.span_id, phase
        assert root.start_ns <= span.start_ns <= span.end_ns <= root.end_ns + 1_000_000, phase
    first, second = by["upstream anth-a"], by["upstream anth-b"]
    for attempt in (first, second):
        assert attempt.parent_span_id == by["egress"].span_id and attempt.kind == CLIENT
        assert attempt.attributes["gen_ai.request.model"] == "claude-sonnet-4-5"
    assert first.attributes["lunaroute.outcome"] == "status_500"
    assert first.attributes["http.response.status_code"] == 500 and first.status_code == 2  # STATUS_CODE_ERROR
    assert "lunaroute.retry_reason" not in first.attributes
    assert second.attributes["lunaroute.outcome"] == "ok"
    assert second.attributes["http.response.status_code"] == 200
    assert second.attributes["lunaroute.retry_reason"] == "status_500"
    assert second.attributes["lunaroute.fallback"] is True
    assert first.end_ns <= second.start_ns
    # the provider saw each attempt as a child of that attempt's span, in the same trace
    sent = [r["header_map"].get("traceparent") for r in mock_upstream.requests("/v1/messages")]
    assert sent == [f"00-{trace_id}-{first.span_id}-01", f"00-{trace_id}-{second.span_id}-01"]
    # names, numbers and outcomes only: nothing of the prompt
    for span in spans:
        for value in span.attributes.values():
            assert "secret plan" not in str(value), (span.name, value)


def test_sampling_follows_the_client_and_the_rate(tmp_path, mock_upstream, receiver):
    gw = _gateway(tmp_path, mock_upstream.url, receiver.url, sample_rate=0.0).start()
    try:
        # no traceparent and a rate of 0: nothing recorded, yet the provider gets a context
        status, _ = _stream(gw, "gpt-4o-mini", {})
        assert status == 200
        unsampled = os.urandom(16).hex()
        status, _ = _stream(gw, "gpt-4o-mini", {"traceparent": f"00-{unsampled}-{os.urandom(8).hex()}-00"})
        assert status == 200
        # a client that samples is followed whatever the rate
        sampled = os.urandom(16).hex()
        status, _ = _stream(gw, "gpt-4o-mini", {"traceparent": f"00-{sampled}-{os.urandom(8).hex()}-01"})
        assert status == 200
        assert len(receiver.wait_for(sampled, 6)) == 6  # root, 4 phases, 1 attempt
    finally:
        assert gw.stop() == 0, gw.logs()
    assert {s.trace_id for s in receiver.spans} == {sampled}
    sent = [r["header_map"]["traceparent"] for r in mock_upstream.requests("/v1/chat/completions")]
    first, second, third = (tp.split("-") for tp in sent)
    # a trace of our own: a random id (W3C level 2 says so with flag 02), not sampled
    assert int(first[3], 16) & 1 == 0 and len(first[1]) == 32 and first[1] != "0" * 32
    assert second[1] == unsampled and second[3] == "00"
    assert third[1] == sampled and third[3] == "01"


def test_a_collector_that_never_answers_slows_nothing(tmp_path, mock_upstream):
    # Accepts connections and never says a word: each export waits its whole timeout.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(64)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        silent.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(silent.accept()[0])
            except OSError:
                continue

    acceptor = threading.Thread(target=accept, daemon=True)
    acceptor.start()
    endpoint = f"http://127.0.0.1:{silent.getsockname()[1]}"
    gw = _gateway(tmp_path, mock_upstream.url, endpoint, sample_rate=1.0).start()
    try:
        times = []
        with httpx.Client(timeout=10) as client:
            for _ in range(60):
                t0 = time.monotonic()
                body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
                r = client.post(gw.openai_url + "/v1/chat/completions", json=body)
                times.append(time.monotonic() - t0)
                assert r.status_code == 200
                time.sleep(0.05)  # spread over more than one export interval
        assert len(held) >= 1  # the exporter did try to reach the collector
        times.sort()
        assert times[len(times) // 2] < 0.25, times  # the median request is untouched
        assert times[-1] < 2.0, times  # and none waits for an export (5 s timeout)
        t0 = time.monotonic()
        assert gw.stop() == 0, gw.logs()
        assert time.monotonic() - t0 < 15  # the queued spans are given up on at shutdown
    finally:
        stop.set()
        gw.stop()
        for conn in held:
            conn.close()
        silent.close()
