"""Anthropic Messages SSE events → normalized stream events.

Anthropic's event sequence already is the normalized one; the decoder renumbers blocks
(so indices stay consecutive when a block kind only Anthropic knows — `server_tool_use`,
`web_search_tool_result`, ... — is skipped), keeps the cumulative usage (message_start
gives the input side, message_delta the running totals) and turns an `error` event into a
StreamError. Unknown event types are ignored, as Anthropic's versioning policy asks.
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
    Ping,
    RedactedThinkingBlock,
    SignatureDelta,
    StreamError,
    TextBlock,
    TextDelta,
    ThinkingBlock,
    ThinkingDelta,
    ToolUseBlock,
    Usage,
)
from ...model.stream import DELTA_ALL
from ..base import log_dropped
from .errors import error_of_event
from .response import stop_reason_from

_PING = Ping()
_STOP = MessageStop()


class AnthropicStreamDecoder:
    __slots__ = ("_started", "_ended", "_stopped", "_blocks", "_open", "_open_up", "_next", "_usage")

    def __init__(self) -> None:
        self._started = False
        self._ended = False
        self._stopped = False  # a message_delta with a stop reason was seen
        self._blocks: dict[Any, int] = {}  # upstream index → normalized index (skipped blocks absent)
        self._open = -1  # normalized index of the open block, -1 when none
        self._open_up: object = None  # its upstream index
        self._next = 0
        # raw counters: input (uncached), cache read, cache creation, output
        self._usage = [0, 0, 0, 0]

    def feed(self, event_type: str, data: str) -> list[NormalizedStreamEvent]:
        if self._ended:
            return []
        try:
            ev = orjson.loads(data)
            kind = ev.get("type") or event_type
            if kind == "content_block_delta":
                return self._delta(ev)
            if kind == "content_block_start":
                return self._block_start(ev)
            if kind == "content_block_stop":
                index = self._blocks.get(ev.get("index"))
                if index is None or index != self._open:
                    return []
                self._open = -1
                return [BlockStop(index)]
            if kind == "message_start":
                return self._message_start(ev["message"])
            if kind == "message_delta":
                return self._message_delta(ev)
            if kind == "message_stop":
                out: list[NormalizedStreamEvent] = []
                self._close(out)
                out.append(_STOP)
                self._ended = True
                return out
            if kind == "ping":
                return [_PING]
            if kind == "error":
                self._ended = True
                return [StreamError(error_of_event(ev))]
            return []
        except (orjson.JSONDecodeError, TypeError, AttributeError, KeyError, ValueError) as exc:
            self._ended = True
            return [StreamError(UpstreamError(f"the Anthropic provider sent an unreadable stream event ({exc!r})"))]

    def _delta(self, ev: dict[str, Any]) -> list[NormalizedStreamEvent]:
        index = self._blocks.get(ev["index"])
        if index is None or index != self._open:
            return []  # a skipped block kind, or a delta after its block stopped
        delta = ev["delta"]
        kind = delta["type"]
        if kind == "text_delta":
            return [TextDelta(index, delta["text"])]
        if kind == "input_json_delta":
            return [InputJsonDelta(index, delta["partial_json"])]
        if kind == "thinking_delta":
            return [ThinkingDelta(index, delta["thinking"])]
        if kind == "signature_delta":
            return [SignatureDelta(index, delta["signature"])]
        return []  # citations_delta and future kinds: no normalized form

    def _block_start(self, ev: dict[str, Any]) -> list[NormalizedStreamEvent]:
        cb = ev["content_block"]
        kind = cb["type"]
        out: list[NormalizedStreamEvent] = []
        if not self._started:
            self._started = True
            out.append(MessageStart("", ""))
        if kind == "text":
            block: Any = TextBlock("")
            first = cb.get("text")
        elif kind == "tool_use":
            block = ToolUseBlock(str(cb["id"]), str(cb["name"]))
            inp = cb.get("input")
            first = orjson.dumps(inp).decode() if inp else None
        elif kind == "thinking":
            block = ThinkingBlock("", None)
            first = cb.get("thinking")
        elif kind == "redacted_thinking":
            block = RedactedThinkingBlock(str(cb.get("data") or ""))
            first = None
        else:
            log_dropped(f"{kind} block of a streamed answer", "normalized")
            return out
        self._close(out)
        index = self._next
        self._next += 1
        self._blocks[ev["index"]] = index
        self._open = index
        self._open_up = ev["index"]
        out.append(BlockStart(index, block))
        if first:
            if kind == "text":
                out.append(TextDelta(index, str(first)))
            elif kind == "tool_use":
                out.append(InputJsonDelta(index, first))
            else:
                out.append(ThinkingDelta(index, str(first)))
        return out

    def _message_start(self, message: dict[str, Any]) -> list[NormalizedStreamEvent]:
        if self._started:
            return []
        self._started = True
        u = message.get("usage")
        if type(u) is dict:
            self._take_usage(u)
        return [MessageStart(str(message.get("id") or ""), str(message.get("model") or ""), self._snapshot())]

    def _message_delta(self, ev: dict[str, Any]) -> list[NormalizedStreamEvent]:
        delta = ev.get("delta") or {}
        reason = stop_reason_from(delta.get("stop_reason"))
        if reason is not None:
            self._stopped = True
        u = ev.get("usage")
        if type(u) is dict:
            self._take_usage(u)
        seq = delta.get("stop_sequence")
        return [MessageDelta(reason, seq if type(seq) is str else None, self._snapshot())]

    def _take_usage(self, u: dict[str, Any]) -> None:
        counts = self._usage
        for slot, key in enumerate(
            ("input_tokens", "cache_read_input_tokens", "cache_creation_input_tokens", "output_tokens")
        ):
            value = u.get(key)
            if type(value) is int and value >= 0:
                counts[slot] = value

    def _snapshot(self) -> Usage:
        i, cr, cc, o = self._usage
        return Usage(i + cr + cc, o, cr, cc)

    @property
    def ended(self) -> bool:
        return self._ended

    def fast_route(self) -> tuple[int, int, tuple[int, ...]] | None:
        """For the translation kernel: (upstream index, normalized block index, delta kinds)
        of the deltas that now only append to the open block, or None when none do."""
        if self._ended or self._open < 0 or type(self._open_up) is not int:
            return None
        return self._open_up, self._open, DELTA_ALL

    def _close(self, out: list[NormalizedStreamEvent]) -> None:
        if self._open >= 0:
            out.append(BlockStop(self._open))
            self._open = -1

    def finish(self) -> list[NormalizedStreamEvent]:
        if self._ended:
            return []
        self._ended = True
        if not self._started:
            return [StreamError(UpstreamError("the Anthropic provider ended the stream without sending an answer"))]
        out: list[NormalizedStreamEvent] = []
        self._close(out)
        if self._stopped:
            out.append(_STOP)  # only message_stop was missing
        else:
            out.append(
                StreamError(UpstreamError("the Anthropic provider ended the stream before the answer was complete"))
            )
        return out
