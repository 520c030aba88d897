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
from .index import COLUMNS
from .streams import assemble

DOCUMENT_FORMAT = 1


# The index columns a session itself gives: all but `path` and `size`, which come from where
# and how it was written.
ROW_COLUMNS = tuple(c for c in COLUMNS if c not in ("path", "size"))


@dataclass(slots=True)
class BuiltSession:
    id: str
    timestamp: float
    document: bytes
    stream_lines: list[bytes] | None
    row: tuple[Any, ...]  # values of ROW_COLUMNS, in that order

    @property
    def row_values(self) -> dict[str, Any]:
        return dict(zip(ROW_COLUMNS, self.row))


def build_session(cap: Captured) -> BuiltSession:
    m = cap.meta
    request, request_json = _json_or_text(cap.request_body)
    stream_lines: list[bytes] | None = None
    stream_error = None
    if cap.chunks:
        assembled = assemble(str(m.get("dialect") or ""), cap.chunks)
        response: Any = assembled.response
        stream_lines = assembled.events
        stream_error = assembled.error
    else:
        response, response_json = _json_or_text(cap.response_body)
        if response_json is not None:
            response = response_json
    ttft = m.get("ttft_s")
    tenant = m.get("tenant")
    key_id = m.get("key_id")
    listener = m.get("listener")
    request_model = m.get("request_model")
    provider = m.get("provider")
    model = m.get("model")
    status = m.get("status")
    input_tokens = _int(m.get("input_tokens"))
    output_tokens = _int(m.get("output_tokens"))
    stream = bool(m.get("stream"))
    latency_ms = round(float(m.get("latency_s") or 0.0) * 1000.0, 3)
    cost_cents = _number(m.get("cost_cents"))
    conversation_id = conversation_of(m.get("conversation_id"), request)
    doc = {
        "format": DOCUMENT_FORMAT,
        "id": cap.id,
        "request_id": m.get("request_id"),
        "timestamp": cap.timestamp,
        "tenant": tenant,
        "key_id": key_id,
        "listener": listener,
        "dialect": m.get("dialect"),
        "request_model": request_model,
        "provider": provider,
        "model": model,
        "status": status,
        "error": m.get("error"),
        "stream": stream,
        "latency_ms": latency_ms,
        "ttft_ms": round(float(ttft) * 1000.0, 3) if isinstance(ttft, int | float) else None,
        "attempts": m.get("attempts"),
        "usage": {
            "input_tokens": input_tokens,
            "output_tokens": output_tokens,
            "cache_read_tokens": _int(m.get("cache_read_tokens")),
            "cache_write_tokens": _int(m.get("cache_write_tokens")),
        },
        "cost_cents": cost_cents,
        "conversation_id": conversation_id,
        "fallbacks_tried": cap.fallbacks,
        "prompt_patches": [str(i) for i in m.get("prompt_patches") or ()],
        "request": request if request_json is None else request_json,
        "response": response,
        "stream_error": stream_error,
        "stream_events": len(stream_lines) if stream_lines is not None else 0,
    }
    # The same values row_values() reads back from the document (reindex), without reading it.
    row = (
        cap.id,
        float(cap.timestamp or 0.0),
        tenant,
        key_id,
        listener,
        request_model,
        model,
        provider,
        _int(status),
        input_tokens,
        output_tokens,
        cost_cents,
        conversation_id,
        1 if stream else 0,
        latency_ms,
    )
    return BuiltSession(
        id=cap.id,
        timestamp=cap.timestamp,
        document=orjson.dumps(doc, default=str),
        stream_lines=stream_lines,
        row=row,
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


def _json_or_text(body: bytes | None) -> tuple[Any, orjson.Fragment | None]:
    """(the body's value, the body itself to embed when it is JSON). A JSON body is parsed
    (that is the check, and the value is what conversation_of reads) but written into the
    document as the bytes it is: re-serializing the parsed value would only cost time."""
    if body is None:
        return None, None
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError:
        return body.decode("utf-8", "replace"), None
    return value, orjson.Fragment(body)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
