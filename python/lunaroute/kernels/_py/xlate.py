"""Pure-Python stream-translation fast path: the reference semantics of kernel `xlate`
(docs/KERNELS.md §7).

A translated stream is almost all deltas: one event per token or two, each saying "append
this text to the open block". The kernel frames the upstream's SSE bytes and translates those
events itself; everything else (the start, block boundaries, the stop, usage, errors, pings
it has no bytes for, anything unexpected) it hands back to the caller, who runs the
reference decoder and encoder on it and then tells the kernel the routes that hold until the
next event it is handed (`route`, `set_ping`, `clear`).

An event is translated here only when the reference would turn it into exactly
`prefix + orjson.dumps(value) + suffix` (or nothing) without changing any state; the checks
below say precisely when that is. A backend may hand back more than this one does (the Rust
tier does, for JSON it does not want to reason about), never less.
"""

from __future__ import annotations

from collections import deque
from typing import Any

import orjson

from ...errors import InvalidArgumentError
from .sse import SseFramer

SOURCE_OPENAI = 0  # chat.completion.chunk events
SOURCE_ANTHROPIC = 1  # Messages stream events

# Delta fields, as numbered in model.stream (DELTA_*): OpenAI `delta.content` / Anthropic
# `text_delta.text`; `function.arguments` / `input_json_delta.partial_json`; Anthropic
# `thinking_delta.thinking`; `signature_delta.signature`.
_ANTHROPIC_FIELDS = {
    "text_delta": (0, "text"),
    "input_json_delta": (1, "partial_json"),
    "thinking_delta": (2, "thinking"),
    "signature_delta": (3, "signature"),
}
_TEXT_KEY = -1  # the route key of OpenAI's `delta.content` (tool calls use their index)

_dumps = orjson.dumps
_loads = orjson.loads
Route = tuple["bytes | None", bytes, bool]


class StreamTranslator:
    __slots__ = ("_source", "_framer", "_queue", "_routes", "_ping")

    def __init__(self, source: int, max_line_bytes: int = 1_048_576) -> None:
        if type(source) is not int or source not in (SOURCE_OPENAI, SOURCE_ANTHROPIC):
            raise InvalidArgumentError(f"source must be 0 (OpenAI) or 1 (Anthropic), got {source!r}")
        self._source = source
        self._framer = SseFramer(max_line_bytes)
        self._queue: deque[tuple[str, str]] = deque()
        self._routes: dict[tuple[int, int], Route] = {}
        self._ping: bytes | None = None

    def feed(self, chunk: bytes) -> None:
        """Frame `chunk`; its complete events wait for `next()`."""
        for ev in self._framer.feed(chunk):
            self._queue.append((ev[0], ev[1]))

    def next(self) -> tuple[bytes, tuple[str, str] | None]:
        """Translate queued events up to the first one the caller must handle: (the bytes of
        the translated ones, that event as (type, data)); (bytes, None) once the queue is
        empty."""
        out: list[bytes] = []
        queue = self._queue
        while queue:
            ev = queue[0]
            piece = self._translate(ev[0], ev[1])
            if piece is None:
                queue.popleft()
                return b"".join(out), ev
            queue.popleft()
            if piece:
                out.append(piece)
        return b"".join(out), None

    def route(self, key: int, field: int, prefix: bytes | None, suffix: bytes, emit_empty: bool) -> None:
        """Deltas of `field` addressed to upstream block `key` become `prefix + json(value) +
        suffix`; nothing when `prefix` is None, or when the value is empty and either not
        `emit_empty` or the source is OpenAI (whose decoder skips empty deltas)."""
        self._routes[(key, field)] = (prefix, suffix, emit_empty)

    def set_ping(self, ping: bytes | None) -> None:
        self._ping = ping

    def clear(self) -> None:
        """No routes and no ping: every event is handed back."""
        self._routes.clear()
        self._ping = None

    # ------------------------------------------------------------------ internals
    def _translate(self, event_type: str, data: str) -> bytes | None:
        """The bytes for one event, or None to hand it back."""
        if not self._routes and self._ping is None:
            return None
        try:
            obj = _loads(data)
        except orjson.JSONDecodeError:
            return None
        if type(obj) is not dict:
            return None
        if self._source == SOURCE_OPENAI:
            found = _openai_delta(obj)
        else:
            kind = obj.get("type")
            if type(kind) is not str or not kind:
                return None
            if kind == "ping":
                return self._ping
            if kind != "content_block_delta":
                return None
            found = _anthropic_delta(obj)
        if found is None:
            return None
        key, field, value = found
        route = self._routes.get((key, field))
        if route is None:
            return None
        prefix, suffix, emit_empty = route
        if prefix is None or not value and (not emit_empty or self._source == SOURCE_OPENAI):
            return b""  # an OpenAI delta with an empty value is no delta at all
        return prefix + _dumps(value) + suffix


def _openai_delta(chunk: dict[str, Any]) -> tuple[int, int, str] | None:
    """(key, field, value) of a chunk that is one delta of choice 0 and nothing else."""
    if chunk.get("error") is not None or chunk.get("usage") is not None:
        return None
    choices = chunk.get("choices")
    if type(choices) is not list or len(choices) != 1:
        return None
    choice = choices[0]
    if type(choice) is not dict or choice.get("finish_reason") is not None:
        return None
    index = choice.get("index", 0)
    if type(index) is not int or index != 0:
        return None
    delta = choice.get("delta")
    if type(delta) is not dict or not delta or delta.get("refusal") is not None:
        return None
    content = delta.get("content")
    calls = delta.get("tool_calls")
    if calls is None:
        if type(content) is not str:
            return None
        return _TEXT_KEY, 0, content
    if content is not None and content != "":
        return None
    if type(calls) is not list or len(calls) != 1:
        return None
    call = calls[0]
    if type(call) is not dict:
        return None
    position = call.get("index", 0)
    fn = call.get("function")
    if type(position) is not int or type(fn) is not dict:
        return None
    args = fn.get("arguments")
    if type(args) is not str:
        return None
    return position, 1, args


def _anthropic_delta(ev: dict[str, Any]) -> tuple[int, int, str] | None:
    """(key, field, value) of a `content_block_delta` of a kind with a normalized form."""
    index = ev.get("index")
    delta = ev.get("delta")
    if type(index) is not int or type(delta) is not dict:
        return None
    kind = delta.get("type")
    if type(kind) is not str:
        return None
    field = _ANTHROPIC_FIELDS.get(kind)
    if field is None:
        return None
    value = delta.get(field[1])
    if type(value) is not str:
        return None
    return index, field[0], value
