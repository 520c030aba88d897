"""The two forms of tool-call arguments: OpenAI's JSON string, Anthropic's JSON object.

A ToolUseBlock holds whichever form its dialect gave (`arguments` or `input`); these compute
the other one only when a builder needs it.
"""

from __future__ import annotations

from typing import Any

import orjson

from ..errors import InvalidRequestError
from ..model import ToolUseBlock


def arguments_json(block: ToolUseBlock) -> str:
    """The arguments as the JSON text OpenAI sends (`function.arguments`)."""
    if block.arguments is not None:
        return block.arguments
    try:
        return orjson.dumps(block.input if block.input is not None else {}).decode()
    except TypeError as exc:  # e.g. an integer beyond 64 bits: JSON a provider cannot take either
        raise InvalidRequestError(f"a tool call's input cannot be encoded as JSON: {exc}", param="messages") from None


def input_object(block: ToolUseBlock) -> dict[str, Any] | None:
    """The arguments as the JSON object Anthropic sends (`tool_use.input`); None when the
    OpenAI argument text is not a JSON object (a model may emit truncated or invalid JSON).
    An empty argument string means no arguments: `{}`."""
    value = block.input
    if value is None:
        text = block.arguments
        if not text or text.isspace():
            return {}
        try:
            value = orjson.loads(text)
        except orjson.JSONDecodeError:
            return None
    return value if type(value) is dict else None
