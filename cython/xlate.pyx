# cython: language_level=3, boundscheck=False, wraparound=False
"""Cython stream-translation fast path: kernel `xlate` (docs/KERNELS.md §7).

The semantics are the pure-Python twin's (lunaroute/kernels/_py/xlate.py), line for line;
this tier types the state and the checks, frames with the Cython SSE framer and keeps
orjson for the JSON, so it accepts exactly what the reference accepts.
"""
from collections import deque

import orjson

from lunaroute._cy.sse import SseFramer
from lunaroute.errors import InvalidArgumentError

DEF SOURCE_OPENAI = 0
DEF SOURCE_ANTHROPIC = 1
DEF TEXT_KEY = -1

_ANTHROPIC_FIELDS = {
    "text_delta": (0, "text"),
    "input_json_delta": (1, "partial_json"),
    "thinking_delta": (2, "thinking"),
    "signature_delta": (3, "signature"),
}
_loads = orjson.loads
_dumps = orjson.dumps
_JSONDecodeError = orjson.JSONDecodeError


cdef class StreamTranslator:
    cdef int _source
    cdef object _framer
    cdef object _queue
    cdef dict _routes
    cdef object _ping

    def __cinit__(self, source, max_line_bytes=1_048_576):
        if type(source) is not int or source not in (SOURCE_OPENAI, SOURCE_ANTHROPIC):
            raise InvalidArgumentError(f"source must be 0 (OpenAI) or 1 (Anthropic), got {source!r}")
        self._source = source
        self._framer = SseFramer(max_line_bytes)
        self._queue = deque()
        self._routes = {}
        self._ping = None

    def feed(self, chunk) -> None:
        append = self._queue.append
        for ev in self._framer.feed(chunk):
            append((ev[0], ev[1]))

    def next(self):
        cdef list out = []
        queue = self._queue
        while queue:
            ev = queue.popleft()
            piece = self._translate(ev[0], ev[1])
            if piece is None:
                return b"".join(out), ev
            if piece:
                out.append(piece)
        return b"".join(out), None

    def route(self, key, field, prefix, bytes suffix, bint emit_empty) -> None:
        if type(key) is not int or type(field) is not int:
            raise TypeError("key and field must be ints")
        if prefix is not None and type(prefix) is not bytes:
            raise TypeError(f"prefix must be bytes or None, not {type(prefix).__name__}")
        self._routes[(key, field)] = (prefix, suffix, emit_empty)

    def set_ping(self, ping) -> None:
        if ping is not None and type(ping) is not bytes:
            raise TypeError(f"ping must be bytes or None, not {type(ping).__name__}")
        self._ping = ping

    def clear(self) -> None:
        self._routes.clear()
        self._ping = None

    cdef object _translate(self, str event_type, str data):
        if not self._routes and self._ping is None:
            return None
        try:
            obj = _loads(data)
        except _JSONDecodeError:
            return None
        if type(obj) is not dict:
            return None
        if self._source == SOURCE_OPENAI:
            found = _openai_delta(<dict>obj)
        else:
            kind = (<dict>obj).get("type")
            if type(kind) is not str or not kind:
                return None
            if kind == "ping":
                return self._ping
            if kind != "content_block_delta":
                return None
            found = _anthropic_delta(<dict>obj)
        if found is None:
            return None
        route = self._routes.get((found[0], found[1]))
        if route is None:
            return None
        prefix, suffix, emit_empty = route
        value = found[2]
        if prefix is None or not value and (not emit_empty or self._source == SOURCE_OPENAI):
            return b""  # an OpenAI delta with an empty value is no delta at all
        return prefix + _dumps(value) + suffix


cdef object _openai_delta(dict chunk):
    if chunk.get("error") is not None or chunk.get("usage") is not None:
        return None
    choices = chunk.get("choices")
    if type(choices) is not list or len(<list>choices) != 1:
        return None
    choice = (<list>choices)[0]
    if type(choice) is not dict or (<dict>choice).get("finish_reason") is not None:
        return None
    index = (<dict>choice).get("index", 0)
    if type(index) is not int or index != 0:
        return None
    delta = (<dict>choice).get("delta")
    if type(delta) is not dict or not delta or (<dict>delta).get("refusal") is not None:
        return None
    content = (<dict>delta).get("content")
    calls = (<dict>delta).get("tool_calls")
    if calls is None:
        if type(content) is not str:
            return None
        return (TEXT_KEY, 0, content)
    if content is not None and content != "":
        return None
    if type(calls) is not list or len(<list>calls) != 1:
        return None
    call = (<list>calls)[0]
    if type(call) is not dict:
        return None
    position = (<dict>call).get("index", 0)
    fn = (<dict>call).get("function")
    if type(position) is not int or type(fn) is not dict:
        return None
    args = (<dict>fn).get("arguments")
    if type(args) is not str:
        return None
    return (position, 1, args)


cdef object _anthropic_delta(dict ev):
    index = ev.get("index")
    delta = ev.get("delta")
    if type(index) is not int or type(delta) is not dict:
        return None
    kind = (<dict>delta).get("type")
    if type(kind) is not str:
        return None
    field = _ANTHROPIC_FIELDS.get(kind)
    if field is None:
        return None
    value = (<dict>delta).get(field[1])
    if type(value) is not str:
        return None
    return (index, field[0], value)
