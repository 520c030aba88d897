"""The mock driven by the official `anthropic` SDK: answers, streams, tools, caching, errors."""

from __future__ import annotations

import anthropic
import httpx
import pytest

from tests.mock_upstream.sdk_clients import ANTHROPIC_MODEL, anthropic_client

WEATHER_TOOL = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
}
TIME_TOOL = {
    "name": "get_time",
    "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
}


def _headers() -> dict[str, str]:
    return {"x-api-key": "k", "anthropic-version": "2023-06-01", "content-type": "application/json"}


def test_non_stream_echo_and_usage(mock_upstream):
    client = anthropic_client(mock_upstream)
    msg = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=50,
        system="be brief",
        messages=[{"role": "user", "content": "hello claude"}],
    )
    assert msg.type == "message" and msg.role == "assistant"
    assert [b.type for b in msg.content] == ["text"]
    assert msg.content[0].text == "echo: hello claude"
    assert msg.stop_reason == "end_turn" and msg.stop_sequence is None
    assert msg.usage.input_tokens == 4  # "be brief" + "hello claude"
    assert msg.usage.output_tokens == 3
    assert msg.usage.cache_read_input_tokens == 0 and msg.usage.cache_creation_input_tokens == 0
    rec = mock_upstream.requests("/v1/messages")[0]
    assert rec["header_map"]["anthropic-version"]
    assert rec["json"]["max_tokens"] == 50


def test_stream_accumulates_to_final_message(mock_upstream):
    client = anthropic_client(mock_upstream)
    with client.messages.stream(
        model=ANTHROPIC_MODEL,
        max_tokens=50,
        messages=[{"role": "user", "content": "stream this text"}],
    ) as stream:
        texts = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(texts) == "echo: stream this text"
    assert final.content[0].text == "echo: stream this text"
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens == 4
    assert final.usage.input_tokens == 3


def test_raw_event_sequence(mock_upstream):
    with httpx.Client(trust_env=False) as http:
        body = {
            "model": ANTHROPIC_MODEL,
            "max_tokens": 20,
            "stream": True,
            "messages": [{"role": "user", "content": "a b"}],
        }
        resp = http.post(mock_upstream.url + "/v1/messages", json=body, headers=_headers())
    assert resp.headers["content-type"].startswith("text/event-stream")
    assert resp.headers["request-id"].startswith("req_")
    names = [line[len("event: ") :] for line in resp.text.splitlines() if line.startswith("event: ")]
    assert names == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]


def test_tool_use_round_trip_streamed(mock_upstream):
    client = anthropic_client(mock_upstream)
    messages = [{"role": "user", "content": "use tool get_weather for Paris"}]
    with client.messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=200, messages=messages, tools=[TIME_TOOL, WEATHER_TOOL]
    ) as stream:
        first = stream.get_final_message()
    assert first.stop_reason == "tool_use"
    (call,) = [b for b in first.content if b.type == "tool_use"]
    assert call.name == "get_weather"
    assert call.input == {"city": "city-1", "days": 1}
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]})
    messages.append(
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "rainy"}],
        }
    )
    final = client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=200, messages=messages, tools=[TIME_TOOL, WEATHER_TOOL]
    )
    assert final.content[0].text == f"tool results: get_weather({call.id}) = rainy"


def test_parallel_and_forced_tool(mock_upstream):
    client = anthropic_client(mock_upstream)
    both = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=100,
        tools=[WEATHER_TOOL, TIME_TOOL],
        messages=[{"role": "user", "content": "use tool, parallel please"}],
    )
    assert [b.name for b in both.content if b.type == "tool_use"] == ["get_weather", "get_time"]
    forced = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=100,
        tools=[WEATHER_TOOL, TIME_TOOL],
        tool_choice={"type": "tool", "name": "get_time", "disable_parallel_tool_use": True},
        messages=[{"role": "user", "content": "hello, parallel"}],
    )
    assert [(b.name, b.input) for b in forced.content if b.type == "tool_use"] == [("get_time", {"tz": "tz-1"})]


def test_thinking_block_streamed(mock_upstream):
    client = anthropic_client(mock_upstream)
    with client.messages.stream(
        model=ANTHROPIC_MODEL,
        max_tokens=2048,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[{"role": "user", "content": "ponder"}],
    ) as stream:
        final = stream.get_final_message()
    assert [b.type for b in final.content] == ["thinking", "text"]
    assert final.content[0].thinking == "thinking about: ponder"
    assert len(final.content[0].signature) == 64
    assert final.usage.output_tokens == 3 + 2


def test_prompt_cache_creation_then_read(mock_upstream):
    client = anthropic_client(mock_upstream)
    system = [
        {
            "type": "text",
            "text": "long stable instructions here",
            "cache_control": {"type": "ephemeral"},
        }
    ]
    first = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=20,
        system=system,
        messages=[{"role": "user", "content": "q one"}],
    )
    assert first.usage.cache_creation_input_tokens == 4
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.input_tokens == 2
    second = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=20,
        system=system,
        messages=[{"role": "user", "content": "q two more"}],
    )
    assert second.usage.cache_read_input_tokens == 4
    assert second.usage.cache_creation_input_tokens == 0
    assert second.usage.input_tokens == 3


def test_stop_sequence_and_max_tokens(mock_upstream):
    client = anthropic_client(mock_upstream)
    stopped = client.messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=50,
        stop_sequences=["beta"],
        messages=[{"role": "user", "content": "alpha beta"}],
    )
    assert stopped.stop_reason == "stop_sequence" and stopped.stop_sequence == "beta"
    assert stopped.content[0].text == "echo: alpha "
    cut = client.messages.create(
        model=ANTHROPIC_MODEL, max_tokens=2, messages=[{"role": "user", "content": "alpha beta"}]
    )
    assert cut.stop_reason == "max_tokens" and cut.content[0].text == "echo: alpha"


def test_count_tokens(mock_upstream):
    client = anthropic_client(mock_upstream)
    counted = client.messages.count_tokens(
        model=ANTHROPIC_MODEL,
        system="sys prompt",
        messages=[{"role": "user", "content": "three more words"}],
    )
    assert counted.input_tokens == 5


def test_missing_max_tokens_is_400_in_anthropic_shape(mock_upstream):
    with httpx.Client(trust_env=False) as http:
        resp = http.post(
            mock_upstream.url + "/v1/messages",
            headers=_headers(),
            json={"model": ANTHROPIC_MODEL, "messages": [{"role": "user", "content": "x"}]},
        )
    assert resp.status_code == 400
    body = resp.json()
    assert body["type"] == "error"
    assert body["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }
    assert body["request_id"] == resp.headers["request-id"]


def test_sdk_raises_bad_request_for_extra_field(mock_upstream):
    client = anthropic_client(mock_upstream)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=5,
            extra_body={"frequency_penalty": 1},
            messages=[{"role": "user", "content": "x"}],
        )
    assert info.value.body["error"]["message"] == "frequency_penalty: Extra inputs are not permitted"


def test_orphan_tool_result_refused(mock_upstream):
    client = anthropic_client(mock_upstream)
    with pytest.raises(anthropic.BadRequestError) as info:
        client.messages.create(
            model=ANTHROPIC_MODEL,
            max_tokens=5,
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": "toolu_x", "content": "r"}],
                }
            ],
        )
    assert "unexpected `tool_use_id` found in `tool_result` blocks: toolu_x" in info.value.body["error"]["message"]


def test_auth_and_version_headers_required(mock_upstream):
    body = {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "x"}],
    }
    with httpx.Client(trust_env=False) as http:
        no_key = http.post(
            mock_upstream.url + "/v1/messages",
            json=body,
            headers={"anthropic-version": "2023-06-01"},
        )
        no_version = http.post(mock_upstream.url + "/v1/messages", json=body, headers={"x-api-key": "k"})
    assert no_key.status_code == 401
    assert no_key.json()["error"]["type"] == "authentication_error"
    assert no_version.status_code == 400
    assert no_version.json()["error"]["message"] == "anthropic-version: header is required"


def test_models_list_in_anthropic_shape(mock_upstream):
    client = anthropic_client(mock_upstream)
    page = client.models.list()
    assert ANTHROPIC_MODEL in [m.id for m in page.data]
    assert client.models.retrieve(ANTHROPIC_MODEL).display_name == "Claude Sonnet 4.6"
