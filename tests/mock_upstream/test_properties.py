"""Property tests: validators never crash, generated valid requests pass and plan cleanly,
breaking a tool pairing is always caught, stream fragments reassemble exactly."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.mock_upstream import anthropic_endpoint, openai_endpoint
from tests.mock_upstream.replies import json_pieces, text_pieces
from tests.mock_upstream.responses import plan_reply
from tests.mock_upstream.schema_args import example_for_schema
from tests.mock_upstream.validators import (
    validate_anthropic_count_tokens_request,
    validate_anthropic_request,
    validate_openai_request,
)

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "role",
                    "content",
                    "type",
                    "text",
                    "id",
                    "name",
                    "input",
                    "tool_use_id",
                    "tool_calls",
                    "function",
                    "arguments",
                    "source",
                    "x",
                ]
            ),
            inner,
            max_size=4,
        )
    ),
    max_leaves=12,
)
top_keys = st.sampled_from(
    [
        "model",
        "messages",
        "max_tokens",
        "tools",
        "tool_choice",
        "stream",
        "system",
        "temperature",
        "stop",
        "stop_sequences",
        "thinking",
        "n",
        "stream_options",
        "extra",
    ]
)
bodies = st.dictionaries(top_keys, json_values, max_size=6) | json_values

words = st.text(alphabet="abcdefgh ", min_size=1, max_size=30).filter(lambda s: s.strip())


@settings(max_examples=150, deadline=None)
@given(bodies)
def test_validators_never_raise(body):
    for validate in (
        validate_openai_request,
        validate_anthropic_request,
        validate_anthropic_count_tokens_request,
    ):
        issues = validate(body)
        assert isinstance(issues, list) and all(isinstance(i, str) for i in issues)


@st.composite
def openai_bodies(draw):
    tools = draw(st.lists(st.sampled_from(["alpha", "beta", "gamma"]), unique=True, max_size=3))
    messages = [{"role": "system", "content": draw(words)}]
    for _ in range(draw(st.integers(0, 2))):
        messages.append({"role": "user", "content": draw(words)})
        if tools and draw(st.booleans()):
            ids = [f"call_{len(messages)}_{k}" for k in range(draw(st.integers(1, 2)))]
            messages.append(
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {
                            "id": i,
                            "type": "function",
                            "function": {"name": tools[0], "arguments": "{}"},
                        }
                        for i in ids
                    ],
                }
            )
            messages.extend({"role": "tool", "tool_call_id": i, "content": draw(words)} for i in ids)
        else:
            messages.append({"role": "assistant", "content": draw(words)})
    messages.append({"role": "user", "content": [{"type": "text", "text": draw(words)}]})
    body = {"model": "gpt-4o", "messages": messages}
    if tools:
        body["tools"] = [
            {
                "type": "function",
                "function": {
                    "name": t,
                    "parameters": {
                        "type": "object",
                        "properties": {"q": {"type": "string"}, "k": {"type": "integer"}},
                    },
                },
            }
            for t in tools
        ]
        body["tool_choice"] = draw(st.sampled_from(["auto", "none", "required"]))
    if draw(st.booleans()):
        body["temperature"] = draw(st.floats(0, 2))
        body["max_tokens"] = draw(st.integers(1, 50))
        body["stop"] = draw(st.lists(words, max_size=4))
    return body


@st.composite
def anthropic_bodies(draw):
    tools = draw(st.lists(st.sampled_from(["alpha", "beta", "gamma"]), unique=True, max_size=3))
    messages = []
    for _ in range(draw(st.integers(0, 2))):
        messages.append({"role": "user", "content": draw(words)})
        if tools and draw(st.booleans()):
            ids = [f"toolu_{len(messages)}_{k}" for k in range(draw(st.integers(1, 2)))]
            messages.append(
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": i, "name": tools[-1], "input": {}} for i in ids],
                }
            )
            messages.append(
                {
                    "role": "user",
                    "content": [{"type": "tool_result", "tool_use_id": i, "content": draw(words)} for i in ids],
                }
            )
            messages.append({"role": "assistant", "content": draw(words).strip()})
        else:
            messages.append({"role": "assistant", "content": draw(words).strip()})
    messages.append({"role": "user", "content": [{"type": "text", "text": draw(words)}]})
    body = {
        "model": "claude-sonnet-4-6",
        "max_tokens": draw(st.integers(1, 100)),
        "messages": messages,
        "system": draw(words),
    }
    if tools:
        body["tools"] = [
            {
                "name": t,
                "input_schema": {
                    "type": "object",
                    "properties": {"q": {"type": "string"}, "n": {"type": "number"}},
                },
            }
            for t in tools
        ]
        body["tool_choice"] = draw(st.sampled_from([{"type": "auto"}, {"type": "any"}, {"type": "none"}]))
    if draw(st.booleans()):
        body["temperature"] = draw(st.floats(0, 1))
        body["stop_sequences"] = draw(st.lists(words, max_size=3))
    return body


def _counter():
    state = {"n": 0}

    def new_id() -> str:
        state["n"] += 1
        return f"call_{state['n']}"

    return new_id


@settings(max_examples=200, deadline=None)
@given(openai_bodies())
def test_generated_openai_requests_are_valid_and_planned(body):
    assert validate_openai_request(body) == []
    plan = plan_reply(openai_endpoint.conversation(body), _counter())
    assert plan.text or plan.tool_calls or plan.stop_reason in ("stop_sequence", "max_tokens")
    if body.get("tool_choice") == "required":
        assert plan.tool_calls and plan.stop_reason == "tool_use"
    if plan.stop_reason == "max_tokens":
        assert plan.output_tokens == body["max_tokens"]


@settings(max_examples=200, deadline=None)
@given(anthropic_bodies())
def test_generated_anthropic_requests_are_valid_and_planned(body):
    assert validate_anthropic_request(body) == []
    plan = plan_reply(anthropic_endpoint.conversation(body), _counter())
    if (body.get("tool_choice") or {}).get("type") == "none":
        assert not plan.tool_calls
    assert plan.output_tokens <= max(body["max_tokens"], plan.output_tokens if plan.tool_calls else 0)


@settings(max_examples=150, deadline=None)
@given(anthropic_bodies(), st.data())
def test_dropping_a_tool_result_is_always_caught(body, data):
    positions = [
        (i, j)
        for i, m in enumerate(body["messages"])
        if isinstance(m["content"], list)
        for j, b in enumerate(m["content"])
        if b.get("type") == "tool_result"
    ]
    if not positions:
        return
    i, j = data.draw(st.sampled_from(positions))
    broken = json.loads(json.dumps(body))
    del broken["messages"][i]["content"][j]
    if not broken["messages"][i]["content"]:
        broken["messages"][i]["content"] = "plain text"
    assert any(
        "`tool_use` ids were found without `tool_result` blocks" in issue
        for issue in validate_anthropic_request(broken)
    )


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_text_pieces_reassemble_exactly(text):
    assert "".join(text_pieces(text)) == text


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80), st.integers(1, 20))
def test_json_pieces_reassemble_exactly(text, size):
    assert "".join(json_pieces(text, size)) == text


@settings(max_examples=200, deadline=None)
@given(json_values, st.integers(1, 3))
def test_schema_examples_are_deterministic_json_objects(schema, variant):
    first = example_for_schema(schema, variant=variant)
    assert isinstance(first, dict)
    assert first == example_for_schema(schema, variant=variant)
    json.dumps(first)
