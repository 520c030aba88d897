"""Anthropic request parsing (strict validation) and building (the Anthropic-target rules)."""

from __future__ import annotations

from typing import Any

import pytest

from lunaroute.dialects import TargetOptions, get_dialect
from lunaroute.errors import InvalidRequestError
from lunaroute.model import OpaqueBlock, TextBlock, ToolUseBlock

OPENAI = get_dialect("openai")
ANTHROPIC = get_dialect("anthropic")


def _body(**extra: Any) -> dict[str, Any]:
    return {"model": "claude", "max_tokens": 64, "messages": [{"role": "user", "content": "hi"}], **extra}


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ("text", None),
        ({"max_tokens": 1, "messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "c", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        (_body(max_tokens=-1), "max_tokens"),
        (_body(max_tokens="5"), "max_tokens"),
        (_body(messages=[]), "messages"),
        (_body(messages={}), "messages"),
        (_body(messages=[{"role": "tool", "content": "x"}]), "messages[0].role"),
        (_body(messages=[{"role": "user"}]), "messages[0].content"),
        (_body(messages=[{"role": "user", "content": 1}]), "messages[0].content"),
        (_body(messages=[{"role": "user", "content": [{"text": "no type"}]}]), "messages[0].content[0].type"),
        (_body(messages=[{"role": "user", "content": [{"type": "text", "text": 1}]}]), "messages[0].content[0].text"),
        (
            _body(
                messages=[{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": "x"}}]}]
            ),
            "messages[0].content[0].source.media_type",
        ),
        (_body(messages=[{"role": "user", "content": [{"type": "image"}]}]), "messages[0].content[0].source"),
        (
            _body(
                messages=[
                    {"role": "assistant", "content": [{"type": "tool_use", "id": "a", "name": "f", "input": "{}"}]}
                ]
            ),
            "messages[0].content[0].input",
        ),
        (
            _body(messages=[{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}]),
            "messages[0].content[0].tool_use_id",
        ),
        (
            _body(
                messages=[{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "is_error": "yes"}]}]
            ),
            "messages[0].content[0].is_error",
        ),
        (
            _body(messages=[{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "a", "content": 3}]}]),
            "messages[0].content[0].content",
        ),
        (_body(messages=[{"role": "assistant", "content": [{"type": "thinking"}]}]), "messages[0].content[0].thinking"),
        (_body(system=5), "system"),
        (_body(system=[{"type": "image"}]), "system[0].type"),
        (_body(temperature=1.5), "temperature"),
        (_body(top_p=2), "top_p"),
        (_body(top_k=-1), "top_k"),
        (_body(stop_sequences="END"), "stop_sequences"),
        (_body(metadata={"user_id": 5}), "metadata.user_id"),
        (_body(thinking={"budget_tokens": 2000}), "thinking.type"),
        (_body(tools=[{"description": "no name", "input_schema": {}}]), "tools[0].name"),
        (_body(tools=[{"name": "f"}]), "tools[0].input_schema"),
        (_body(tools=[{"name": "f g", "input_schema": {}}]), "tools[0].name"),
        (_body(tool_choice={"type": "sometimes"}), "tool_choice.type"),
        (_body(tool_choice={"type": "tool"}), "tool_choice.name"),
        (_body(tool_choice="auto"), "tool_choice"),
        (_body(stream=1), "stream"),
    ],
)
def test_invalid_bodies_name_the_field(body: Any, param: str | None) -> None:
    with pytest.raises(InvalidRequestError) as info:
        ANTHROPIC.parse_request(body)
    assert info.value.param == param
    assert (param or "") in info.value.message


def test_system_forms_and_system_role_messages() -> None:
    req = ANTHROPIC.parse_request(
        _body(
            system=[
                {"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "B"},
            ],
            messages=[
                {"role": "user", "content": "u"},
                {"role": "system", "content": "C"},
                {"role": "user", "content": "v"},
            ],
        )
    )
    assert [(p.text, p.position) for p in req.system] == [("A", 0), ("B", 0), ("C", 1)]
    assert req.system[0].cache_control == {"type": "ephemeral"}
    # to Anthropic: blocks kept (same dialect); a system turn is hoisted into `system`
    same = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())
    assert same["system"] == [
        {"type": "text", "text": "A", "cache_control": {"type": "ephemeral"}},
        {"type": "text", "text": "B"},
        {"type": "text", "text": "C"},
    ]
    # to OpenAI: the leading prompts as one system message, joined by a blank line; the
    # system turn among the messages stays where it stood (OpenAI allows system messages there)
    assert OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())["messages"] == [
        {"role": "system", "content": "A\n\nB"},
        {"role": "user", "content": "u"},
        {"role": "system", "content": "C"},
        {"role": "user", "content": "v"},
    ]


def test_server_tools_and_unknown_blocks_are_kept_verbatim() -> None:
    server_tool = {"type": "web_search_20250305", "name": "web_search", "max_uses": 2}
    doc = {"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}
    req = ANTHROPIC.parse_request(_body(tools=[server_tool], messages=[{"role": "user", "content": [doc]}]))
    assert req.tools[0].type == "web_search_20250305" and req.tools[0].raw == server_tool
    assert req.messages[0].content == [OpaqueBlock("anthropic", "document", doc)]
    out = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())
    assert out["tools"] == [server_tool] and out["messages"][0]["content"] == [doc]


# --------------------------------------------------------------------------- build (Anthropic target)
def _openai_req(**extra: Any):
    return OPENAI.parse_request({"model": "gpt", "messages": [{"role": "user", "content": "hi"}], **extra})


@pytest.mark.parametrize(("given", "sent"), [(0.0, 0.0), (0.5, 0.5), (1, 1), (1.0001, 1.0), (2, 1.0)])
def test_temperature_is_clamped_to_anthropic_range(given: float, sent: float) -> None:
    out = ANTHROPIC.build_request(_openai_req(temperature=given), model="c", stream=False, options=TargetOptions())
    assert out["temperature"] == sent


def test_max_tokens_defaults_from_target_options() -> None:
    out = ANTHROPIC.build_request(_openai_req(), model="c", stream=False, options=TargetOptions(default_max_tokens=777))
    assert out["max_tokens"] == 777


@pytest.mark.parametrize("n", [2, 128])
def test_n_above_one_is_refused(n: int) -> None:
    with pytest.raises(InvalidRequestError) as info:
        ANTHROPIC.build_request(_openai_req(n=n), model="c", stream=False, options=TargetOptions())
    assert info.value.param == "n" and info.value.status == 400


def test_n_of_one_and_openai_only_parameters_are_dropped() -> None:
    out = ANTHROPIC.build_request(
        _openai_req(n=1, seed=3, presence_penalty=1, frequency_penalty=1, logprobs=True, metadata={"a": "b"}),
        model="c",
        stream=False,
        options=TargetOptions(),
    )
    assert out == {"model": "c", "max_tokens": 4096, "messages": [{"role": "user", "content": "hi"}]}


def test_user_becomes_metadata_user_id() -> None:
    out = ANTHROPIC.build_request(_openai_req(user="u-1"), model="c", stream=False, options=TargetOptions())
    assert out["metadata"] == {"user_id": "u-1"}


def test_parallel_tool_calls_false_without_tool_choice() -> None:
    tools = [{"type": "function", "function": {"name": "f"}}]
    out = ANTHROPIC.build_request(
        _openai_req(tools=tools, parallel_tool_calls=False), model="c", stream=False, options=TargetOptions()
    )
    assert out["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    assert out["tools"] == [{"name": "f", "input_schema": {"type": "object", "properties": {}}}]
    out = ANTHROPIC.build_request(
        _openai_req(tools=tools, tool_choice="none", parallel_tool_calls=False),
        model="c",
        stream=False,
        options=TargetOptions(),
    )
    assert out["tool_choice"] == {"type": "none"}


def test_schema_without_type_gets_object_type() -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"properties": {"a": {"type": "string"}}}}}]
    out = ANTHROPIC.build_request(_openai_req(tools=tools), model="c", stream=False, options=TargetOptions())
    assert out["tools"][0]["input_schema"] == {"type": "object", "properties": {"a": {"type": "string"}}}


def test_tool_ids_are_sanitized_consistently() -> None:
    req = _openai_req(
        messages=[
            {"role": "user", "content": "u"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "call:1/x", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            {"role": "tool", "tool_call_id": "call:1/x", "content": "r"},
        ]
    )
    msgs = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())["messages"]
    assert msgs[1]["content"][0]["id"] == "call_1_x"
    assert msgs[2]["content"][0]["tool_use_id"] == "call_1_x"


@pytest.mark.parametrize("arguments", ["[1, 2]", "{not json", '"text"'])
def test_tool_arguments_that_are_not_an_object_are_refused(arguments: str) -> None:
    req = _openai_req(
        messages=[
            {"role": "user", "content": "u"},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": arguments}}],
            },
            {"role": "tool", "tool_call_id": "c", "content": "r"},
        ]
    )
    with pytest.raises(InvalidRequestError, match="JSON object"):
        ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())


def test_empty_arguments_mean_no_arguments() -> None:
    block = ToolUseBlock("c", "f", arguments="  ")
    from lunaroute.dialects._tool_args import input_object

    assert input_object(block) == {}


def test_blank_assistant_turns_and_blocks_are_dropped_and_the_prefill_trimmed() -> None:
    req = _openai_req(
        messages=[
            {"role": "user", "content": "a"},
            {"role": "assistant", "content": "   "},
            {"role": "user", "content": [{"type": "text", "text": "b"}, {"type": "text", "text": " "}]},
            {"role": "assistant", "content": "The answer is "},
        ]
    )
    msgs = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())["messages"]
    assert msgs == [
        {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
        {"role": "assistant", "content": "The answer is"},
    ]


def test_thinking_follows_supports_thinking() -> None:
    body = _body(
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "t", "signature": "s"}, {"type": "text", "text": "a"}],
            },
            {"role": "user", "content": "q2"},
        ],
    )
    req = ANTHROPIC.parse_request(body)
    on = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions(supports_thinking=True))
    assert on["thinking"] == body["thinking"] and on["messages"][1]["content"][0]["type"] == "thinking"
    off = ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions(supports_thinking=False))
    assert "thinking" not in off and off["messages"][1]["content"] == [{"type": "text", "text": "a"}]


def test_text_block_extras_are_kept_only_same_dialect() -> None:
    block = {"type": "text", "text": "t", "citations": [{"type": "char_location", "cited_text": "x"}]}
    req = ANTHROPIC.parse_request(
        _body(
            messages=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [block]},
                {"role": "user", "content": "q"},
            ]
        )
    )
    assert req.messages[1].content == [TextBlock("t", extra={"citations": block["citations"]})]
    assert ANTHROPIC.build_request(req, model="c", stream=False, options=TargetOptions())["messages"][1]["content"] == [
        block
    ]
    assert OPENAI.build_request(req, model="m", stream=False, options=TargetOptions())["messages"][1] == {
        "role": "assistant",
        "content": "t",
    }
