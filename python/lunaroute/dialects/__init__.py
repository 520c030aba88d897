"""Dialects: the wire formats LunaRoute speaks (OpenAI Chat Completions, Anthropic Messages,
and for clients only the OpenAI Responses API), each converting to and from the normalized
model (lunaroute.model). docs/TRANSLATION.md holds the mapping tables and every translation
rule."""

from __future__ import annotations

from .anthropic import AnthropicDialect
from .base import ClientDialect, Dialect, ProviderDialect, StreamDecoder, StreamEncoder, TargetOptions
from .openai import OpenAIDialect
from .responses import ResponsesDialect

# Dialects providers speak (and clients too: same-dialect routes relay their bytes).
_PROVIDER_DIALECTS: dict[str, Dialect] = {"openai": OpenAIDialect(), "anthropic": AnthropicDialect()}
# Every dialect a client may speak.
_CLIENT_DIALECTS: dict[str, ClientDialect] = {**_PROVIDER_DIALECTS, "responses": ResponsesDialect()}

# The dialects a listener of each type serves, its own first (errors on paths no dialect
# owns are answered in it). Rules bound to a listener type apply to every dialect it serves.
_SERVED_BY_TYPE: dict[str, tuple[str, ...]] = {"openai": ("openai", "responses"), "anthropic": ("anthropic",)}
LISTENER_DIALECTS: dict[str, tuple[str, ...]] = {
    **_SERVED_BY_TYPE,
    "both": tuple(name for names in _SERVED_BY_TYPE.values() for name in names),
}
_LISTENER_TYPE_OF = {name: kind for kind, names in _SERVED_BY_TYPE.items() for name in names}

DIALECT_NAMES = tuple(_CLIENT_DIALECTS)
PROVIDER_DIALECT_NAMES = tuple(_PROVIDER_DIALECTS)


def get_dialect(name: str) -> Dialect:
    """The provider dialect called `name` ("openai" | "anthropic"); dialects are stateless
    singletons. A client-only dialect is not one (see `client_dialect`)."""
    try:
        return _PROVIDER_DIALECTS[name]
    except KeyError:
        known = ", ".join(PROVIDER_DIALECT_NAMES)
        if name in _CLIENT_DIALECTS:
            raise ValueError(f"dialect {name!r} is spoken by clients only; provider dialects: {known}") from None
        raise ValueError(f"unknown dialect {name!r}; known: {known}") from None


def client_dialect(name: str) -> ClientDialect:
    """The dialect called `name` as a client speaks it ("openai" | "anthropic" | "responses")."""
    try:
        return _CLIENT_DIALECTS[name]
    except KeyError:
        raise ValueError(f"unknown dialect {name!r}; known: {', '.join(DIALECT_NAMES)}") from None


def is_provider_dialect(name: str) -> bool:
    """Whether providers speak `name` (else its requests are always translated)."""
    return name in _PROVIDER_DIALECTS


def listener_type_of(name: str) -> str:
    """The listener type a client dialect belongs to ("responses" → "openai"): what routing
    rules and prompt patches bound to a listener type match, whatever the listener's own
    type (a `both` listener routes each request as its dialect's type)."""
    return _LISTENER_TYPE_OF[name]


__all__ = [
    "DIALECT_NAMES",
    "LISTENER_DIALECTS",
    "PROVIDER_DIALECT_NAMES",
    "AnthropicDialect",
    "ClientDialect",
    "Dialect",
    "OpenAIDialect",
    "ProviderDialect",
    "ResponsesDialect",
    "StreamDecoder",
    "StreamEncoder",
    "TargetOptions",
    "client_dialect",
    "get_dialect",
    "is_provider_dialect",
    "listener_type_of",
]
