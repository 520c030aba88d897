"""The mock driven by the official `openai` SDK: answers, streams, tools, errors."""

from __future__ import annotations

import json

import openai
import pytest

from tests.mock_upstream.sdk_clients import OPENAI_MODEL, openai_client

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["c", "f"]},
            },
            "required": ["city"],
        },
    },
}
TIME_TOOL = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}},
}


def test_non_stream_echo_and_usage(mock_upstream):
    client = openai_client(mock_upstream)
    resp = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "hello there"},
        ],
    )
    assert resp.object == "chat.completion"
    assert resp.model == OPENAI_MODEL
    assert resp.choices[0].message.content == "echo: hello there"
    assert resp.choices[0].finish_reason == "stop"
    # words of the texts (roles are structural): "be" "brief" "hello" "there"
    assert resp.usage.prompt_tokens == 4
    assert resp.usage.completion_tokens == 3
    assert resp.usage.total_tokens == 7
    assert resp.usage.prompt_tokens_details.cached_tokens == 0
    recorded = mock_upstream.requests("/v1/chat/completions")
    assert len(recorded) == 1
    assert recorded[0]["header_map"]["authorization"] == "Bearer sk-test-openai"
    assert recorded[0]["json"]["messages"][1]["content"] == "hello there"


def test_repeated_prefix_reports_cached_tokens(mock_upstream):
    client = openai_client(mock_upstream)
    first = [{"role": "user", "content": "one two three"}]
    client.chat.completions.create(model=OPENAI_MODEL, messages=first)
    second = first + [
        {"role": "assistant", "content": "echo: one two three"},
        {"role": "user", "content": "four"},
    ]
    resp = client.chat.completions.create(model=OPENAI_MODEL, messages=second)
    assert resp.usage.prompt_tokens_details.cached_tokens == 3  # "one two three"
    assert resp.usage.prompt_tokens == 3 + 4 + 1


def test_stream_chunks_and_usage_chunk(mock_upstream):
    client = openai_client(mock_upstream)
    chunks = list(
        client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[{"role": "user", "content": "stream me please"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[0].choices[0].delta.role == "assistant"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: stream me please"
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]
    assert chunks[-1].choices == []
    assert chunks[-1].usage.completion_tokens == 4
    assert all(c.usage is None for c in chunks[:-1])
    assert len({c.id for c in chunks}) == 1


def test_stream_without_include_usage_has_no_usage_chunk(mock_upstream):
    client = openai_client(mock_upstream)
    chunks = list(
        client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
        )
    )
    assert all(c.choices for c in chunks)
    assert all(c.usage is None for c in chunks)


def test_raw_stream_ends_with_done(mock_upstream):
    client = openai_client(mock_upstream)
    raw = client.chat.completions.with_raw_response.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
    )
    assert raw.headers["content-type"].startswith("text/event-stream")
    assert raw.headers["x-request-id"].startswith("req_")
    body = raw.http_response.read().decode()
    events = [line for line in body.split("\n\n") if line]
    assert events[-1] == "data: [DONE]"
    assert json.loads(events[0][len("data: ") :])["object"] == "chat.completion.chunk"


def test_tool_call_round_trip(mock_upstream):
    client = openai_client(mock_upstream)
    messages = [{"role": "user", "content": "please use tool get_weather"}]
    resp = client.chat.completions.create(model=OPENAI_MODEL, messages=messages, tools=[TIME_TOOL, WEATHER_TOOL])
    choice = resp.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "city-1", "unit": "c"}
    messages.append(choice.message.model_dump(exclude_none=True))
    messages.append({"role": "tool", "tool_call_id": call.id, "content": "sunny"})
    final = client.chat.completions.create(model=OPENAI_MODEL, messages=messages, tools=[TIME_TOOL, WEATHER_TOOL])
    assert final.choices[0].message.content == f"tool results: get_weather({call.id}) = sunny"
    assert final.choices[0].finish_reason == "stop"


def test_streamed_parallel_tool_calls_accumulate(mock_upstream):
    client = openai_client(mock_upstream)
    chunks = list(
        client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[{"role": "user", "content": "use tool in parallel"}],
            tools=[WEATHER_TOOL, TIME_TOOL],
            stream=True,
        )
    )
    calls: dict[int, dict[str, str]] = {}
    for c in chunks:
        for tc in c.choices[0].delta.tool_calls or []:
            entry = calls.setdefault(tc.index, {"id": "", "name": "", "arguments": ""})
            if tc.id:
                assert entry["id"] == "", "id must come once, first"
                entry["id"] = tc.id
                entry["name"] = tc.function.name
            entry["arguments"] += tc.function.arguments or ""
    assert [calls[i]["name"] for i in sorted(calls)] == ["get_weather", "get_time"]
    assert json.loads(calls[0]["arguments"]) == {"city": "city-1", "unit": "c"}
    assert json.loads(calls[1]["arguments"]) == {}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_tool_choice_forces_named_tool_and_parallel_off(mock_upstream):
    client = openai_client(mock_upstream)
    resp = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": "just chat, parallel"}],
        tools=[WEATHER_TOOL, TIME_TOOL],
        parallel_tool_calls=False,
        tool_choice={"type": "function", "function": {"name": "get_time"}},
    )
    assert [c.function.name for c in resp.choices[0].message.tool_calls] == ["get_time"]


def test_stop_sequence_and_length_limits(mock_upstream):
    client = openai_client(mock_upstream)
    stopped = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": "alpha beta gamma"}],
        stop=["gamma"],
    )
    assert stopped.choices[0].message.content == "echo: alpha beta "
    assert stopped.choices[0].finish_reason == "stop"
    cut = client.chat.completions.create(
        model=OPENAI_MODEL,
        messages=[{"role": "user", "content": "alpha beta gamma"}],
        max_completion_tokens=2,
    )
    assert cut.choices[0].message.content == "echo: alpha"
    assert cut.choices[0].finish_reason == "length"


def test_n_choices(mock_upstream):
    client = openai_client(mock_upstream)
    resp = client.chat.completions.create(model=OPENAI_MODEL, messages=[{"role": "user", "content": "x"}], n=2)
    assert [c.index for c in resp.choices] == [0, 1]
    assert resp.usage.completion_tokens == 4


def test_validation_error_shape(mock_upstream):
    client = openai_client(mock_upstream)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[{"role": "user", "content": "x"}],
            temperature=3,
        )
    err = info.value
    assert err.status_code == 400
    assert err.body == {
        "message": "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 3 instead.",
        "type": "invalid_request_error",
        "param": "temperature",
        "code": "decimal_above_max_value",
    }
    assert mock_upstream.stats()["validation_errors"] == 1


def test_unknown_argument_refused(mock_upstream):
    client = openai_client(mock_upstream)
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(
            model=OPENAI_MODEL,
            messages=[{"role": "user", "content": "x"}],
            extra_body={"top_k": 3},
        )
    assert info.value.body["message"] == "Unrecognized request argument supplied: top_k"


def test_unanswered_tool_call_refused(mock_upstream):
    client = openai_client(mock_upstream)
    messages = [
        {"role": "user", "content": "x"},
        {
            "role": "assistant",
            "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
        },
        {"role": "user", "content": "y"},
    ]
    with pytest.raises(openai.BadRequestError) as info:
        client.chat.completions.create(model=OPENAI_MODEL, messages=messages)
    assert "did not have response messages: call_1" in info.value.body["message"]


def test_missing_key_is_401():
    import httpx

    from tests.mock_upstream.fixture import session_mock_upstream

    mock = session_mock_upstream()
    resp = httpx.post(mock.url + "/v1/chat/completions", json={"model": "m", "messages": []}, trust_env=False)
    assert resp.status_code == 401
    assert resp.json()["error"]["type"] == "invalid_request_error"
    assert resp.json()["error"]["message"].startswith("You didn't provide an API key.")


def test_models_list(mock_upstream):
    client = openai_client(mock_upstream)
    ids = [m.id for m in client.models.list()]
    assert OPENAI_MODEL in ids
    assert client.models.retrieve("gpt-4o-mini").owned_by == "system"
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("no-such-model")


def test_n_choices_streamed_interleaved(mock_upstream):
    client = openai_client(mock_upstream)
    chunks = list(
        client.chat.completions.create(
            model=OPENAI_MODEL, messages=[{"role": "user", "content": "a b"}], n=2, stream=True
        )
    )
    indexes = [c.choices[0].index for c in chunks]
    assert indexes[:4] == [0, 1, 0, 1]
    for index in (0, 1):
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices[0].index == index)
        assert text == "echo: a b"
