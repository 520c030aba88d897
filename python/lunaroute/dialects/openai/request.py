"""OpenAI Chat Completions request → normalized request (strict validation).

Every field the normalized model covers is type- and range-checked as the real API does;
an error is an InvalidRequestError naming the field (`param`). Fields only OpenAI knows
(`logprobs`, `response_format`, `reasoning_effort`, ...) and unknown fields go to
`req.extra` unchecked: they reach only an OpenAI provider, which checks them.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ...errors import InvalidRequestError
from ...model import (
    ImageBlock,
    Message,
    NormalizedRequest,
    OpaqueBlock,
    SystemPrompt,
    TextBlock,
    Tool,
    ToolChoice,
    ToolResultBlock,
    ToolUseBlock,
)
from .._check import (
    at,
    extra_keys,
    fail,
    need_dict,
    need_list,
    need_one_of,
    need_str,
    opt_bool,
    opt_int,
    opt_number,
    opt_str,
    parse_each,
    string_list,
    type_name,
    wrong_type,
)
from .._reasoning import OPENAI_EFFORTS, parse_openai_response_format

KNOWN_FIELDS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "top_p",
        "n",
        "stream",
        "stream_options",
        "stop",
        "max_tokens",
        "max_completion_tokens",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "user",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "metadata",
    }
)
_MESSAGE_KEYS = frozenset({"role", "content", "name", "tool_calls", "tool_call_id"})
_TOOL_CALL_KEYS = frozenset({"id", "type", "function"})
_FUNCTION_KEYS = frozenset({"name", "description", "parameters", "strict"})
_TEXT_PART_KEYS = frozenset({"type", "text"})
_IMAGE_PART_KEYS = frozenset({"type", "image_url"})
_ROLES = ("system", "developer", "user", "assistant", "tool")
TOOL_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
MAX_STOP = 4


def parse_request(data: Any) -> NormalizedRequest:
    if type(data) is not dict:
        fail(None, f"the request body must be a JSON object, got {type_name(data)}")
    model = data.get("model")
    if type(model) is not str or not model:
        fail(
            "model",
            "required: a non-empty string" if model is None else f"expected a non-empty string, got {type_name(model)}",
        )
    req = NormalizedRequest("openai", model)
    messages = data.get("messages")
    if messages is None:
        fail("messages", "required: an array of messages")
    if not need_list(messages, "messages"):
        fail("messages", "must contain at least one message")
    _parse_messages(req, messages)
    _parse_params(req, data)
    _parse_tools(req, data)
    if not data.keys() <= KNOWN_FIELDS:
        # (reasoning_effort and response_format stay here too: a same-dialect rebuild sends
        # them back as given; other dialects read the normalized fields below)
        req.extra.update({k: v for k, v in data.items() if k not in KNOWN_FIELDS})
        effort = data.get("reasoning_effort")
        if effort is not None:
            req.reasoning_effort = need_one_of(effort, OPENAI_EFFORTS, "reasoning_effort")
        if data.get("response_format") is not None:
            req.output_format = parse_openai_response_format(data["response_format"])
    return req


def _parse_params(req: NormalizedRequest, data: dict[str, Any]) -> None:
    p = req.params
    # `in` before each check: most requests carry two or three of these fields
    if "temperature" in data:
        p.temperature = opt_number(data, "temperature", 0, 2)
    if "top_p" in data:
        p.top_p = opt_number(data, "top_p", 0, 1)
    if "presence_penalty" in data:
        p.presence_penalty = opt_number(data, "presence_penalty", -2, 2)
    if "frequency_penalty" in data:
        p.frequency_penalty = opt_number(data, "frequency_penalty", -2, 2)
    if "n" in data:
        p.n = opt_int(data, "n", 1, 128)
    if "seed" in data:
        p.seed = opt_int(data, "seed")
    if "user" in data:
        p.user = opt_str(data, "user")
    # max_completion_tokens supersedes the deprecated max_tokens; both are accepted.
    limit = opt_int(data, "max_completion_tokens", 1) if "max_completion_tokens" in data else None
    if limit is not None:
        p.max_tokens, p.max_tokens_field = limit, "max_completion_tokens"
    if "max_tokens" in data:
        legacy = opt_int(data, "max_tokens", 1)
        if legacy is not None:
            if limit is None:
                p.max_tokens, p.max_tokens_field = legacy, "max_tokens"
            else:
                req.extra["max_tokens"] = legacy  # both given: the newer one rules, the other is relayed as is
    stop = data.get("stop")
    if stop is not None:
        if type(stop) is str:
            p.stop, p.stop_is_string = [stop], True
        elif type(stop) is list:
            if len(stop) > MAX_STOP:
                fail("stop", f"at most {MAX_STOP} stop sequences are allowed, got {len(stop)}")
            p.stop = string_list(stop, "stop")
        else:
            wrong_type("stop", "a string or an array of strings", stop)
    stream = opt_bool(data, "stream")
    req.stream = bool(stream)
    options = data.get("stream_options")
    if options is not None:
        if type(options) is not dict:
            wrong_type("stream_options", "an object", options)
        if not stream:
            fail("stream_options", "only allowed when stream is true")
        req.stream_include_usage = bool(opt_bool(options, "include_usage", "stream_options.include_usage"))
        req.stream_options = options
    metadata = data.get("metadata")
    if metadata is not None:
        if type(metadata) is not dict:
            wrong_type("metadata", "an object", metadata)
        req.metadata = metadata


# --------------------------------------------------------------------------- messages
# Helpers below name fields relative to the object they check; `at()` adds the object's place
# (messages[3], content[0], ...) only when an error actually goes up.
def _parse_messages(req: NormalizedRequest, messages: list[Any]) -> None:
    out = req.messages
    system = req.system
    tool_holder: Message | None = None  # the user message collecting consecutive tool results
    for i, m in enumerate(messages):
        try:
            if type(m) is not dict:
                wrong_type("", "an object", m)
            role = m.get("role")
            content = m.get("content")
            if type(content) is str and len(m) == 2:
                if role == "user" or role == "assistant":
                    # the common turn, {"role", "content": str}: nothing else to check
                    tool_holder = None
                    out.append(Message(role, content))
                    continue
                if role == "system" or role == "developer":
                    tool_holder = None
                    system.append(SystemPrompt(content, role, len(out)))
                    continue
            if role == "user":
                tool_holder = None
                out.append(_user_message(m, content))
            elif role == "assistant":
                tool_holder = None
                out.append(_assistant_message(m, content))
            elif role == "tool":
                block = _tool_result(m, content)
                if tool_holder is None:
                    tool_holder = Message("user", [block])
                    out.append(tool_holder)
                else:
                    if TYPE_CHECKING:
                        assert not isinstance(tool_holder.content, str)  # made with a list just above
                    tool_holder.content.append(block)
            elif role == "system" or role == "developer":
                tool_holder = None
                text = _text_only_content(content)
                extra = extra_keys(m, _MESSAGE_KEYS)
                name = m.get("name")
                if name is not None:
                    extra = dict(extra or {}, name=need_str(name, "name"))
                system.append(SystemPrompt(text, role, len(out), extra=extra))
            elif role == "function":
                fail("role", "the deprecated 'function' role is not supported; use 'tool' messages")
            else:
                need_one_of(role, _ROLES, "role")
        except InvalidRequestError as err:
            raise at(err, f"messages[{i}]") from None


def _user_message(m: dict[str, Any], content: Any) -> Message:
    if type(content) is not str:
        if content is None:
            fail("content", "required for user messages")
        content = _user_parts(need_list(content, "content"))
    name = m.get("name")
    if name is not None and type(name) is not str:
        wrong_type("name", "a string", name)
    return Message("user", content, name, None if m.keys() <= _MESSAGE_KEYS else extra_keys(m, _MESSAGE_KEYS))


def _user_parts(parts: list[Any]) -> list[Any]:
    blocks: list[Any] = []
    for j, part in enumerate(parts):
        try:
            if type(part) is not dict:
                wrong_type("", "an object", part)
            kind = part.get("type")
            if kind == "text":
                text = part.get("text")
                if type(text) is not str:
                    wrong_type("text", "a string", text)
                blocks.append(TextBlock(text, None, None if len(part) == 2 else extra_keys(part, _TEXT_PART_KEYS)))
            elif kind == "image_url":
                blocks.append(_image_part(part))
            elif kind == "input_audio" or kind == "file":
                need_dict(part.get(kind), kind)
                blocks.append(OpaqueBlock("openai", kind, part))
            else:
                need_one_of(kind, ("text", "image_url", "input_audio", "file"), "type")
        except InvalidRequestError as err:
            raise at(err, f"content[{j}]") from None
    return blocks


def _image_part(part: dict[str, Any]) -> ImageBlock:
    image = part.get("image_url")
    if type(image) is not dict:
        wrong_type("image_url", "an object", image)
    url = image.get("url")
    if type(url) is not str:
        wrong_type("image_url.url", "a string", url)
    detail = image.get("detail")
    if detail is not None:
        need_one_of(detail, ("auto", "low", "high"), "image_url.detail")
    extra = None if len(part) == 2 else extra_keys(part, _IMAGE_PART_KEYS)
    if url.startswith("data:"):
        header, comma, payload = url[5:].partition(",")
        if comma and header.endswith(";base64"):
            return ImageBlock("base64", None, header[:-7], payload, detail, None, extra)
    return ImageBlock("url", url, None, None, detail, None, extra)


def _text_only_content(content: Any) -> str:
    """System, developer and tool content: a string or an array of text parts. Several parts
    are joined with a blank line (docs/TRANSLATION.md)."""
    if type(content) is str:
        return content
    if content is None:
        fail("content", "required")
    return "\n\n".join(_text_parts(need_list(content, "content")))


def _text_parts(parts: list[Any]) -> list[str]:
    texts = []
    for j, part in enumerate(parts):
        try:
            if type(part) is not dict:
                wrong_type("", "an object", part)
            if part.get("type") != "text":
                need_one_of(part.get("type"), ("text",), "type")
            text = part.get("text")
            if type(text) is not str:
                wrong_type("text", "a string", text)
            texts.append(text)
        except InvalidRequestError as err:
            raise at(err, f"content[{j}]") from None
    return texts


def _assistant_message(m: dict[str, Any], content: Any) -> Message:
    calls = m.get("tool_calls")
    if content is None and calls is None and m.get("function_call") is None:
        fail("content", "required unless tool_calls is given")
    name = m.get("name")
    if name is not None and type(name) is not str:
        wrong_type("name", "a string", name)
    extra = None if m.keys() <= _MESSAGE_KEYS else extra_keys(m, _MESSAGE_KEYS)
    if calls is None and type(content) is str:
        return Message("assistant", content, name, extra)
    blocks: list[Any] = []
    if type(content) is str:
        if content:
            blocks.append(TextBlock(content))
    elif content is not None:
        for j, part in enumerate(need_list(content, "content")):
            try:
                if type(part) is not dict:
                    wrong_type("", "an object", part)
                kind = need_one_of(part.get("type"), ("text", "refusal"), "type")
                if kind == "text":
                    blocks.append(
                        TextBlock(need_str(part.get("text"), "text"), None, extra_keys(part, _TEXT_PART_KEYS))
                    )
                else:
                    need_str(part.get("refusal"), "refusal")
                    blocks.append(OpaqueBlock("openai", "refusal", part))
            except InvalidRequestError as err:
                raise at(err, f"content[{j}]") from None
    if calls is not None:
        for j, call in enumerate(need_list(calls, "tool_calls")):
            try:
                blocks.append(_tool_call(call))
            except InvalidRequestError as err:
                raise at(err, f"tool_calls[{j}]") from None
    return Message("assistant", blocks, name, extra)


def _tool_call(call: Any) -> Any:
    if type(call) is not dict:
        wrong_type("", "an object", call)
    call_id = call.get("id")
    if type(call_id) is not str:
        wrong_type("id", "a string", call_id)
    kind = call.get("type")
    if kind != "function":
        if need_one_of(kind, ("function", "custom"), "type") == "custom":
            need_dict(call.get("custom"), "custom")
            return OpaqueBlock("openai", "custom_tool_call", call)
    fn = call.get("function")
    if type(fn) is not dict:
        wrong_type("function", "an object", fn)
    name, arguments = fn.get("name"), fn.get("arguments")
    if type(name) is not str:
        wrong_type("function.name", "a string", name)
    if type(arguments) is not str:
        wrong_type("function.arguments", "a string", arguments)
    return ToolUseBlock(
        call_id, name, None, arguments, None, None if len(call) == 3 else extra_keys(call, _TOOL_CALL_KEYS)
    )


def _tool_result(m: dict[str, Any], content: Any) -> ToolResultBlock:
    call_id = m.get("tool_call_id")
    if type(call_id) is not str:
        wrong_type("tool_call_id", "a string", call_id)
    extra = None if m.keys() <= _MESSAGE_KEYS else extra_keys(m, _MESSAGE_KEYS)
    if type(content) is str:
        return ToolResultBlock(call_id, content, None, None, extra)
    if content is None:
        fail("content", "required for tool messages")
    parts = need_list(content, "content")
    blocks: list[Any] = []
    for j, part in enumerate(parts):
        try:
            if type(part) is not dict:
                wrong_type("", "an object", part)
            need_one_of(part.get("type"), ("text",), "type")
            blocks.append(TextBlock(need_str(part.get("text"), "text"), None, extra_keys(part, _TEXT_PART_KEYS)))
        except InvalidRequestError as err:
            raise at(err, f"content[{j}]") from None
    return ToolResultBlock(call_id, blocks, None, None, extra)


# --------------------------------------------------------------------------- tools
def _parse_tools(req: NormalizedRequest, data: dict[str, Any]) -> None:
    tools = data.get("tools")
    if tools is not None:
        req.tools = parse_each(tools, "tools", _tool)
    choice = data.get("tool_choice")
    if choice is not None:
        if type(choice) is str:
            req.tool_choice = ToolChoice(need_one_of(choice, ("none", "auto", "required"), "tool_choice"))
        elif type(choice) is dict:
            kind = need_one_of(choice.get("type"), ("function", "custom", "allowed_tools"), "tool_choice.type")
            if kind == "function":
                fn = need_dict(choice.get("function"), "tool_choice.function")
                req.tool_choice = ToolChoice("tool", need_str(fn.get("name"), "tool_choice.function.name"))
            else:
                req.extra["tool_choice"] = choice  # OpenAI-only forms: same-dialect only
        else:
            wrong_type("tool_choice", "a string or an object", choice)
    req.parallel_tool_calls = opt_bool(data, "parallel_tool_calls")


def _tool(tool: Any) -> Tool:
    if type(tool) is not dict:
        wrong_type("", "an object", tool)
    kind = tool.get("type")
    if kind != "function":
        if need_one_of(kind, ("function", "custom"), "type") == "custom":
            custom = need_dict(tool.get("custom"), "custom")
            return Tool(need_str(custom.get("name"), "custom.name"), type="custom", raw=tool)
    fn = tool.get("function")
    if type(fn) is not dict:
        wrong_type("function", "an object", fn)
    name = fn.get("name")
    if type(name) is not str:
        wrong_type("function.name", "a string", name)
    if TOOL_NAME.fullmatch(name) is None:
        fail("function.name", "must be 1 to 64 characters among a-z, A-Z, 0-9, underscore and dash")
    description, parameters, strict = fn.get("description"), fn.get("parameters"), fn.get("strict")
    if description is not None and type(description) is not str:
        wrong_type("function.description", "a string", description)
    if parameters is not None and type(parameters) is not dict:
        wrong_type("function.parameters", "an object", parameters)
    if strict is not None and type(strict) is not bool:
        wrong_type("function.strict", "a boolean", strict)
    extra = None if fn.keys() <= _FUNCTION_KEYS else extra_keys(fn, _FUNCTION_KEYS)
    return Tool(name, description, parameters, "function", strict, None, None, extra)
