"""Errors in the OpenAI dialect: `{"error": {"message", "type", "param", "code"}}`."""

from __future__ import annotations

from typing import Any

import orjson

from ...errors import GatewayError
from .._error_types import body_snippet, openai_type, upstream_gateway_error


def error_object(err: GatewayError) -> dict[str, Any]:
    return {"message": err.message, "type": openai_type(err), "param": err.param, "code": err.code}


def error_body(err: GatewayError) -> bytes:
    return orjson.dumps({"error": error_object(err)})


def stream_error(err: GatewayError) -> bytes:
    """The in-stream form: one `data:` event holding the error object (no [DONE] after it:
    the stream ends abnormally, which clients must see)."""
    return b"data: " + error_body(err) + b"\n\n"


def parse_upstream_error(status: int, body: bytes) -> GatewayError:
    message, etype, param, code = _read(body)
    if message is None:
        message = body_snippet(body, status)
    return upstream_gateway_error("openai", status, message, etype, param, code)


def _read(body: bytes) -> tuple[str | None, str | None, str | None, str | None]:
    """OpenAI's error shape, plus the looser ones OpenAI-compatible servers use
    (`{"error": "text"}`, `{"message": ...}`, `{"detail": ...}`)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None, None, None
    if type(data) is not dict:
        return None, None, None, None
    err = data.get("error")
    if type(err) is dict:
        return _s(err.get("message")), _s(err.get("type")), _s(err.get("param")), _code(err.get("code"))
    if type(err) is str:
        return err, None, None, None
    for key in ("message", "detail"):
        if type(data.get(key)) is str:
            return data[key], None, None, None
    return None, None, None, None


def _s(value: Any) -> str | None:
    return value if type(value) is str else None


def _code(value: Any) -> str | None:
    if type(value) is str:
        return value
    if type(value) is int:
        return str(value)
    return None
