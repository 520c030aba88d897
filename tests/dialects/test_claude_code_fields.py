"""What Claude Code sends, and the reasoning / structured-output fields of both dialects,
translated by the rules of docs/TRANSLATION.md — every built body checked by the strict mock
provider's own validator."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.dialects import get_dialect
from lunaroute.dialects.base import TargetOptions
from lunaroute.errors import InvalidRequestError

from .helpers import upstream_validator

OPENAI = get_dialect("openai")
ANTHROPIC = get_dialect("anthropic")
USER_ID = json.dumps(
    {"device_id": "05c4" * 16, "account_uuid": "", "session_id": "ebe3b5d5-3a1e-432d-bc50-96f852a1128b"}
)


def claude_code_body(**over: Any) -> dict[str, Any]:
    """The shape of a Claude Code 2.x request (captured from the real CLI; texts shortened)."""
    body: dict[str, Any] = {
        "model": "claude-opus-5-5",
        "max_tokens": 32000,
        "stream": True,
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1"},
            {"type": "text", "text": "You are a Claude agent.", "cache_control": {"type": "ephemeral"}},
        ],
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": "<system-reminder>hi</system-reminder>"}]},
            {"role": "system", "content": [{"type": "text", "text": "# Environment\nlinux"}]},
            {
                "role": "user",
                "content": [{"type": "text", "text": "write a file", "cache_control": {"type": "ephemeral"}}],
            },
        ],
        "tools": [
            {
                "name": "Write",
                "description": "Write a file",
                "input_schema": {"type": "object", "properties": {"file_path": {"type": "string"}}},
                "cache_control": {"type": "ephemeral"},
            },
            {
                "name": "DeferredToolPlaceholder",
                "description": "never call this tool",
                "input_schema": {"type": "object", "properties": {}},
                "defer_loading": True,
            },
        ],
        "metadata": {"user_id": USER_ID},
        "thinking": {"type": "adaptive", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "output_config": {"effort": "high"},
    }
    body.update(over)
    return body


def _to_openai(body: dict[str, Any], model: str = "gpt-5") -> dict[str, Any]:
    out = OPENAI.build_request(ANTHROPIC.parse_request(body), model=model, stream=True, options=TargetOptions())
    assert upstream_validator("openai")(out) == []
    return out


def _to_anthropic(body: dict[str, Any], model: str = "claude-sonnet-4-5") -> dict[str, Any]:
    out = ANTHROPIC.build_request(OPENAI.parse_request(body), model=model, stream=False, options=TargetOptions())
    assert upstream_validator("anthropic")(out) == []
    return out


def test_claude_code_request_reaches_openai_as_a_valid_request() -> None:
    out = _to_openai(claude_code_body())
    # metadata.user_id (~150 chars) would be refused as `user` (max 64): a stable digest goes
    assert len(out["user"]) <= 64 and out["user"] == _to_openai(claude_code_body())["user"]
    assert out["user"] != _to_openai(claude_code_body(metadata={"user_id": USER_ID + "x"}))["user"]
    # adaptive thinking + output_config.effort → reasoning_effort for a reasoning model
    assert out["reasoning_effort"] == "high"
    # the deferred-tool placeholder does not become an ordinary function
    assert [t["function"]["name"] for t in out["tools"]] == ["Write"]
    # the system turn among the messages stays in place; the leading blocks lead
    roles = [m["role"] for m in out["messages"]]
    assert roles == ["system", "user", "system", "user"]
    # Claude Code's billing line is accounting for Anthropic's API, not an instruction
    assert out["messages"][0]["content"] == "You are a Claude agent."
    # Anthropic-only fields go nowhere on this route
    flat = json.dumps(out)
    for absent in ("cache_control", "context_management", "thinking", "output_config", "defer_loading"):
        assert absent not in flat
    assert out["stream_options"] == {"include_usage": True}


def test_short_user_ids_and_non_reasoning_models() -> None:
    out = _to_openai(claude_code_body(metadata={"user_id": "alice"}), model="gpt-4o")
    assert out["user"] == "alice"
    assert "reasoning_effort" not in out  # gpt-4o refuses it


@pytest.mark.parametrize(
    ("thinking", "config", "effort"),
    [
        ({"type": "enabled", "budget_tokens": 1024}, None, "low"),
        ({"type": "enabled", "budget_tokens": 8000}, None, "medium"),
        ({"type": "enabled", "budget_tokens": 20000}, None, "high"),
        ({"type": "enabled", "budget_tokens": 60000}, None, "xhigh"),
        ({"type": "adaptive"}, None, "medium"),
        ({"type": "adaptive"}, {"effort": "max"}, "xhigh"),
        ({"type": "disabled"}, {"effort": "low"}, "low"),
        (None, None, None),
    ],
)
def test_anthropic_thinking_and_effort_to_reasoning_effort(thinking, config, effort) -> None:
    body = claude_code_body(thinking=thinking, output_config=config)
    for name in ("thinking", "output_config"):
        if body[name] is None:
            del body[name]
    out = _to_openai(body, model="o4-mini")
    assert out.get("reasoning_effort") == effort


@pytest.mark.parametrize(
    ("effort", "budget"), [("minimal", 1024), ("low", 2048), ("medium", 8192), ("high", 16384), ("xhigh", 32000)]
)
def test_openai_reasoning_effort_to_anthropic_thinking(effort: str, budget: int) -> None:
    out = _to_anthropic(
        {
            "model": "o4-mini",
            "messages": [{"role": "user", "content": "think"}],
            "reasoning_effort": effort,
            "max_completion_tokens": 1000,
            "temperature": 0.2,
        }
    )
    assert out["thinking"] == {"type": "enabled", "budget_tokens": budget}
    assert out["max_tokens"] == 1000 + budget  # the answer keeps its own room
    assert "temperature" not in out  # thinking allows only the default


def test_reasoning_effort_none_and_forced_tools_leave_thinking_off() -> None:
    base = {"model": "o4-mini", "messages": [{"role": "user", "content": "x"}]}
    assert "thinking" not in _to_anthropic({**base, "reasoning_effort": "none"})
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    forced = _to_anthropic(
        {
            **base,
            "reasoning_effort": "high",
            "tools": [tool],
            "tool_choice": {"type": "function", "function": {"name": "f"}},
        }
    )
    assert "thinking" not in forced and forced["tool_choice"] == {"type": "tool", "name": "f"}


SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_structured_output_openai_to_anthropic() -> None:
    msg = [{"role": "user", "content": "where?"}]
    out = _to_anthropic(
        {
            "model": "gpt-4o",
            "messages": msg,
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "place", "schema": SCHEMA, "strict": True},
            },
        }
    )
    assert out["output_config"] == {"format": {"type": "json_schema", "schema": SCHEMA}}
    any_object = _to_anthropic({"model": "gpt-4o", "messages": msg, "response_format": {"type": "json_object"}})
    assert any_object["output_config"]["format"]["schema"]["type"] == "object"
    plain = _to_anthropic({"model": "gpt-4o", "messages": msg, "response_format": {"type": "text"}})
    assert "output_config" not in plain


@pytest.mark.parametrize("where", ["output_config", "output_format"])
def test_structured_output_anthropic_to_openai(where: str) -> None:
    fmt = {"type": "json_schema", "schema": SCHEMA}
    body = claude_code_body(
        **({"output_config": {"format": fmt}} if where == "output_config" else {"output_format": fmt})
    )
    out = _to_openai(body, model="gpt-4o")
    assert out["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "response", "schema": SCHEMA, "strict": True},
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reasoning_effort", "extreme"),
        ("reasoning_effort", 3),
        ("response_format", {"type": "yaml"}),
        ("response_format", {"type": "json_schema"}),
        ("response_format", {"type": "json_schema", "json_schema": {"schema": "no"}}),
    ],
)
def test_bad_openai_reasoning_and_format_fields_are_400s(field: str, value: Any) -> None:
    with pytest.raises(InvalidRequestError) as err:
        OPENAI.parse_request({"model": "m", "messages": [{"role": "user", "content": "x"}], field: value})
    assert field in (err.value.param or "") + err.value.message


@settings(max_examples=150, deadline=None)
@given(
    user=st.text(min_size=1, max_size=300),
    effort=st.sampled_from(["low", "medium", "high", "xhigh", "max", None]),
    budget=st.integers(1024, 100_000),
    adaptive=st.booleans(),
)
def test_any_claude_code_style_request_is_valid_openai(
    user: str, effort: str | None, budget: int, adaptive: bool
) -> None:
    body = claude_code_body(
        metadata={"user_id": user},
        thinking={"type": "adaptive"} if adaptive else {"type": "enabled", "budget_tokens": budget},
        max_tokens=budget + 1000,
    )
    if effort is None:
        body.pop("output_config")
    else:
        body["output_config"] = {"effort": effort}
    for model in ("gpt-5", "gpt-4o"):
        out = _to_openai(body, model=model)
        assert len(out["user"]) <= 64
