"""Responses API requests → normalized requests: the mapping, the SDK's `input +=
response.output` idiom, prompts.json patches, and a 400 naming the field for everything
that cannot be served (stored state, hosted tools, unsupported items, malformed input)."""

from __future__ import annotations

from typing import Any

import pytest

from lunaroute.dialects import TargetOptions, client_dialect, get_dialect
from lunaroute.errors import InvalidRequestError
from lunaroute.model import ImageBlock, TextBlock, ToolResultBlock, ToolUseBlock

from .helpers import upstream_validator

RESPONSES = client_dialect("responses")
TOOL = {"type": "function", "name": "get_weather", "parameters": {"type": "object", "properties": {}}}


def _parse(**fields: Any):
    return RESPONSES.parse_request({"model": "gpt-4o", "input": "hi", **fields})


def _refused(body: dict[str, Any]) -> InvalidRequestError:
    with pytest.raises(InvalidRequestError) as info:
        RESPONSES.validate_light(body)
        RESPONSES.parse_request(body)
    assert info.value.status == 400
    return info.value


def test_a_string_input_is_one_user_message_after_the_instructions() -> None:
    req = _parse(instructions="Be brief.")
    assert (req.dialect, req.model, req.stream) == ("responses", "gpt-4o", False)
    assert [(p.text, p.role, p.position) for p in req.system] == [("Be brief.", "system", 0)]
    assert [(m.role, m.content) for m in req.messages] == [("user", "hi")]
    assert req.extra == {}  # nothing Responses-only can ride along to a provider


def test_parameters_map_to_the_normalized_fields() -> None:
    req = _parse(
        temperature=1.5,
        top_p=0.5,
        max_output_tokens=77,
        user="u1",
        parallel_tool_calls=False,
        reasoning={"effort": "minimal", "summary": "auto"},
        text={"format": {"type": "json_schema", "name": "x", "schema": {"type": "object"}, "strict": True}},
        metadata={"a": "b"},
        stream=True,
    )
    p = req.params
    assert (p.temperature, p.top_p, p.max_tokens, p.user) == (1.5, 0.5, 77, "u1")
    assert req.parallel_tool_calls is False and req.stream is True
    assert req.reasoning_effort == "minimal"
    assert req.output_format == {"type": "json_schema", "name": "x", "schema": {"type": "object"}, "strict": True}
    assert req.metadata == {"a": "b"}
    assert _parse(text={"format": {"type": "text"}}).output_format is None
    assert _parse(text={"format": {"type": "json_object"}}).output_format == {"type": "json_object"}
    assert _parse(safety_identifier="s1").params.user == "s1"


def test_tools_and_tool_choice() -> None:
    req = _parse(tools=[{**TOOL, "description": "d", "strict": True}], tool_choice={"type": "function", "name": "x"})
    tool = req.tools[0]
    assert (tool.type, tool.name, tool.description, tool.parameters, tool.strict) == (
        "function",
        "get_weather",
        "d",
        {"type": "object", "properties": {}},
        True,
    )
    assert (req.tool_choice.type, req.tool_choice.name) == ("tool", "x")
    for choice in ("auto", "none", "required"):
        assert _parse(tools=[TOOL], tool_choice=choice).tool_choice.type == choice


def test_output_items_sent_back_make_one_assistant_turn_and_one_tool_turn() -> None:
    """What `inp += response.output` sends: items with ids, statuses, annotations."""
    req = _parse(
        input=[
            {"role": "user", "content": "weather?"},
            {
                "type": "message",
                "id": "msg_1",
                "role": "assistant",
                "status": "completed",
                "content": [{"type": "output_text", "text": "Checking.", "annotations": [], "logprobs": []}],
            },
            {
                "type": "function_call",
                "id": "fc_1",
                "call_id": "c1",
                "name": "a",
                "arguments": "{}",
                "status": "completed",
            },
            {"type": "function_call", "id": "fc_2", "call_id": "c2", "name": "b", "arguments": '{"x":1}'},
            {"type": "function_call_output", "call_id": "c1", "output": "one"},
            {"type": "function_call_output", "call_id": "c2", "output": [{"type": "input_text", "text": "two"}]},
        ]
    )
    user, assistant, results = req.messages
    assert (user.role, user.content) == ("user", "weather?")
    assert assistant.role == "assistant"
    assert assistant.content == [
        TextBlock("Checking."),
        ToolUseBlock("c1", "a", None, "{}"),
        ToolUseBlock("c2", "b", None, '{"x":1}'),
    ]
    assert results.role == "user"
    assert results.content == [ToolResultBlock("c1", "one"), ToolResultBlock("c2", [TextBlock("two")])]


def test_system_and_developer_items_stay_in_place_and_images_are_parsed() -> None:
    req = _parse(
        instructions="first",
        input=[
            {
                "role": "developer",
                "content": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}],
            },
            {
                "role": "user",
                "content": [
                    {"type": "input_image", "image_url": "data:image/png;base64,AAAA", "detail": "low"},
                    {"type": "input_image", "image_url": "https://x.test/i.png", "detail": "original"},
                ],
            },
            {"role": "system", "content": "later"},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "no"}]},
        ],
    )
    assert [(p.text, p.role, p.position) for p in req.system] == [
        ("first", "system", 0),
        ("a\n\nb", "developer", 0),
        ("later", "system", 1),
    ]
    assert req.messages[0].content == [
        ImageBlock("base64", None, "image/png", "AAAA", "low"),
        ImageBlock("url", "https://x.test/i.png", None, None, None),
    ]
    assert req.messages[1].content == [TextBlock("no")]  # a refusal is what the assistant said


@pytest.mark.parametrize(
    ("fields", "param", "says"),
    [
        ({"previous_response_id": "resp_1"}, "previous_response_id", "keeps no response state"),
        ({"conversation": "conv_1"}, "conversation", "keeps no response state"),
        ({"conversation": {"id": "conv_1"}}, "conversation", "keeps no response state"),
        ({"background": True}, "background", "background"),
        ({"background": "yes"}, "background", "boolean"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt", "keeps no response state"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "'web_search' tools are not supported"),
        ({"tools": [{"type": "file_search", "vector_store_ids": ["v"]}]}, "tools[0].type", "'file_search'"),
        ({"tools": [{"type": "function", "parameters": {}}]}, "tools[0].name", "required"),
        ({"tools": [{"type": "function", "name": "bad name"}]}, "tools[0].name", "characters"),
        ({"tool_choice": {"type": "web_search_preview"}}, "tool_choice.type", "'web_search_preview'"),
        ({"tool_choice": "any"}, "tool_choice", "one of"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0].type", "'item_reference'"),
        ({"input": [{"type": "reasoning", "id": "rs_1", "summary": []}]}, "input[0].type", "'reasoning' items"),
        ({"input": [{"type": "web_search_call", "id": "ws"}]}, "input[0].type", "'web_search_call'"),
        ({"input": [{"role": "tool", "content": "x"}]}, "input[0].role", "one of"),
        ({"input": [{"content": "x"}]}, "input[0].role", "required"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]},
            "input[0].content[0].type",
            "'input_file'",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "f"}]}]},
            "input[0].content[0].file_id",
            "file_id",
        ),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "ftp://x"}]}]},
            "input[0].content[0].image_url",
            "http",
        ),
        ({"input": [{"role": "user", "content": []}]}, "input[0].content", "at least one"),
        ({"input": [{"type": "function_call", "call_id": "c", "name": "n"}]}, "input[0].arguments", "string"),
        ({"input": [{"type": "function_call_output", "call_id": "c"}]}, "input[0].output", "required"),
        ({"input": [{"role": "system", "content": "only a prompt"}]}, "input", "at least one"),
        ({"input": []}, "input", "at least one"),
        ({"input": 5}, "input", "a string or an array"),
        ({"input": None}, "input", "required"),
        ({"input": ["x"]}, "input[0]", "an object"),
        ({"model": ""}, "model", "non-empty"),
        ({"model": None}, "model", "required"),
        ({"max_output_tokens": 1.5}, "max_output_tokens", "an integer"),
        ({"max_output_tokens": "10"}, "max_output_tokens", "an integer"),
        ({"max_output_tokens": 0}, "max_output_tokens", "at least 1"),
        ({"stream": "true"}, "stream", "a boolean"),
        ({"temperature": 3}, "temperature", "between"),
        ({"reasoning": {"effort": "extreme"}}, "reasoning.effort", "one of"),
        ({"text": {"format": {"type": "json_schema"}}}, "text.format.schema", "required"),
        ({"instructions": ["x"]}, "instructions", "a string"),
        ({"truncation": "sometimes"}, "truncation", "one of"),
        ({"include": "x"}, "include", "an array"),
        ({"store": "yes"}, "store", "a boolean"),
    ],
)
def test_what_cannot_be_served_is_a_400_naming_the_field(fields: dict[str, Any], param: str, says: str) -> None:
    # a field given as None is left out: its absence is what is tested
    body = {k: v for k, v in {"model": "gpt-4o", "input": "hi", **fields}.items() if v is not None}
    err = _refused(body)
    assert err.param == param
    assert says in err.message and param in err.message


def test_the_stateful_fields_are_refused_before_routing() -> None:
    """`validate_light` (run before any rule is looked at) already refuses them."""
    for name in ("previous_response_id", "conversation", "prompt"):
        with pytest.raises(InvalidRequestError, match=name):
            RESPONSES.validate_light({"model": "m", "input": "x", name: "v"})
    assert RESPONSES.validate_light({"model": "m", "input": "x", "stream": True, "background": False}) == ("m", True)


@pytest.mark.parametrize("target", ["openai", "anthropic"])
def test_accepted_fields_never_reach_the_provider(target: str) -> None:
    req = _parse(
        store=True,
        metadata={"k": "v"},
        include=["message.output_text.logprobs"],
        truncation="auto",
        text={"format": {"type": "text"}, "verbosity": "low"},
        stream_options={"include_obfuscation": False},
        prompt_cache_key="pk",
        service_tier="auto",
        top_logprobs=2,
        max_tool_calls=3,
        an_unknown_field={"x": 1},
    )
    body = get_dialect(target).build_request(req, model="m", stream=False, options=TargetOptions(provider_type=target))
    assert upstream_validator(target)(body) == []
    leaked = set(body) & {
        "store",
        "metadata",
        "include",
        "truncation",
        "text",
        "stream_options",
        "prompt_cache_key",
        "service_tier",
        "top_logprobs",
        "max_tool_calls",
        "an_unknown_field",
        "input",
        "instructions",
    }
    assert leaked == set()


def test_prompt_patches_edit_instructions_and_the_leading_system_items() -> None:
    def patched(body: dict[str, Any], **patch: str | None) -> dict[str, Any]:
        out = dict(body)
        RESPONSES.patch_system(out, patch.get("prepend"), patch.get("append"), patch.get("replace"))
        return out

    plain = {"model": "m", "input": "x"}
    assert patched(plain, prepend="P")["instructions"] == "P"
    assert patched({**plain, "instructions": "I"}, prepend="P", append="A")["instructions"] == "P\n\nI\n\nA"
    lead = {
        "model": "m",
        "instructions": "I",
        "input": [{"role": "developer", "content": "D"}, {"role": "user", "content": "x"}],
    }
    out = patched(lead, append="A")
    assert out["instructions"] == "I" and out["input"][0] == {"role": "developer", "content": "D\n\nA"}
    assert lead["input"][0]["content"] == "D"  # the client's request is left as sent
    out = patched(lead, replace="R")
    assert out["instructions"] == "R" and out["input"] == [{"role": "user", "content": "x"}]
    parts = {"model": "m", "input": [{"role": "system", "content": [{"type": "input_text", "text": "S"}]}]}
    assert patched(parts, append="A")["input"][0]["content"][-1] == {"type": "input_text", "text": "A"}
    with pytest.raises(InvalidRequestError, match="instructions"):
        patched({**plain, "instructions": 5}, append="A")


def test_reasoning_effort_to_anthropic_is_left_off_when_a_tool_turn_is_resumed() -> None:
    """Anthropic resumes inside the assistant turn whose calls are answered and wants its
    thinking block first; a Responses client has none to send back."""
    anthropic = get_dialect("anthropic")
    options = TargetOptions(provider_type="anthropic")
    fresh = _parse(reasoning={"effort": "low"}, tools=[TOOL])
    assert anthropic.build_request(fresh, model="c", stream=False, options=options)["thinking"] == {
        "type": "enabled",
        "budget_tokens": 2048,
    }
    resumed = _parse(
        reasoning={"effort": "low"},
        tools=[TOOL],
        input=[
            {"role": "user", "content": "x"},
            {"type": "function_call", "call_id": "c1", "name": "get_weather", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "c1", "output": "sunny"},
        ],
    )
    body = anthropic.build_request(resumed, model="c", stream=False, options=options)
    assert "thinking" not in body and upstream_validator("anthropic")(body) == []
