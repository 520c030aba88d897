"""A recorded stream: its SSE events (sequence number, time offset) and the final answer.

The bytes are those the client received, so they are decoded with the decoder of the
client's dialect (the same one the pipeline uses for upstream streams of that dialect) and
the answer is rebuilt with that dialect's response builder: an exported stream's `response`
has the shape a non-streamed answer to the same request would have had. A dialect with no
decoder (the Responses API) gives its answer from its terminal event, which carries it whole.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..kernels import SseFramer
from ..model import NormalizedResponse, RedactedThinkingBlock, TextBlock, ThinkingBlock, ToolUseBlock, Usage

log = logging.getLogger("lunaroute.recording")

_TERMINAL_EVENTS = frozenset({"response.completed", "response.incomplete", "response.failed"})


@dataclass(slots=True)
class AssembledStream:
    """`events`: one NDJSON line per SSE event, `{"seq", "t_ms", "event", "data"}` in order."""

    events: list[bytes] = field(default_factory=list)
    response: Any = None
    error: str | None = None


def assemble(dialect_name: str, chunks: list[tuple[float, bytes]]) -> AssembledStream:
    out = AssembledStream()
    framer = SseFramer()
    builder = _builder_for(dialect_name)
    seq = 0
    for offset, chunk in chunks:
        t_ms = round(offset * 1000.0, 3)
        try:
            events = framer.feed(chunk)
        except ValueError as exc:  # a line past the framer's limit: the rest is unreadable
            out.error = f"unreadable stream: {exc}"
            break
        for event_type, data, _id, _retry in events:
            out.events.append(orjson.dumps({"seq": seq, "t_ms": t_ms, "event": event_type or "message", "data": data}))
            seq += 1
            if builder is not None:
                builder.feed(event_type, data)
    if builder is not None:
        out.response, err = builder.finish()
        out.error = out.error or err
    return out


def _builder_for(dialect_name: str) -> _DialectAnswer | _TerminalEventAnswer | None:
    from ..dialects import get_dialect

    try:
        dialect = get_dialect(dialect_name)
    except ValueError:
        return _TerminalEventAnswer()
    return _DialectAnswer(dialect)


class _TerminalEventAnswer:
    """Streams whose final event carries the whole answer (`response.completed` & co)."""

    __slots__ = ("_answer",)

    def __init__(self) -> None:
        self._answer: Any = None

    def feed(self, event_type: str, data: str) -> None:
        if event_type in _TERMINAL_EVENTS:
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                return
            if isinstance(parsed, dict):
                self._answer = parsed.get("response", parsed)

    def finish(self) -> tuple[Any, str | None]:
        return self._answer, None


class _DialectAnswer:
    """Normalized stream events → the answer, rebuilt in the dialect's non-stream shape."""

    __slots__ = ("_dialect", "_decoder", "_id", "_model", "_blocks", "_parts", "_stop", "_stop_seq", "_usage", "_error")

    def __init__(self, dialect: Any) -> None:
        self._dialect = dialect
        self._decoder = dialect.stream_decoder()
        self._id = ""
        self._model = ""
        self._blocks: list[Any] = []
        self._parts: list[list[str]] = []  # text / arguments / thinking pieces per block
        self._stop: str | None = None
        self._stop_seq: str | None = None
        self._usage = Usage()
        self._error: str | None = None

    def feed(self, event_type: str, data: str) -> None:
        for ev in self._decoder.feed(event_type, data):
            self._take(ev)

    def finish(self) -> tuple[Any, str | None]:
        for ev in self._decoder.finish():
            self._take(ev)
        if not self._blocks and not self._id and self._error:
            return None, self._error
        content = []
        for block, parts in zip(self._blocks, self._parts):
            joined = "".join(parts)
            if block.kind == "text":
                block.text = joined
            elif block.kind == "tool_use":
                block.arguments = joined
            elif block.kind == "thinking":
                block.thinking = joined
            content.append(block)
        resp = NormalizedResponse(
            self._dialect.name,
            self._id,
            self._model,
            content,
            self._stop,
            self._stop_seq,
            self._usage,
        )
        try:
            return self._dialect.build_response(resp, model=self._model, request=None), self._error
        except Exception as exc:  # a recording must never fail on an odd stream
            log.debug("stream answer not rebuilt: %r", exc)
            return None, self._error or f"answer not rebuilt: {exc}"

    def _take(self, ev: Any) -> None:
        kind = ev.kind
        if kind in ("text_delta", "input_json_delta", "thinking_delta"):
            if 0 <= ev.index < len(self._parts):
                piece = (
                    ev.text if kind == "text_delta" else ev.partial_json if kind == "input_json_delta" else ev.thinking
                )
                self._parts[ev.index].append(piece)
        elif kind == "block_start":
            self._blocks.append(_fresh(ev.block))
            self._parts.append([])
        elif kind == "signature_delta":
            if 0 <= ev.index < len(self._blocks) and self._blocks[ev.index].kind == "thinking":
                self._blocks[ev.index].signature = (self._blocks[ev.index].signature or "") + ev.signature
        elif kind == "message_start":
            self._id = ev.id or self._id
            self._model = ev.model or self._model
            if ev.usage is not None:
                self._usage = ev.usage
        elif kind == "message_delta":
            if ev.stop_reason is not None:
                self._stop = ev.stop_reason
            if ev.stop_sequence is not None:
                self._stop_seq = ev.stop_sequence
            if ev.usage is not None:
                self._usage = ev.usage
        elif kind == "error":
            self._error = getattr(ev.error, "message", None) or str(ev.error)


def _fresh(block: Any) -> Any:
    """A block of our own to fill: the decoder's may be shared or already carry text."""
    kind = block.kind
    if kind == "text":
        return TextBlock("")
    if kind == "tool_use":
        return ToolUseBlock(block.id, block.name)
    if kind == "thinking":
        return ThinkingBlock("", block.signature)
    if kind == "redacted_thinking":
        return RedactedThinkingBlock(block.data)
    return block
