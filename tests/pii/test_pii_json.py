"""redact_json: text is redacted wherever a person or a tool wrote it, in both dialects;
structural fields, base64 payloads and keys are never touched; the result equals
redacting each text string on its own."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.pii import PiiEngine

from .engines import CUSTOM, engine
from .samples import VALUES

EMAIL = "jane.doe@example.com"
PHONE = "(415) 555-0123"
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="


@pytest.fixture(scope="module")
def eng(tmp_path_factory: pytest.TempPathFactory) -> PiiEngine:
    return engine(tmp_path_factory.mktemp("pii"), mode="remove", custom=CUSTOM)


def openai_body() -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": f"Escalations go to {EMAIL}."},
            {"role": "user", "name": "jane_doe", "content": f"Call me at {PHONE}"},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"My card is 4111 1111 1111 1111, mail {EMAIL}"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}", "detail": "low"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_4155550123",
                        "type": "function",
                        "function": {"name": "send_email", "arguments": json.dumps({"to": EMAIL, "body": "hi"})},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_4155550123", "content": f"sent to {EMAIL}"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "send_email",
                    "description": f"Send an email (support: {EMAIL})",
                    "parameters": {"type": "object", "properties": {"to": {"type": "string"}}},
                },
            }
        ],
        "user": EMAIL,
        "stream": True,
        "max_tokens": 4111111111111111,
    }


def anthropic_body() -> dict[str, Any]:
    return {
        "model": "claude-3-5-sonnet-20241022",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": f"Owner: {EMAIL}", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": f"SSN 123-45-6789 and phone {PHONE}"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                    {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": EMAIL}},
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": f"The user {EMAIL} wants...", "signature": "EqQBCgIYAhIM1gbcDa"},
                    {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8"},
                    {"type": "tool_use", "id": "toolu_01A", "name": "lookup", "input": {"name": EMAIL, "id": PHONE}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01A", "content": [{"type": "text", "text": EMAIL}]},
                ],
            },
        ],
        "metadata": {"user_id": "user_7f3a_account_session_1234"},
        "stop_sequences": ["\n\nHuman:"],
    }


def responses_body() -> dict[str, Any]:
    return {
        "model": "gpt-4.1",
        "instructions": f"Reply to {EMAIL}",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": f"I am at {PHONE}"}]},
            {"type": "input_image", "image_url": f"data:image/jpeg;base64,{PNG}"},
            {"type": "function_call", "call_id": "call_1", "name": "lookup", "arguments": f'{{"q": "{EMAIL}"}}'},
            {"type": "function_call_output", "call_id": "call_1", "output": f"found {EMAIL}", "status": "completed"},
        ],
    }


def test_openai_body(eng: PiiEngine) -> None:
    body = openai_body()
    before = copy.deepcopy(body)
    count = eng.redact_json(body)
    text = json.dumps(body)
    assert EMAIL not in text and PHONE not in text and "4111 1111" not in text
    assert count == 8
    assert body["user"] == "[REDACTED_EMAIL]"  # OpenAI's end-user id is often an address
    assert body["model"] == before["model"] and body["max_tokens"] == before["max_tokens"]
    assert body["messages"][1]["name"] == "jane_doe"
    assert body["messages"][2]["content"][1] == before["messages"][2]["content"][1]  # the data URL, whole
    call = body["messages"][3]["tool_calls"][0]
    assert call["id"] == "call_4155550123" and call["function"]["name"] == "send_email"
    assert json.loads(call["function"]["arguments"]) == {"to": "[REDACTED_EMAIL]", "body": "hi"}
    assert body["messages"][4]["tool_call_id"] == "call_4155550123"
    assert body["tools"][0]["function"]["parameters"] == before["tools"][0]["function"]["parameters"]


def test_anthropic_body(eng: PiiEngine) -> None:
    body = anthropic_body()
    before = copy.deepcopy(body)
    count = eng.redact_json(body)
    msgs = body["messages"]
    assert body["system"][0]["text"] == "Owner: [REDACTED_EMAIL]"
    assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert msgs[0]["content"][0]["text"] == "SSN [REDACTED_SSN] and phone [REDACTED_PHONE]"
    assert msgs[0]["content"][1] == before["messages"][0]["content"][1]  # base64 image untouched
    assert msgs[0]["content"][2]["source"]["data"] == "[REDACTED_EMAIL]"  # a text document is text
    assert msgs[1]["content"][0] == before["messages"][1]["content"][0]  # signed thinking untouched
    assert msgs[1]["content"][1] == before["messages"][1]["content"][1]
    tool_use = msgs[1]["content"][2]
    assert tool_use["id"] == "toolu_01A" and tool_use["name"] == "lookup"
    # Inside a tool's input every string is text, whatever its key.
    assert tool_use["input"] == {"name": "[REDACTED_EMAIL]", "id": "[REDACTED_PHONE]"}
    assert msgs[2]["content"][0]["tool_use_id"] == "toolu_01A"
    assert msgs[2]["content"][0]["content"][0]["text"] == "[REDACTED_EMAIL]"
    assert body["metadata"] == before["metadata"] and body["stop_sequences"] == before["stop_sequences"]
    assert count == 7


def test_responses_body(eng: PiiEngine) -> None:
    body = responses_body()
    before = copy.deepcopy(body)
    assert eng.redact_json(body) == 4
    items = body["input"]
    assert body["instructions"] == "Reply to [REDACTED_EMAIL]"
    assert items[0]["content"][0]["text"] == "I am at [REDACTED_PHONE]"
    assert items[1] == before["input"][1]
    assert items[2]["arguments"] == '{"q": "[REDACTED_EMAIL]"}' and items[2]["call_id"] == "call_1"
    assert items[3]["output"] == "found [REDACTED_EMAIL]" and items[3]["status"] == "completed"


def test_keys_never_change(eng: PiiEngine) -> None:
    body = {"messages": [{"role": "user", "content": {EMAIL: EMAIL, PHONE: [PHONE]}}]}
    eng.redact_json(body)
    assert body["messages"][0]["content"] == {EMAIL: "[REDACTED_EMAIL]", PHONE: ["[REDACTED_PHONE]"]}


def test_nothing_to_redact_changes_nothing(eng: PiiEngine) -> None:
    body = {"model": "m", "messages": [{"role": "user", "content": "What is the capital of France?"}]}
    before = copy.deepcopy(body)
    assert eng.redact_json(body) == 0 and body == before
    assert eng.redact_json({}) == 0 and eng.redact_json([]) == 0


json_text = st.one_of(st.sampled_from(VALUES), st.text(alphabet="ab @.:-0123456789\x00\n", max_size=20))
json_values = st.recursive(
    st.one_of(json_text, st.integers(), st.booleans(), st.none()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.dictionaries(st.sampled_from(["content", "text", "note", "items", "value"]), inner, max_size=4),
    ),
    max_leaves=20,
)


def _redact_each(eng: PiiEngine, node: Any) -> Any:
    if isinstance(node, str):
        return eng.redact_text(node)[0]
    if isinstance(node, list):
        return [_redact_each(eng, v) for v in node]
    if isinstance(node, dict):
        return {k: _redact_each(eng, v) for k, v in node.items()}
    return node


@pytest.fixture(scope="module")
def eager(tmp_path_factory: pytest.TempPathFactory) -> PiiEngine:
    return engine(tmp_path_factory.mktemp("pii"), mode="remove", custom=CUSTOM, min_confidence=0.0)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.lists(json_values, min_size=1, max_size=6))
def test_joined_scan_equals_each_string_alone(eager: PiiEngine, body: list[Any]) -> None:
    # Strings are scanned joined by NUL; matches reaching across a join must not change
    # what each string gets (the NUL filler above makes them try).
    eng = eager
    want = _redact_each(eng, copy.deepcopy(body))
    eng.redact_json(body)
    assert body == want


def test_opaque_provider_data_is_untouched(eng: PiiEngine) -> None:
    # Anthropic web search results and OpenAI reasoning items carry encrypted blobs the
    # provider verifies when they are sent back.
    blob = "EqoBCkYIBRgCIkDmiAM9sk-proj-Nc3icPatpvNATkJEMh2whjcxJgjSBCjfJMAKih9YeVaMl3yG"
    body = {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "web_search_result", "title": EMAIL, "encrypted_content": blob, "encrypted_index": blob},
                ],
            }
        ],
        "input": [
            {"type": "reasoning", "encrypted_content": blob, "summary": [{"type": "summary_text", "text": EMAIL}]}
        ],
    }
    assert eng.redact_json(body) == 2
    result = body["messages"][0]["content"][0]
    assert result["encrypted_content"] == blob and result["encrypted_index"] == blob and result["title"] != EMAIL
    assert body["input"][0]["encrypted_content"] == blob
    assert body["input"][0]["summary"][0]["text"] == "[REDACTED_EMAIL]"


def test_keywords_with_any_letters(tmp_path_factory: pytest.TempPathFactory) -> None:
    eng = engine(
        tmp_path_factory.mktemp("pii"), mode="remove", custom=({"name": "word", "keywords": ["Straße", "ŉaïve"]},)
    )
    assert eng.redact_text("in der Straße und ŉaïve")[0] == "in der [REDACTED_WORD] und [REDACTED_WORD]"
    redactor = eng.stream_redactor()
    assert "".join(map(redactor.feed, "in der Straße und ŉaïve")) + redactor.flush() == (
        "in der [REDACTED_WORD] und [REDACTED_WORD]"
    )
