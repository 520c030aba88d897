"""What an endpoint hands back to the server for sending, and SSE framing helpers."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class JsonReply:
    status: int
    body: Any
    headers: list[tuple[str, str]] = field(default_factory=list)

    def encoded(self) -> bytes:
        return json.dumps(self.body, ensure_ascii=False).encode()


@dataclass
class StreamReply:
    """A 200 text/event-stream answer; each event is sent as one HTTP chunk."""

    events: list[bytes]
    headers: list[tuple[str, str]] = field(default_factory=list)


def sse_data(payload: Any) -> bytes:
    """`data: <json>` event (OpenAI style)."""
    return b"data: " + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


def sse_named(event: str, payload: Any) -> bytes:
    """`event: <name>` + `data: <json>` (Anthropic style)."""
    return f"event: {event}\ndata: ".encode() + json.dumps(payload, ensure_ascii=False).encode() + b"\n\n"


_PIECE = re.compile(r"\s*\S+\s*?(?=\s|$)|\s+$")


def text_pieces(text: str) -> list[str]:
    """Split text into word-sized deltas whose concatenation is exactly `text`."""
    if not text:
        return []
    pieces = _PIECE.findall(text)
    if "".join(pieces) != text:  # defensive: never lose a character
        return [text]
    return pieces


def json_pieces(text: str, size: int = 12) -> list[str]:
    """Split a JSON string into fixed-size fragments (as argument deltas arrive)."""
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]
