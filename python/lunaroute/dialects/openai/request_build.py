"""Normalized request → OpenAI Chat Completions request body.

Works for a request from either dialect. From OpenAI itself the body is rebuilt faithfully
(system messages in place, OpenAI-only fields from `req.extra`); from Anthropic the rules of
docs/TRANSLATION.md apply (one joined system message, tool results as `tool` messages,
thinking and `top_k` dropped, ...).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ...errors import InvalidRequestError
from ...model import (
    ContentBlock,
    ImageBlock,
    Message,
    NormalizedRequest,
    OpaqueBlock,
    SystemPrompt,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from .._reasoning import is_reasoning_model, openai_response_format, openai_user
from .._tool_args import arguments_json
from ..base import TargetOptions, carry_extra_fields, log_dropped
from .request import MAX_STOP

_CHOICE_STRINGS = {"auto": "auto", "none": "none", "required": "required"}


def build_request(req: NormalizedRequest, *, model: str, stream: bool, options: TargetOptions) -> dict[str, Any]:
    same = req.dialect == "openai"
    body: dict[str, Any] = {"model": model, "messages": _messages(req, same)}
    p = req.params
    if p.temperature is not None:
        body["temperature"] = p.temperature
    if p.top_p is not None:
        body["top_p"] = p.top_p
    if p.top_k is not None:
        log_dropped("top_k", "openai")
    if p.max_tokens is not None:
        if same and p.max_tokens_field:
            field = p.max_tokens_field
        else:
            field = "max_tokens" if options.provider_type == "openai_compatible" else "max_completion_tokens"
        body[field] = p.max_tokens if p.max_tokens > 0 else 1
    if p.stop is not None:
        if len(p.stop) > MAX_STOP:
            raise InvalidRequestError(
                f"stop_sequences: an OpenAI provider accepts at most {MAX_STOP} stop sequences, got {len(p.stop)}",
                param="stop_sequences",
            )
        body["stop"] = p.stop[0] if same and p.stop_is_string and len(p.stop) == 1 else p.stop
    for name in ("presence_penalty", "frequency_penalty", "seed", "n"):
        value = getattr(p, name)
        if value is not None:
            body[name] = value
    if p.user is not None:
        body["user"] = p.user if same else openai_user(p.user)
    if not same:
        _reasoning_and_format(req, body, model)
    _tools(req, body, same)
    if stream:
        body["stream"] = True
        # LunaRoute always asks for the usage chunk: a streamed answer must carry real usage.
        options_out = dict(req.stream_options) if same and req.stream_options else {}
        options_out["include_usage"] = True
        body["stream_options"] = options_out
    if req.metadata is not None:
        if same:
            body["metadata"] = req.metadata
        else:
            log_dropped("metadata", "openai")
    if req.thinking is not None:
        log_dropped("thinking", "openai")
    carry_extra_fields(body, req.extra, same, "openai")
    return body


def _reasoning_and_format(req: NormalizedRequest, body: dict[str, Any], model: str) -> None:
    effort = req.reasoning_effort
    if effort is not None:
        if is_reasoning_model(model):
            body["reasoning_effort"] = effort
        else:
            log_dropped(f"reasoning effort {effort!r} (not a reasoning model: {model})", "openai")
    if req.output_format is not None:
        body["response_format"] = openai_response_format(req.output_format)


def _messages(req: NormalizedRequest, same: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    system = req.system
    if system and not same:
        # The leading prompts become one system message; a system turn that stood later in
        # the conversation (Anthropic allows them among the messages) stays where it was.
        lead = [prompt for prompt in system if prompt.position == 0 and not _is_billing_line(prompt.text)]
        if lead:
            out.append({"role": "system", "content": "\n\n".join(prompt.text for prompt in lead)})
        system = [SystemPrompt(prompt.text, "system", prompt.position) for prompt in system if prompt.position > 0]
    pending = 0  # next system prompt to place (same-dialect: back where it stood)
    for i, m in enumerate(req.messages):
        while pending < len(system) and system[pending].position <= i:
            out.append(_system_message(system[pending]))
            pending += 1
        content = m.content
        if type(content) is str and (not same or (m.name is None and not m.extra)):
            out.append({"role": m.role, "content": content})  # the common turn
            continue
        if m.role == "assistant":
            out.append(_assistant(m, same))
        else:
            _user(m, same, out)
    while pending < len(system):
        out.append(_system_message(system[pending]))
        pending += 1
    return out


# Claude Code opens its system prompt with a block holding only this line: accounting for
# Anthropic's API, not an instruction; an OpenAI model would read it as one.
_BILLING_LINE = "x-anthropic-billing-header:"


def _is_billing_line(text: str) -> bool:
    return text.startswith(_BILLING_LINE) and "\n" not in text.strip()


def _system_message(prompt: SystemPrompt) -> dict[str, Any]:
    msg = {"role": prompt.role, "content": prompt.text}
    if prompt.extra:
        msg.update(prompt.extra)
    return msg


def _user(m: Message, same: bool, out: list[dict[str, Any]]) -> None:
    content = m.content
    if type(content) is str:
        msg: dict[str, Any] = {"role": "user", "content": content}
    else:
        if TYPE_CHECKING:
            assert not isinstance(content, str)
        parts: list[dict[str, Any]] = []
        images_from_tools: list[dict[str, Any]] = []
        for block in content:
            # `kind` is read once; each branch's TYPE_CHECKING assert tells the type checker
            # what `block` is there, at no cost at run time.
            kind = block.kind
            if kind == "tool_result":
                if TYPE_CHECKING:
                    assert isinstance(block, ToolResultBlock)
                out.append(_tool_message(block, same, images_from_tools))
            elif kind == "text":
                if TYPE_CHECKING:
                    assert isinstance(block, TextBlock)
                part = {"type": "text", "text": block.text}
                if same and block.extra:
                    part.update(block.extra)
                parts.append(part)
            elif kind == "image":
                if TYPE_CHECKING:
                    assert isinstance(block, ImageBlock)
                parts.append(_image_part(block, same))
            # The condition reads the block, where no assert can go: a cast, run for opaque blocks only.
            elif kind == "opaque" and cast(OpaqueBlock, block).dialect == "openai":
                if TYPE_CHECKING:
                    assert isinstance(block, OpaqueBlock)
                parts.append(block.raw)
            elif kind == "thinking" or kind == "redacted_thinking":
                log_dropped("thinking block", "openai")
            else:
                raise InvalidRequestError(
                    f"a '{getattr(block, 'type', kind)}' content block cannot be sent to an OpenAI provider",
                    param="messages",
                )
        parts = images_from_tools + parts
        if not parts:
            return
        msg = {"role": "user", "content": parts}
    if same:
        if m.name is not None:
            msg["name"] = m.name
        if m.extra:
            msg.update(m.extra)
    out.append(msg)


def _image_part(block: Any, same: bool) -> dict[str, Any]:
    if block.source == "base64":
        url = f"data:{block.media_type};base64,{block.data}"
    else:
        url = block.url
    image: dict[str, Any] = {"url": url}
    if block.detail is not None:
        image["detail"] = block.detail
    part = {"type": "image_url", "image_url": image}
    if same and block.extra:
        part.update(block.extra)
    return part


def _tool_message(block: ToolResultBlock, same: bool, images_out: list[dict[str, Any]]) -> dict[str, Any]:
    """One `tool` message. OpenAI tool messages hold text only: images of the result go into a
    user message right after the tool messages; `is_error` becomes an "Error: " prefix."""
    content: str | list[ContentBlock] | list[dict[str, Any]]  # the result's blocks, then as sent
    content = block.content
    if type(content) is not str:
        if TYPE_CHECKING:
            assert not isinstance(content, str)
        if same:
            content = [_text_part(b) for b in content]
        else:
            texts = []
            for b in content:
                if b.kind == "text":
                    texts.append(b.text)
                elif b.kind == "image":
                    images_out.append(_image_part(b, False))
                else:
                    raise InvalidRequestError(
                        f"a '{getattr(b, 'type', b.kind)}' block in a tool result cannot be sent to an OpenAI provider",
                        param="messages",
                    )
            content = "\n\n".join(texts)
    if block.is_error and not same:
        if TYPE_CHECKING:
            assert isinstance(content, str)  # not `same`: a list was joined into a string above
        content = "Error: " + content if content else "Error"
    msg = {"role": "tool", "tool_call_id": block.tool_use_id, "content": content}
    if same and block.extra:
        msg.update(block.extra)
    return msg


def _text_part(block: Any) -> dict[str, Any]:
    part = {"type": "text", "text": block.text}
    if block.extra:
        part.update(block.extra)
    return part


def _assistant(m: Message, same: bool) -> dict[str, Any]:
    content = m.content
    msg: dict[str, Any] = {"role": "assistant"}
    if type(content) is str:
        msg["content"] = content
    else:
        if TYPE_CHECKING:
            assert not isinstance(content, str)
        texts: list[str] = []
        calls: list[dict[str, Any]] = []
        refusal_parts: list[dict[str, Any]] = []
        for block in content:
            # `kind` is read once; each branch's TYPE_CHECKING assert tells the type checker
            # what `block` is there, at no cost at run time.
            kind = block.kind
            if kind == "text":
                if TYPE_CHECKING:
                    assert isinstance(block, TextBlock)
                texts.append(block.text)
            elif kind == "tool_use":
                if TYPE_CHECKING:
                    assert isinstance(block, ToolUseBlock)
                call = {
                    "id": block.id,
                    "type": "function",
                    "function": {"name": block.name, "arguments": arguments_json(block)},
                }
                if same and block.extra:
                    call.update(block.extra)
                calls.append(call)
            elif kind == "opaque" and same:
                if TYPE_CHECKING:
                    assert isinstance(block, OpaqueBlock)
                if block.type == "custom_tool_call":
                    calls.append(block.raw)
                else:
                    refusal_parts.append(block.raw)
            else:
                log_dropped(f"{getattr(block, 'type', kind)} block in an assistant message", "openai")
        if refusal_parts:
            msg["content"] = [{"type": "text", "text": t} for t in texts] + refusal_parts
        else:
            # Text blocks of one turn are fragments of one reply: joined with no separator,
            # exactly as a streamed answer concatenates them.
            if texts:
                msg["content"] = "".join(texts)
            elif calls or (same and m.extra and "function_call" in m.extra):
                msg["content"] = None
            else:
                msg["content"] = ""
        if calls:
            msg["tool_calls"] = calls
    if same:
        if m.name is not None:
            msg["name"] = m.name
        if m.extra:
            msg.update(m.extra)
    return msg


def _tools(req: NormalizedRequest, body: dict[str, Any], same: bool) -> None:
    tools = req.tools
    if tools is None:
        if same and req.parallel_tool_calls is not None:
            body["parallel_tool_calls"] = req.parallel_tool_calls
        return
    out = []
    for tool in tools:
        if not same and tool.extra and tool.extra.get("defer_loading"):
            # A tool-search placeholder (Claude Code): the model is not meant to call it, and
            # OpenAI has no deferred tools; an ordinary function would invite the call.
            log_dropped(f"deferred tool {tool.name!r}", "openai")
            continue
        if tool.type == "function":
            fn: dict[str, Any] = {"name": tool.name}
            if tool.description is not None:
                fn["description"] = tool.description
            if tool.parameters is not None:
                fn["parameters"] = tool.parameters
            if tool.strict is not None:
                fn["strict"] = tool.strict
            if same and tool.extra:
                fn.update(tool.extra)
            out.append({"type": "function", "function": fn})
        elif same and tool.raw is not None:
            out.append(tool.raw)
        else:
            log_dropped(f"{tool.type} tool {tool.name!r}", "openai")
    if same or out:
        body["tools"] = out
    if not out and not same:
        return  # OpenAI refuses tool_choice / parallel_tool_calls without tools
    choice = req.tool_choice
    if choice is not None:
        if choice.type == "tool":
            body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
        else:
            body["tool_choice"] = _CHOICE_STRINGS[choice.type]
    if req.parallel_tool_calls is not None:
        body["parallel_tool_calls"] = req.parallel_tool_calls
