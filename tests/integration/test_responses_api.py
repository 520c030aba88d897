"""The OpenAI Responses API (`POST /v1/responses`, CONTRACT §8) through a real `lunaroute
serve`, driven by the official `openai` SDK (`client.responses.create` / `.stream`), to the
strict mock of each provider dialect. The mock answers 400 to any field its real API does
not know, so every request LunaRoute translated is also checked for Responses-only fields.

One gateway for the module: client keys on (scope `openai_ingress`), recording on, the
standard routes plus a rule bound to the Anthropic listener, a listener of type `both`, and
a 1 MB body limit on the OpenAI listener.
"""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import openai
import pytest
import yaml

from tests.mock_upstream.fixture import session_mock_upstream

from .conftest import standard_gateway
from .gateway import free_port, rule

MODELS = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-5"}
PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}
TOOLS = [
    {
        "type": "function",
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
    {
        "type": "function",
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    },
]
PNG = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c63000100000500010d0a2db40000000049454e44ae426082"
    )
).decode()
# What a translated request may carry, per provider dialect: nothing the Responses API has
# and they do not (`input`, `instructions`, `store`, `include`, `text`, `reasoning`, ...).
UPSTREAM_FIELDS = {
    "openai": {
        "model",
        "messages",
        "temperature",
        "top_p",
        "max_completion_tokens",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "stream",
        "stream_options",
        "user",
        "response_format",
        "reasoning_effort",
    },
    "anthropic": {
        "model",
        "max_tokens",
        "messages",
        "system",
        "temperature",
        "top_p",
        "tools",
        "tool_choice",
        "stream",
        "metadata",
        "thinking",
        "output_config",
    },
}


def _create_key(config_dir, name: str, scope: str) -> str:
    args = [sys.executable, "-m", "lunaroute", "keys", "create", name, "--config-dir", str(config_dir)]
    out = subprocess.run([*args, "--scope", scope], capture_output=True, text=True, check=True).stdout
    return out.splitlines()[0]


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    mock = session_mock_upstream()
    gateway = standard_gateway(
        tmp_path_factory.mktemp("responses"), mock.url, storage={"sessions": {"enabled": True, "flush_interval_ms": 50}}
    )
    routes = json.loads((gateway.config_dir / "routes.json").read_text())["rules"]
    routes.append(rule("anth-bound", "anthropic", "bound-model", "up-openai", priority=5))
    gateway.write_routes(routes)
    gateway.mixed_port = free_port()
    listeners = gateway.server_yaml["listeners"]
    listeners[0]["max_body_size_mb"] = 1
    listeners.append({"id": "mixed", "type": "both", "bind": f"127.0.0.1:{gateway.mixed_port}"})
    gateway.write("server.yaml", yaml.safe_dump(gateway.server_yaml))
    gateway.key = _create_key(gateway.config_dir, "responses", "openai_ingress")
    gateway.anthropic_key = _create_key(gateway.config_dir, "anth-only", "anthropic_ingress")
    gateway.start()
    yield gateway
    assert gateway.stop() == 0, gateway.logs()


@pytest.fixture
def client(gw):
    with openai.OpenAI(base_url=gw.openai_url + "/v1", api_key=gw.key, max_retries=0, timeout=20) as sdk:
        yield sdk


def _upstream(mock, provider: str) -> list[dict[str, Any]]:
    """What the mock received from LunaRoute on the provider's endpoint, checked: only fields
    of that dialect, and accepted (the strict mock answers 400 to anything else)."""
    records = mock.requests(PATHS[provider])
    assert records, f"no upstream request to {PATHS[provider]}"
    for record in records:
        assert set(record["json"]) <= UPSTREAM_FIELDS[provider], set(record["json"]) - UPSTREAM_FIELDS[provider]
        assert record["status"] == 200, record["response_body"][:500]
    assert not mock.requests("/v1/responses")  # providers are never called with the Responses API
    return [r["json"] for r in records]


# ------------------------------------------------------------------ answers
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_text_with_instructions_and_settings(client, mock_upstream, provider):
    raw = client.responses.with_raw_response.create(
        model=MODELS[provider],
        instructions="Be brief.",
        input="hello there",
        max_output_tokens=200,
        temperature=0.3,
        store=True,
        metadata={"ticket": "T-9"},
        include=[],
        truncation="disabled",
        text={"format": {"type": "text"}},
    )
    r = raw.parse()
    assert (r.object, r.status, r.output_text, r.model) == (
        "response",
        "completed",
        "echo: hello there",
        MODELS[provider],
    )
    assert r.id.startswith("resp_") and r.error is None and r.metadata == {"ticket": "T-9"}
    assert r.usage.input_tokens > 0 and r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    assert raw.headers["x-lunaroute-provider"] == f"up-{provider}"
    assert raw.headers["x-lunaroute-model"] == MODELS[provider] and raw.headers["x-lunaroute-request-id"]
    (up,) = _upstream(mock_upstream, provider)
    if provider == "openai":
        assert up["messages"][0] == {"role": "system", "content": "Be brief."}
        assert up["max_completion_tokens"] == 200
    else:
        assert up["system"] == "Be brief." and up["max_tokens"] == 200
    assert up["temperature"] == 0.3


def test_incomplete_on_the_token_limit(client, mock_upstream):
    r = client.responses.create(model="claude-sonnet-4-5", input="one two three four five six", max_output_tokens=3)
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    assert r.output_text == "echo: one two"


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_images_by_data_url_and_by_url(client, mock_upstream, provider):
    r = client.responses.create(
        model=MODELS[provider],
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "describe"},
                    {"type": "input_image", "image_url": f"data:image/png;base64,{PNG}", "detail": "low"},
                    {"type": "input_image", "image_url": "https://example.com/cat.png"},
                ],
            }
        ],
    )
    assert r.output_text == "echo: describe"
    (up,) = _upstream(mock_upstream, provider)
    parts = up["messages"][0]["content"]
    if provider == "openai":
        assert parts[1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}}
        assert parts[2] == {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    else:
        assert parts[1]["source"] == {"type": "base64", "media_type": "image/png", "data": PNG}
        assert parts[2]["source"] == {"type": "url", "url": "https://example.com/cat.png"}


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_parallel_tool_calls_round_trip_with_input_plus_output(client, mock_upstream, provider):
    inp: list[Any] = [{"role": "user", "content": "use tool get_weather, narrate, parallel"}]
    first = client.responses.create(model=MODELS[provider], input=inp, tools=TOOLS)
    kinds = [o.type for o in first.output]
    assert kinds == ["message", "function_call", "function_call"], kinds
    calls = [o for o in first.output if o.type == "function_call"]
    assert [c.name for c in calls] == ["get_weather", "get_time"] and all(c.status == "completed" for c in calls)
    assert json.loads(calls[0].arguments).keys() == {"city"}
    inp += first.output  # the SDK's idiom: the output items go back as they are
    inp += [
        {"type": "function_call_output", "call_id": c.call_id, "output": f"result {n}"} for n, c in enumerate(calls)
    ]
    second = client.responses.create(model=MODELS[provider], input=inp, tools=TOOLS)
    assert second.output_text == (
        f"tool results: get_weather({calls[0].call_id}) = result 0; get_time({calls[1].call_id}) = result 1"
    )
    up = _upstream(mock_upstream, provider)[-1]
    if provider == "openai":
        turn = up["messages"][1]
        assert turn["content"] == first.output[0].content[0].text
        assert [c["id"] for c in turn["tool_calls"]] == [c.call_id for c in calls]
        assert [m["tool_call_id"] for m in up["messages"][2:]] == [c.call_id for c in calls]
    else:
        turn, results = up["messages"][1]["content"], up["messages"][2]["content"]
        assert [b["type"] for b in turn] == ["text", "tool_use", "tool_use"]
        assert [b["tool_use_id"] for b in results] == [c.call_id for c in calls]


def test_tool_choice_and_no_parallel_calls_reach_the_provider(client, mock_upstream):
    r = client.responses.create(
        model="claude-sonnet-4-5",
        input="what time is it, parallel",
        tools=TOOLS,
        tool_choice={"type": "function", "name": "get_time"},
        parallel_tool_calls=False,
    )
    assert [(o.type, o.name) for o in r.output] == [("function_call", "get_time")]
    assert r.tool_choice.name == "get_time" and r.parallel_tool_calls is False
    (up,) = _upstream(mock_upstream, "anthropic")
    assert up["tool_choice"] == {"type": "tool", "name": "get_time", "disable_parallel_tool_use": True}


# ------------------------------------------------------------------ streams
@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_streamed_text_and_tool_calls(client, mock_upstream, provider):
    with client.responses.stream(
        model=MODELS[provider], input="use tool get_weather, narrate, parallel", tools=TOOLS
    ) as stream:
        events = list(stream)
        final = stream.get_final_response()
    types = [e.type for e in events]
    assert types[:2] == ["response.created", "response.in_progress"] and types[-1] == "response.completed"
    assert [e.sequence_number for e in events] == list(range(len(events)))
    added = [e.item for e in events if e.type == "response.output_item.added"]
    assert [(i.type, getattr(i, "arguments", None)) for i in added] == [
        ("message", None),
        ("function_call", ""),
        ("function_call", ""),
    ]
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == final.output_text == "Calling get_weather and get_time."
    args = [e.arguments for e in events if e.type == "response.function_call_arguments.done"]
    assert args == [o.arguments for o in final.output if o.type == "function_call"]
    assert final.usage.output_tokens > 0 and final.usage.input_tokens > 0
    up = _upstream(mock_upstream, provider)[-1]
    assert up["stream"] is True
    if provider == "openai":
        assert up["stream_options"] == {"include_usage": True}


def test_the_wire_format_of_a_stream(gw, mock_upstream):
    mock_upstream.script([{"delay_between_events_ms": 120}])
    headers = {"authorization": f"Bearer {gw.key}"}
    body = {"model": "claude-sonnet-4-5", "input": "one two three four five", "stream": True}
    arrivals: list[tuple[float, str]] = []
    with httpx.stream("POST", gw.openai_url + "/v1/responses", json=body, headers=headers, timeout=20) as resp:
        assert resp.status_code == 200
        assert resp.headers["content-type"].startswith("text/event-stream")
        assert resp.headers["x-lunaroute-provider"] == "up-anthropic" and resp.headers["x-lunaroute-request-id"]
        event = None
        for line in resp.iter_lines():
            if line.startswith("event: "):
                event = line[7:]
            elif line.startswith("data: "):
                data = json.loads(line[6:])
                assert data["type"] == event
                arrivals.append((time.monotonic(), event))
    assert [e for _, e in arrivals].count("response.completed") == 1 and arrivals[-1][1] == "response.completed"
    first_delta = next(t for t, e in arrivals if e == "response.output_text.delta")
    assert arrivals[-1][0] - first_delta > 0.3  # deltas were forwarded as they came, not at the end


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_a_failure_mid_stream_ends_with_response_failed(client, mock_upstream, provider):
    mock_upstream.script([{"stream_die_after": 4}])
    with client.responses.stream(model=MODELS[provider], input="a fairly long sentence to stream back") as stream:
        events = list(stream)
    types = [e.type for e in events]
    assert "response.completed" not in types and types[-1] == "response.failed", types
    assert "response.output_text.delta" in types  # the text received before the failure was sent first
    failed = events[-1].response
    assert failed.status == "failed" and failed.error.code == "server_error" and failed.error.message


def test_a_client_hang_up_cancels_the_upstream(gw, mock_upstream):
    mock_upstream.script([{"delay_between_events_ms": 200}])
    payload = json.dumps({"model": "gpt-4o", "input": "one two three four five six seven", "stream": True}).encode()
    with socket.create_connection(("127.0.0.1", gw.openai_port)) as s:
        s.sendall(
            b"POST /v1/responses HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Authorization: Bearer {gw.key}\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
            + payload
        )
        assert b"200" in s.recv(4096).split(b"\r\n")[0]
    assert mock_upstream.wait_for_stat("streams_aborted_by_peer", 1, timeout=3.0)["streams_aborted_by_peer"] >= 1


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("stream", [False, True])
def test_errors_before_the_first_byte_are_plain_errors(client, mock_upstream, stream):
    def call(model: str, **kw: Any) -> openai.APIStatusError:
        with pytest.raises(openai.APIStatusError) as info:
            result = client.responses.create(model=model, input="hi", stream=stream, **kw)
            if stream:
                list(result)
        assert info.value.response.headers["x-lunaroute-request-id"]
        return info.value

    mock_upstream.script([{"status": 400, "message": "the provider says no"}])
    err = call("gpt-4o")
    assert (err.status_code, err.body["type"]) == (
        400,
        "invalid_request_error",
    ) and "the provider says no" in err.message
    mock_upstream.script([{"status": 404, "message": "no such model upstream"}])
    err = call("claude-sonnet-4-5")
    assert err.status_code == 404 and "no such model upstream" in err.message
    err = call("dead-model")
    assert (err.status_code, err.body["type"]) == (502, "api_error")
    for model in ("unrouted-model", "bound-model"):  # no rule, or one bound to another listener
        err = call(model)
        assert (err.status_code, err.body["type"]) == (404, "not_found_error") and model in err.message
    err = call("gpt-4o", instructions="x" * (1024 * 1024 + 10))
    assert err.status_code == 413


UNSUPPORTED = [
    ({"previous_response_id": "resp_123"}, "previous_response_id"),
    ({"conversation": "conv_123"}, "conversation"),
    ({"background": True}, "background"),
    ({"prompt": {"id": "pmpt_123"}}, "prompt"),
    ({"tools": [{"type": "web_search"}]}, "web_search"),
    ({"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]}, "file_search"),
    ({"tools": [{"type": "function", "parameters": {}}]}, "name"),
    ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "item_reference"),
    ({"input": [{"role": "narrator", "content": "x"}]}, "role"),
    ({"input": [{"type": "mystery_item"}]}, "mystery_item"),
    ({"input": 42}, "input"),
    ({"max_output_tokens": "many"}, "max_output_tokens"),
]


@pytest.mark.parametrize(("fields", "named"), UNSUPPORTED, ids=[u[1] for u in UNSUPPORTED])
def test_unsupported_features_are_400s_before_any_upstream_call(client, mock_upstream, fields, named):
    body = {"model": "gpt-4o", "input": "hi", **fields}
    with pytest.raises(openai.BadRequestError) as info:
        client.responses.create(**body)
    err = info.value
    assert err.status_code == 400 and err.body["type"] == "invalid_request_error"
    assert named in err.message or named in (err.body.get("param") or "")
    assert mock_upstream.requests() == []


def test_malformed_bodies_are_400s(gw, mock_upstream):
    headers = {"authorization": f"Bearer {gw.key}", "content-type": "application/json"}
    for body in (
        b"{not json",
        b"[]",
        b'{"input": "x"}',
        b'{"model": "gpt-4o"}',
        b'{"model": "m", "input": "x", "stream": 1}',
    ):
        r = httpx.post(gw.openai_url + "/v1/responses", content=body, headers=headers)
        assert r.status_code == 400 and r.json()["error"]["type"] == "invalid_request_error", body
    assert mock_upstream.requests() == []


def test_keys_and_scopes(gw, mock_upstream):
    url = gw.openai_url + "/v1"
    with (
        openai.OpenAI(base_url=url, api_key="lr-unknown", max_retries=0) as unknown,
        openai.OpenAI(base_url=url, api_key=gw.anthropic_key, max_retries=0) as other_scope,
    ):
        with pytest.raises(openai.AuthenticationError):
            unknown.responses.create(model="gpt-4o", input="x")
        with pytest.raises(openai.PermissionDeniedError, match="openai_ingress"):
            other_scope.responses.create(model="gpt-4o", input="x")
    assert mock_upstream.requests() == []


# ------------------------------------------------------------------ listeners, recording, metrics
def test_a_both_listener_serves_responses_with_the_openai_rules(gw, mock_upstream):
    with openai.OpenAI(base_url=f"http://127.0.0.1:{gw.mixed_port}/v1", api_key=gw.key, max_retries=0) as mixed:
        assert mixed.responses.create(model="claude-sonnet-4-5", input="on both").output_text == "echo: on both"
        assert mixed.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "c"}]).choices
        with pytest.raises(openai.NotFoundError):
            mixed.responses.create(model="bound-model", input="x")  # bound to the anthropic listener


def test_the_session_records_the_responses_body_as_sent(gw, client, mock_upstream):
    body = {"model": "gpt-4o", "input": "record me", "instructions": "Be brief.", "stream": True}
    with client.responses.stream(**{k: v for k, v in body.items() if k != "stream"}) as stream:
        final = stream.get_final_response()
    sessions = _sessions(gw, lambda s: s.get("request", {}).get("input") == "record me")
    (session,) = sessions
    assert session["request"] == body
    assert session["stream"] is True and session["status"] == 200 and session["dialect"] == "responses"
    assert session["response"]["id"] == final.id and session["response"]["status"] == "completed"
    assert session["usage"]["output_tokens"] == final.usage.output_tokens
    served = [
        line
        for line in gw.metrics().splitlines()
        if line.startswith("lunaroute_requests_total{")
        and all(f'{k}="{v}"' in line for k, v in (("listener", "openai"), ("provider", "up-openai"), ("status", "200")))
    ]
    assert served and float(served[0].rsplit(" ", 1)[1]) >= 1


def _sessions(gw, keep, timeout: float = 10.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run(
            [sys.executable, "-m", "lunaroute", "--config-dir", str(gw.config_dir), "export", "--since", "1h"]
            + ["--output", "-"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        found = [s for s in map(json.loads, filter(None, out.stdout.splitlines())) if keep(s)]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
