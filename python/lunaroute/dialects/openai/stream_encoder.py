"""Normalized stream events → OpenAI `chat.completion.chunk` SSE bytes.

- The first chunk (`delta: {"role": "assistant", "content": ""}`) goes out as soon as the
  message starts.
- Text deltas become `delta.content`; each tool-use block becomes `tool_calls[k]` with k
  counted from 0 over the tool calls only (first chunk: id, type, name, arguments ""; then
  argument fragments). Thinking blocks are not sent (OpenAI has no field for them).
- The finish chunk (`finish_reason`) is sent at the end, with the final usage: as a separate
  usage chunk (`choices: []`) when the client asked `stream_options.include_usage`, as OpenAI
  does, otherwise as `usage` on the finish chunk itself (clients that index `choices[0]` on
  every chunk keep working, and the answer still carries its usage). Then `data: [DONE]`.
- Every chunk is spliced from byte templates built once per stream: one orjson call per
  delta.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import orjson

from ...model import (
    BlockStart,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    NormalizedRequest,
    NormalizedStreamEvent,
    StreamError,
    TextDelta,
    Usage,
)
from ...model.stream import DELTA_ARGS, DELTA_TEXT
from .._ids import now, openai_completion_id
from ..base import StreamEncoderEnding
from .errors import stream_error
from .response import finish_reason, usage_json

_dumps = orjson.dumps
_DONE = b"data: [DONE]\n\n"
_PING = b": ping\n\n"


class OpenAIStreamEncoder(StreamEncoderEnding):
    _stream_error = staticmethod(stream_error)
    __slots__ = (
        "_model",
        "_include_usage",
        "_created",
        "_started",
        "_prefix",
        "_head",
        "_tail",
        "_tools",
        "_ntools",
        "_stop_reason",
        "_usage",
    )

    def __init__(self, *, model: str, request: NormalizedRequest) -> None:
        self._model = model
        self._include_usage = request.stream_include_usage
        self._created = now()
        self._started = False
        self._done = False
        self._prefix = b""
        self._head = b""
        self._tail = b""
        self._tools: dict[int, int] = {}  # normalized block index → tool_calls index
        self._ntools = 0
        self._stop_reason: str | None = None
        self._usage: Usage | None = None

    def encode(self, events: list[NormalizedStreamEvent]) -> bytes:
        if self._done:
            return b""
        parts: list[bytes] = []
        for ev in events:
            # `kind` is read once per event; each branch's TYPE_CHECKING assert tells the type
            # checker which event it holds, at no cost at run time.
            kind = ev.kind
            if kind == "text_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, TextDelta)
                if ev.text:
                    if not self._started:
                        self._start("", parts)
                    parts.append(self._head + b'{"content":' + _dumps(ev.text) + b"}" + self._tail)
            elif kind == "input_json_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, InputJsonDelta)
                k = self._tools.get(ev.index)
                if k is not None and ev.partial_json:
                    parts.append(
                        self._head
                        + b'{"tool_calls":[{"index":'
                        + str(k).encode()
                        + b',"function":{"arguments":'
                        + _dumps(ev.partial_json)
                        + b"}}]}"
                        + self._tail
                    )
            elif kind == "message_start":
                if TYPE_CHECKING:
                    assert isinstance(ev, MessageStart)
                if not self._started:
                    self._start(ev.id, parts)
                if ev.usage is not None:
                    self._usage = ev.usage
            elif kind == "block_start":
                if TYPE_CHECKING:
                    assert isinstance(ev, BlockStart)
                if not self._started:
                    self._start("", parts)
                block = ev.block
                if block.kind == "tool_use":
                    k = self._ntools
                    self._ntools += 1
                    self._tools[ev.index] = k
                    call = {
                        "index": k,
                        "id": block.id,
                        "type": "function",
                        "function": {"name": block.name, "arguments": ""},
                    }
                    parts.append(self._head + b'{"tool_calls":[' + _dumps(call) + b"]}" + self._tail)
            elif kind == "message_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, MessageDelta)
                if ev.stop_reason is not None:
                    self._stop_reason = ev.stop_reason
                if ev.usage is not None:
                    self._usage = ev.usage
            elif kind == "message_stop":
                self._end(parts)
                break
            elif kind == "ping":
                parts.append(_PING)
            elif kind == "error":
                if TYPE_CHECKING:
                    assert isinstance(ev, StreamError)
                parts.append(stream_error(ev.error))
                self._done = True
                break
            # block_stop, thinking_delta, signature_delta: nothing to send in this dialect
        return b"".join(parts)

    ping = _PING

    def _delta_template(self, index: int, kind: int) -> tuple[bytes | None, bytes, bool] | None:
        if kind == DELTA_TEXT:
            if not self._started:
                return None  # the first text starts the message
            return self._head + b'{"content":', b"}" + self._tail, False
        if kind == DELTA_ARGS:
            k = self._tools.get(index)
            if k is None:
                return None, b"", False
            return (
                self._head + b'{"tool_calls":[{"index":' + str(k).encode() + b',"function":{"arguments":',
                b"}}]}" + self._tail,
                False,
            )
        return None, b"", False  # thinking and signatures have no OpenAI field

    # ------------------------------------------------------------------ internals
    def _start(self, upstream_id: str, parts: list[bytes]) -> None:
        self._started = True
        chunk_id = openai_completion_id(upstream_id)
        self._prefix = (
            b'data: {"id":'
            + _dumps(chunk_id)
            + b',"object":"chat.completion.chunk","created":'
            + str(self._created).encode()
            + b',"model":'
            + _dumps(self._model)
            + b","
        )
        self._head = self._prefix + b'"choices":[{"index":0,"delta":'
        self._tail = (
            b',"logprobs":null,"finish_reason":null}]' + (b',"usage":null' if self._include_usage else b"") + b"}\n\n"
        )
        parts.append(self._head + b'{"role":"assistant","content":""}' + self._tail)

    def _end(self, parts: list[bytes]) -> None:
        if not self._started:
            self._start("", parts)
        self._done = True
        reason = _dumps(finish_reason(self._stop_reason))
        usage = self._usage if self._usage is not None else Usage()
        finish = self._head + b'{},"logprobs":null,"finish_reason":' + reason + b"}]"
        if self._include_usage:
            parts.append(finish + b',"usage":null}\n\n')
            parts.append(self._usage_chunk(usage))
        else:
            parts.append(finish + b',"usage":' + _dumps(usage_json(usage)) + b"}\n\n")
        parts.append(_DONE)

    def _usage_chunk(self, usage: Usage) -> bytes:
        return self._prefix + b'"choices":[],"usage":' + _dumps(usage_json(usage)) + b"}\n\n"
