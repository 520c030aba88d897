"""Scripted agent turns: `tool_calls` (named tools with given arguments) and `usage` (fixed
token counts), through the official SDKs, streamed and whole, in both dialects."""

from __future__ import annotations

import json

import pytest

from tests.mock_upstream.fixture import MockUpstreamError
from tests.mock_upstream.sdk_clients import ANTHROPIC_MODEL, OPENAI_MODEL, anthropic_client, openai_client

WRITE = {"name": "Write", "input": {"file_path": "/tmp/x/notes.txt", "content": "two\nlines"}}
USAGE = {"input_tokens": 120, "output_tokens": 17, "cache_read_input_tokens": 30, "cache_creation_input_tokens": 5}
OPENAI_TOOL = {"type": "function", "function": {"name": "Write", "parameters": {"type": "object"}}}
ANTHROPIC_TOOL = {"name": "Write", "input_schema": {"type": "object"}}
PROMPT = [{"role": "user", "content": "no tool words here"}]


def test_openai_answer_calls_the_scripted_tool_with_the_scripted_usage(mock_upstream):
    mock_upstream.script([{"tool_calls": [{**WRITE, "id": "call_fixed1"}], "usage": USAGE}])
    answer = openai_client(mock_upstream).chat.completions.create(
        model=OPENAI_MODEL, messages=PROMPT, tools=[OPENAI_TOOL]
    )
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    [call] = choice.message.tool_calls
    assert (call.id, call.function.name) == ("call_fixed1", "Write")
    assert json.loads(call.function.arguments) == WRITE["input"]
    assert (answer.usage.prompt_tokens, answer.usage.completion_tokens) == (155, 17)
    assert answer.usage.prompt_tokens_details.cached_tokens == 30


def test_openai_stream_carries_text_then_calls_and_the_usage_chunk(mock_upstream):
    mock_upstream.script([{"text": "Writing it.", "tool_calls": [WRITE, WRITE], "usage": USAGE}])
    chunks = list(
        openai_client(mock_upstream).chat.completions.create(
            model=OPENAI_MODEL,
            messages=PROMPT,
            tools=[OPENAI_TOOL],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls: dict[int, dict[str, str]] = {}
    for c in chunks:
        for delta in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            entry = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += delta.id or ""
            entry["name"] += (delta.function.name or "") if delta.function else ""
            entry["arguments"] += (delta.function.arguments or "") if delta.function else ""
    assert text == "Writing it."
    assert [(e["name"], json.loads(e["arguments"])) for e in calls.values()] == [("Write", WRITE["input"])] * 2
    assert calls[0]["id"] != calls[1]["id"] and calls[0]["id"].startswith("call_mock")
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].usage.prompt_tokens == 155 and chunks[-1].usage.completion_tokens == 17


def test_anthropic_stream_calls_the_scripted_tool_with_the_scripted_usage(mock_upstream):
    mock_upstream.script([{"tool_calls": [WRITE], "usage": USAGE}])
    with anthropic_client(mock_upstream).messages.stream(
        model=ANTHROPIC_MODEL, max_tokens=100, messages=PROMPT, tools=[ANTHROPIC_TOOL]
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    [block] = final.content
    assert (block.type, block.name, block.input) == ("tool_use", "Write", WRITE["input"])
    assert block.id.startswith("toolu_mock")
    usage = final.usage
    assert (usage.input_tokens, usage.output_tokens) == (120, 17)
    assert (usage.cache_read_input_tokens, usage.cache_creation_input_tokens) == (30, 5)


def test_anthropic_whole_answer_keeps_thinking_first_and_the_given_id(mock_upstream):
    mock_upstream.script([{"text": "Writing.", "tool_calls": [{**WRITE, "id": "toolu_fixed"}]}])
    final = anthropic_client(mock_upstream).messages.create(
        model=ANTHROPIC_MODEL,
        max_tokens=100,
        messages=PROMPT,
        tools=[ANTHROPIC_TOOL],
        thinking={"type": "adaptive"},
    )
    assert [b.type for b in final.content] == ["thinking", "text", "tool_use"]
    assert final.content[2].id == "toolu_fixed"
    # Without a scripted usage the counted one stays: the arguments count as output.
    assert final.usage.output_tokens > 1


def test_scripted_text_answers_a_tool_result_turn(mock_upstream):
    mock_upstream.script([{"tool_calls": [WRITE]}, {"text": "Done.", "usage": {"input_tokens": 9, "output_tokens": 1}}])
    client = anthropic_client(mock_upstream)
    first = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=100, messages=PROMPT, tools=[ANTHROPIC_TOOL])
    call = first.content[0]
    result = [{"type": "tool_result", "tool_use_id": call.id, "content": "written"}]
    history = [*PROMPT, {"role": "assistant", "content": first.content}, {"role": "user", "content": result}]
    second = client.messages.create(model=ANTHROPIC_MODEL, max_tokens=100, messages=history, tools=[ANTHROPIC_TOOL])
    assert [b.text for b in second.content] == ["Done."]
    assert (second.stop_reason, second.usage.input_tokens, second.usage.output_tokens) == ("end_turn", 9, 1)


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        ({"tool_calls": []}, "non-empty list"),
        ({"tool_calls": [{"input": {}}]}, "non-empty string name"),
        ({"tool_calls": [{"name": "f", "input": []}]}, "must be an object"),
        ({"tool_calls": [{"name": "f", "args": {}}]}, "name, input and id"),
        ({"tool_calls": [{"name": "f", "id": "call.1"}]}, "must match"),
        ({"usage": {"input_tokens": 1}}, "usage needs output_tokens"),
        ({"usage": {"input_tokens": 1, "output_tokens": -1}}, "non-negative"),
        ({"usage": {"input_tokens": 1, "output_tokens": 1, "total": 2}}, "usage takes"),
    ],
)
def test_malformed_turns_are_refused(mock_upstream, bad, match):
    with pytest.raises(MockUpstreamError, match=match):
        mock_upstream.script([bad])
    assert mock_upstream.pending_script() == []
