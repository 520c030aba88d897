"""Request-body features a rule may test: tools, images, estimated prompt size.

Every dialect's shape is understood (OpenAI Chat Completions, Anthropic Messages and the
Responses API's `instructions` and `input` items). The
body is whatever the client sent, already JSON-decoded but NOT validated, so every function
here accepts any value and never raises: a malformed body simply has fewer features.

These walk the body, so `RouteRequest` computes them lazily and only when some rule of the
table tests them (the passthrough hot path never pays for them).
"""

from __future__ import annotations

import math
from typing import Any

import orjson

# Content-part types that carry an image, in either dialect.
IMAGE_PART_TYPES = frozenset({"image_url", "image", "input_image"})

# A flat per-image estimate. Real costs depend on size and detail (OpenAI: 85 to ~1100,
# Anthropic: up to ~1600); a middle value keeps "long prompt" rules stable without decoding.
IMAGE_TOKENS = 1000

# Role/format overhead per message, as the providers' own estimators count it.
MESSAGE_OVERHEAD_TOKENS = 4

# The usual English-text ratio; good enough to choose a route, not to bill.
CHARS_PER_TOKEN = 4

# Nested tool results may hold content blocks; deeper nesting is not a real request shape.
_MAX_DEPTH = 4


def has_tools(body: Any) -> bool:
    """True when the request declares tools (`tools`, or OpenAI's legacy `functions`)."""
    if not isinstance(body, dict):
        return False
    for key in ("tools", "functions"):
        value = body.get(key)
        if isinstance(value, list) and value:
            return True
    return False


def _messages(body: Any) -> list[Any]:
    if not isinstance(body, dict):
        return []
    messages = body.get("messages")
    if isinstance(messages, list):
        return messages
    items = body.get("input")  # the Responses API: message and function-call items
    return items if isinstance(items, list) else []


def _is_image(part: dict[str, Any]) -> bool:
    kind = part.get("type")
    return isinstance(kind, str) and kind in IMAGE_PART_TYPES


def _parts_have_image(parts: Any, depth: int) -> bool:
    if not isinstance(parts, list) or depth > _MAX_DEPTH:
        return False
    for part in parts:
        if not isinstance(part, dict):
            continue
        if _is_image(part):
            return True
        # Anthropic tool_result blocks nest their own content blocks.
        if _parts_have_image(part.get("content"), depth + 1):
            return True
    return False


def has_images(body: Any) -> bool:
    """True when any message carries an image part (URL or base64, either dialect)."""
    for message in _messages(body):
        if isinstance(message, dict) and (
            _parts_have_image(message.get("content"), 0) or _parts_have_image(message.get("output"), 0)
        ):
            return True
    return False


def _json_chars(value: Any) -> int:
    """Characters of a JSON value (tool schemas, tool inputs); 0 if it cannot be encoded."""
    if value is None:
        return 0
    try:
        return len(orjson.dumps(value))
    except (TypeError, ValueError, orjson.JSONEncodeError):
        return 0


class _Tally:
    __slots__ = ("chars", "images")

    def __init__(self) -> None:
        self.chars = 0
        self.images = 0

    def content(self, content: Any, depth: int) -> None:
        if isinstance(content, str):
            self.chars += len(content)
        elif isinstance(content, list) and depth <= _MAX_DEPTH:
            for part in content:
                if isinstance(part, dict):
                    self.part(part, depth)
                elif isinstance(part, str):
                    self.chars += len(part)

    def part(self, part: dict[str, Any], depth: int) -> None:
        if _is_image(part):
            self.images += 1
            return
        for key in ("text", "thinking"):
            value = part.get(key)
            if isinstance(value, str):
                self.chars += len(value)
        if "input" in part:  # Anthropic tool_use
            self.chars += _json_chars(part.get("input"))
        if "content" in part:  # Anthropic tool_result
            self.content(part.get("content"), depth + 1)

    def message(self, message: dict[str, Any]) -> None:
        self.content(message.get("content"), 0)
        for key in ("arguments", "output"):  # Responses API function_call / function_call_output items
            self.content(message.get(key), 0)
        tool_calls = message.get("tool_calls")  # OpenAI assistant tool calls
        if isinstance(tool_calls, list):
            for call in tool_calls:
                function = call.get("function") if isinstance(call, dict) else None
                if isinstance(function, dict):
                    for key in ("name", "arguments"):
                        value = function.get(key)
                        if isinstance(value, str):
                            self.chars += len(value)


def estimate_prompt_tokens(body: Any) -> int:
    """A cheap estimate of the prompt's tokens: text/4 + per-message overhead + images.

    Counts the system prompt (Anthropic `system`, string or blocks), every message's text
    parts, tool calls and tool results, and the tool definitions' JSON.
    """
    if not isinstance(body, dict):
        return 0
    tally = _Tally()
    tally.content(body.get("system"), 0)
    for key in ("instructions", "input"):  # the Responses API (a string `input` is one user turn)
        if isinstance(body.get(key), str):
            tally.chars += len(body[key])
    messages = _messages(body)
    for message in messages:
        if isinstance(message, dict):
            tally.message(message)
    for key in ("tools", "functions"):
        tally.chars += _json_chars(body.get(key))
    return (
        math.ceil(tally.chars / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS * len(messages) + IMAGE_TOKENS * tally.images
    )
