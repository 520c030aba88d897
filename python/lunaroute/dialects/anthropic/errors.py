"""Errors in the Anthropic dialect: `{"type": "error", "error": {"type", "message"}}`."""

from __future__ import annotations

from typing import Any

import orjson

from ...errors import GatewayError
from .._error_types import anthropic_type, body_snippet, upstream_gateway_error


def error_body(err: GatewayError) -> bytes:
    return orjson.dumps({"type": "error", "error": {"type": anthropic_type(err), "message": err.message}})


def stream_error(err: GatewayError) -> bytes:
    """The in-stream form: an `error` event, after which the stream ends."""
    return b"event: error\ndata: " + error_body(err) + b"\n\n"


def parse_upstream_error(status: int, body: bytes) -> GatewayError:
    message, etype = _read(body)
    if message is None:
        message = body_snippet(body, status)
    return upstream_gateway_error("anthropic", status, message, etype)


_STATUS_OF_TYPE = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "overloaded_error": 529,
}


def error_of_event(data: Any) -> GatewayError:
    """The GatewayError for an in-stream `error` event's payload (already decoded)."""
    err = data.get("error") if type(data) is dict else None
    etype = err.get("type") if type(err) is dict else None
    message = err.get("message") if type(err) is dict else None
    if type(message) is not str:
        message = "the Anthropic provider reported an error in the stream"
    status = _STATUS_OF_TYPE.get(etype, 500) if type(etype) is str else 500
    return upstream_gateway_error("anthropic", status, message, etype if type(etype) is str else None)


def _read(body: bytes) -> tuple[str | None, str | None]:
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if type(data) is not dict:
        return None, None
    err = data.get("error")
    if type(err) is dict:
        message, etype = err.get("message"), err.get("type")
        return (message if type(message) is str else None), (etype if type(etype) is str else None)
    if type(data.get("message")) is str:
        return data["message"], None
    return None, None
