"""OpenAI request parsing (strict validation) and building (the OpenAI-target rules)."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from lunaroute.dialects import TargetOptions, get_dialect
from lunaroute.errors import InvalidRequestError
from lunaroute.model import (
    ImageBlock,
    NormalizedRequest,
    OpaqueBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)

OPENAI = get_dialect("openai")
ANTHROPIC = get_dialect("anthropic")


def _body(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **extra}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ([1, 2], None),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        (_body(model=""), "model"),
        (_body(model=3), "model"),
        ({"model": "m"}, "messages"),
        (_body(messages=[]), "messages"),
        (_body(messages="hi"), "messages"),
        (_body(messages=["hi"]), "messages[0]"),
        (_body(messages=[{"role": "robot", "content": "x"}]), "messages[0].role"),
        (_body(messages=[{"role": "function", "name": "f", "content": "x"}]), "messages[0].role"),
        (_body(messages=[{"role": "user"}]), "messages[0].content"),
        (_body(messages=[{"role": "user", "content": 5}]), "messages[0].content"),
        (_body(messages=[{"role": "user", "content": [{"type": "video"}]}]), "messages[0].content[0].type"),
        (_body(messages=[{"role": "user", "content": [{"type": "text"}]}]), "messages[0].content[0].text"),
        (
            _body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]),
            "messages[0].content[0].image_url.url",
        ),
        (
            _body(
                messages=[
                    {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "u", "detail": "max"}}]}
                ]
            ),
            "messages[0].content[0].image_url.detail",
        ),
        (_body(messages=[{"role": "assistant"}]), "messages[0].content"),
        (
            _body(
                messages=[
                    {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"id": "a", "type": "function", "function": {"name": "f"}}],
                    }
                ]
            ),
            "messages[0].tool_calls[0].function.arguments",
        ),
        (
            _body(
                messages=[
                    {"role": "assistant", "content": None, "tool_calls": [{"id": "a", "type": "web", "function": {}}]}
                ]
            ),
            "messages[0].tool_calls[0].type",
        ),
        (_body(messages=[{"role": "tool", "content": "x"}]), "messages[0].tool_call_id"),
        (
            _body(messages=[{"role": "tool", "tool_call_id": "a", "content": [{"type": "image_url"}]}]),
            "messages[0].content[0].type",
        ),
        (_body(messages=[{"role": "system", "content": None}]), "messages[0].content"),
        (_body(temperature=2.5), "temperature"),
        (_body(temperature="hot"), "temperature"),
        (_body(temperature=True), "temperature"),
        (_body(top_p=-0.1), "top_p"),
        (_body(n=0), "n"),
        (_body(n=1.5), "n"),
        (_body(max_tokens=0), "max_tokens"),
        (_body(max_completion_tokens="10"), "max_completion_tokens"),
        (_body(presence_penalty=3), "presence_penalty"),
        (_body(seed=1.0), "seed"),
        (_body(stop=["a", "b", "c", "d", "e"]), "stop"),
        (_body(stop=[1]), "stop[0]"),
        (_body(stop={}), "stop"),
        (_body(stream="yes"), "stream"),
        (_body(stream_options={"include_usage": True}), "stream_options"),
        (_body(stream=True, stream_options={"include_usage": 1}), "stream_options.include_usage"),
        (_body(user=5), "user"),
        (_body(tools={}), "tools"),
        (_body(tools=[{"type": "function"}]), "tools[0].function"),
        (_body(tools=[{"type": "function", "function": {"name": "has space"}}]), "tools[0].function.name"),
        (
            _body(tools=[{"type": "function", "function": {"name": "f", "parameters": []}}]),
            "tools[0].function.parameters",
        ),
        (_body(tool_choice="maybe"), "tool_choice"),
        (_body(tool_choice={"type": "function", "function": {}}), "tool_choice.function.name"),
        (_body(tool_choice=3), "tool_choice"),
        (_body(parallel_tool_calls="no"), "parallel_tool_calls"),
        (_body(metadata=[]), "metadata"),
    ],
)
def test_invalid_bodies_name_the_field(body: Any, param: str | None) -> None:
    with pytest.raises(InvalidRequestError) as info:
        OPENAI.parse_request(body)
    assert info.value.param == param
    assert info.value.status == 400
    assert (param or "") in info.value.message


def test_null_optional_fields_are_absent() -> None:
    req = OPENAI.parse_request(_body(temperature=None, stop=None, tools=None, tool_choice=None, user=None, stream=None))
    assert req.params.temperature is None and req.params.stop is None and req.tools is None and not req.stream


def test_developer_and_system_messages_become_system_prompts_in_order() -> None:
    req = OPENAI.parse_request(
        _body(
            messages=[
                {"role": "developer", "content": "A"},
                {"role": "user", "content": "u1"},
                {"role": "system", "content": [{"type": "text", "text": "B1"}, {"type": "text", "text": "B2"}]},
                {"role": "user", "content": "u2"},
            ]
        )
    )
    assert [(p.role, p.text, p.position) for p in req.system] == [("developer", "A", 0), ("system", "B1\n\nB2", 1)]
    assert [m.content for m in req.messages] == ["u1", "u2"]
    out = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())
    assert out["system"] == "A\n\nB1\n\nB2"
    assert out["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "u1"}, {"type": "text", "text": "u2"}]}
    ]


def test_data_urls_become_base64_images_and_other_urls_stay_urls() -> None:
    req = OPENAI.parse_request(
        _body(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg=="}},
                        {"type": "image_url", "image_url": {"url": "data:text/plain,hello"}},
                        {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                    ],
                }
            ]
        )
    )
    a, b, c = req.messages[0].content
    assert a == ImageBlock("base64", media_type="image/webp", data="UklGRg==")
    assert b == ImageBlock("url", url="data:text/plain,hello")
    assert c == ImageBlock("url", url="https://x/y.png", detail="low")


def test_consecutive_tool_messages_share_one_user_turn() -> None:
    req = OPENAI.parse_request(
        _body(
            messages=[
                {"role": "user", "content": "go"},
                {
                    "role": "assistant",
                    "content": "ok",
                    "tool_calls": [
                        {"id": "1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                        {"id": "2", "type": "function", "function": {"name": "g", "arguments": ""}},
                    ],
                },
                {"role": "tool", "tool_call_id": "1", "content": "r1"},
                {"role": "tool", "tool_call_id": "2", "content": [{"type": "text", "text": "r2"}]},
                {"role": "user", "content": "next"},
            ]
        )
    )
    assert len(req.messages) == 4
    assert req.messages[1].content == [
        TextBlock("ok"),
        ToolUseBlock("1", "f", arguments="{}"),
        ToolUseBlock("2", "g", arguments=""),
    ]
    assert req.messages[2].content == [ToolResultBlock("1", "r1"), ToolResultBlock("2", [TextBlock("r2")])]
    assert req.messages[3].content == "next"


def test_openai_only_fields_and_unknown_fields_go_to_extra() -> None:
    req = OPENAI.parse_request(
        _body(
            logprobs=True,
            response_format={"type": "json_object"},
            x_foo=1,
            tool_choice={"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
        )
    )
    assert req.extra == {
        "logprobs": True,
        "response_format": {"type": "json_object"},
        "x_foo": 1,
        "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}},
    }


def test_opaque_parts_survive_same_dialect_and_are_refused_cross_dialect() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "AAA=", "format": "wav"}}
    req = OPENAI.parse_request(_body(messages=[{"role": "user", "content": [audio]}]))
    assert req.messages[0].content == [OpaqueBlock("openai", "input_audio", audio)]
    out = OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())
    assert out["messages"][0]["content"] == [audio]
    with pytest.raises(InvalidRequestError, match="input_audio"):
        ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())


def test_custom_tools_and_calls_round_trip_and_drop_cross_dialect(caplog: pytest.LogCaptureFixture) -> None:
    tool = {"type": "custom", "custom": {"name": "grammar"}}
    call = {"id": "c1", "type": "custom", "custom": {"name": "grammar", "input": "x"}}
    body = _body(
        tools=[tool],
        messages=[
            {"role": "user", "content": "u"},
            {"role": "assistant", "content": "a", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "c1", "content": "done"},
        ],
    )
    req = OPENAI.parse_request(body)
    out = OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())
    assert out["tools"] == [tool] and out["messages"][1]["tool_calls"] == [call]
    with caplog.at_level(logging.DEBUG, logger="lunaroute.dialects"):
        anth = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())
    assert "tools" not in anth
    assert anth["messages"][1] == {"role": "assistant", "content": [{"type": "text", "text": "a"}]}
    assert any("custom" in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- build (OpenAI target)
def _anthropic_req(**extra: Any) -> NormalizedRequest:
    return ANTHROPIC.parse_request(
        {"model": "c", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], **extra}
    )


@pytest.mark.parametrize(
    ("provider_type", "field"),
    [("openai", "max_completion_tokens"), ("", "max_completion_tokens"), ("openai_compatible", "max_tokens")],
)
def test_limit_field_depends_on_provider_type(provider_type: str, field: str) -> None:
    out = OPENAI.build_request(
        _anthropic_req(), model="m", stream=False, options=TargetOptions(provider_type=provider_type)
    )
    assert out[field] == 100 and len({"max_tokens", "max_completion_tokens"} & out.keys()) == 1


def test_zero_max_tokens_becomes_one_for_openai() -> None:
    req = ANTHROPIC.parse_request({"model": "c", "max_tokens": 0, "messages": [{"role": "user", "content": "hi"}]})
    assert OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())["max_completion_tokens"] == 1


def test_more_than_four_stop_sequences_are_refused_for_openai() -> None:
    req = _anthropic_req(stop_sequences=["a", "b", "c", "d", "e"])
    with pytest.raises(InvalidRequestError) as info:
        OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())
    assert info.value.param == "stop_sequences"


def test_top_k_thinking_metadata_and_extras_are_dropped_with_a_debug_log(caplog: pytest.LogCaptureFixture) -> None:
    req = _anthropic_req(top_k=3, thinking={"type": "enabled", "budget_tokens": 2000}, service_tier="auto")
    with caplog.at_level(logging.DEBUG, logger="lunaroute.dialects"):
        out = OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())
    assert not {"top_k", "thinking", "service_tier"} & out.keys()
    text = " ".join(r.getMessage() for r in caplog.records)
    assert "top_k" in text and "thinking" in text and "service_tier" in text


def test_stream_always_asks_for_usage() -> None:
    out = OPENAI.build_request(_anthropic_req(), model="m", stream=True, options=TargetOptions())
    assert out["stream"] is True and out["stream_options"] == {"include_usage": True}
    req = OPENAI.parse_request(
        _body(stream=True, stream_options={"include_usage": False, "include_obfuscation": False})
    )
    out = OPENAI.build_request(req, model="m", stream=True, options=TargetOptions())
    assert out["stream_options"] == {"include_usage": True, "include_obfuscation": False}
    assert "stream" not in OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())


def test_tool_result_images_follow_the_tool_messages_and_errors_are_prefixed() -> None:
    req = _anthropic_req(
        tools=[{"name": "shot", "input_schema": {"type": "object"}}],
        messages=[
            {"role": "user", "content": "take it"},
            {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}]},
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "is_error": True,
                        "content": [
                            {"type": "text", "text": "partial"},
                            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBO"}},
                        ],
                    },
                    {"type": "text", "text": "what do you see?"},
                ],
            },
        ],
    )
    msgs = OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())["messages"]
    assert msgs[2] == {"role": "tool", "tool_call_id": "t1", "content": "Error: partial"}
    assert msgs[3] == {
        "role": "user",
        "content": [
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBO"}},
            {"type": "text", "text": "what do you see?"},
        ],
    }


def test_thinking_blocks_are_dropped_for_openai() -> None:
    req = _anthropic_req(
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "t", "signature": "s"},
                    {"type": "redacted_thinking", "data": "d"},
                    {"type": "text", "text": "a"},
                ],
            },
            {"role": "user", "content": "q2"},
        ]
    )
    assert isinstance(req.messages[1].content[0], ThinkingBlock)
    msgs = OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())["messages"]
    assert msgs[1] == {"role": "assistant", "content": "a"}


def test_anthropic_documents_are_refused_for_openai() -> None:
    req = _anthropic_req(
        messages=[
            {
                "role": "user",
                "content": [{"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "d"}}],
            }
        ]
    )
    with pytest.raises(InvalidRequestError, match="document"):
        OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())


def test_tool_choice_without_tools_is_not_sent_to_openai() -> None:
    req = _anthropic_req(tools=[{"type": "web_search_20250305", "name": "web_search"}], tool_choice={"type": "any"})
    out = OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())
    assert not {"tools", "tool_choice", "parallel_tool_calls"} & out.keys()
