"""OpenAI Responses API request → normalized request (strict validation).

Every field the translation uses is type- and range-checked as the real API does; an error
is an InvalidRequestError naming the field (`param`). What needs stored state
(`previous_response_id`, `conversation`, `prompt`, `background: true`), tools other than
functions and input items other than messages, function calls and their outputs are 400s
too: no provider could be asked for them. Fields the translation cannot use (`store`,
`metadata`, `include`, `truncation`, ...) are checked and left out; nothing reaches
`req.extra`, so nothing Responses-only can leak upstream (docs/TRANSLATION.md).
"""

from __future__ import annotations

from typing import Any

from ...model import Message, NormalizedRequest, SystemPrompt, Tool, ToolChoice
from .._check import (
    fail,
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
from .._reasoning import OPENAI_EFFORTS, parse_openai_format
from ..openai.request import TOOL_NAME
from .input_items import parse_input
from .wire import light_checks

_CHOICES = ("none", "auto", "required")


def parse_request(data: Any) -> NormalizedRequest:
    if type(data) is not dict:
        fail(None, f"the request body must be a JSON object, got {type_name(data)}")
    model, stream = light_checks(data)
    req = NormalizedRequest("responses", model)
    req.stream = stream
    instructions = opt_str(data, "instructions")
    if instructions:
        req.system.append(SystemPrompt(instructions, "system", 0))
    inp = data["input"]
    if type(inp) is str:
        req.messages.append(Message("user", inp))
    else:
        parse_input(req, inp)
    if not req.messages:
        fail("input", "must hold at least one user, assistant or tool item")
    _parse_params(req, data)
    _parse_tools(req, data)
    _check_accepted(data)
    return req


def _parse_params(req: NormalizedRequest, data: dict[str, Any]) -> None:
    p = req.params
    # `in` before each check: most requests carry one or two of these fields
    if "temperature" in data:
        p.temperature = opt_number(data, "temperature", 0, 2)
    if "top_p" in data:
        p.top_p = opt_number(data, "top_p", 0, 1)
    if "max_output_tokens" in data:
        p.max_tokens = opt_int(data, "max_output_tokens", 1)
    # `user` is the older name of the end-user id; `safety_identifier` replaced it.
    if "user" in data or "safety_identifier" in data:
        p.user = opt_str(data, "user") or opt_str(data, "safety_identifier")
    if "metadata" in data:  # echoed in the answer; never sent to a provider of another dialect
        req.metadata = opt_dict(data, "metadata")
    if "reasoning" in data:
        reasoning = opt_dict(data, "reasoning")
        if reasoning is not None and reasoning.get("effort") is not None:
            req.reasoning_effort = need_one_of(reasoning["effort"], OPENAI_EFFORTS, "reasoning.effort")
    if "text" in data:
        text = opt_dict(data, "text")
        if text is not None and text.get("format") is not None:
            req.output_format = parse_openai_format(text["format"], "text.format", nested=False)


def _parse_tools(req: NormalizedRequest, data: dict[str, Any]) -> None:
    tools = data.get("tools")
    if tools is not None:
        req.tools = parse_each(tools, "tools", _tool)
    choice = data.get("tool_choice")
    if choice is not None:
        if type(choice) is str:
            req.tool_choice = ToolChoice(need_one_of(choice, _CHOICES, "tool_choice"))
        elif type(choice) is dict:
            kind = choice.get("type")
            if kind != "function":
                if type(kind) is str:
                    fail("tool_choice.type", f"'{kind}' is not supported: only function tools can be chosen")
                wrong_type("tool_choice.type", "a string", kind)
            req.tool_choice = ToolChoice("tool", need_str(choice.get("name"), "tool_choice.name"))
        else:
            wrong_type("tool_choice", "a string or an object", choice)
    req.parallel_tool_calls = opt_bool(data, "parallel_tool_calls")


def _tool(tool: Any) -> Tool:
    if type(tool) is not dict:
        wrong_type("", "an object", tool)
    kind = tool.get("type")
    if kind != "function":
        if type(kind) is str:
            fail("type", f"'{kind}' tools are not supported: only function tools can be translated for a provider")
        wrong_type("type", "a string", kind)
    name = tool.get("name")
    if name is None:
        fail("name", "required for a function tool")
    if type(name) is not str:
        wrong_type("name", "a string", name)
    if TOOL_NAME.fullmatch(name) is None:
        fail("name", "must be 1 to 64 characters among a-z, A-Z, 0-9, underscore and dash")
    description, parameters, strict = tool.get("description"), tool.get("parameters"), tool.get("strict")
    if description is not None and type(description) is not str:
        wrong_type("description", "a string", description)
    if parameters is not None and type(parameters) is not dict:
        wrong_type("parameters", "an object", parameters)
    if strict is not None and type(strict) is not bool:
        wrong_type("strict", "a boolean", strict)
    return Tool(name, description, parameters, "function", strict)


def _check_accepted(data: dict[str, Any]) -> None:
    """Fields that are accepted and not forwarded: checked, so a malformed one is still the
    400 the real API would give."""
    if "store" in data:
        opt_bool(data, "store")
    if data.get("include") is not None:
        string_list(data["include"], "include")
    if data.get("truncation") is not None:
        need_one_of(data["truncation"], ("auto", "disabled"), "truncation")
    if "stream_options" in data:
        opt_dict(data, "stream_options")
