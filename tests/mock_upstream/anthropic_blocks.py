"""Validation of Anthropic content blocks (message content, system blocks, tool results)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from .anthropic_checks import AnthropicChecks

IMAGE_MEDIA_TYPES = ["image/jpeg", "image/png", "image/gif", "image/webp"]
TOOL_USE_ID = re.compile(r"^[a-zA-Z0-9_-]+$")

# Blocks this mock checks field by field; other documented types (server tool results,
# container uploads, ...) are accepted as objects so that valid traffic is never refused.
CHECKED_TYPES = [
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
]
LOOSE_TYPES = [
    "server_tool_use",
    "web_search_tool_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "bash_code_execution_tool_result",
    "text_editor_code_execution_tool_result",
    "tool_search_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
    "tool_reference",
]
ALL_TYPES = CHECKED_TYPES + LOOSE_TYPES

ASSISTANT_ONLY = {"tool_use", "thinking", "redacted_thinking", "server_tool_use"}
USER_ONLY = {"tool_result"}


def check_block(c: AnthropicChecks, path: str, block: Any, role: str) -> None:
    """One block of a message's `content` array."""
    if not c.obj(path, block):
        return
    kind = block.get("type")
    if kind is None:
        c.add(path, "Unable to extract tag using discriminator 'type'")
        return
    if kind not in ALL_TYPES:
        tags = ", ".join(f"'{t}'" for t in ALL_TYPES)
        c.add(
            path,
            f"Input tag '{kind}' found using 'type' does not match any of the expected tags: {tags}",
        )
        return
    if role == "user" and kind in ASSISTANT_ONLY:
        c.add(f"{path}.type", f"`{kind}` blocks are only allowed in `assistant` messages")
        return
    if role == "system" and kind != "text":
        c.add(f"{path}.type", f"`{kind}` blocks are not allowed in `system` messages")
        return
    if role == "assistant" and kind in USER_ONLY:
        c.add(f"{path}.type", f"`{kind}` blocks are only allowed in `user` messages")
        return
    checker = _CHECKERS.get(kind)
    if checker is not None:
        checker(c, path, block)


def check_text_block(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "text", "cache_control", "citations"})
    text = block.get("text")
    if text is None:
        c.missing(f"{path}.text")
    elif c.string(f"{path}.text", text):
        if not text:
            c.add("messages", "text content blocks must be non-empty")
        elif not text.strip():
            c.add("messages", "text content blocks must contain non-whitespace text")
    c.cache_control(f"{path}.cache_control", block.get("cache_control"))
    if block.get("citations") is not None:
        c.array(f"{path}.citations", block["citations"])


def _check_image(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "source", "cache_control"})
    c.cache_control(f"{path}.cache_control", block.get("cache_control"))
    source = block.get("source")
    if source is None:
        c.missing(f"{path}.source")
        return
    if not c.obj(f"{path}.source", source):
        return
    kind = source.get("type")
    if not c.literal(f"{path}.source.type", kind, ["base64", "url", "file"]):
        return
    if kind == "base64":
        c.extra(f"{path}.source", source, {"type", "media_type", "data"})
        if "media_type" not in source:
            c.missing(f"{path}.source.media_type")
        else:
            c.literal(f"{path}.source.media_type", source["media_type"], IMAGE_MEDIA_TYPES)
        _check_base64(c, f"{path}.source.data", source.get("data"))
    elif kind == "url":
        c.extra(f"{path}.source", source, {"type", "url"})
        _check_url(c, f"{path}.source.url", source.get("url"))
    else:
        c.extra(f"{path}.source", source, {"type", "file_id"})
        if "file_id" not in source:
            c.missing(f"{path}.source.file_id")
        else:
            c.string(f"{path}.source.file_id", source["file_id"])


def _check_document(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "source", "cache_control", "citations", "context", "title"})
    c.cache_control(f"{path}.cache_control", block.get("cache_control"))
    source = block.get("source")
    if source is None:
        c.missing(f"{path}.source")
        return
    if not c.obj(f"{path}.source", source):
        return
    kind = source.get("type")
    if not c.literal(f"{path}.source.type", kind, ["base64", "text", "content", "url", "file"]):
        return
    if kind == "base64":
        c.literal(f"{path}.source.media_type", source.get("media_type"), ["application/pdf"])
        _check_base64(c, f"{path}.source.data", source.get("data"))
    elif kind == "text":
        c.literal(f"{path}.source.media_type", source.get("media_type"), ["text/plain"])
        c.string(f"{path}.source.data", source.get("data"))
    elif kind == "url":
        _check_url(c, f"{path}.source.url", source.get("url"))
    elif kind == "file":
        c.string(f"{path}.source.file_id", source.get("file_id"))
    else:
        content = source.get("content")
        if not isinstance(content, str) and c.array(f"{path}.source.content", content):
            for k, inner in enumerate(content):
                check_block(c, f"{path}.source.content.{k}", inner, "user")


def _check_search_result(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "source", "title", "content", "citations", "cache_control"})
    c.string(f"{path}.source", block.get("source"))
    c.string(f"{path}.title", block.get("title"))
    content = block.get("content")
    if c.array(f"{path}.content", content):
        for k, inner in enumerate(content):
            if c.obj(f"{path}.content.{k}", inner):
                if c.literal(f"{path}.content.{k}.type", inner.get("type"), ["text"]):
                    check_text_block(c, f"{path}.content.{k}", inner)


def _check_tool_use(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "id", "name", "input", "cache_control", "caller"})
    block_id = block.get("id")
    if block_id is None:
        c.missing(f"{path}.id")
    elif c.string(f"{path}.id", block_id) and not TOOL_USE_ID.match(block_id):
        c.add(f"{path}.id", "String should match pattern '^[a-zA-Z0-9_-]+$'")
    if "name" not in block:
        c.missing(f"{path}.name")
    elif c.string(f"{path}.name", block["name"]) and not block["name"]:
        c.add(f"{path}.name", "String should have at least 1 character")
    if "input" not in block:
        c.missing(f"{path}.input")
    else:
        c.obj(f"{path}.input", block["input"])
    c.cache_control(f"{path}.cache_control", block.get("cache_control"))


def _check_tool_result(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "tool_use_id", "content", "is_error", "cache_control"})
    tool_use_id = block.get("tool_use_id")
    if tool_use_id is None:
        c.missing(f"{path}.tool_use_id")
    elif c.string(f"{path}.tool_use_id", tool_use_id) and not TOOL_USE_ID.match(tool_use_id):
        c.add(f"{path}.tool_use_id", "String should match pattern '^[a-zA-Z0-9_-]+$'")
    if "is_error" in block:
        c.boolean(f"{path}.is_error", block["is_error"], nullable=True)
    c.cache_control(f"{path}.cache_control", block.get("cache_control"))
    content = block.get("content")
    if content is None or isinstance(content, str):
        return
    if not c.array(f"{path}.content", content):
        return
    for k, inner in enumerate(content):
        where = f"{path}.content.{k}"
        if not c.obj(where, inner):
            continue
        kind = inner.get("type")
        if c.literal(f"{where}.type", kind, ["text", "image", "search_result", "document", "tool_reference"]):
            checker = _CHECKERS.get(kind)
            if checker is not None:
                checker(c, where, inner)


def _check_thinking(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "thinking", "signature"})
    for key in ("thinking", "signature"):
        if key not in block:
            c.missing(f"{path}.{key}")
        else:
            c.string(f"{path}.{key}", block[key])


def _check_redacted_thinking(c: AnthropicChecks, path: str, block: dict[str, Any]) -> None:
    c.extra(path, block, {"type", "data"})
    if "data" not in block:
        c.missing(f"{path}.data")
    else:
        c.string(f"{path}.data", block["data"])


def _check_base64(c: AnthropicChecks, path: str, data: Any) -> None:
    if data is None:
        c.missing(path)
        return
    if not c.string(path, data):
        return
    try:
        base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        c.add(path, "Invalid base64 data")


def _check_url(c: AnthropicChecks, path: str, url: Any) -> None:
    if url is None:
        c.missing(path)
    elif c.string(path, url) and not url.startswith(("http://", "https://")):
        c.add(path, "URL must use the http or https scheme")


_CHECKERS = {
    "text": check_text_block,
    "image": _check_image,
    "document": _check_document,
    "search_result": _check_search_result,
    "tool_use": _check_tool_use,
    "tool_result": _check_tool_result,
    "thinking": _check_thinking,
    "redacted_thinking": _check_redacted_thinking,
}
