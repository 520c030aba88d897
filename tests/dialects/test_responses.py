"""Non-streaming answers: stop reasons, usage, content mapping, malformed upstream answers."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from lunaroute.dialects import get_dialect
from lunaroute.errors import UpstreamError
from lunaroute.model import NormalizedRequest, NormalizedResponse, TextBlock, ToolUseBlock, Usage

OPENAI = get_dialect("openai")
ANTHROPIC = get_dialect("anthropic")
REQ = NormalizedRequest("openai", "m")


def _oai(message: dict[str, Any], finish: str | None = "stop", usage: Any = None) -> dict[str, Any]:
    body = {
        "id": "chatcmpl-x",
        "object": "chat.completion",
        "created": 5,
        "model": "gpt",
        "choices": [{"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def _anth(content: list[Any], stop: str | None = "end_turn", usage: Any = None) -> dict[str, Any]:
    return {
        "id": "msg_x",
        "type": "message",
        "role": "assistant",
        "model": "claude",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage or {"input_tokens": 1, "output_tokens": 1},
    }


@pytest.mark.parametrize(
    ("finish", "anthropic_stop"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("content_filter", "refusal"),
        ("something_new", "end_turn"),
    ],
)
def test_openai_finish_reasons_to_anthropic(finish: str, anthropic_stop: str) -> None:
    resp = OPENAI.parse_response(_oai({"content": "x"}, finish))
    assert ANTHROPIC.build_response(resp, model="c", request=REQ)["stop_reason"] == anthropic_stop


@pytest.mark.parametrize(
    ("stop", "finish"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("max_tokens", "length"),
        ("tool_use", "tool_calls"),
        ("pause_turn", "stop"),
        ("refusal", "content_filter"),
        ("model_context_window_exceeded", "length"),
        (None, "stop"),
    ],
)
def test_anthropic_stop_reasons_to_openai(stop: str | None, finish: str) -> None:
    resp = ANTHROPIC.parse_response(_anth([{"type": "text", "text": "x"}], stop))
    assert OPENAI.build_response(resp, model="g", request=REQ)["choices"][0]["finish_reason"] == finish


def test_anthropic_stop_sequence_is_kept_for_anthropic_clients() -> None:
    body = _anth([{"type": "text", "text": "x"}], "stop_sequence")
    body["stop_sequence"] = "END"
    out = ANTHROPIC.build_response(ANTHROPIC.parse_response(body), model="c", request=REQ)
    assert (out["stop_reason"], out["stop_sequence"]) == ("stop_sequence", "END")


def test_usage_mapping_both_ways() -> None:
    resp = ANTHROPIC.parse_response(
        _anth(
            [],
            usage={
                "input_tokens": 10,
                "cache_read_input_tokens": 200,
                "cache_creation_input_tokens": 30,
                "output_tokens": 7,
            },
        )
    )
    assert resp.usage == Usage(240, 7, 200, 30)
    assert OPENAI.build_response(resp, model="g", request=REQ)["usage"] == {
        "prompt_tokens": 240,
        "completion_tokens": 7,
        "total_tokens": 247,
        "prompt_tokens_details": {"cached_tokens": 200},
    }
    resp = OPENAI.parse_response(
        _oai(
            {"content": "x"},
            usage={
                "prompt_tokens": 100,
                "completion_tokens": 9,
                "total_tokens": 109,
                "prompt_tokens_details": {"cached_tokens": 64},
                "completion_tokens_details": {"reasoning_tokens": 4},
            },
        )
    )
    assert resp.usage == Usage(100, 9, 64, 0, 4)
    assert ANTHROPIC.build_response(resp, model="c", request=REQ)["usage"] == {
        "input_tokens": 36,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 64,
        "output_tokens": 9,
    }


def test_usage_of_answers() -> None:
    assert OPENAI.usage(_oai({"content": "x"}, usage={"prompt_tokens": 3, "completion_tokens": 4})) == (3, 4)
    assert ANTHROPIC.usage(_anth([], usage={"input_tokens": 3, "cache_read_input_tokens": 5, "output_tokens": 4})) == (
        8,
        4,
    )
    for bad in ({}, {"usage": None}, {"usage": {"prompt_tokens": "x"}}, [], None):
        assert OPENAI.usage(bad) in ((0, 0),)  # type: ignore[arg-type]
        assert ANTHROPIC.usage(bad) == (0, 0)  # type: ignore[arg-type]


def test_openai_answer_content_forms() -> None:
    resp = OPENAI.parse_response(_oai({"content": None, "refusal": "I can't help with that."}))
    assert resp.content == [TextBlock("I can't help with that.")] and resp.stop_reason == "refusal"
    resp = OPENAI.parse_response(_oai({"content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}))
    assert resp.content == [TextBlock("a"), TextBlock("b")]
    resp = OPENAI.parse_response(
        _oai(
            {
                "content": "",
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            }
        )
    )
    assert resp.content == [ToolUseBlock("c", "f", arguments="{}")] and resp.stop_reason == "tool_use"
    body = _oai({"content": "first"})
    body["choices"].append({"index": 1, "message": {"role": "assistant", "content": "second"}, "finish_reason": "stop"})
    assert OPENAI.parse_response(body).content == [TextBlock("first")]


def test_invalid_tool_arguments_reach_anthropic_clients_as_empty_input(caplog: pytest.LogCaptureFixture) -> None:
    resp = OPENAI.parse_response(
        _oai(
            {
                "content": None,
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": '{"a": 1'}}],
            },
            "length",
        )
    )
    with caplog.at_level(logging.WARNING, logger="lunaroute.dialects"):
        out = ANTHROPIC.build_response(resp, model="c", request=REQ)
    assert out["content"] == [{"type": "tool_use", "id": "c", "name": "f", "input": {}}]
    assert out["stop_reason"] == "max_tokens"
    assert "not a JSON object" in caplog.text


def test_empty_openai_answer_gives_empty_anthropic_content() -> None:
    out = ANTHROPIC.build_response(OPENAI.parse_response(_oai({"content": ""})), model="c", request=REQ)
    assert out["content"] == [] and out["stop_reason"] == "end_turn"


def test_anthropic_answer_without_text_gives_openai_null_content_only_with_tool_calls() -> None:
    out = OPENAI.build_response(NormalizedResponse("anthropic", "msg_1", "c"), model="g", request=REQ)
    assert out["choices"][0]["message"]["content"] == ""
    resp = NormalizedResponse("anthropic", "msg_1", "c", [ToolUseBlock("t", "f", {"a": 1})], "tool_use")
    msg = OPENAI.build_response(resp, model="g", request=REQ)["choices"][0]["message"]
    assert msg["content"] is None and msg["tool_calls"][0]["function"]["arguments"] == '{"a":1}'


@pytest.mark.parametrize(
    "body", [{}, {"choices": "x"}, {"choices": [1]}, {"choices": [{"message": {"tool_calls": [1]}}]}, [], "x"]
)
def test_malformed_openai_answers_raise_upstream_error(body: Any) -> None:
    with pytest.raises(UpstreamError):
        OPENAI.parse_response(body)


@pytest.mark.parametrize("body", [{}, {"content": "x"}, {"content": [{"type": "text"}]}, {"content": [5]}, None])
def test_malformed_anthropic_answers_raise_upstream_error(body: Any) -> None:
    with pytest.raises(UpstreamError):
        ANTHROPIC.parse_response(body)


def test_response_ids_convert_deterministically() -> None:
    resp = OPENAI.parse_response(_oai({"content": "x"}))
    assert ANTHROPIC.build_response(resp, model="c", request=REQ)["id"] == "msg_x"
    resp = ANTHROPIC.parse_response(_anth([]))
    assert OPENAI.build_response(resp, model="g", request=REQ)["id"] == "chatcmpl-x"
    resp = NormalizedResponse("openai", "", "g")
    assert ANTHROPIC.build_response(resp, model="c", request=REQ)["id"].startswith("msg_")
