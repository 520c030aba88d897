"""validate_openai_request: accepts what the real API accepts, refuses what it refuses."""

from __future__ import annotations

import copy

import pytest

from tests.mock_upstream.validators import openai_request_issues, validate_openai_request

BASE = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}

VALID = [
    BASE,
    {
        **BASE,
        "temperature": 0,
        "top_p": 1,
        "n": 2,
        "stop": ["a", "b", "c", "d"],
        "max_tokens": 5,
        "seed": 1,
    },
    {
        **BASE,
        "max_completion_tokens": 10,
        "stream": True,
        "stream_options": {"include_usage": True},
    },
    {**BASE, "stop": "x", "user": "u" * 64, "metadata": {"k": "v"}, "logprobs": True, "top_logprobs": 3},
    {
        "model": "m",
        "messages": [
            {"role": "developer", "content": "rules"},
            {"role": "system", "content": [{"type": "text", "text": "s"}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}},
                    {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "f", "arguments": "{}"},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "g", "arguments": '{"a":1}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_2", "content": "two"},
            {
                "role": "tool",
                "tool_call_id": "call_1",
                "content": [{"type": "text", "text": "one"}],
            },
            {"role": "assistant", "content": "done", "refusal": None, "annotations": []},
            {"role": "user", "content": "thanks", "name": "bob"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {"name": "f", "description": "d", "parameters": {"type": "object"}},
            },
            {"type": "function", "function": {"name": "g", "strict": True}},
        ],
        "tool_choice": {"type": "function", "function": {"name": "g"}},
        "parallel_tool_calls": False,
    },
    {**BASE, "tools": [{"type": "function", "function": {"name": "f"}}], "tool_choice": "required"},
    {
        **BASE,
        "response_format": {"type": "json_schema", "json_schema": {"name": "s", "schema": {}}},
    },
]


@pytest.mark.parametrize("body", VALID)
def test_valid_bodies_have_no_issues(body):
    assert validate_openai_request(body) == []


def _with(**changes):
    body = copy.deepcopy(BASE)
    body.update(changes)
    return body


INVALID = [
    ({"messages": BASE["messages"]}, "Missing required parameter: 'model'."),
    ({"model": "gpt-4o"}, "Missing required parameter: 'messages'."),
    (
        _with(messages=[]),
        "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.",
    ),
    (_with(foo=1), "Unrecognized request argument supplied: foo"),
    (
        _with(user="u" * 65),
        "Invalid 'user': string too long. Expected a string with maximum length 64, "
        "but got a string with length 65 instead.",
    ),
    (
        _with(safety_identifier="s" * 100),
        "Invalid 'safety_identifier': string too long. Expected a string with maximum length 64, "
        "but got a string with length 100 instead.",
    ),
    (
        _with(temperature=2.5),
        "Invalid 'temperature': decimal above maximum value. Expected a value <= 2, but got 2.5 instead.",
    ),
    (
        _with(temperature="hot"),
        "Invalid type for 'temperature': expected a decimal, but got a string instead.",
    ),
    (
        _with(top_p=-0.1),
        "Invalid 'top_p': decimal below minimum value. Expected a value >= 0, but got -0.1 instead.",
    ),
    (
        _with(max_tokens=0),
        "Invalid 'max_tokens': integer below minimum value. Expected a value >= 1, but got 0 instead.",
    ),
    (
        _with(max_completion_tokens=1.5),
        "Invalid type for 'max_completion_tokens': expected an integer, but got a decimal instead.",
    ),
    (_with(n=True), "Invalid type for 'n': expected an integer, but got a boolean instead."),
    (
        _with(stop=["a", "b", "c", "d", "e"]),
        "Invalid 'stop': array too long. Expected an array with maximum "
        "length 4, but got an array with length 5 instead.",
    ),
    (
        _with(stream_options={"include_usage": True}),
        "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
    ),
    (
        _with(messages=[{"role": "robot", "content": "x"}]),
        "Invalid value: 'robot'. Supported values are: 'system', 'assistant', 'user', 'function', "
        "'tool', "
        "and 'developer'.",
    ),
    (_with(messages=[{"role": "user"}]), "Missing required parameter: 'messages[0].content'."),
    (
        _with(messages=[{"role": "user", "content": 5}]),
        "Invalid type for 'messages[0].content': expected one of a string or array of objects, "
        "but got an "
        "integer instead.",
    ),
    (
        _with(
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image_url", "image_url": {"url": "u", "detail": "max"}}],
                }
            ]
        ),
        "Invalid value: 'max'. Supported values are: 'auto', 'low', and 'high'.",
    ),
    (
        _with(messages=[{"role": "user", "content": "x", "cache_control": {}}]),
        "Additional properties are not allowed ('cache_control' was unexpected) - 'messages.0'",
    ),
    (
        _with(messages=[{"role": "tool", "content": "x", "tool_call_id": "c"}]),
        "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
    ),
    (
        _with(
            messages=[
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": {"a": 1}},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "r"},
            ]
        ),
        "Invalid type for 'messages[1].tool_calls[0].function.arguments': expected a string, but "
        "got an object instead.",
    ),
    (
        _with(
            messages=[
                {"role": "user", "content": "x"},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {
                            "id": "c1",
                            "type": "function",
                            "function": {"name": "f", "arguments": "{}"},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "c9", "content": "r"},
            ]
        ),
        "Invalid parameter: 'tool_call_id' of 'c9' not found in 'tool_calls' of previous message.",
    ),
    (
        _with(messages=[{"role": "tool", "content": "x"}]),
        "Missing required parameter: 'messages[0].tool_call_id'.",
    ),
    (
        _with(tool_choice="auto"),
        "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
    ),
    (
        _with(tools=[{"type": "function", "function": {"name": "bad name"}}]),
        "Invalid 'tools[0].function.name': string does not match pattern. Expected a string that "
        "matches the "
        "pattern '^[a-zA-Z0-9_-]{1,64}$'.",
    ),
    (
        _with(tools=[{"type": "function", "function": {"name": "f"}}], tool_choice="sometimes"),
        "Invalid value: 'sometimes'. Supported values are: 'none', 'auto', and 'required'.",
    ),
    (
        _with(tools=[{"name": "f", "input_schema": {}}]),
        "Missing required parameter: 'tools[0].type'.",
    ),
    (
        _with(parallel_tool_calls=True),
        "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed when 'tools' are specified.",
    ),
]


@pytest.mark.parametrize(("body", "message"), INVALID)
def test_invalid_bodies_report_the_real_message(body, message):
    assert message in validate_openai_request(body)


def test_unanswered_tool_calls_are_listed():
    body = _with(
        messages=[
            {"role": "user", "content": "x"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                    {"id": "c2", "type": "function", "function": {"name": "f", "arguments": "{}"}},
                ],
            },
            {"role": "tool", "tool_call_id": "c1", "content": "r"},
            {"role": "user", "content": "y"},
        ]
    )
    (issue,) = openai_request_issues(body)
    assert issue.message.endswith("did not have response messages: c2")
    assert issue.param == "messages.[1].role"


def test_issue_carries_param_and_code():
    (issue,) = openai_request_issues(_with(top_p=2))
    assert (issue.param, issue.code) == ("top_p", "decimal_above_max_value")


def test_several_unknown_arguments_are_listed_together():
    assert validate_openai_request(_with(a=1, b=2))[0] == "Unrecognized request arguments supplied: a, b"


def test_non_object_body():
    assert validate_openai_request([1, 2]) != []  # type: ignore[arg-type]
