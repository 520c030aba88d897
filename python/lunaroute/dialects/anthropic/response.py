"""Anthropic Messages answers ↔ normalized responses, usage and stop reasons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ...errors import InvalidRequestError, UpstreamError
from ...model import (
    NormalizedRequest,
    NormalizedResponse,
    OpaqueBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolUseBlock,
    Usage,
)
from ...model import response as sr
from .._ids import anthropic_message_id, anthropic_tool_id
from .._tool_args import input_object
from ..base import log, log_dropped
from .blocks import parse_blocks

# normalized stop reason → Anthropic stop_reason (identity except OpenAI's content_filter)
STOP_TO_ANTHROPIC = {
    sr.END_TURN: sr.END_TURN,
    sr.MAX_TOKENS: sr.MAX_TOKENS,
    sr.STOP_SEQUENCE: sr.STOP_SEQUENCE,
    sr.TOOL_USE: sr.TOOL_USE,
    sr.PAUSE_TURN: sr.PAUSE_TURN,
    sr.REFUSAL: sr.REFUSAL,
    sr.CONTENT_FILTER: sr.REFUSAL,
    sr.CONTEXT_WINDOW_EXCEEDED: sr.CONTEXT_WINDOW_EXCEEDED,
}
_KNOWN_KEYS = frozenset({"id", "type", "role", "model", "content", "stop_reason", "stop_sequence", "usage"})


def stop_reason_of(stop_reason: str | None) -> str | None:
    if stop_reason is None:
        return None
    return STOP_TO_ANTHROPIC.get(stop_reason, sr.END_TURN)


def stop_reason_from(value: Any) -> str | None:
    """Anthropic stop_reason → normalized (unknown future values read as end_turn)."""
    if value is None:
        return None
    return value if value in sr.STOP_REASONS else sr.END_TURN


def parse_usage(u: Any) -> Usage:
    if type(u) is not dict:
        return Usage()
    cache_read = _int(u.get("cache_read_input_tokens"))
    cache_creation = _int(u.get("cache_creation_input_tokens"))
    return Usage(
        _int(u.get("input_tokens")) + cache_read + cache_creation,
        _int(u.get("output_tokens")),
        cache_read,
        cache_creation,
    )


def usage_json(usage: Usage) -> dict[str, Any]:
    return {
        "input_tokens": usage.uncached_input_tokens,
        "cache_creation_input_tokens": usage.cache_creation_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "output_tokens": usage.output_tokens,
    }


def usage_of(data: Any) -> tuple[int, int]:
    """(input, output) tokens of a non-streaming answer. Input counts the whole prompt, cache
    reads and writes included, as OpenAI's prompt_tokens does (one meaning for both)."""
    if type(data) is not dict:
        return (0, 0)
    u = parse_usage(data.get("usage"))
    return (u.input_tokens, u.output_tokens)


def parse_response(data: Any) -> NormalizedResponse:
    try:
        content = parse_blocks(data["content"])
        extra = None if data.keys() <= _KNOWN_KEYS else {k: v for k, v in data.items() if k not in _KNOWN_KEYS}
        return NormalizedResponse(
            "anthropic",
            str(data.get("id") or ""),
            str(data.get("model") or ""),
            content,
            stop_reason_from(data.get("stop_reason")),
            data.get("stop_sequence"),
            parse_usage(data.get("usage")),
            None,
            extra,
        )
    except (InvalidRequestError, KeyError, TypeError, AttributeError, ValueError) as exc:
        raise UpstreamError(f"the Anthropic provider sent an answer LunaRoute cannot read ({exc})") from exc


def build_response(resp: NormalizedResponse, *, model: str, request: NormalizedRequest) -> dict[str, Any]:
    same = resp.dialect == "anthropic"
    content: list[dict[str, Any]] = []
    for block in resp.content:
        # `kind` is read once per block; each branch's TYPE_CHECKING assert tells the type
        # checker which block it holds, at no cost at run time.
        kind = block.kind
        if kind == "text":
            if TYPE_CHECKING:
                assert isinstance(block, TextBlock)
            out: dict[str, Any] = {"type": "text", "text": block.text}
            if same and block.extra:
                out.update(block.extra)
            content.append(out)
        elif kind == "tool_use":
            if TYPE_CHECKING:
                assert isinstance(block, ToolUseBlock)
            args = input_object(block)
            if args is None:
                # A model's malformed or truncated arguments (e.g. cut by max_tokens): the
                # client still gets the call, with empty input, rather than no answer.
                log.warning("tool call %s: arguments are not a JSON object; sent with empty input", block.id)
                args = {}
            content.append(
                {
                    "type": "tool_use",
                    "id": block.id if same else anthropic_tool_id(block.id),
                    "name": block.name,
                    "input": args,
                }
            )
        elif kind == "thinking":
            if TYPE_CHECKING:
                assert isinstance(block, ThinkingBlock)
            content.append({"type": "thinking", "thinking": block.thinking, "signature": block.signature or ""})
        elif kind == "redacted_thinking":
            if TYPE_CHECKING:
                assert isinstance(block, RedactedThinkingBlock)
            content.append({"type": "redacted_thinking", "data": block.data})
        # The condition reads the block, where no assert can go: a cast, run for opaque blocks only.
        elif kind == "opaque" and cast(OpaqueBlock, block).dialect == "anthropic":
            if TYPE_CHECKING:
                assert isinstance(block, OpaqueBlock)
            content.append(block.raw)
        else:
            log_dropped(f"{getattr(block, 'type', kind)} block of the answer", "anthropic")
    out = {
        "id": anthropic_message_id(resp.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason_of(resp.stop_reason) or sr.END_TURN,
        "stop_sequence": resp.stop_sequence,
        "usage": usage_json(resp.usage),
    }
    if same and resp.extra:
        out.update(resp.extra)
    return out


def _int(value: Any) -> int:
    return value if type(value) is int and value > 0 else 0
