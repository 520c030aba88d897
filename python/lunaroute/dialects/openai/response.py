"""OpenAI Chat Completions answers ↔ normalized responses, usage and stop reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import UpstreamError
from ...model import NormalizedRequest, NormalizedResponse, TextBlock, ToolUseBlock, Usage
from ...model import response as sr
from .._ids import now, openai_completion_id
from .._tool_args import arguments_json
from ..base import log_dropped

# finish_reason → normalized stop reason
STOP_FROM_OPENAI = {
    "stop": sr.END_TURN,
    "length": sr.MAX_TOKENS,
    "tool_calls": sr.TOOL_USE,
    "function_call": sr.TOOL_USE,
    "content_filter": sr.CONTENT_FILTER,
}
# normalized stop reason → finish_reason
STOP_TO_OPENAI = {
    sr.END_TURN: "stop",
    sr.STOP_SEQUENCE: "stop",
    sr.PAUSE_TURN: "stop",
    sr.MAX_TOKENS: "length",
    sr.CONTEXT_WINDOW_EXCEEDED: "length",
    sr.TOOL_USE: "tool_calls",
    sr.CONTENT_FILTER: "content_filter",
    sr.REFUSAL: "content_filter",
}
_EXTRA_KEYS = ("system_fingerprint", "service_tier")


def finish_reason(stop_reason: str | None) -> str:
    return STOP_TO_OPENAI.get(stop_reason, "stop") if stop_reason is not None else "stop"


def parse_usage(u: Any) -> Usage:
    if type(u) is not dict:
        return Usage()
    usage = Usage(_int(u.get("prompt_tokens")), _int(u.get("completion_tokens")))
    details = u.get("prompt_tokens_details")
    if type(details) is dict:
        usage.cache_read_tokens = _int(details.get("cached_tokens"))
    details = u.get("completion_tokens_details")
    if type(details) is dict and details.get("reasoning_tokens") is not None:
        usage.reasoning_tokens = _int(details.get("reasoning_tokens"))
    return usage


def usage_json(usage: Usage) -> dict[str, Any]:
    """OpenAI `usage`. Cache writes have no OpenAI field: they stay counted in prompt_tokens."""
    out: dict[str, Any] = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
    }
    if usage.reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


def usage_of(data: Any) -> tuple[int, int]:
    """(input, output) tokens of a non-streaming answer; (0, 0) when it carries none."""
    if type(data) is not dict:
        return (0, 0)
    u = data.get("usage")
    if type(u) is not dict:
        return (0, 0)
    return (_int(u.get("prompt_tokens")), _int(u.get("completion_tokens")))


def parse_response(data: Any) -> NormalizedResponse:
    try:
        return _parse(data)
    except (KeyError, TypeError, AttributeError, IndexError, ValueError) as exc:
        raise UpstreamError(f"the OpenAI provider sent an answer LunaRoute cannot read ({exc!r})") from exc


def _parse(data: dict[str, Any]) -> NormalizedResponse:
    choices = data["choices"]
    choice = choices[0] if choices else {}
    message = choice.get("message") or {}
    content: list[Any] = []
    text = message.get("content")
    if type(text) is str:
        if text:
            content.append(TextBlock(text))
    elif type(text) is list:  # some compatible servers answer with content parts
        content.extend(TextBlock(p["text"]) for p in text if type(p) is dict and type(p.get("text")) is str)
    refusal = message.get("refusal")
    if type(refusal) is str and refusal:
        content.append(TextBlock(refusal))
    for call in message.get("tool_calls") or ():
        fn = call.get("function")
        if type(fn) is not dict:
            log_dropped(f"{call.get('type')} tool call in an answer", "normalized")
            continue
        content.append(ToolUseBlock(call.get("id") or "", fn.get("name") or "", arguments=fn.get("arguments") or ""))
    reason = choice.get("finish_reason")
    stop_reason = STOP_FROM_OPENAI.get(reason, sr.END_TURN) if reason is not None else None
    if stop_reason == sr.END_TURN:
        if any(b.kind == "tool_use" for b in content):
            # OpenAI ends a forced (named or required) tool call with "stop"; an answer that
            # holds tool calls is a tool_use stop for every client that waits for one.
            stop_reason = sr.TOOL_USE
        elif refusal and not text:
            stop_reason = sr.REFUSAL
    extra = {k: data[k] for k in _EXTRA_KEYS if data.get(k) is not None} or None
    created = data.get("created")
    return NormalizedResponse(
        "openai",
        str(data.get("id") or ""),
        str(data.get("model") or ""),
        content,
        stop_reason,
        None,
        parse_usage(data.get("usage")),
        created if type(created) is int else None,
        extra,
    )


def build_response(resp: NormalizedResponse, *, model: str, request: NormalizedRequest) -> dict[str, Any]:
    texts: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in resp.content:
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
            calls.append(
                {
                    "id": block.id,
                    "type": "function",
                    "function": {"name": block.name, "arguments": arguments_json(block)},
                }
            )
        else:
            log_dropped(f"{getattr(block, 'type', kind)} block of the answer", "openai")
    # Text blocks of one answer are joined with no separator, as a stream concatenates them.
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(texts) if texts or not calls else None,
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = calls
    out: dict[str, Any] = {
        "id": openai_completion_id(resp.id),
        "object": "chat.completion",
        "created": resp.created if resp.created is not None else now(),
        "model": model,
        "choices": [
            {"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason(resp.stop_reason)}
        ],
        "usage": usage_json(resp.usage),
    }
    if resp.dialect == "openai" and resp.extra:
        out.update(resp.extra)
    return out


def _int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0
