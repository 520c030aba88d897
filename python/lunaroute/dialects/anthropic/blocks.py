"""Anthropic content blocks ↔ normalized content blocks (requests and responses share them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from ...errors import InvalidRequestError
from ...model import (
    ContentBlock,
    ImageBlock,
    OpaqueBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from .._check import at, extra_keys, need_dict, need_str, opt_bool, opt_dict, wrong_type
from .._ids import anthropic_tool_id
from .._tool_args import input_object
from ..base import log_dropped

_TEXT_KEYS = frozenset({"type", "text", "cache_control"})
_IMAGE_KEYS = frozenset({"type", "source", "cache_control"})
_TOOL_USE_KEYS = frozenset({"type", "id", "name", "input", "cache_control"})
_TOOL_RESULT_KEYS = frozenset({"type", "tool_use_id", "content", "is_error", "cache_control"})
_PLAIN_RESULT_KEYS = frozenset({"type", "tool_use_id", "content", "is_error"})
_THINKING_KEYS = frozenset({"type", "thinking", "signature"})
_REDACTED_KEYS = frozenset({"type", "data"})


def parse_block(b: Any) -> Any:
    """One content block; errors name fields relative to the block (see _check.at)."""
    if type(b) is not dict:
        wrong_type("", "an object", b)
    kind = b.get("type")
    if kind == "text":
        text = b.get("text")
        if type(text) is not str:
            wrong_type("text", "a string", text)
        if len(b) == 2:
            return TextBlock(text)
        return TextBlock(text, opt_dict(b, "cache_control"), extra_keys(b, _TEXT_KEYS))
    if kind == "tool_use":
        tool_id, name, inp = b.get("id"), b.get("name"), b.get("input")
        if type(tool_id) is not str:
            wrong_type("id", "a string", tool_id)
        if type(name) is not str:
            wrong_type("name", "a string", name)
        if type(inp) is not dict:
            wrong_type("input", "an object", inp)
        if len(b) == 4:
            return ToolUseBlock(tool_id, name, inp)
        return ToolUseBlock(tool_id, name, inp, None, opt_dict(b, "cache_control"), extra_keys(b, _TOOL_USE_KEYS))
    if kind == "tool_result":
        return _tool_result(b)
    if kind == "image":
        return _image(b)
    if kind == "thinking":
        signature = b.get("signature")
        if signature is not None:
            need_str(signature, "signature")
        return ThinkingBlock(need_str(b.get("thinking"), "thinking"), signature, extra_keys(b, _THINKING_KEYS))
    if kind == "redacted_thinking":
        return RedactedThinkingBlock(need_str(b.get("data"), "data"), extra_keys(b, _REDACTED_KEYS))
    # document, search_result, server_tool_use, web_search_tool_result, ...: kept verbatim.
    return OpaqueBlock("anthropic", need_str(kind, "type"), b)


def parse_blocks(blocks: list[Any]) -> list[Any]:
    out = []
    for k, b in enumerate(blocks):
        try:
            out.append(parse_block(b))
        except InvalidRequestError as err:
            raise at(err, f"[{k}]") from None
    return out


def _image(b: dict[str, Any]) -> Any:
    source = need_dict(b.get("source"), "source")
    kind = source.get("type")
    cache_control = opt_dict(b, "cache_control")
    extra = extra_keys(b, _IMAGE_KEYS)
    if kind == "base64":
        media_type = need_str(source.get("media_type"), "source.media_type")
        return ImageBlock(
            "base64", None, media_type, need_str(source.get("data"), "source.data"), None, cache_control, extra
        )
    if kind == "url":
        return ImageBlock("url", need_str(source.get("url"), "source.url"), None, None, None, cache_control, extra)
    need_str(kind, "source.type")
    return OpaqueBlock("anthropic", "image", b)  # e.g. a Files API `file` source


def parse_content(content: Any) -> str | list[Any]:
    """A `content` field: a string as is, an array parsed into blocks, anything else refused
    (errors name fields under `content`)."""
    if type(content) is str:
        return content
    if type(content) is not list:
        wrong_type("content", "a string or an array of content blocks", content)
    try:
        return parse_blocks(content)
    except InvalidRequestError as err:
        raise at(err, "content") from None


def _tool_result(b: dict[str, Any]) -> ToolResultBlock:
    content = b.get("content")
    content = "" if content is None else parse_content(content)
    tool_use_id = b.get("tool_use_id")
    if type(tool_use_id) is not str:
        wrong_type("tool_use_id", "a string", tool_use_id)
    if b.keys() <= _PLAIN_RESULT_KEYS:
        return ToolResultBlock(tool_use_id, content, opt_bool(b, "is_error"))
    return ToolResultBlock(
        tool_use_id, content, opt_bool(b, "is_error"), opt_dict(b, "cache_control"), extra_keys(b, _TOOL_RESULT_KEYS)
    )


# --------------------------------------------------------------------------- build
def build_block(block: ContentBlock, same: bool, thinking: bool, role: str) -> dict[str, Any] | None:
    """One block as Anthropic wants it, or None when it is dropped (docs/TRANSLATION.md).
    `same`: the block came from Anthropic (its dialect-only keys are sent back)."""
    # `kind` is read once; each branch's TYPE_CHECKING assert tells the type checker
    # what `block` is there, at no cost at run time.
    kind = block.kind
    if kind == "text":
        if TYPE_CHECKING:
            assert isinstance(block, TextBlock)
        if not same and (not block.text or block.text.isspace()):
            return None  # Anthropic refuses empty and whitespace-only text blocks
        out: dict[str, Any] = {"type": "text", "text": block.text}
    elif kind == "tool_use":
        if TYPE_CHECKING:
            assert isinstance(block, ToolUseBlock)
        args = input_object(block)
        if args is None:
            raise InvalidRequestError(
                f"tool call {block.id!r} has arguments that are not a JSON object; an Anthropic provider needs an object",
                param="messages",
            )
        out = {
            "type": "tool_use",
            "id": block.id if same else anthropic_tool_id(block.id),
            "name": block.name,
            "input": args,
        }
    elif kind == "tool_result":
        if TYPE_CHECKING:
            assert isinstance(block, ToolResultBlock)
        out = {
            "type": "tool_result",
            "tool_use_id": block.tool_use_id if same else anthropic_tool_id(block.tool_use_id),
        }
        content = block.content
        if type(content) is str:
            if content:  # no content and "" mean the same; Anthropic examples leave it out
                out["content"] = content
        else:
            if TYPE_CHECKING:
                assert not isinstance(content, str)
            built = [build_block(c, same, thinking, role) for c in content]
            out["content"] = [c for c in built if c is not None]
        if block.is_error is not None:
            out["is_error"] = block.is_error
    elif kind == "image":
        if TYPE_CHECKING:
            assert isinstance(block, ImageBlock)
        if block.source == "base64":
            out = {"type": "image", "source": {"type": "base64", "media_type": block.media_type, "data": block.data}}
        else:
            out = {"type": "image", "source": {"type": "url", "url": block.url}}
    elif kind == "thinking":
        if TYPE_CHECKING:
            assert isinstance(block, ThinkingBlock)
        if not thinking:
            log_dropped("thinking block", "anthropic target without thinking")
            return None
        out = {"type": "thinking", "thinking": block.thinking, "signature": block.signature or ""}
    elif kind == "redacted_thinking":
        if TYPE_CHECKING:
            assert isinstance(block, RedactedThinkingBlock)
        if not thinking:
            log_dropped("redacted_thinking block", "anthropic target without thinking")
            return None
        out = {"type": "redacted_thinking", "data": block.data}
    # Every other kind is "opaque". The condition reads the block, where no assert can go: a
    # cast, run for opaque blocks only.
    elif cast(OpaqueBlock, block).dialect == "anthropic":
        if TYPE_CHECKING:
            assert isinstance(block, OpaqueBlock)
        return block.raw
    elif role == "assistant":
        if TYPE_CHECKING:
            assert isinstance(block, OpaqueBlock)
        log_dropped(f"{block.type} part of an assistant message", "anthropic")
        return None
    else:
        if TYPE_CHECKING:
            assert isinstance(block, OpaqueBlock)
        raise InvalidRequestError(
            f"a '{block.type}' content part cannot be sent to an Anthropic provider", param="messages"
        )
    cache_control = getattr(block, "cache_control", None)
    if cache_control is not None:
        out["cache_control"] = cache_control
    if same and block.extra:
        out.update(block.extra)
    return out
