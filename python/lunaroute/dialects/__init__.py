"""Dialects: the wire formats LunaRoute speaks (OpenAI Chat Completions, Anthropic Messages),
each converting to and from the normalized model (lunaroute.model). docs/TRANSLATION.md
holds the mapping tables and every translation rule."""

from __future__ import annotations

from .anthropic import AnthropicDialect
from .base import Dialect, StreamDecoder, StreamEncoder, TargetOptions
from .openai import OpenAIDialect

_DIALECTS: dict[str, Dialect] = {"openai": OpenAIDialect(), "anthropic": AnthropicDialect()}

DIALECT_NAMES = tuple(_DIALECTS)


def get_dialect(name: str) -> Dialect:
    """The dialect called `name` ("openai" | "anthropic"); dialects are stateless singletons."""
    try:
        return _DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; known: {', '.join(DIALECT_NAMES)}") from None


__all__ = [
    "DIALECT_NAMES",
    "AnthropicDialect",
    "Dialect",
    "OpenAIDialect",
    "StreamDecoder",
    "StreamEncoder",
    "TargetOptions",
    "get_dialect",
]
