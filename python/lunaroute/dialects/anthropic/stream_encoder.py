"""Normalized stream events → Anthropic Messages SSE bytes.

- `message_start` goes out as soon as the message starts (usage: what is known then; an
  OpenAI provider reports usage only at the end, so its input count arrives in the final
  `message_delta`, whose usage fields are cumulative totals the SDKs take over).
- Blocks: `content_block_start` / `content_block_delta` / `content_block_stop` with indices
  renumbered from 0; a block still open when another starts or the message ends is stopped.
- At the end: `message_delta` (stop reason, stop sequence, final usage), then `message_stop`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ...model import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    NormalizedRequest,
    NormalizedStreamEvent,
    RedactedThinkingBlock,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)
from ...model import response as sr
from ...model.stream import DELTA_ARGS, DELTA_SIGNATURE, DELTA_TEXT, DELTA_THINKING
from .._ids import anthropic_message_id, anthropic_tool_id
from ..base import StreamEncoderEnding
from .errors import stream_error
from .response import stop_reason_of, usage_json

_dumps = orjson.dumps
_PING = b'event: ping\ndata: {"type":"ping"}\n\n'
_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
_DELTA_HEAD = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":'
# What follows the index in a delta of each kind, by DELTA_* number; the value, then `}}`.
_DELTA_BODY = {
    DELTA_TEXT: b',"delta":{"type":"text_delta","text":',
    DELTA_ARGS: b',"delta":{"type":"input_json_delta","partial_json":',
    DELTA_THINKING: b',"delta":{"type":"thinking_delta","thinking":',
    DELTA_SIGNATURE: b',"delta":{"type":"signature_delta","signature":',
}
_DELTA_END = b"}}\n\n"


class AnthropicStreamEncoder(StreamEncoderEnding):
    _stream_error = staticmethod(stream_error)
    __slots__ = (
        "_model",
        "_started",
        "_open_src",
        "_open_out",
        "_next",
        "_stop_reason",
        "_stop_sequence",
        "_usage",
    )

    def __init__(self, *, model: str, request: NormalizedRequest) -> None:
        self._model = model
        self._started = False
        self._done = False
        self._open_src = -1  # normalized index of the open block
        self._open_out = b""  # its index as sent, pre-encoded
        self._next = 0
        self._stop_reason: str | None = None
        self._stop_sequence: str | None = None
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
                if ev.index == self._open_src:
                    parts.append(_DELTA_HEAD + self._open_out + _DELTA_BODY[DELTA_TEXT] + _dumps(ev.text) + _DELTA_END)
            elif kind == "input_json_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, InputJsonDelta)
                if ev.index == self._open_src:
                    parts.append(
                        _DELTA_HEAD + self._open_out + _DELTA_BODY[DELTA_ARGS] + _dumps(ev.partial_json) + _DELTA_END
                    )
            elif kind == "thinking_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, ThinkingDelta)
                if ev.index == self._open_src:
                    parts.append(
                        _DELTA_HEAD + self._open_out + _DELTA_BODY[DELTA_THINKING] + _dumps(ev.thinking) + _DELTA_END
                    )
            elif kind == "signature_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, SignatureDelta)
                if ev.index == self._open_src:
                    parts.append(
                        _DELTA_HEAD + self._open_out + _DELTA_BODY[DELTA_SIGNATURE] + _dumps(ev.signature) + _DELTA_END
                    )
            elif kind == "block_start":
                if TYPE_CHECKING:
                    assert isinstance(ev, BlockStart)
                self._block_start(ev, parts)
            elif kind == "block_stop":
                if TYPE_CHECKING:
                    assert isinstance(ev, BlockStop)
                if ev.index == self._open_src:
                    self._stop_block(parts)
            elif kind == "message_start":
                if TYPE_CHECKING:
                    assert isinstance(ev, MessageStart)
                if ev.usage is not None:
                    self._usage = ev.usage
                if not self._started:
                    self._start(ev.id, parts)
            elif kind == "message_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, MessageDelta)
                if ev.stop_reason is not None:
                    self._stop_reason = ev.stop_reason
                    self._stop_sequence = ev.stop_sequence
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
        return b"".join(parts)

    ping = _PING

    def _delta_template(self, index: int, kind: int) -> tuple[bytes | None, bytes, bool] | None:
        if index != self._open_src:
            return None, b"", False
        return _DELTA_HEAD + self._open_out + _DELTA_BODY[kind], _DELTA_END, True

    # ------------------------------------------------------------------ internals
    def _start(self, upstream_id: str, parts: list[bytes]) -> None:
        self._started = True
        usage = self._usage if self._usage is not None else Usage()
        message: dict[str, Any] = {
            "id": anthropic_message_id(upstream_id),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage_json(usage),
        }
        parts.append(b'event: message_start\ndata: {"type":"message_start","message":' + _dumps(message) + b"}\n\n")

    def _block_start(self, ev: BlockStart, parts: list[bytes]) -> None:
        if not self._started:
            self._start("", parts)
        if self._open_src >= 0:
            self._stop_block(parts)
        block = ev.block
        kind = block.kind
        if kind == "text":
            body: dict[str, Any] = {"type": "text", "text": ""}
        elif kind == "tool_use":
            if TYPE_CHECKING:
                assert isinstance(block, ToolUseBlock)
            body = {"type": "tool_use", "id": anthropic_tool_id(block.id), "name": block.name, "input": {}}
        elif kind == "thinking":
            body = {"type": "thinking", "thinking": "", "signature": ""}
        elif kind == "redacted_thinking":
            if TYPE_CHECKING:
                assert isinstance(block, RedactedThinkingBlock)
            body = {"type": "redacted_thinking", "data": block.data}
        else:
            return
        self._open_src = ev.index
        self._open_out = str(self._next).encode()
        self._next += 1
        parts.append(
            b'event: content_block_start\ndata: {"type":"content_block_start","index":'
            + self._open_out
            + b',"content_block":'
            + _dumps(body)
            + b"}\n\n"
        )

    def _stop_block(self, parts: list[bytes]) -> None:
        parts.append(
            b'event: content_block_stop\ndata: {"type":"content_block_stop","index":' + self._open_out + b"}\n\n"
        )
        self._open_src = -1

    def _end(self, parts: list[bytes]) -> None:
        if not self._started:
            self._start("", parts)
        if self._open_src >= 0:
            self._stop_block(parts)
        self._done = True
        usage = self._usage if self._usage is not None else Usage()
        delta = {
            "type": "message_delta",
            "delta": {
                "stop_reason": stop_reason_of(self._stop_reason) or sr.END_TURN,
                "stop_sequence": self._stop_sequence,
            },
            "usage": usage_json(usage),
        }
        parts.append(b"event: message_delta\ndata: " + _dumps(delta) + b"\n\n")
        parts.append(_STOP)
