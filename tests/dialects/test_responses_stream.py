"""Responses API streams: any upstream event sequence of either provider dialect becomes a
stream the official SDK parses (its event models, validated strictly, and its stream state
machine), with the same text, calls, status and usage; cut and garbled upstreams still end
with a terminal event; a failure after the start is `response.failed`, never a silent end."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.dialects import client_dialect, get_dialect
from lunaroute.errors import UpstreamError
from lunaroute.model import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    NormalizedRequest,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    Usage,
)

from .helpers import parse_sse
from .responses_checks import check_responses_stream
from .stream_checks import render_anthropic, render_openai
from .test_stream_properties import plans, truncated

RESPONSES = client_dialect("responses")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
STATUS = {"end_turn": "completed", "stop_sequence": "completed", "tool_use": "completed", "max_tokens": "incomplete"}


def _request() -> NormalizedRequest:
    return RESPONSES.parse_request({"model": "client-model", "input": "x", "stream": True})


def _translate(events: list[tuple[str, str]], source: str) -> bytes:
    decoder = get_dialect(source).stream_decoder()
    encoder = RESPONSES.stream_encoder(model="client-model", request=_request())
    out = []
    for n, (event, data) in enumerate(events):
        piece = encoder.encode(decoder.feed(event, data))
        if n == 0:
            assert piece, "the first upstream event yields client bytes at once"
        out.append(piece)
    out.append(encoder.encode(decoder.finish()))
    out.append(encoder.finish())
    assert encoder.finish() == b"" and encoder.encode([MessageStop()]) == b""  # ended exactly once
    return b"".join(out)


@SETTINGS
@given(plans(), st.sampled_from(["anthropic", "openai"]))
def test_any_upstream_answer_becomes_a_stream_the_sdk_reads(plan: dict[str, Any], source: str) -> None:
    if source == "openai":
        plan = {**plan, "blocks": [b for b in plan["blocks"] if b[0] != "thinking"]}
    events = render_anthropic(plan) if source == "anthropic" else render_openai(plan)
    got = check_responses_stream(_translate(events, source))
    text = "".join("".join(b[1]) for b in plan["blocks"] if b[0] == "text")
    calls = [(b[1], b[2], "".join(b[3])) for b in plan["blocks"] if b[0] == "tool"]
    assert got.text == text
    assert got.calls == calls
    final = got.final
    assert final.status == STATUS[plan["stop"]]
    if final.status == "incomplete":
        assert final.incomplete_details.reason == "max_output_tokens"
    i, o, cache_read, cache_write = plan["usage"]
    # OpenAI reports no cache writes: they are in its prompt_tokens
    assert (final.usage.input_tokens, final.usage.output_tokens) == (i + cache_read + cache_write, o)
    assert final.usage.input_tokens_details.cached_tokens == cache_read
    assert final.usage.total_tokens == final.usage.input_tokens + o
    kinds = [item.type for item in final.output]
    # a message item per run of text; a tool-only answer has none, an empty one has one
    assert kinds.count("function_call") == len(calls)
    assert kinds.count("message") >= (1 if text or not calls else 0)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(truncated())
def test_cut_or_garbled_upstream_streams_end_with_a_terminal_event(case: tuple[str, list[tuple[str, str]]]) -> None:
    source, events = case
    decoder = get_dialect(source).stream_decoder()
    encoder = RESPONSES.stream_encoder(model="m", request=_request())
    out = [encoder.encode(decoder.feed(event, data)) for event, data in events]
    out.append(encoder.encode(decoder.finish()))
    out.append(encoder.finish())
    got = check_responses_stream(b"".join(out))
    if got.types[-1] == "response.failed":
        assert got.final.status == "failed" and got.final.error.code == "server_error"


def _events(raw: bytes) -> list[dict[str, Any]]:
    return [json.loads(data) for _, data in parse_sse(raw)]


def test_a_failure_after_the_start_is_response_failed_with_the_output_so_far() -> None:
    encoder = RESPONSES.stream_encoder(model="m", request=_request())
    sent = encoder.encode(
        [
            MessageStart("up1", "m", Usage(7, 1)),
            BlockStart(0, TextBlock("")),
            TextDelta(0, "Once upon"),
            BlockStop(0),
            BlockStart(1, ToolUseBlock("call_1", "f")),
            InputJsonDelta(1, '{"a":'),
        ]
    )
    tail = encoder.error(UpstreamError("upstream stream broke off before it finished"))
    assert encoder.error(UpstreamError("again")) == b"" and encoder.finish() == b""
    got = check_responses_stream(sent + tail)
    assert got.types[-1] == "response.failed"
    failed = _events(tail)[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "server_error", "message": "upstream stream broke off before it finished"}
    text_item, call_item = failed["output"]
    assert text_item["content"][0]["text"] == "Once upon" and text_item["status"] == "completed"
    assert (call_item["arguments"], call_item["status"]) == ('{"a":', "incomplete")
    assert failed["usage"]["input_tokens"] == 7


def test_a_failure_before_anything_was_sent_still_opens_the_response() -> None:
    encoder = RESPONSES.stream_encoder(model="m", request=_request())
    got = check_responses_stream(encoder.error(UpstreamError("stalled")))
    assert got.types == ["response.created", "response.in_progress", "response.failed"]


def test_the_stateless_stream_error_is_an_error_event_the_sdk_raises_on() -> None:
    raw = RESPONSES.stream_error(UpstreamError("boom"))
    ((event, data),) = parse_sse(raw)
    body = orjson.loads(data)
    assert event == "error" and body["type"] == "error" and body["sequence_number"] == 0
    assert body["error"]["message"] == "boom" and body["error"]["type"] == "api_error"


def test_an_answer_with_nothing_in_it_still_has_its_message_item() -> None:
    encoder = RESPONSES.stream_encoder(model="m", request=_request())
    raw = encoder.encode([MessageStart("u", "m"), BlockStart(0, TextBlock("")), BlockStop(0)])
    raw += encoder.encode([MessageDelta("end_turn", None, Usage(3, 0)), MessageStop()])
    got = check_responses_stream(raw)
    assert [(i.type, i.content[0].text) for i in got.final.output] == [("message", "")]
    assert got.final.status == "completed"


def test_ids_are_new_for_every_response_and_item() -> None:
    ids = set()
    for _ in range(3):
        encoder = RESPONSES.stream_encoder(model="m", request=_request())
        raw = encoder.encode([MessageStart("same-upstream-id", "m"), TextDelta(0, "x"), MessageStop()])
        events = _events(raw)
        ids.add(events[0]["response"]["id"])
        ids.add(events[-1]["response"]["output"][0]["id"])
    assert len(ids) == 6 and all(i.startswith(("resp_", "msg_")) for i in ids)


@pytest.mark.parametrize("source", ["openai", "anthropic"])
def test_non_streamed_answers_read_by_the_sdk_model(source: str) -> None:
    from openai.types.responses import Response

    from lunaroute.model import NormalizedResponse

    content = [TextBlock("a"), ToolUseBlock("c1", "f", {"x": 1}), TextBlock(""), ToolUseBlock("c2", "g", None, "{}")]
    resp = NormalizedResponse(source, "id", "m", content, "tool_use", usage=Usage(10, 5, 4, 2, 1))
    body = RESPONSES.build_response(resp, model="client-model", request=_request())
    parsed = Response.model_validate(body)
    assert [o.type for o in parsed.output] == ["message", "function_call", "function_call"]
    assert [o.arguments for o in parsed.output if o.type == "function_call"] == ['{"x":1}', "{}"]
    assert parsed.output_text == "a"
    u = parsed.usage
    details = (u.input_tokens_details.cached_tokens, u.input_tokens_details.cache_write_tokens)
    assert (u.input_tokens, u.output_tokens, u.total_tokens, *details) == (10, 5, 15, 4, 2)
    assert u.output_tokens_details.reasoning_tokens == 1
