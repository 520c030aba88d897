"""The proxy as users drive it: official SDKs → `lunaroute serve` → strict mock provider."""

from __future__ import annotations

import json
import socket
import time

import anthropic
import httpx
import openai
import pytest

from .conftest import UPSTREAM_KEY
from .tools import TOOLS_ANTH, TOOLS_OAI


# ----------------------------------------------------------------------------- passthrough
def test_openai_non_streaming_passthrough(oai, mock_upstream):
    raw = oai.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello world"}]
    )
    r = raw.parse()
    assert r.choices[0].message.content == "echo: hello world"
    assert r.usage.prompt_tokens == 2 and r.usage.completion_tokens == 3
    assert raw.headers["x-lunaroute-provider"] == "up-openai"
    assert raw.headers["x-lunaroute-model"] == "gpt-4o"
    assert raw.headers["x-lunaroute-request-id"].startswith("req_")
    assert raw.headers["x-content-type-options"] == "nosniff"
    up = mock_upstream.requests("/v1/chat/completions")[-1]
    # the configured provider key replaced the client's
    assert {k.lower(): v for k, v in up["headers"]}["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_passthrough_body_is_byte_for_byte_except_model(gateway, mock_upstream):
    body = (
        b'{ "messages" : [ {"role":"user","content":"say \\"model\\": \\"x\\""} ],\n'
        b'  "model":"renamed", "temperature": 0.50, "metadata": {"model": "renamed"} }'
    )
    r = httpx.post(
        gateway.openai_url + "/v1/chat/completions",
        content=body,
        headers={"content-type": "application/json", "authorization": "Bearer c"},
    )
    assert r.status_code == 200, r.text
    up = mock_upstream.requests("/v1/chat/completions")[-1]
    assert up["body"].encode() == body.replace(b'"model":"renamed"', b'"model":"gpt-4o-mini"')
    assert r.headers["x-lunaroute-model"] == "gpt-4o-mini"


def test_openai_streaming_passthrough(oai, mock_upstream):
    stream = oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "stream these words please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
        if chunk.usage:
            usage = chunk.usage
    assert text == "echo: stream these words please"
    assert usage is not None and usage.completion_tokens > 0


def test_anthropic_non_streaming_and_stream_passthrough(anth):
    r = anth.messages.create(model="claude-sonnet-4", max_tokens=50, messages=[{"role": "user", "content": "hi there"}])
    assert r.content[0].text == "echo: hi there"
    assert r.usage.input_tokens == 2
    with anth.messages.stream(
        model="claude-sonnet-4", max_tokens=50, messages=[{"role": "user", "content": "stream me"}]
    ) as s:
        final = s.get_final_message()
    assert final.content[0].text == "echo: stream me"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0


def test_tool_calls_pass_through_both_dialects(oai, anth):
    r = oai.chat.completions.create(
        model="gpt-4o",
        tools=TOOLS_OAI,
        messages=[{"role": "user", "content": "use tool for Paris"}],
    )
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert r.choices[0].finish_reason == "tool_calls"
    json.loads(call.function.arguments)
    m = anth.messages.create(
        model="claude-x", max_tokens=100, tools=TOOLS_ANTH, messages=[{"role": "user", "content": "use tool for Paris"}]
    )
    assert m.stop_reason == "tool_use"
    assert [b.type for b in m.content if b.type == "tool_use"] == ["tool_use"]


# ----------------------------------------------------------------------------- errors
def test_malformed_json_is_400_in_each_dialect(gateway):
    r = httpx.post(
        gateway.openai_url + "/v1/chat/completions", content=b"{nope", headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error"
    assert set(r.json()["error"]) >= {"message", "type", "param", "code"}
    r = httpx.post(gateway.anthropic_url + "/v1/messages", content=b"[1,2]")
    assert r.status_code == 400
    assert r.json() == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": r.json()["error"]["message"]},
    }


def test_no_route_is_404(oai):
    with pytest.raises(openai.NotFoundError) as ei:
        oai.chat.completions.create(model="nobody-serves-this", messages=[{"role": "user", "content": "x"}])
    assert ei.value.status_code == 404
    assert ei.value.body["type"] == "not_found_error"


def test_body_over_limit_is_413(gateway):
    big = b'{"model":"gpt-4o","messages":[{"role":"user","content":"' + b"a" * (11 * 1024 * 1024) + b'"}]}'
    r = httpx.post(gateway.anthropic_url + "/v1/messages", content=big)
    assert r.status_code == 413
    assert r.json()["error"]["type"] == "request_too_large"


def test_upstream_4xx_is_relayed_in_callers_dialect(anth, mock_upstream):
    # Routed to the OpenAI-dialect provider, which answers 400 in OpenAI's shape.
    mock_upstream.script([{"status": 400}])
    with pytest.raises(anthropic.BadRequestError) as ei:
        anth.messages.create(model="gpt-4o", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert ei.value.status_code == 400
    assert ei.value.body["type"] == "error"
    assert ei.value.body["error"]["type"] == "invalid_request_error"
    assert len(mock_upstream.requests()) == 1  # a 4xx is never retried


def test_upstream_down_is_502_and_timeout_is_504(oai, mock_upstream):
    with pytest.raises(openai.APIStatusError) as ei:
        oai.chat.completions.create(model="dead-model", messages=[{"role": "user", "content": "x"}])
    assert ei.value.status_code == 502
    assert ei.value.body["type"] == "api_error"
    mock_upstream.script([{"hang_ms": 3000}])
    t = time.monotonic()
    with pytest.raises(openai.APIStatusError) as ei:
        oai.chat.completions.create(model="slow-model", messages=[{"role": "user", "content": "x"}])
    assert ei.value.status_code == 504
    assert time.monotonic() - t < 2.5


def test_upstream_429_reaches_client_with_retry_after(oai, mock_upstream):
    mock_upstream.script([{"status": 429, "retry_after": 7}])
    with pytest.raises(openai.RateLimitError) as ei:
        oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    assert ei.value.response.headers["retry-after"] == "7"


def test_stream_dying_after_start_ends_with_in_stream_error(gateway, mock_upstream):
    mock_upstream.script([{"stream_die_after": 3}])
    with httpx.stream(
        "POST",
        gateway.anthropic_url + "/v1/messages",
        json={
            "model": "claude-x",
            "max_tokens": 50,
            "stream": True,
            "messages": [{"role": "user", "content": "a long answer with many words in it"}],
        },
    ) as r:
        assert r.status_code == 200
        body = b"".join(r.iter_bytes())
    assert b"event: message_start" in body
    assert body.rstrip().splitlines()[-2:][0] == b"event: error"


def test_unknown_endpoint_is_404_in_dialect(gateway):
    r = httpx.get(gateway.openai_url + "/v1/nope")
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_models_and_metrics_and_health(gateway, oai):
    oai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    models = oai.models.list()
    assert "renamed" in [m.id for m in models.data]
    text = gateway.metrics()
    assert 'lunaroute_requests_total{listener="openai",model="gpt-4o",provider="up-openai",status="200"}' in text
    assert "lunaroute_request_duration_seconds_bucket" in text
    assert 'lunaroute_circuit_breaker_state{provider="up-openai"} 0.0' in text
    assert httpx.get(gateway.metrics_url + "/healthz").status_code == 200
    assert httpx.get(gateway.metrics_url + "/readyz").status_code == 200


def test_client_disconnect_mid_stream_closes_upstream(gateway, mock_upstream):
    mock_upstream.script([{"delay_between_events_ms": 200}])
    payload = json.dumps(
        {
            "model": "gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": "one two three four five six seven"}],
        }
    ).encode()
    s = socket.create_connection(("127.0.0.1", gateway.openai_port))
    s.sendall(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Length: " + str(len(payload)).encode() + b"\r\n\r\n" + payload
    )
    first = s.recv(4096)
    assert b"200" in first.split(b"\r\n")[0]
    s.close()  # the client walks away mid-stream
    stats = mock_upstream.wait_for_stat("streams_aborted_by_peer", 1, timeout=3.0)
    assert stats["streams_aborted_by_peer"] >= 1


def test_count_tokens_goes_to_anthropic_or_is_estimated(anth, mock_upstream):
    r = anth.messages.count_tokens(model="claude-x", messages=[{"role": "user", "content": "one two three"}])
    assert r.input_tokens == 3  # the mock counts words
    assert mock_upstream.requests("/v1/messages/count_tokens")
    est = anth.messages.count_tokens(model="gpt-4o", messages=[{"role": "user", "content": "one two three"}])
    assert est.input_tokens > 0
