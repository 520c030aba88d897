"""What the recorder takes from an exchange, and how a spilled one is written to disk.

The pipeline hands over its `Exchange` (server/exchange.py) and forgets it. The recorder only
reads attributes, always through `getattr` with a default, so an exchange that lacks a field
(an older pipeline, a test double) still records what it has. `capture()` runs on the
writer or spill thread, never on the request path.
"""

from __future__ import annotations

import os
import re
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

# Scalar attributes copied as they are: (attribute, default).
_SCALARS: tuple[tuple[str, Any], ...] = (
    ("request_id", ""),
    ("listener", ""),
    ("dialect", ""),
    ("request_model", ""),
    ("provider", ""),
    ("model", ""),
    ("stream", False),
    ("attempts", 1),
    ("key_id", None),
    ("tenant", None),
    ("status", 0),
    ("error", None),
    ("latency_s", 0.0),
    ("ttft_s", None),
    ("input_tokens", 0),
    ("output_tokens", 0),
    ("cache_read_tokens", 0),
    ("cache_write_tokens", 0),
    ("cost_cents", None),
    ("conversation_id", None),
    ("prompt_patches", ()),
)
_SAFE_ID = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")
# Claude Code sends `metadata.user_id` as "user_<hash>_account_<uuid>_session_<uuid>".
_CLAUDE_SESSION = re.compile(r"_session_([0-9A-Za-z-]{8,64})$")


@dataclass(slots=True)
class Captured:
    """One exchange as plain values, safe to keep after the request ended."""

    id: str
    timestamp: float
    meta: dict[str, Any]
    fallbacks: list[dict[str, Any]]
    request_body: bytes | None
    response_body: bytes | None
    chunks: list[tuple[float, bytes]] = field(default_factory=list)


def new_session_id(now: float | None = None) -> str:
    """Time-ordered and unique: `sess_` + nanoseconds (hex) + 48 random bits."""
    ns = time.time_ns() if now is None else int(now * 1e9)
    return f"sess_{ns:x}{os.urandom(6).hex()}"


def capture(ex: Any, request_data: Any = None, observed_at: float | None = None) -> Captured:
    """Read what is recorded from `ex` (`request_data`, the parsed request the pipeline's
    observers receive, stands in when the exchange carries no `request_body`)."""
    meta = {name: getattr(ex, name, default) for name, default in _SCALARS}
    session_id = getattr(ex, "session_id", None)
    if not isinstance(session_id, str) or not _SAFE_ID.fullmatch(session_id):
        # Ids name files: anything that is not a plain token is replaced, never used as a path.
        session_id = new_session_id()
    timestamp = getattr(ex, "timestamp", None)
    if not isinstance(timestamp, int | float) or isinstance(timestamp, bool):
        base = observed_at if observed_at is not None else time.time()
        timestamp = base - float(meta["latency_s"] or 0.0)
    request_body = _as_bytes(getattr(ex, "request_body", None))
    if request_body is None and request_data is not None:
        try:
            request_body = orjson.dumps(request_data)
        except TypeError:
            request_body = None
    response_body = _as_bytes(getattr(ex, "response_body", None))
    chunks = getattr(ex, "stream_chunks", None) or []
    fallbacks = [_fallback(item) for item in getattr(ex, "fallbacks", None) or ()]
    return Captured(
        id=session_id,
        timestamp=float(timestamp),
        meta=meta,
        fallbacks=fallbacks,
        request_body=request_body,
        response_body=response_body,
        chunks=[(float(t), bytes(c)) for t, c in chunks],
    )


def conversation_of(meta_value: Any, request: Any) -> str | None:
    """The conversation id the pipeline found, else the one Claude Code puts in the body."""
    if isinstance(meta_value, str) and meta_value:
        return meta_value
    if isinstance(request, dict):
        metadata = request.get("metadata")
        if isinstance(metadata, dict):
            user_id = metadata.get("user_id")
            if isinstance(user_id, str):
                found = _CLAUDE_SESSION.search(user_id)
                if found:
                    return found.group(1)
    return None


def _fallback(item: Any) -> dict[str, Any]:
    if isinstance(item, dict):
        return {str(k): _plain(v) for k, v in item.items()}
    if isinstance(item, tuple | list) and len(item) >= 3:
        return {"provider": _plain(item[0]), "model": _plain(item[1]), "outcome": _plain(item[2])}
    return {"outcome": _plain(item)}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _as_bytes(value: Any) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    if isinstance(value, str):
        return value.encode()
    return None


# ---------------------------------------------------------------------- spill encoding
# A spilled exchange: u32 length of a JSON head, the head, then the blobs it lists in order.
_U32 = struct.Struct("<I")


def encode_captured(cap: Captured) -> bytes:
    blobs: list[bytes] = []
    lengths: list[int] = []

    def blob(data: bytes | None) -> int:
        if data is None:
            return -1
        blobs.append(data)
        lengths.append(len(data))
        return len(blobs) - 1

    head = {
        "id": cap.id,
        "timestamp": cap.timestamp,
        "meta": cap.meta,
        "fallbacks": cap.fallbacks,
        "request": blob(cap.request_body),
        "response": blob(cap.response_body),
        "chunks": [[t, blob(c)] for t, c in cap.chunks],
    }
    head["lengths"] = lengths
    head_bytes = orjson.dumps(head, default=str)
    return b"".join([_U32.pack(len(head_bytes)), head_bytes, *blobs])


def decode_captured(data: bytes) -> Captured:
    """A spilled exchange back; ValueError (or KeyError, TypeError) when it is damaged."""
    (size,) = _U32.unpack_from(data, 0)
    head = orjson.loads(data[4 : 4 + size])
    blobs: list[bytes] = []
    pos = 4 + size
    for length in head["lengths"]:
        blobs.append(data[pos : pos + length])
        pos += length
    if pos != len(data):
        raise ValueError("spilled exchange: blob lengths do not match the record")

    def get(i: int) -> bytes | None:
        return None if i < 0 else blobs[i]

    return Captured(
        id=head["id"],
        timestamp=head["timestamp"],
        meta=head["meta"],
        fallbacks=head["fallbacks"],
        request_body=get(head["request"]),
        response_body=get(head["response"]),
        chunks=[(t, get(i) or b"") for t, i in head["chunks"]],
    )
