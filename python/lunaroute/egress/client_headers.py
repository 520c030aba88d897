"""Which of a client's request headers go upstream (docs/BYPASS.md, "Headers").

Chat routes forward an allow list: the headers the client's dialect names (`pass_headers`,
and on same-dialect routes its `pass_header_prefixes`), since LunaRoute builds the rest of
that request itself. Bypassed requests forward every header outside the deny list below:
their bodies are opaque (a multipart upload, audio) and mean nothing without the client's
own `content-type`, `accept` and the like. On every route the client's `user-agent` is kept,
with ours after it.
"""

from __future__ import annotations

from collections.abc import Iterable

# RFC 9110 §7.6.1: headers that describe one connection, not the request.
HOP_BY_HOP = frozenset(
    (
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    )
)
# Never copied from a client: framing the transport writes itself (`host`,
# `content-length`), credentials (the provider key, or the client's own provider key, is
# written by the connector: a LunaRoute key never leaves), cookies (a client of LunaRoute
# has no session at the provider), and `user-agent`, which is written combined.
DENIED = HOP_BY_HOP | frozenset(("host", "content-length", "authorization", "x-api-key", "cookie", "user-agent"))
# LunaRoute's own headers are for LunaRoute.
DENIED_PREFIXES = ("x-lunaroute-",)


def user_agent(client: str | None, ours: str) -> str:
    """The client's user-agent with ours appended (`claude-cli/2.1 (external, cli) lunaroute/0.1.0`)."""
    return f"{client} {ours}" if client else ours


def bypass_headers(items: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client headers a bypassed request carries upstream, in the client's order
    (names are lower-case, as granian gives them). Headers the client's `connection`
    header names are hop-by-hop too."""
    items = list(items)
    nominated: set[str] = set()
    for name, value in items:
        if name == "connection":
            nominated.update(token.strip().lower() for token in value.split(","))
    return [
        (name, value)
        for name, value in items
        if name not in DENIED and name not in nominated and not name.startswith(DENIED_PREFIXES)
    ]
