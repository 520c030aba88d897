"""Anthropic Messages request → normalized request (strict validation).

Fields the normalized model covers are type- and range-checked as the real API does (an
InvalidRequestError names the field); Anthropic-only fields (`service_tier`, `container`,
`mcp_servers`, ...) and unknown fields go to `req.extra` unchecked, for an Anthropic provider
to check.
"""

from __future__ import annotations

import re
from typing import Any, cast

from ...errors import InvalidRequestError
from ...model import ContentBlock, Message, NormalizedRequest, SystemPrompt, Tool, ToolChoice
from .._check import (
    at,
    extra_keys,
    fail,
    need_list,
    need_one_of,
    need_str,
    opt_bool,
    opt_dict,
    opt_int,
    opt_number,
    opt_str,
    parse_each,
    string_list,
    type_name,
    wrong_type,
)
from .._reasoning import ANTHROPIC_EFFORTS, EFFORT_FROM_ANTHROPIC, effort_of_budget, parse_anthropic_format
from .blocks import parse_content

KNOWN_FIELDS = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "stream",
        "metadata",
        "tools",
        "tool_choice",
        "thinking",
    }
)
_MESSAGE_KEYS = frozenset({"role", "content"})
_TOOL_KEYS = frozenset({"name", "description", "input_schema", "cache_control", "strict"})  # "type" stays in extra
_PLAIN_TOOL_KEYS = frozenset({"name", "description", "input_schema"})
_SYSTEM_KEYS = frozenset({"type", "text", "cache_control"})
_ROLES = ("user", "assistant", "system")
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,128}")


def parse_request(data: Any) -> NormalizedRequest:
    if type(data) is not dict:
        fail(None, f"the request body must be a JSON object, got {type_name(data)}")
    model = data.get("model")
    if type(model) is not str or not model:
        fail(
            "model",
            "required: a non-empty string" if model is None else f"expected a non-empty string, got {type_name(model)}",
        )
    req = NormalizedRequest("anthropic", model)
    if data.get("max_tokens") is None:
        fail("max_tokens", "required: an integer")
    req.params.max_tokens = opt_int(data, "max_tokens", 0)
    messages = data.get("messages")
    if messages is None:
        fail("messages", "required: an array of messages")
    if not need_list(messages, "messages"):
        fail("messages", "must contain at least one message")
    _parse_messages(req, messages)
    _parse_system(req, data.get("system"))
    p = req.params
    p.temperature = opt_number(data, "temperature", 0, 1)
    p.top_p = opt_number(data, "top_p", 0, 1)
    p.top_k = opt_int(data, "top_k", 0)
    stop = data.get("stop_sequences")
    if stop is not None:
        p.stop = string_list(stop, "stop_sequences")
    req.stream = bool(opt_bool(data, "stream"))
    metadata = opt_dict(data, "metadata")
    if metadata is not None:
        p.user = opt_str(metadata, "user_id", "metadata.user_id")
        rest = {k: v for k, v in metadata.items() if k != "user_id"}
        if rest:
            req.metadata = rest
    thinking = opt_dict(data, "thinking")
    if thinking is not None:
        kind = need_str(thinking.get("type"), "thinking.type")
        budget = opt_int(thinking, "budget_tokens", 1, param="thinking.budget_tokens")
        req.thinking = thinking
        if kind == "enabled" and budget is not None:
            req.reasoning_effort = effort_of_budget(budget)
        elif kind == "adaptive":
            req.reasoning_effort = "medium"  # the model decides; output_config.effort refines it
    _parse_output_config(req, data)
    _parse_tools(req, data)
    if not data.keys() <= KNOWN_FIELDS:
        req.extra = {k: v for k, v in data.items() if k not in KNOWN_FIELDS}
    return req


def _parse_output_config(req: NormalizedRequest, data: dict[str, Any]) -> None:
    """`output_config` (effort, structured output format) and the older `output_format`.
    Both stay in `req.extra` for an Anthropic target; the normalized fields serve others."""
    config = opt_dict(data, "output_config")
    if config is not None:
        effort = config.get("effort")
        if effort is not None:
            req.reasoning_effort = EFFORT_FROM_ANTHROPIC[need_one_of(effort, ANTHROPIC_EFFORTS, "output_config.effort")]
        if config.get("format") is not None:
            req.output_format = parse_anthropic_format(config["format"], "output_config.format")
    if data.get("output_format") is not None:
        req.output_format = parse_anthropic_format(data["output_format"], "output_format")


def _parse_system(req: NormalizedRequest, system: Any) -> None:
    if system is None:
        return
    if type(system) is str:
        req.system.insert(0, SystemPrompt(system))
        return
    blocks = need_list(system, "system")
    req.system_as_blocks = True
    prompts = []
    for k, b in enumerate(blocks):
        try:
            if type(b) is not dict:
                wrong_type("", "an object", b)
            need_one_of(b.get("type"), ("text",), "type")
            prompts.append(
                SystemPrompt(
                    need_str(b.get("text"), "text"),
                    "system",
                    0,
                    opt_dict(b, "cache_control"),
                    extra_keys(b, _SYSTEM_KEYS),
                )
            )
        except InvalidRequestError as err:
            raise at(err, f"system[{k}]") from None
    req.system[:0] = prompts


def _parse_messages(req: NormalizedRequest, messages: list[Any]) -> None:
    out = req.messages
    for i, m in enumerate(messages):
        try:
            if type(m) is not dict:
                wrong_type("", "an object", m)
            role = m.get("role")
            content = m.get("content")
            if type(content) is str and len(m) == 2 and (role == "user" or role == "assistant"):
                out.append(Message(role, content))  # the common turn: nothing else to check
                continue
            role = need_one_of(role, _ROLES, "role")
            if content is None:
                fail("content", "required")
            content = parse_content(content)
            if role == "system":
                # Newer API versions accept system turns among the messages; they are system prompt.
                # (The cast is only for the type checker, on this rare path.)
                text = (
                    content
                    if type(content) is str
                    else "\n\n".join(b.text for b in cast("list[ContentBlock]", content) if b.kind == "text")
                )
                req.system.append(SystemPrompt(text, "system", len(out)))
                continue
            out.append(Message(role, content, None, extra_keys(m, _MESSAGE_KEYS)))
        except InvalidRequestError as err:
            raise at(err, f"messages[{i}]") from None


def _parse_tools(req: NormalizedRequest, data: dict[str, Any]) -> None:
    tools = data.get("tools")
    if tools is not None:
        req.tools = parse_each(tools, "tools", _tool)
    choice = opt_dict(data, "tool_choice")
    if choice is not None:
        kind = need_one_of(choice.get("type"), ("auto", "any", "tool", "none"), "tool_choice.type")
        if kind == "tool":
            req.tool_choice = ToolChoice("tool", need_str(choice.get("name"), "tool_choice.name"))
        else:
            req.tool_choice = ToolChoice("required" if kind == "any" else kind)
        no_parallel = opt_bool(choice, "disable_parallel_tool_use", "tool_choice.disable_parallel_tool_use")
        if no_parallel is not None:
            req.parallel_tool_calls = not no_parallel


def _tool(tool: Any) -> Tool:
    if type(tool) is not dict:
        wrong_type("", "an object", tool)
    kind = tool.get("type")
    if kind == "function":
        fail("type", "'function' tools are the OpenAI form; an Anthropic tool has name, description and input_schema")
    if kind is not None and kind != "custom":
        # A server tool (web search, code execution, text editor, ...): kept verbatim.
        return Tool(opt_str(tool, "name") or "", type=need_str(kind, "type"), raw=tool)
    name = tool.get("name")
    if type(name) is not str:
        wrong_type("name", "a string", name)
    if TOOL_NAME.fullmatch(name) is None:
        fail("name", "must be 1 to 128 characters among a-z, A-Z, 0-9, underscore and dash")
    schema = tool.get("input_schema")
    if schema is None:
        fail("input_schema", "required")
    if type(schema) is not dict:
        wrong_type("input_schema", "an object", schema)
    description = tool.get("description")
    if description is not None and type(description) is not str:
        wrong_type("description", "a string", description)
    if tool.keys() <= _PLAIN_TOOL_KEYS:
        return Tool(name, description, schema)
    return Tool(
        name,
        description,
        schema,
        "function",
        opt_bool(tool, "strict"),
        opt_dict(tool, "cache_control"),
        None,
        extra_keys(tool, _TOOL_KEYS),
    )
