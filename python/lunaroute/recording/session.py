"""A captured exchange → the session document, its stream events and its index row.

The document (JSON, the payload of `<id>.session`):

    format, id, request_id, timestamp (unix seconds), tenant, key_id, listener, dialect,
    request_model, provider, model, status, error, stream, latency_ms, ttft_ms, attempts,
    usage{input_tokens, output_tokens, cache_read_tokens, cache_write_tokens}, cost_cents,
    conversation_id, fallbacks_tried[{provider, model, outcome}], prompt_patches[id],
    request, response, stream_error, stream_events

`request` and `response` are the JSON bodies (a body that is not JSON is kept as a string);
`request` is as the client sent it, the prompts.json patches it got only named in
`prompt_patches`. For a stream, `response` is the answer assembled from the events
(streams.py) and the events themselves go to the `.stream` file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from .capture import Captured, conversation_of
from .streams import assemble

DOCUMENT_FORMAT = 1


@dataclass(slots=True)
class BuiltSession:
    id: str
    timestamp: float
    document: bytes
    stream_lines: list[bytes] | None
    row_values: dict[str, Any]


def build_session(cap: Captured) -> BuiltSession:
    m = cap.meta
    request = _json_or_text(cap.request_body)
    stream_lines: list[bytes] | None = None
    stream_error = None
    if cap.chunks:
        assembled = assemble(str(m.get("dialect") or ""), cap.chunks)
        response = assembled.response
        stream_lines = assembled.events
        stream_error = assembled.error
    else:
        response = _json_or_text(cap.response_body)
    ttft = m.get("ttft_s")
    doc = {
        "format": DOCUMENT_FORMAT,
        "id": cap.id,
        "request_id": m.get("request_id"),
        "timestamp": cap.timestamp,
        "tenant": m.get("tenant"),
        "key_id": m.get("key_id"),
        "listener": m.get("listener"),
        "dialect": m.get("dialect"),
        "request_model": m.get("request_model"),
        "provider": m.get("provider"),
        "model": m.get("model"),
        "status": m.get("status"),
        "error": m.get("error"),
        "stream": bool(m.get("stream")),
        "latency_ms": round(float(m.get("latency_s") or 0.0) * 1000.0, 3),
        "ttft_ms": round(float(ttft) * 1000.0, 3) if isinstance(ttft, int | float) else None,
        "attempts": m.get("attempts"),
        "usage": {
            "input_tokens": _int(m.get("input_tokens")),
            "output_tokens": _int(m.get("output_tokens")),
            "cache_read_tokens": _int(m.get("cache_read_tokens")),
            "cache_write_tokens": _int(m.get("cache_write_tokens")),
        },
        "cost_cents": _number(m.get("cost_cents")),
        "conversation_id": conversation_of(m.get("conversation_id"), request),
        "fallbacks_tried": cap.fallbacks,
        "prompt_patches": [str(i) for i in m.get("prompt_patches") or ()],
        "request": request,
        "response": response,
        "stream_error": stream_error,
        "stream_events": len(stream_lines) if stream_lines is not None else 0,
    }
    return BuiltSession(
        id=cap.id,
        timestamp=cap.timestamp,
        document=orjson.dumps(doc, default=str),
        stream_lines=stream_lines,
        row_values=row_values(doc),
    )


def row_values(doc: dict[str, Any]) -> dict[str, Any]:
    """The index columns of a session document (also what reindex reads back)."""
    usage = doc.get("usage") or {}
    return {
        "id": doc["id"],
        "ts": float(doc.get("timestamp") or 0.0),
        "tenant": doc.get("tenant"),
        "key_id": doc.get("key_id"),
        "listener": doc.get("listener"),
        "request_model": doc.get("request_model"),
        "model": doc.get("model"),
        "provider": doc.get("provider"),
        "status": _int(doc.get("status")),
        "input_tokens": _int(usage.get("input_tokens")),
        "output_tokens": _int(usage.get("output_tokens")),
        "cost_cents": _number(doc.get("cost_cents")),
        "conversation_id": doc.get("conversation_id"),
        "stream": 1 if doc.get("stream") else 0,
        "latency_ms": _number(doc.get("latency_ms")),
    }


def _json_or_text(body: bytes | None) -> Any:
    if body is None:
        return None
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace")


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
