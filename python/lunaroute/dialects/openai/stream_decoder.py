"""OpenAI `chat.completion.chunk` SSE events → normalized stream events.

OpenAI has no block boundaries: a text block opens at the first non-empty `delta.content`, a
tool-use block at the first chunk of each `tool_calls[i]` (which carries id and name), and the
open block closes when another opens or at `finish_reason`. OpenAI streams parallel tool
calls one after another; an argument fragment for a call whose block was already closed
(never sent by OpenAI) cannot be placed in a well-formed stream and is dropped with a warning.
Only choice 0 is read (an Anthropic client cannot ask for n > 1).
"""

from __future__ import annotations

from typing import Any

import orjson

from ...errors import UpstreamError
from ...model import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    NormalizedStreamEvent,
    StreamError,
    TextBlock,
    TextDelta,
    ToolUseBlock,
)
from ...model import response as sr
from ...model.stream import DELTA_ARGS, DELTA_TEXT
from .._error_types import upstream_gateway_error
from .._ids import generated_tool_id
from ..base import log
from .response import STOP_FROM_OPENAI, parse_usage

_TEXT = 1
_TOOL = 2


class OpenAIStreamDecoder:
    __slots__ = ("_started", "_ended", "_stopped", "_open", "_open_kind", "_open_pos", "_next", "_tools")

    def __init__(self) -> None:
        self._started = False
        self._ended = False  # [DONE] or an error: nothing more is read
        self._stopped = False  # a finish_reason was seen
        self._open = -1  # normalized index of the open block
        self._open_kind = 0
        self._open_pos: object = None  # the open tool block's `tool_calls` index
        self._next = 0  # next normalized block index
        self._tools: dict[int, int] = {}  # OpenAI tool_calls index → normalized block index

    def feed(self, event_type: str, data: str) -> list[NormalizedStreamEvent]:
        if self._ended:
            return []
        if data == "[DONE]":
            self._ended = True
            out: list[NormalizedStreamEvent] = []
            self._close(out)
            if not self._started:
                return [_error("the OpenAI provider ended the stream without sending an answer")]
            out.append(MessageStop())
            return out
        try:
            chunk = orjson.loads(data)
            if type(chunk) is not dict:
                raise TypeError("a chunk must be a JSON object")
            return self._chunk(chunk)
        except (orjson.JSONDecodeError, TypeError, AttributeError, KeyError, ValueError) as exc:
            self._ended = True
            return [_error(f"the OpenAI provider sent an unreadable stream event ({exc})")]

    def _chunk(self, chunk: dict[str, Any]) -> list[NormalizedStreamEvent]:
        out: list[NormalizedStreamEvent] = []
        err = chunk.get("error")
        if err is not None:
            self._ended = True
            return [StreamError(_upstream_error(err))]
        if not self._started:
            self._started = True
            out.append(MessageStart(str(chunk.get("id") or ""), str(chunk.get("model") or "")))
        choices = chunk.get("choices")
        if choices:
            for choice in choices:
                if choice.get("index", 0) == 0:
                    self._choice(choice, out)
        usage = chunk.get("usage")
        if type(usage) is dict:
            out.append(MessageDelta(usage=parse_usage(usage)))
        return out

    def _choice(self, choice: dict[str, Any], out: list[NormalizedStreamEvent]) -> None:
        delta = choice.get("delta")
        if delta:
            text = delta.get("content")
            if text:
                self._text(str(text), out)
            refusal = delta.get("refusal")
            if refusal:
                self._text(str(refusal), out)
            calls = delta.get("tool_calls")
            if calls:
                for call in calls:
                    self._tool_call(call, out)
        reason = choice.get("finish_reason")
        if reason:
            self._close(out)
            self._stopped = True
            stop = STOP_FROM_OPENAI.get(reason, sr.END_TURN)
            if stop == sr.END_TURN and self._tools:
                stop = sr.TOOL_USE  # a forced tool call ends with "stop" (see response.py)
            out.append(MessageDelta(stop_reason=stop))

    def _text(self, text: str, out: list[NormalizedStreamEvent]) -> None:
        if self._open_kind != _TEXT:
            self._close(out)
            self._open, self._open_kind = self._next, _TEXT
            self._next += 1
            out.append(BlockStart(self._open, TextBlock("")))
        out.append(TextDelta(self._open, text))

    def _tool_call(self, call: dict[str, Any], out: list[NormalizedStreamEvent]) -> None:
        position = call.get("index", 0)
        fn = call.get("function") or {}
        args = fn.get("arguments")
        block = self._tools.get(position)
        if block is None:
            self._close(out)
            block = self._open = self._next
            self._open_kind = _TOOL
            self._open_pos = position
            self._next += 1
            self._tools[position] = block
            out.append(
                BlockStart(
                    block, ToolUseBlock(str(call.get("id") or generated_tool_id(position)), str(fn.get("name") or ""))
                )
            )
        elif block != self._open:
            if args:
                log.warning(
                    "OpenAI stream: arguments for tool call %s arrived after the next call started; dropped", position
                )
            return
        if args:
            out.append(InputJsonDelta(block, str(args)))

    @property
    def ended(self) -> bool:
        return self._ended

    def fast_route(self) -> tuple[int, int, tuple[int, ...]] | None:
        """For the translation kernel: (upstream key, normalized block index, delta kinds)
        of the deltas that now only append to the open block, or None when none do. The key
        is -1 for `delta.content`, else the `tool_calls` index."""
        if self._ended or not self._started or not self._open_kind:
            return None
        if self._open_kind == _TEXT:
            return -1, self._open, (DELTA_TEXT,)
        position = self._open_pos
        if type(position) is not int:
            return None
        return position, self._open, (DELTA_ARGS,)

    def _close(self, out: list[NormalizedStreamEvent]) -> None:
        if self._open_kind:
            out.append(BlockStop(self._open))
            self._open_kind = 0

    def finish(self) -> list[NormalizedStreamEvent]:
        if self._ended:
            return []
        self._ended = True
        if not self._started:
            return [_error("the OpenAI provider ended the stream without sending an answer")]
        out: list[NormalizedStreamEvent] = []
        self._close(out)
        if self._stopped:
            out.append(MessageStop())  # only the final [DONE] was missing
        else:
            out.append(_error("the OpenAI provider ended the stream before the answer was complete"))
        return out


def _error(message: str) -> StreamError:
    return StreamError(UpstreamError(message))


def _upstream_error(err: Any) -> Any:
    if type(err) is dict:
        message = err.get("message")
        etype = err.get("type")
        code = err.get("code")
        return upstream_gateway_error(
            "openai",
            500,
            message if type(message) is str else "the OpenAI provider reported an error in the stream",
            etype if type(etype) is str else None,
            code=code if type(code) is str else None,
        )
    return upstream_gateway_error(
        "openai", 500, str(err) if err else "the OpenAI provider reported an error in the stream", None
    )
