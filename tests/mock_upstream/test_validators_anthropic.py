"""validate_anthropic_request: accepts what the real API accepts, refuses what it refuses."""

from __future__ import annotations

import copy

import pytest

from tests.mock_upstream.validators import (
    validate_anthropic_count_tokens_request,
    validate_anthropic_request,
)

BASE = {
    "model": "claude-sonnet-4-6",
    "max_tokens": 100,
    "messages": [{"role": "user", "content": "hi"}],
}
TOOL = {
    "name": "get_weather",
    "description": "d",
    "input_schema": {"type": "object", "properties": {}},
}
PNG = "iVBORw0KGgo="


def _with(**changes):
    body = copy.deepcopy(BASE)
    body.update(changes)
    return body


def _use(tool_id="toolu_1", name="get_weather"):
    return {"type": "tool_use", "id": tool_id, "name": name, "input": {"city": "x"}}


def _result(tool_id="toolu_1", content="ok"):
    return {"type": "tool_result", "tool_use_id": tool_id, "content": content}


VALID = [
    BASE,
    _with(
        system="be nice",
        temperature=1,
        top_p=0.5,
        top_k=5,
        stop_sequences=["END"],
        stream=True,
        metadata={"user_id": "u1"},
    ),
    _with(system=[{"type": "text", "text": "sys", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]),
    _with(
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "see"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/a.png"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "calling"}, _use("toolu_1"), _use("toolu_2")],
            },
            {
                "role": "user",
                "content": [
                    _result("toolu_2"),
                    _result("toolu_1", [{"type": "text", "text": "r"}]),
                    {"type": "text", "text": "and?"},
                ],
            },
        ],
        tools=[TOOL],
        tool_choice={"type": "auto", "disable_parallel_tool_use": True},
    ),
    _with(
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "The answer is ("},
        ]
    ),
    _with(messages=[{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]),  # merged turns
    _with(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": ""}]),
    _with(
        max_tokens=4096,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "hmm", "signature": "sig"}, _use()],
            },
            {"role": "user", "content": [_result()]},
        ],
        tools=[TOOL],
    ),
    _with(tools=[TOOL], tool_choice={"type": "tool", "name": "get_weather"}),
    # What Claude Code 2.x sends: a system turn after the first message (with per-turn effort),
    # context management edits, effort; the system turn does not split a tool exchange.
    _with(
        messages=[
            {"role": "user", "content": "q"},
            {
                "role": "system",
                "content": [{"type": "text", "text": "env", "cache_control": {"type": "ephemeral"}}],
                "output_config": {"effort": "medium"},
            },
            {
                "role": "assistant",
                "content": [{"type": "thinking", "thinking": "hmm", "signature": "sig"}, _use()],
            },
            {"role": "system", "content": "reminder"},
            {"role": "user", "content": [_result()]},
        ],
        tools=[TOOL],
        context_management={"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        output_config={"effort": "medium"},
        thinking={"type": "adaptive", "display": "omitted"},
    ),
    _with(tools=[TOOL, {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}]),
    _with(
        messages=[
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "text", "media_type": "text/plain", "data": "doc"},
                    }
                ],
            }
        ]
    ),
    _with(max_tokens=0),
]


@pytest.mark.parametrize("body", VALID)
def test_valid_bodies_have_no_issues(body):
    assert validate_anthropic_request(body) == []


INVALID = [
    ({"model": "m", "messages": BASE["messages"]}, "max_tokens: Field required"),
    ({"max_tokens": 5, "messages": BASE["messages"]}, "model: Field required"),
    (_with(messages=[]), "messages: at least one message is required"),
    (_with(frequency_penalty=0.5), "frequency_penalty: Extra inputs are not permitted"),
    (_with(max_tokens=-1), "max_tokens: Input should be greater than or equal to 0"),
    (_with(max_tokens="10"), "max_tokens: Input should be a valid integer"),
    (_with(temperature=1.5), "temperature: Input should be less than or equal to 1"),
    (_with(top_k=1.5), "top_k: Input should be a valid integer"),
    (
        _with(messages=[{"role": "system", "content": "x"}]),
        "messages.0.role: Input should be 'user' or 'assistant'",
    ),
    (
        _with(messages=[{"role": "user", "content": "q"}, {"role": "system", "content": [_result()]}]),
        "messages.1.content.0.type: `tool_result` blocks are not allowed in `system` messages",
    ),
    (
        _with(messages=[{"role": "user", "content": "q", "output_config": {"effort": "low"}}]),
        "messages.0.output_config: Extra inputs are not permitted",
    ),
    (
        _with(
            messages=[
                {"role": "user", "content": "q"},
                {"role": "system", "content": "s", "output_config": {"effort": "x"}},
            ]
        ),
        "messages.1.output_config.effort: Input should be 'low', 'medium', 'high', 'xhigh' or 'max'",
    ),
    (_with(context_management={"edits": "all"}), "context_management.edits: Input should be a valid list"),
    (_with(context_management={"edits": [{}]}), "context_management.edits.0.type: Input should be a valid string"),
    (_with(context_management={"keep": 1}), "context_management.keep: Extra inputs are not permitted"),
    (
        _with(messages=[{"role": "user", "content": ""}]),
        "messages.0: all messages must have non-empty content except for the optional final assistant message",
    ),
    (
        _with(messages=[{"role": "user", "content": [{"type": "text", "text": ""}]}]),
        "messages: text content blocks must be non-empty",
    ),
    (
        _with(
            messages=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": "trailing "},
            ]
        ),
        "messages: final assistant content cannot end with trailing whitespace",
    ),
    (
        _with(messages=[{"role": "user", "content": [{"type": "video"}]}]),
        "messages.0.content.0: Input tag 'video' found using 'type' does not match any of the expected tags",
    ),
    (
        _with(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/bmp", "data": PNG},
                        }
                    ],
                }
            ]
        ),
        "messages.0.content.0.source.media_type: Input should be 'image/jpeg', 'image/png', "
        "'image/gif' or 'image/webp'",
    ),
    (
        _with(
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {
                                "type": "base64",
                                "media_type": "image/png",
                                "data": "data:image/png;base64," + PNG,
                            },
                        }
                    ],
                }
            ]
        ),
        "messages.0.content.0.source.data: Invalid base64 data",
    ),
    (
        _with(messages=[{"role": "user", "content": [{"type": "text", "text": "x", "foo": 1}]}]),
        "messages.0.content.0.foo: Extra inputs are not permitted",
    ),
    (
        _with(
            messages=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [_use()]},
                {"role": "user", "content": "no result"},
            ]
        ),
        "messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: "
        "toolu_1. Each "
        "`tool_use` block must have a corresponding `tool_result` block in the next message.",
    ),
    (
        _with(messages=[{"role": "user", "content": [_result("toolu_9")]}]),
        "messages.0.content.0: unexpected `tool_use_id` found in `tool_result` blocks: toolu_9. "
        "Each `tool_result` "
        "block must have a corresponding `tool_use` block in the previous message.",
    ),
    (
        _with(
            messages=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [_use("call.1")]},
                {"role": "user", "content": [_result("call.1")]},
            ]
        ),
        "messages.1.content.0.id: String should match pattern '^[a-zA-Z0-9_-]+$'",
    ),
    (
        _with(messages=[{"role": "user", "content": [_use()]}]),
        "messages.0.content.0.type: `tool_use` blocks are only allowed in `assistant` messages",
    ),
    (_with(system=[{"type": "image"}]), "system.0.type: Input should be 'text'"),
    (_with(tools=[{"name": "f"}]), "tools.0.custom.input_schema: Field required"),
    (
        _with(tools=[{"name": "f", "input_schema": {"type": "array"}}]),
        "tools.0.custom.input_schema.type: Input should be 'object'",
    ),
    (_with(tools=[TOOL, TOOL]), "tools: Tool names must be unique."),
    (
        _with(tool_choice={"type": "any"}),
        "tool_choice: tool_choice may only be specified while providing tools.",
    ),
    (
        _with(tools=[TOOL], tool_choice={"type": "required"}),
        "tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'",
    ),
    (_with(tools=[TOOL], tool_choice={"type": "tool"}), "tool_choice.tool.name: Field required"),
    (_with(metadata={"session": "x"}), "metadata.session: Extra inputs are not permitted"),
    (
        _with(thinking={"type": "enabled", "budget_tokens": 500}),
        "thinking.enabled.budget_tokens: Input should be greater than or equal to 1024",
    ),
    (
        _with(max_tokens=1024, thinking={"type": "enabled", "budget_tokens": 1024}),
        "`max_tokens` must be greater than `thinking.budget_tokens`",
    ),
    (
        _with(max_tokens=4096, thinking={"type": "enabled", "budget_tokens": 1024}, temperature=0.5),
        "`temperature` may only be set to 1 when thinking is enabled",
    ),
    (
        _with(
            max_tokens=4096,
            thinking={"type": "enabled", "budget_tokens": 1024},
            messages=[
                {"role": "user", "content": "q"},
                {"role": "assistant", "content": [_use()]},
                {"role": "user", "content": [_result()]},
            ],
            tools=[TOOL],
        ),
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`.",
    ),
    (_with(stop_sequences=[" "]), "stop_sequences: each stop sequence must contain non-whitespace"),
    (
        _with(system=[{"type": "text", "text": str(i), "cache_control": {"type": "ephemeral"}} for i in range(5)]),
        "A maximum of 4 blocks with cache_control may be provided. Found 5.",
    ),
    (
        _with(system=[{"type": "text", "text": "s", "cache_control": {"type": "persistent"}}]),
        "system.0.cache_control.type: Input should be 'ephemeral'",
    ),
]


@pytest.mark.parametrize(("body", "message"), INVALID)
def test_invalid_bodies_report_the_real_message(body, message):
    issues = validate_anthropic_request(body)
    assert any(issue.startswith(message) for issue in issues), issues


def test_count_tokens_refuses_max_tokens_and_needs_no_max_tokens():
    body = {"model": "m", "messages": [{"role": "user", "content": "x"}]}
    assert validate_anthropic_count_tokens_request(body) == []
    assert validate_anthropic_count_tokens_request({**body, "max_tokens": 5}) == [
        "max_tokens: Extra inputs are not permitted"
    ]
    assert validate_anthropic_count_tokens_request({**body, "stream": True}) == [
        "stream: Extra inputs are not permitted"
    ]


def test_non_object_body():
    not_an_object: object = "x"
    assert validate_anthropic_request(not_an_object) == ["Input should be a valid dictionary"]
