"""Normalized stream events: what stream decoders emit and stream encoders consume.

The sequence every decoder produces (and every encoder may rely on):

    MessageStart
    ( BlockStart(i) (TextDelta|InputJsonDelta|ThinkingDelta|SignatureDelta)(i)* BlockStop(i) )*
    MessageDelta*            -- stop reason and/or usage; may also appear between blocks
    MessageStop

- Block indices start at 0 and are consecutive; at most one block is open at a time and
  every block started is stopped before the next starts and before MessageStop.
- `Ping` may appear anywhere (keep-alive).
- `StreamError` may appear anywhere and ends the stream: nothing follows it.
- `usage` on MessageStart / MessageDelta is the cumulative snapshot so far (not an
  increment); a `None` field on MessageDelta means "unchanged".
"""

from __future__ import annotations

from typing import ClassVar, Literal

from ..errors import GatewayError
from .content import ContentBlock
from .response import Usage

# The delta kinds by number, as the stream-translation kernel (kernels `xlate`) and the
# decoders' and encoders' fast-path hooks name them.
DELTA_TEXT = 0
DELTA_ARGS = 1  # InputJsonDelta
DELTA_THINKING = 2
DELTA_SIGNATURE = 3
DELTA_ALL = (DELTA_TEXT, DELTA_ARGS, DELTA_THINKING, DELTA_SIGNATURE)


class MessageStart:
    __slots__ = ("id", "model", "usage")
    kind: ClassVar[Literal["message_start"]] = "message_start"

    def __init__(self, id: str, model: str, usage: Usage | None = None) -> None:
        self.id = id
        self.model = model
        self.usage = usage

    def __repr__(self) -> str:
        return f"MessageStart({self.id!r}, {self.model!r}, {self.usage!r})"


class BlockStart:
    """A content block opens. `block` is an empty TextBlock / ThinkingBlock, a ToolUseBlock
    with id and name (input not yet known), or a complete RedactedThinkingBlock."""

    __slots__ = ("index", "block")
    kind: ClassVar[Literal["block_start"]] = "block_start"

    def __init__(self, index: int, block: ContentBlock) -> None:
        self.index = index
        self.block = block

    def __repr__(self) -> str:
        return f"BlockStart({self.index}, {self.block!r})"


class TextDelta:
    __slots__ = ("index", "text")
    kind: ClassVar[Literal["text_delta"]] = "text_delta"

    def __init__(self, index: int, text: str) -> None:
        self.index = index
        self.text = text

    def __repr__(self) -> str:
        return f"TextDelta({self.index}, {self.text!r})"


class InputJsonDelta:
    """A piece of a tool call's JSON arguments (OpenAI `function.arguments` fragment,
    Anthropic `input_json_delta.partial_json`)."""

    __slots__ = ("index", "partial_json")
    kind: ClassVar[Literal["input_json_delta"]] = "input_json_delta"

    def __init__(self, index: int, partial_json: str) -> None:
        self.index = index
        self.partial_json = partial_json

    def __repr__(self) -> str:
        return f"InputJsonDelta({self.index}, {self.partial_json!r})"


class ThinkingDelta:
    __slots__ = ("index", "thinking")
    kind: ClassVar[Literal["thinking_delta"]] = "thinking_delta"

    def __init__(self, index: int, thinking: str) -> None:
        self.index = index
        self.thinking = thinking

    def __repr__(self) -> str:
        return f"ThinkingDelta({self.index}, {len(self.thinking)} chars)"


class SignatureDelta:
    __slots__ = ("index", "signature")
    kind: ClassVar[Literal["signature_delta"]] = "signature_delta"

    def __init__(self, index: int, signature: str) -> None:
        self.index = index
        self.signature = signature

    def __repr__(self) -> str:
        return f"SignatureDelta({self.index})"


class BlockStop:
    __slots__ = ("index",)
    kind: ClassVar[Literal["block_stop"]] = "block_stop"

    def __init__(self, index: int) -> None:
        self.index = index

    def __repr__(self) -> str:
        return f"BlockStop({self.index})"


class MessageDelta:
    """Message-level change: the stop reason (normalized vocabulary, see model.response)
    and/or the cumulative usage so far."""

    __slots__ = ("stop_reason", "stop_sequence", "usage")
    kind: ClassVar[Literal["message_delta"]] = "message_delta"

    def __init__(
        self, stop_reason: str | None = None, stop_sequence: str | None = None, usage: Usage | None = None
    ) -> None:
        self.stop_reason = stop_reason
        self.stop_sequence = stop_sequence
        self.usage = usage

    def __repr__(self) -> str:
        return f"MessageDelta({self.stop_reason}, {self.stop_sequence!r}, {self.usage!r})"


class MessageStop:
    __slots__ = ()
    kind: ClassVar[Literal["message_stop"]] = "message_stop"

    def __repr__(self) -> str:
        return "MessageStop()"


class Ping:
    __slots__ = ()
    kind: ClassVar[Literal["ping"]] = "ping"

    def __repr__(self) -> str:
        return "Ping()"


class StreamError:
    """The upstream reported an error in the stream, or the stream was unusable."""

    __slots__ = ("error",)
    kind: ClassVar[Literal["error"]] = "error"

    def __init__(self, error: GatewayError) -> None:
        self.error = error

    def __repr__(self) -> str:
        return f"StreamError({type(self.error).__name__}: {self.error.message!r})"


NormalizedStreamEvent = (
    MessageStart
    | BlockStart
    | TextDelta
    | InputJsonDelta
    | ThinkingDelta
    | SignatureDelta
    | BlockStop
    | MessageDelta
    | MessageStop
    | Ping
    | StreamError
)
