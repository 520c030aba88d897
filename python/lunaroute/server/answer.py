"""A non-streaming answer: relayed as the provider sent it (same dialect) or translated."""

from __future__ import annotations

from typing import Any

import orjson

from ..dialects import ClientDialect, get_dialect
from ..egress.upstream import Served
from ..errors import UpstreamError
from ..model import NormalizedRequest
from ..pii import PiiEngine
from .exchange import Exchange
from .pii_answers import restore_body

# Upstream response headers a client may rely on, relayed on every route: the provider's
# request id and its rate-limit state. Kept to these on purpose: every header is converted
# and written by granian on each response, and the rest (date, server, CDN and connection
# headers) are hop-by-hop noise or would contradict our own.
_RELAY_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
_RELAY_NAMES = frozenset(("request-id", "x-request-id", "retry-after"))


def relay_headers(upstream: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in upstream if k in _RELAY_NAMES or k.startswith(_RELAY_PREFIXES)]


def answer(
    proto: Any,
    served: Served,
    client: ClientDialect,
    normalized: NormalizedRequest | None,
    resp_headers: list[tuple[str, str]],
    ex: Exchange,
    pii: PiiEngine | None = None,
) -> None:
    """`pii`: restore the tokens the model repeated (pii.restore_in_response)."""
    raw = served.body
    # Parsed even when relayed as is: it proves the body is a JSON object and gives the
    # usage (orjson on the whole body is faster here than scanning for the one key).
    try:
        up_data = orjson.loads(raw)
        if type(up_data) is not dict:
            raise ValueError("not an object")
    except ValueError:
        raise UpstreamError(f"provider '{served.target.provider}' returned a body that is not a JSON object") from None
    upstream = get_dialect(served.provider.dialect)
    if served.same:
        ex.input_tokens, ex.output_tokens = upstream.usage(up_data)
        out = raw
    else:
        assert normalized is not None
        norm_resp = upstream.parse_response(up_data)
        ex.input_tokens, ex.output_tokens = norm_resp.usage.input_tokens, norm_resp.usage.output_tokens
        out = orjson.dumps(client.build_response(norm_resp, model=served.up_model, request=normalized))
    ex.status = 200
    # Recorded as the model gave it: tokens, never the values they stand for.
    ex.response_body = out
    if pii is not None:
        out = restore_body(out, pii)
    hdrs = [("content-type", "application/json"), *resp_headers, *relay_headers(served.response.headers)]
    proto.response_bytes(200, hdrs, out)
