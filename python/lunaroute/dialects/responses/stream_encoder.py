"""Normalized stream events → Responses API SSE bytes (`event: <type>` + `data: <json>`, a
`sequence_number` counted from 0, no `[DONE]`).

The order the official SDK's stream helper accepts (CONTRACT §8):
- `response.created` then `response.in_progress` (status `in_progress`, `output: []`), as
  soon as the message starts;
- a message item per run of text: `response.output_item.added` (no content yet),
  `response.content_part.added` (empty `output_text`), one `response.output_text.delta` per
  text delta as it arrives, then `response.output_text.done`, `response.content_part.done`
  and `response.output_item.done` with the whole text. The item opens at the first
  non-empty text (an empty text block makes no item) and stays open across thinking blocks,
  which are not sent;
- a function_call item per tool call: `response.output_item.added` with `arguments: ""`
  (the SDK appends the deltas to it), `response.function_call_arguments.delta` per
  fragment, `response.function_call_arguments.done` and `response.output_item.done`;
- one terminal event: `response.completed`, or `response.incomplete` when the provider
  stopped on its limit, with the whole response (done items, usage); or, when the stream
  fails, `response.failed` (`error: {code: server_error, message}`, the output so far).

Every event of one stream carries the same response id; item events carry `output_index`
and `item_id`. Keep-alive pings become SSE comments.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson

from ...errors import GatewayError
from ...model import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    NormalizedRequest,
    NormalizedStreamEvent,
    StreamError,
    TextDelta,
    Usage,
)
from .._ids import now
from ..base import StreamEncoderEnding
from .errors import stream_error
from .response import (
    function_call_item,
    incomplete_reason,
    message_item,
    new_id,
    response_object,
    text_part,
    usage_json,
)

_dumps = orjson.dumps
_PING = b": ping\n\n"
# Delta events are spliced from these and the open item's pre-encoded part: one orjson call
# per delta (the hot path).
_TEXT_DELTA = b'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","sequence_number":'
_ARGS_DELTA = (
    b"event: response.function_call_arguments.delta\n"
    b'data: {"type":"response.function_call_arguments.delta","sequence_number":'
)
_TEXT_DELTA_END = b',"logprobs":[]}\n\n'
_ARGS_DELTA_END = b"}\n\n"
_NONE = 0
_MESSAGE = 1
_CALL = 2


class ResponsesStreamEncoder(StreamEncoderEnding):
    _stream_error = staticmethod(stream_error)
    __slots__ = (
        "_model",
        "_request",
        "_id",
        "_created",
        "_seq",
        "_started",
        "_items",
        "_open",
        "_open_id",
        "_open_block",
        "_pieces",
        "_call",
        "_delta_mid",
        "_stop_reason",
        "_usage",
    )

    def __init__(self, *, model: str, request: NormalizedRequest) -> None:
        self._model = model
        self._request = request
        self._id = new_id("resp")
        self._created = now()
        self._seq = 0
        self._started = False
        self._done = False
        self._items: list[dict[str, Any]] = []  # done items, in output order
        self._open = _NONE  # the kind of the item being streamed
        self._open_id = ""
        self._open_block = -1  # normalized index of the open tool-use block
        self._pieces: list[str] = []  # the open item's text or arguments so far
        self._call: tuple[str, str] = ("", "")  # the open function call's (call_id, name)
        self._delta_mid = b""  # `,"item_id":…,"output_index":…,"delta":` of the open item, pre-encoded
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
                text = ev.text
                if text:
                    if self._open != _MESSAGE:
                        self._open_message(parts)
                    self._pieces.append(text)
                    seq = self._seq
                    self._seq = seq + 1
                    parts.append(
                        b"".join((_TEXT_DELTA, str(seq).encode(), self._delta_mid, _dumps(text), _TEXT_DELTA_END))
                    )
            elif kind == "input_json_delta":
                if TYPE_CHECKING:
                    assert isinstance(ev, InputJsonDelta)
                piece = ev.partial_json
                if piece and self._open == _CALL and ev.index == self._open_block:
                    self._pieces.append(piece)
                    seq = self._seq
                    self._seq = seq + 1
                    parts.append(
                        b"".join((_ARGS_DELTA, str(seq).encode(), self._delta_mid, _dumps(piece), _ARGS_DELTA_END))
                    )
            elif kind == "block_start":
                if TYPE_CHECKING:
                    assert isinstance(ev, BlockStart)
                if not self._started:
                    self._start(parts)
                block = ev.block
                if block.kind == "tool_use":
                    self._close(parts)
                    self._open_call(ev.index, block.id, block.name, parts)
            elif kind == "block_stop":
                if TYPE_CHECKING:
                    assert isinstance(ev, BlockStop)
                # A text block's item stays open: text after a thinking block continues it.
                if self._open == _CALL and ev.index == self._open_block:
                    self._close(parts)
            elif kind == "message_start":
                if TYPE_CHECKING:
                    assert isinstance(ev, MessageStart)
                if not self._started:
                    self._start(parts)
                if ev.usage is not None:
                    self._usage = ev.usage
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
                self._fail(ev.error, parts)
                break
            # thinking_delta, signature_delta: not sent (see response.py)
        return b"".join(parts)

    def error(self, err: GatewayError) -> bytes:
        """`response.failed` after whatever was sent; nothing more afterwards."""
        if self._done:
            return b""
        parts: list[bytes] = []
        self._fail(err, parts)
        return b"".join(parts)

    # ------------------------------------------------------------------ events
    def _event(self, kind: str, payload: dict[str, Any]) -> bytes:
        seq = self._seq
        self._seq = seq + 1
        data = {"type": kind, "sequence_number": seq, **payload}
        return b"event: " + kind.encode() + b"\ndata: " + _dumps(data) + b"\n\n"

    def _snapshot(
        self, status: str, output: list[dict[str, Any]], usage: dict[str, Any] | None, **kw: Any
    ) -> dict[str, Any]:
        return response_object(self._id, self._created, self._model, self._request, status, output, usage, **kw)

    def _start(self, parts: list[bytes]) -> None:
        self._started = True
        snapshot = _dumps(self._snapshot("in_progress", [], None))  # both events carry it: encoded once
        for kind in (b"response.created", b"response.in_progress"):
            seq = self._seq
            self._seq = seq + 1
            parts.append(
                b"".join(
                    (b"event: ", kind, b'\ndata: {"type":"', kind, b'","sequence_number":', str(seq).encode())
                    + (b',"response":', snapshot, b"}\n\n")
                )
            )

    def _open_item(self, kind: int, item: dict[str, Any], parts: list[bytes]) -> None:
        index = len(self._items)
        self._open = kind
        self._open_id = item["id"]
        self._pieces = []
        ref = b',"item_id":' + _dumps(item["id"]) + b',"output_index":' + str(index).encode()
        self._delta_mid = ref + (b',"content_index":0,"delta":' if kind == _MESSAGE else b',"delta":')
        parts.append(self._event("response.output_item.added", {"output_index": index, "item": item}))

    def _open_message(self, parts: list[bytes]) -> None:
        if not self._started:
            self._start(parts)
        self._close(parts)
        self._open_item(_MESSAGE, message_item(new_id("msg"), None, "in_progress"), parts)
        ref = self._ref()
        parts.append(self._event("response.content_part.added", {**ref, "content_index": 0, "part": text_part("")}))

    def _open_call(self, index: int, call_id: str, name: str, parts: list[bytes]) -> None:
        self._open_block = index
        self._call = (call_id, name)
        self._open_item(_CALL, function_call_item(new_id("fc"), call_id, name, "", "in_progress"), parts)

    def _ref(self) -> dict[str, Any]:
        return {"item_id": self._open_id, "output_index": len(self._items)}

    def _current(self, status: str) -> dict[str, Any]:
        """The open item as it stands."""
        joined = "".join(self._pieces)
        if self._open == _MESSAGE:
            return message_item(self._open_id, joined, status)
        return function_call_item(self._open_id, self._call[0], self._call[1], joined, status)

    def _close(self, parts: list[bytes]) -> None:
        if self._open == _NONE:
            return
        ref = self._ref()
        item = self._current("completed")
        if self._open == _MESSAGE:
            text = item["content"][0]["text"]
            parts.append(
                self._event("response.output_text.done", {**ref, "content_index": 0, "text": text, "logprobs": []})
            )
            parts.append(
                self._event("response.content_part.done", {**ref, "content_index": 0, "part": item["content"][0]})
            )
        else:
            done = {**ref, "name": item["name"], "arguments": item["arguments"]}
            parts.append(self._event("response.function_call_arguments.done", done))
        parts.append(self._event("response.output_item.done", {"output_index": ref["output_index"], "item": item}))
        self._items.append(item)
        self._open = _NONE
        self._open_block = -1

    def _end(self, parts: list[bytes]) -> None:
        if not self._started:
            self._start(parts)
        self._close(parts)
        if not self._items:  # an answer with no text and no call still has its message
            self._open_message(parts)
            self._close(parts)
        self._done = True
        incomplete = incomplete_reason(self._stop_reason)
        usage = usage_json(self._usage if self._usage is not None else Usage())
        if incomplete is None:
            snapshot = self._snapshot("completed", self._items, usage)
            parts.append(self._event("response.completed", {"response": snapshot}))
        else:
            snapshot = self._snapshot("incomplete", self._items, usage, incomplete=incomplete)
            parts.append(self._event("response.incomplete", {"response": snapshot}))

    def _fail(self, err: GatewayError, parts: list[bytes]) -> None:
        if not self._started:
            self._start(parts)
        self._done = True
        output = list(self._items)
        if self._open != _NONE:
            output.append(self._current("incomplete"))
        usage = usage_json(self._usage) if self._usage is not None else None
        error = {"code": "server_error", "message": err.message}
        snapshot = self._snapshot("failed", output, usage, error=error)
        parts.append(self._event("response.failed", {"response": snapshot}))
