"""Strict validation of Anthropic Messages request bodies (POST /v1/messages and
POST /v1/messages/count_tokens).

Field set follows the API reference and the official SDK's `MessageCreateParams`, plus the
sampling fields the API still accepts (`temperature`, `top_p`, `top_k`). Unknown fields get
pydantic's "Extra inputs are not permitted", as from the real API.
"""

from __future__ import annotations

import re
from typing import Any

from .anthropic_blocks import check_text_block
from .anthropic_checks import AnthropicChecks, check_output_config
from .anthropic_messages import check_messages
from .validation_common import Issue

_COMMON_FIELDS = {
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
    "cache_control",
    "context_management",
    "output_config",
    "speed",
    "user_profile_id",
    "workspace_id",
}
MESSAGES_FIELDS = frozenset(
    _COMMON_FIELDS
    | {
        "max_tokens",
        "container",
        "diagnostics",
        "inference_geo",
        "metadata",
        "service_tier",
        "stop_sequences",
        "stream",
        "temperature",
        "top_k",
        "top_p",
    }
)
COUNT_TOKENS_FIELDS = frozenset(_COMMON_FIELDS)

TOOL_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,128}$")
_CUSTOM_TOOL_FIELDS = {
    "type",
    "name",
    "description",
    "input_schema",
    "cache_control",
    "allowed_callers",
    "defer_loading",
    "eager_input_streaming",
    "input_examples",
    "strict",
}
MAX_CACHE_BREAKPOINTS = 4


def anthropic_request_issues(body: Any, *, count_tokens: bool = False) -> list[Issue]:
    """Every problem found in `body`, most important first."""
    c = AnthropicChecks()
    if not isinstance(body, dict):
        c.add("", "Input should be a valid dictionary")
        return c.issues
    c.extra("", body, COUNT_TOKENS_FIELDS if count_tokens else MESSAGES_FIELDS)
    if "model" not in body:
        c.missing("model")
    elif c.string("model", body["model"]) and not body["model"]:
        c.add("model", "String should have at least 1 character")
    if not count_tokens:
        if "max_tokens" not in body:
            c.missing("max_tokens")
        else:
            c.integer("max_tokens", body["max_tokens"], 0)
    thinking_on = _check_thinking(c, body, count_tokens)
    check_messages(c, body.get("messages"), thinking_on=thinking_on)
    _check_system(c, body.get("system"))
    tool_names = _check_tools(c, body.get("tools"))
    _check_tool_choice(c, body.get("tool_choice"), tool_names, thinking_on)
    _check_sampling(c, body, thinking_on)
    _check_misc(c, body)
    _check_cache_breakpoints(c, body)
    return c.issues


def _check_thinking(c: AnthropicChecks, body: dict[str, Any], count_tokens: bool) -> bool:
    thinking = body.get("thinking")
    if thinking is None or not c.obj("thinking", thinking):
        return False
    kind = thinking.get("type")
    if not c.literal("thinking.type", kind, ["enabled", "disabled", "adaptive", "between_tools"]):
        return False
    if kind == "enabled":
        c.extra("thinking.enabled", thinking, {"type", "budget_tokens", "display"})
        budget = thinking.get("budget_tokens")
        if budget is None:
            c.missing("thinking.enabled.budget_tokens")
        elif c.integer("thinking.enabled.budget_tokens", budget, 1024) and not count_tokens:
            max_tokens = body.get("max_tokens")
            if isinstance(max_tokens, int) and max_tokens <= budget:
                c.add(
                    "",
                    "`max_tokens` must be greater than `thinking.budget_tokens`. Please "
                    "consult our documentation at "
                    "https://docs.claude.com/en/docs/build-with-claude/"
                    "extended-thinking#max-tokens-and-context-window-size",
                )
    elif kind == "adaptive":
        c.extra("thinking.adaptive", thinking, {"type", "display"})
    else:
        c.extra(f"thinking.{kind}", thinking, {"type"})
    if "display" in thinking:
        c.literal("thinking.display", thinking["display"], ["summarized", "omitted"], nullable=True)
    return kind in ("enabled", "adaptive")


def _check_system(c: AnthropicChecks, system: Any) -> None:
    if system is None or isinstance(system, str):
        return
    if not isinstance(system, list):
        c.add("system", "Input should be a valid string or a valid list")
        return
    for i, block in enumerate(system):
        path = f"system.{i}"
        if c.obj(path, block) and c.literal(f"{path}.type", block.get("type"), ["text"]):
            check_text_block(c, path, block)


def _check_tools(c: AnthropicChecks, tools: Any) -> list[str]:
    names: list[str] = []
    if tools is None or not c.array("tools", tools):
        return names
    for i, tool in enumerate(tools):
        path = f"tools.{i}"
        if not c.obj(path, tool):
            continue
        kind = tool.get("type")
        name = tool.get("name")
        if name is None:
            c.missing(f"{path}.name")
        elif c.string(f"{path}.name", name):
            if name in names:
                c.add("tools", "Tool names must be unique.")
            names.append(name)
        if kind not in (None, "custom"):
            c.string(f"{path}.type", kind)  # a server tool (web_search_..., bash_...)
            continue
        c.extra(path, tool, _CUSTOM_TOOL_FIELDS)
        if isinstance(name, str) and not TOOL_NAME.match(name):
            c.add(f"{path}.custom.name", "String should match pattern '^[a-zA-Z0-9_-]{1,128}$'")
        if "description" in tool:
            c.string(f"{path}.custom.description", tool["description"])
        c.cache_control(f"{path}.custom.cache_control", tool.get("cache_control"))
        schema = tool.get("input_schema")
        if schema is None:
            c.missing(f"{path}.custom.input_schema")
        elif c.obj(f"{path}.custom.input_schema", schema):
            c.literal(f"{path}.custom.input_schema.type", schema.get("type"), ["object"])
            if schema.get("properties") is not None:
                c.obj(f"{path}.custom.input_schema.properties", schema["properties"])
            if schema.get("required") is not None:
                c.array(f"{path}.custom.input_schema.required", schema["required"])
    return names


def _check_tool_choice(c: AnthropicChecks, choice: Any, tool_names: list[str], thinking_on: bool) -> None:
    if choice is None or not c.obj("tool_choice", choice):
        return
    kind = choice.get("type")
    if not c.literal("tool_choice.type", kind, ["auto", "any", "tool", "none"]):
        return
    allowed = {"type"} if kind == "none" else {"type", "disable_parallel_tool_use"}
    if kind == "tool":
        allowed.add("name")
        name = choice.get("name")
        if name is None:
            c.missing("tool_choice.tool.name")
        elif c.string("tool_choice.tool.name", name) and name not in tool_names:
            c.add("tool_choice.tool.name", f"Tool '{name}' not found in provided tools")
    c.extra(f"tool_choice.{kind}", choice, allowed)
    if "disable_parallel_tool_use" in choice:
        c.boolean(f"tool_choice.{kind}.disable_parallel_tool_use", choice["disable_parallel_tool_use"])
    if kind in ("any", "tool") and not tool_names:
        c.add("tool_choice", "tool_choice may only be specified while providing tools.")
    if kind in ("any", "tool") and thinking_on:
        c.add("", "Thinking may not be enabled when tool_choice forces tool use.")


def _check_sampling(c: AnthropicChecks, body: dict[str, Any], thinking_on: bool) -> None:
    if "temperature" in body:
        if c.number("temperature", body["temperature"], 0, 1) and thinking_on and body["temperature"] != 1:
            c.add(
                "",
                "`temperature` may only be set to 1 when thinking is enabled. Please consult "
                "our documentation at https://docs.claude.com/en/docs/build-with-claude/"
                "extended-thinking#feature-compatibility",
            )
    if "top_p" in body:
        if c.number("top_p", body["top_p"], 0, 1) and thinking_on and body["top_p"] < 0.95:
            c.add(
                "",
                "`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled.",
            )
    if "top_k" in body:
        if c.integer("top_k", body["top_k"], 0) and thinking_on:
            c.add("", "`top_k` must be unset when thinking is enabled.")
    if "stream" in body:
        c.boolean("stream", body["stream"])
    stops = body.get("stop_sequences")
    if stops is not None and c.array("stop_sequences", stops):
        for i, stop in enumerate(stops):
            if c.string(f"stop_sequences.{i}", stop) and not stop.strip():
                c.add("stop_sequences", "each stop sequence must contain non-whitespace")


def _check_misc(c: AnthropicChecks, body: dict[str, Any]) -> None:
    metadata = body.get("metadata")
    if metadata is not None and c.obj("metadata", metadata):
        c.extra("metadata", metadata, {"user_id"})
        c.string("metadata.user_id", metadata.get("user_id"), nullable=True, max_len=256)
    if "service_tier" in body:
        c.literal("service_tier", body["service_tier"], ["auto", "standard_only"])
    if "speed" in body:
        c.literal("speed", body["speed"], ["standard", "fast"], nullable=True)
    for key in ("inference_geo", "user_profile_id", "workspace_id"):
        if key in body:
            c.string(key, body[key], nullable=key == "inference_geo")
    if "diagnostics" in body:
        c.obj("diagnostics", body["diagnostics"], nullable=True)
    if "output_config" in body:
        check_output_config(c, "output_config", body["output_config"])
    if "context_management" in body:
        _check_context_management(c, body["context_management"])
    if "container" in body and body["container"] is not None and not isinstance(body["container"], (str, dict)):
        c.add("container", "Input should be a valid string or a valid dictionary")
    c.cache_control("cache_control", body.get("cache_control"))


def _check_context_management(c: AnthropicChecks, value: Any) -> None:
    """`{edits: [{type, ...}]}`: the edit kinds and their knobs change by beta, so each edit
    is checked for its tag only."""
    if not c.obj("context_management", value, nullable=True) or value is None:
        return
    c.extra("context_management", value, {"edits"})
    edits = value.get("edits")
    if edits is None or not c.array("context_management.edits", edits):
        return
    for i, edit in enumerate(edits):
        if c.obj(f"context_management.edits.{i}", edit):
            c.string(f"context_management.edits.{i}.type", edit.get("type"))


def _check_cache_breakpoints(c: AnthropicChecks, body: dict[str, Any]) -> None:
    found = count_cache_breakpoints(body)
    if found > MAX_CACHE_BREAKPOINTS:
        c.add(
            "",
            f"A maximum of {MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found {found}.",
        )


def count_cache_breakpoints(body: dict[str, Any]) -> int:
    """Blocks carrying a non-null `cache_control` (the top-level one counts as one)."""
    found = 1 if body.get("cache_control") is not None else 0
    groups: list[Any] = [body.get("tools"), body.get("system")]
    messages = body.get("messages")
    if isinstance(messages, list):
        groups.extend(m.get("content") for m in messages if isinstance(m, dict))
    for group in groups:
        if isinstance(group, list):
            found += sum(1 for b in group if isinstance(b, dict) and b.get("cache_control") is not None)
    return found
