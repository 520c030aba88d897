"""Body features (tools, images, prompt size) in both dialects, and on garbage."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.routing import RouteRequest
from lunaroute.routing.features import (
    IMAGE_TOKENS,
    MESSAGE_OVERHEAD_TOKENS,
    estimate_prompt_tokens,
    has_images,
    has_tools,
)

OPENAI = {
    "model": "gpt-4o",
    "messages": [
        {"role": "system", "content": "s" * 40},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "t" * 80},
                {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get", "arguments": '{"q":"x"}'}}],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "r" * 20},
    ],
    "tools": [{"type": "function", "function": {"name": "get", "parameters": {}}}],
}

ANTHROPIC = {
    "model": "claude-3-5-sonnet",
    "system": [{"type": "text", "text": "s" * 40}],
    "messages": [
        {"role": "user", "content": "q" * 40},
        {"role": "assistant", "content": [{"type": "tool_use", "id": "t1", "name": "get", "input": {"q": "x"}}]},
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "t1",
                    "content": [
                        {"type": "text", "text": "r" * 20},
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": "A" * 10_000},
                        },
                    ],
                }
            ],
        },
    ],
}


def test_openai_shape() -> None:
    assert has_tools(OPENAI) and has_images(OPENAI)
    tools_chars = len('[{"type":"function","function":{"name":"get","parameters":{}}}]')
    chars = 40 + 80 + len("get") + len('{"q":"x"}') + 20 + tools_chars
    expected = -(-chars // 4) + 4 * MESSAGE_OVERHEAD_TOKENS + IMAGE_TOKENS
    assert estimate_prompt_tokens(OPENAI) == expected


def test_anthropic_shape_nested_tool_result_image() -> None:
    assert not has_tools(ANTHROPIC)
    assert has_images(ANTHROPIC)  # found inside the tool_result
    chars = 40 + 40 + len('{"q":"x"}') + 20  # base64 image data is not counted as text
    expected = -(-chars // 4) + 3 * MESSAGE_OVERHEAD_TOKENS + IMAGE_TOKENS
    assert estimate_prompt_tokens(ANTHROPIC) == expected


def test_legacy_functions_and_empty_tools() -> None:
    assert has_tools({"functions": [{"name": "f"}]})
    assert not has_tools({"tools": []})
    assert not has_tools({"tools": None})
    assert not has_images({"messages": [{"role": "user", "content": "an image_url"}]})


def test_route_request_computes_each_feature_once() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "x" * 400}]}
    request = RouteRequest("l", "openai", "m", {}, body=body)
    assert request.prompt_tokens == 100 + MESSAGE_OVERHEAD_TOKENS
    body["messages"].append({"role": "user", "content": "y" * 4000})
    assert request.prompt_tokens == 100 + MESSAGE_OVERHEAD_TOKENS  # remembered
    assert request.has_tools is False and request.has_images is False


def test_no_body() -> None:
    request = RouteRequest("l", "openai", "m", {})
    assert (request.has_tools, request.has_images, request.prompt_tokens) == (False, False, 0)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=8)
    | st.sampled_from(["image", "image_url", "text", "tool_result", "content", "input"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "type",
                    "text",
                    "content",
                    "messages",
                    "tools",
                    "system",
                    "input",
                    "tool_calls",
                    "function",
                    "arguments",
                    "name",
                    "thinking",
                    "functions",
                ]
            ),
            children,
            max_size=5,
        )
    ),
    max_leaves=30,
)


parts = st.lists(
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.sampled_from(["image", "image_url", "text", "tool_result"]) | json_values,
            "text": json_values,
            "content": json_values,
            "input": json_values,
            "thinking": json_values,
        },
    )
    | json_values,
    max_size=4,
)
message_bodies = st.fixed_dictionaries(
    {},
    optional={
        "system": parts | json_values,
        "messages": st.lists(
            st.fixed_dictionaries(
                {},
                optional={
                    "content": parts
                    | st.lists(
                        st.fixed_dictionaries({}, optional={"type": st.just("tool_result"), "content": parts}),
                        max_size=2,
                    )
                    | json_values,
                    "tool_calls": st.lists(
                        st.fixed_dictionaries(
                            {},
                            optional={
                                "function": st.fixed_dictionaries(
                                    {}, optional={"name": json_values, "arguments": json_values}
                                )
                                | json_values
                            },
                        )
                        | json_values,
                        max_size=2,
                    )
                    | json_values,
                },
            )
            | json_values,
            max_size=4,
        )
        | json_values,
        "tools": json_values,
        "functions": json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(json_values | message_bodies)
def test_any_body_gives_features_and_never_raises(body: Any) -> None:
    tokens = estimate_prompt_tokens(body)
    assert isinstance(tokens, int) and tokens >= 0
    assert isinstance(has_tools(body), bool)
    assert isinstance(has_images(body), bool)
    if has_images(body) and isinstance(body, dict):
        assert tokens >= IMAGE_TOKENS or not isinstance(body.get("messages"), list)


RESPONSES = {
    "model": "m",
    "instructions": "i" * 40,
    "input": [
        {
            "role": "user",
            "content": [{"type": "input_text", "text": "u" * 40}, {"type": "input_image", "image_url": "x"}],
        },
        {"type": "function_call", "call_id": "c", "name": "get", "arguments": '{"q":"x"}'},
        {"type": "function_call_output", "call_id": "c", "output": "o" * 20},
    ],
    "tools": [{"type": "function", "name": "get"}],
}


def test_responses_api_shape() -> None:
    assert has_tools(RESPONSES) and has_images(RESPONSES)
    tools_chars = len('[{"type":"function","name":"get"}]')
    chars = 40 + 40 + len('{"q":"x"}') + 20 + tools_chars
    expected = -(-chars // 4) + 3 * MESSAGE_OVERHEAD_TOKENS + IMAGE_TOKENS
    assert estimate_prompt_tokens(RESPONSES) == expected
    assert estimate_prompt_tokens({"input": "x" * 400}) == 100
    output_image = {
        "type": "function_call_output",
        "call_id": "c",
        "output": [{"type": "input_image", "image_url": "x"}],
    }
    assert has_images({"input": [output_image]})
