"""Stream decoders and encoders, event by event."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from lunaroute.dialects import get_dialect
from lunaroute.errors import RateLimitedError, UpstreamError
from lunaroute.model import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    NormalizedRequest,
    Ping,
    StreamError,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    Usage,
)

from .helpers import decoded_events, sse_comments


def _chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> str:
    body: dict[str, Any] = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "g"}
    body["choices"] = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish}]
    body.update(extra)
    return json.dumps(body)


def _kinds(events: list[Any]) -> list[str]:
    return [type(e).__name__ for e in events]


# --------------------------------------------------------------------------- OpenAI decoder
def test_openai_decoder_first_chunk_may_carry_text() -> None:
    dec = get_dialect("openai").stream_decoder()
    out = dec.feed("message", _chunk({"role": "assistant", "content": "Hi"}))
    assert _kinds(out) == ["MessageStart", "BlockStart", "TextDelta"]
    assert out[0].id == "chatcmpl-1" and out[0].usage is None and out[2].text == "Hi"


def test_openai_decoder_empty_choices_first_chunk_starts_the_message() -> None:
    dec = get_dialect("openai").stream_decoder()
    assert _kinds(dec.feed("message", _chunk(None, prompt_filter_results=[]))) == ["MessageStart"]
    assert _kinds(dec.feed("message", _chunk({"content": "x"}))) == ["BlockStart", "TextDelta"]


def test_openai_decoder_full_sequence() -> None:
    dec = get_dialect("openai").stream_decoder()
    events = []
    for data in [
        _chunk({"role": "assistant", "content": ""}),
        _chunk({"content": "a"}),
        _chunk(
            {"tool_calls": [{"index": 0, "id": "c0", "type": "function", "function": {"name": "f", "arguments": "{"}}]}
        ),
        _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "}"}}]}),
        _chunk({}, "tool_calls"),
        _chunk(None, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
        "[DONE]",
    ]:
        events += dec.feed("message", data)
    assert _kinds(events) == [
        "MessageStart",
        "BlockStart",
        "TextDelta",
        "BlockStop",
        "BlockStart",
        "InputJsonDelta",
        "InputJsonDelta",
        "BlockStop",
        "MessageDelta",
        "MessageDelta",
        "MessageStop",
    ]
    assert events[4].block == ToolUseBlock("c0", "f") and events[4].index == 1
    assert events[8].stop_reason == "tool_use" and events[9].usage == Usage(5, 2)
    assert dec.feed("message", _chunk({"content": "late"})) == [] and dec.finish() == []


def test_openai_decoder_late_arguments_for_a_closed_call_are_dropped(caplog: pytest.LogCaptureFixture) -> None:
    dec = get_dialect("openai").stream_decoder()
    dec.feed("message", _chunk({"role": "assistant"}))
    dec.feed("message", _chunk({"tool_calls": [{"index": 0, "id": "a", "function": {"name": "f", "arguments": ""}}]}))
    dec.feed("message", _chunk({"tool_calls": [{"index": 1, "id": "b", "function": {"name": "g", "arguments": ""}}]}))
    with caplog.at_level(logging.WARNING, logger="lunaroute.dialects"):
        assert dec.feed("message", _chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]})) == []
    assert "dropped" in caplog.text


def test_openai_decoder_missing_tool_call_id_gets_one() -> None:
    dec = get_dialect("openai").stream_decoder()
    out = dec.feed("message", _chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": "{}"}}]}))
    assert out[1].block.id.startswith("call_") and out[2].partial_json == "{}"


@pytest.mark.parametrize("data", ["{oops", "[1]", '{"choices": [5]}', '{"choices": [{"delta": {"tool_calls": [7]}}]}'])
def test_openai_decoder_unreadable_events_become_stream_errors(data: str) -> None:
    dec = get_dialect("openai").stream_decoder()
    out = dec.feed("message", data)
    assert isinstance(out[-1], StreamError) and isinstance(out[-1].error, UpstreamError)
    assert dec.feed("message", _chunk({"content": "x"})) == [] and dec.finish() == []


def test_openai_decoder_in_stream_error() -> None:
    dec = get_dialect("openai").stream_decoder()
    dec.feed("message", _chunk({"role": "assistant"}))
    out = dec.feed("message", json.dumps({"error": {"message": "server overloaded", "type": "server_error"}}))
    assert (
        isinstance(out[0], StreamError)
        and out[0].error.message == "server overloaded"
        and out[0].error.upstream_type == "server_error"
    )


def test_openai_decoder_finish_cases() -> None:
    d = get_dialect("openai").stream_decoder()
    assert isinstance(d.finish()[0], StreamError)  # nothing at all
    d = get_dialect("openai").stream_decoder()
    d.feed("message", _chunk({"content": "a"}))
    assert _kinds(d.finish()) == ["BlockStop", "StreamError"]  # cut mid-answer
    d = get_dialect("openai").stream_decoder()
    d.feed("message", _chunk({"content": "a"}, "stop"))
    assert _kinds(d.finish()) == ["MessageStop"]  # only [DONE] missing
    d = get_dialect("openai").stream_decoder()
    assert isinstance(d.feed("message", "[DONE]")[0], StreamError)


# --------------------------------------------------------------------------- Anthropic decoder
def _ev(kind: str, **fields: Any) -> tuple[str, str]:
    return kind, json.dumps({"type": kind, **fields})


def test_anthropic_decoder_skips_unknown_blocks_and_renumbers() -> None:
    dec = get_dialect("anthropic").stream_decoder()
    out = []
    for event in [
        _ev(
            "message_start",
            message={
                "id": "msg_1",
                "model": "c",
                "usage": {"input_tokens": 3, "cache_read_input_tokens": 4, "output_tokens": 1},
            },
        ),
        _ev(
            "content_block_start",
            index=0,
            content_block={"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}},
        ),
        _ev("content_block_delta", index=0, delta={"type": "input_json_delta", "partial_json": "{}"}),
        _ev("content_block_stop", index=0),
        _ev("content_block_start", index=1, content_block={"type": "text", "text": "Hel"}),
        _ev("ping"),
        _ev("content_block_delta", index=1, delta={"type": "citations_delta", "citation": {}}),
        _ev("content_block_delta", index=1, delta={"type": "text_delta", "text": "lo"}),
        _ev("content_block_stop", index=1),
        _ev("some_future_event", foo=1),
        _ev("message_delta", delta={"stop_reason": "end_turn", "stop_sequence": None}, usage={"output_tokens": 9}),
        _ev("message_stop"),
    ]:
        out += dec.feed(*event)
    assert _kinds(out) == [
        "MessageStart",
        "BlockStart",
        "TextDelta",
        "Ping",
        "TextDelta",
        "BlockStop",
        "MessageDelta",
        "MessageStop",
    ]
    assert out[0].usage == Usage(7, 1, 4, 0)
    assert out[1].index == 0 and out[2].text == "Hel"
    assert out[6].usage == Usage(7, 9, 4, 0)


def test_anthropic_decoder_tool_use_with_initial_input() -> None:
    dec = get_dialect("anthropic").stream_decoder()
    dec.feed(*_ev("message_start", message={"id": "m", "model": "c"}))
    out = dec.feed(
        *_ev(
            "content_block_start",
            index=0,
            content_block={"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
        )
    )
    assert _kinds(out) == ["BlockStart", "InputJsonDelta"] and json.loads(out[1].partial_json) == {"a": 1}


def test_anthropic_decoder_in_stream_error_keeps_type() -> None:
    dec = get_dialect("anthropic").stream_decoder()
    dec.feed(*_ev("message_start", message={"id": "m", "model": "c"}))
    out = dec.feed(*_ev("error", error={"type": "rate_limit_error", "message": "slow down"}))
    assert isinstance(out[0].error, RateLimitedError) and out[0].error.message == "slow down"
    assert dec.feed(*_ev("message_stop")) == []


@pytest.mark.parametrize(
    "data",
    [
        "nope",
        "[]",
        '{"type": "content_block_delta", "index": 0}',
        '{"type": "message_start"}',
        '{"type": "content_block_start", "index": [1], "content_block": {"type": "text"}}',
    ],
)
def test_anthropic_decoder_unreadable_events_become_stream_errors(data: str) -> None:
    dec = get_dialect("anthropic").stream_decoder()
    dec.feed(*_ev("message_start", message={"id": "m", "model": "c"}))
    dec.feed(*_ev("content_block_start", index=0, content_block={"type": "text", "text": ""}))
    out = dec.feed("message", data)
    assert out and isinstance(out[-1], StreamError)


def test_anthropic_decoder_finish_cases() -> None:
    d = get_dialect("anthropic").stream_decoder()
    assert isinstance(d.finish()[0], StreamError)
    d = get_dialect("anthropic").stream_decoder()
    d.feed(*_ev("message_start", message={"id": "m", "model": "c"}))
    d.feed(*_ev("content_block_start", index=0, content_block={"type": "text", "text": ""}))
    assert _kinds(d.finish()) == ["BlockStop", "StreamError"]
    d = get_dialect("anthropic").stream_decoder()
    d.feed(*_ev("message_start", message={"id": "m", "model": "c"}))
    d.feed(*_ev("message_delta", delta={"stop_reason": "end_turn"}, usage={"output_tokens": 1}))
    assert _kinds(d.finish()) == ["MessageStop"]


# --------------------------------------------------------------------------- encoders
def _req(dialect: str, include_usage: bool = False) -> NormalizedRequest:
    req = NormalizedRequest(dialect, "m")
    req.stream_include_usage = include_usage
    return req


def test_openai_encoder_ping_is_a_comment_and_ignored_events_send_nothing() -> None:
    enc = get_dialect("openai").stream_encoder(model="gpt", request=_req("openai"))
    start = enc.encode([MessageStart("msg_9", "c")])
    assert decoded_events(start)[0][1]["id"] == "chatcmpl-9"
    assert sse_comments(enc.encode([Ping()])) == [": ping"]
    assert enc.encode([BlockStart(0, TextBlock("")), TextDelta(0, ""), BlockStop(0)]) == b""


def test_encoders_synthesize_a_start_when_the_first_event_is_a_block() -> None:
    for name in ("openai", "anthropic"):
        enc = get_dialect(name).stream_encoder(model="x", request=_req(name))
        raw = enc.encode([BlockStart(0, TextBlock("")), TextDelta(0, "hi")]) + enc.finish()
        events = decoded_events(raw)
        assert (
            events[0][0] == "message_start"
            if name == "anthropic"
            else events[0][1]["choices"][0]["delta"]["role"] == "assistant"
        )
        assert enc.finish() == b"" and enc.encode([TextDelta(0, "late")]) == b""


def test_anthropic_encoder_stops_an_open_block_before_the_next_and_at_the_end() -> None:
    enc = get_dialect("anthropic").stream_encoder(model="c", request=_req("anthropic"))
    raw = (
        enc.encode(
            [
                MessageStart("chatcmpl-7", "g"),
                BlockStart(0, TextBlock("")),
                TextDelta(0, "a"),
                BlockStart(1, ToolUseBlock("call:1", "f")),
                InputJsonDelta(1, "{}"),
                MessageDelta("tool_use", None, Usage(10, 2, 4, 0)),
            ]
        )
        + enc.finish()
    )
    names = [e for e, _ in decoded_events(raw)]
    assert names == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    events = decoded_events(raw)
    assert events[0][1]["message"]["id"] == "msg_7"
    assert events[4][1]["content_block"]["id"] == "call_1"  # sanitized for Anthropic clients
    assert events[7][1]["usage"] == {
        "input_tokens": 6,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 4,
        "output_tokens": 2,
    }


def test_stream_error_event_ends_the_stream_in_both_encoders() -> None:
    for name, marker in (("openai", b'data: {"error"'), ("anthropic", b"event: error")):
        enc = get_dialect(name).stream_encoder(model="x", request=_req(name))
        raw = enc.encode([MessageStart("i", "m"), StreamError(UpstreamError("gone")), TextDelta(0, "x")])
        assert raw.count(marker) == 1 and raw.endswith(b"\n\n") and b"[DONE]" not in raw
        assert enc.finish() == b""


def test_openai_encoder_finish_without_stop_reason_says_stop() -> None:
    enc = get_dialect("openai").stream_encoder(model="g", request=_req("openai", include_usage=True))
    events = decoded_events(enc.encode([MessageStart("a", "b")]) + enc.finish())
    assert events[1][1]["choices"][0]["finish_reason"] == "stop"
    assert events[2][1]["usage"]["total_tokens"] == 0 and events[3][1] == "[DONE]"
