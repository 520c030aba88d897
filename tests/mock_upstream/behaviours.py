"""Scripted behaviours: what the next matching API request gets instead of a normal answer.

A script is a queue of behaviours posted to /_control/script. Each API request takes the
first queued behaviour whose filters (`path`, `model`) match it; unmatched requests are
answered normally. Fields (all optional, combinable):
  status                   HTTP status; non-2xx answers an error in the endpoint's dialect
  retry_after              seconds, sent as the Retry-After header (429/5xx)
  message, error_type, code  override the error body's fields
  body                     a JSON value sent verbatim as the response body
  headers                  extra response headers
  text                     reply text to use instead of the planned one
  tool_calls               [{name, input?, id?}]: the answer calls these tools (after `text`, if
                           any) with these arguments, stop reason tool_use / tool_calls
  usage                    {input_tokens, output_tokens, cache_read_input_tokens?,
                           cache_creation_input_tokens?} reported instead of the counted usage
                           (Anthropic's terms; OpenAI answers get prompt_tokens = all three
                           inputs, cached_tokens = the cache reads)
  reset                    true: close the socket with a TCP RST, no response
  hang_ms                  sleep this long before answering (or resetting)
  stream_die_after         send this many SSE events (bytes for JSON bodies), then close
                           the connection without finishing the body
  stream_reset_after       the same, but end with a TCP RST
  stream_end_after         the same, but end the body properly (last chunk; for JSON, a
                           Content-Length that fits the cut), so only what is missing tells
  stream_stall_after,      after this many events, pause stream_stall_ms (watching the peer),
  stream_stall_ms            then go on
  stream_inject_after,     after this many events, send the raw text stream_inject (not an
  stream_inject              event: garbage, a malformed or oversized line)
  stream_chunk_bytes       cut the stream's bytes into HTTP chunks of this size, across event
                           boundaries (each chunk is written and flushed on its own)
  delay_between_events_ms  pause between SSE events (between chunks with stream_chunk_bytes)
  path, model              filters: request path ends with `path`; body model equals `model`
"""

from __future__ import annotations

import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

from .responses import ScriptedCall
from .validation_common import is_int, is_number

# The id a client echoes in its tool result; Anthropic refuses anything else.
TOOL_ID = re.compile(r"^[a-zA-Z0-9_-]+$")

_FIELDS = {
    "status",
    "retry_after",
    "message",
    "error_type",
    "code",
    "body",
    "headers",
    "text",
    "tool_calls",
    "usage",
    "reset",
    "hang_ms",
    "stream_die_after",
    "stream_reset_after",
    "stream_end_after",
    "stream_stall_after",
    "stream_stall_ms",
    "stream_inject_after",
    "stream_inject",
    "stream_chunk_bytes",
    "delay_between_events_ms",
    "path",
    "model",
}


_USAGE_REQUIRED = ("input_tokens", "output_tokens")
_USAGE_OPTIONAL = ("cache_read_input_tokens", "cache_creation_input_tokens")


# How a cut stream (or JSON body) ends, by the field that asks for the cut.
_CUTS = {"stream_die_after": "die", "stream_reset_after": "reset", "stream_end_after": "end"}
_COUNTS = (
    "hang_ms",
    *_CUTS,
    "stream_stall_after",
    "stream_stall_ms",
    "stream_inject_after",
    "delay_between_events_ms",
)
# Fields that only mean something together.
_PAIRS = (("stream_stall_after", "stream_stall_ms"), ("stream_inject_after", "stream_inject"))


class BehaviourError(ValueError):
    """A scripted behaviour is malformed; the control API answers 400 with this message."""


@dataclass(frozen=True)
class Behaviour:
    status: int = 200
    retry_after: float | None = None
    message: str | None = None
    error_type: str | None = None
    code: str | None = None
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str | None = None
    tool_calls: list[dict[str, Any]] | None = None
    usage: dict[str, int] | None = None
    reset: bool = False
    hang_ms: int = 0
    stream_die_after: int | None = None
    stream_reset_after: int | None = None
    stream_end_after: int | None = None
    stream_stall_after: int | None = None
    stream_stall_ms: int = 0
    stream_inject_after: int | None = None
    stream_inject: str | None = None
    stream_chunk_bytes: int | None = None
    delay_between_events_ms: int = 0
    path: str | None = None
    model: str | None = None

    @classmethod
    def from_json(cls, raw: Any) -> Behaviour:
        if not isinstance(raw, dict):
            raise BehaviourError(f"a behaviour must be an object, got {type(raw).__name__}")
        unknown = sorted(set(raw) - _FIELDS)
        if unknown:
            raise BehaviourError(f"unknown behaviour field(s): {', '.join(unknown)}")
        status = raw.get("status", 200)
        if not is_int(status) or not 100 <= status <= 599:
            raise BehaviourError("status must be an integer HTTP status (100-599)")
        for key in _COUNTS:
            value = raw.get(key)
            if value is not None and (not is_int(value) or value < 0):
                raise BehaviourError(f"{key} must be a non-negative integer")
        chunk_bytes = raw.get("stream_chunk_bytes")
        if chunk_bytes is not None and (not is_int(chunk_bytes) or chunk_bytes < 1):
            raise BehaviourError("stream_chunk_bytes must be a positive integer")
        cuts = [key for key in _CUTS if raw.get(key) is not None]
        if len(cuts) > 1:
            raise BehaviourError(f"only one way to cut a stream at a time, got {', '.join(cuts)}")
        for first, second in _PAIRS:
            if (raw.get(first) is None) != (raw.get(second) is None):
                raise BehaviourError(f"{first} and {second} go together")
        inject = raw.get("stream_inject")
        if inject is not None and (not isinstance(inject, str) or not inject):
            raise BehaviourError("stream_inject must be a non-empty string")
        retry_after = raw.get("retry_after")
        if retry_after is not None and (not is_number(retry_after) or retry_after < 0):
            raise BehaviourError("retry_after must be a non-negative number of seconds")
        for key in ("message", "error_type", "code", "text", "path", "model"):
            if raw.get(key) is not None and not isinstance(raw[key], str):
                raise BehaviourError(f"{key} must be a string")
        headers = raw.get("headers") or {}
        if not isinstance(headers, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in headers.items()
        ):
            raise BehaviourError("headers must be an object of string values")
        if not isinstance(raw.get("reset", False), bool):
            raise BehaviourError("reset must be a boolean")
        tool_calls = _tool_calls(raw.get("tool_calls"))
        usage = _usage(raw.get("usage"))
        return cls(
            status=status,
            retry_after=retry_after,
            message=raw.get("message"),
            error_type=raw.get("error_type"),
            code=raw.get("code"),
            body=raw.get("body"),
            headers=dict(headers),
            text=raw.get("text"),
            tool_calls=tool_calls,
            usage=usage,
            reset=raw.get("reset", False),
            hang_ms=raw.get("hang_ms") or 0,
            stream_die_after=raw.get("stream_die_after"),
            stream_reset_after=raw.get("stream_reset_after"),
            stream_end_after=raw.get("stream_end_after"),
            stream_stall_after=raw.get("stream_stall_after"),
            stream_stall_ms=raw.get("stream_stall_ms") or 0,
            stream_inject_after=raw.get("stream_inject_after"),
            stream_inject=inject,
            stream_chunk_bytes=chunk_bytes,
            delay_between_events_ms=raw.get("delay_between_events_ms") or 0,
            path=raw.get("path"),
            model=raw.get("model"),
        )

    @property
    def cut(self) -> tuple[str, int] | None:
        """(how the body ends: "die", "reset" or "end"; after how many events or bytes)."""
        for key, how in _CUTS.items():
            count = getattr(self, key)
            if count is not None:
                return how, count
        return None

    def scripted_calls(self) -> list[ScriptedCall] | None:
        if not self.tool_calls:
            return None
        return [ScriptedCall(call["name"], call.get("input") or {}, call.get("id")) for call in self.tool_calls]

    def matches(self, path: str, model: str | None) -> bool:
        if self.path is not None and not path.endswith(self.path):
            return False
        return self.model is None or self.model == model

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v not in (None, {}, False, 0) or k == "status"}


def _tool_calls(raw: Any) -> list[dict[str, Any]] | None:
    if raw is None:
        return None
    if not isinstance(raw, list) or not raw:
        raise BehaviourError("tool_calls must be a non-empty list of {name, input?, id?}")
    for call in raw:
        if not isinstance(call, dict) or set(call) - {"name", "input", "id"}:
            raise BehaviourError("each tool call is an object of name, input and id")
        if not isinstance(call.get("name"), str) or not call["name"]:
            raise BehaviourError("a tool call needs a non-empty string name")
        if not isinstance(call.get("input", {}), dict):
            raise BehaviourError("a tool call's input must be an object")
        if "id" in call and (not isinstance(call["id"], str) or not TOOL_ID.match(call["id"])):
            raise BehaviourError("a tool call's id must match ^[a-zA-Z0-9_-]+$")
    return [dict(call) for call in raw]


def _usage(raw: Any) -> dict[str, int] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict) or set(raw) - set(_USAGE_REQUIRED) - set(_USAGE_OPTIONAL):
        raise BehaviourError(f"usage takes {', '.join(_USAGE_REQUIRED + _USAGE_OPTIONAL)}")
    missing = [key for key in _USAGE_REQUIRED if key not in raw]
    if missing:
        raise BehaviourError(f"usage needs {', '.join(missing)}")
    if not all(is_int(value) and value >= 0 for value in raw.values()):
        raise BehaviourError("usage counts must be non-negative integers")
    return {key: raw.get(key, 0) for key in _USAGE_REQUIRED + _USAGE_OPTIONAL}


class ScriptQueue:
    """Thread-safe FIFO of behaviours, consumed one per matching request."""

    def __init__(self) -> None:
        self._items: list[Behaviour] = []
        self._lock = threading.Lock()

    def extend(self, behaviours: list[Behaviour]) -> int:
        with self._lock:
            self._items.extend(behaviours)
            return len(self._items)

    def take(self, path: str, model: str | None) -> Behaviour | None:
        with self._lock:
            for i, behaviour in enumerate(self._items):
                if behaviour.matches(path, model):
                    return self._items.pop(i)
        return None

    def pending(self) -> list[Behaviour]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
