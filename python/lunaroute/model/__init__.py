"""The normalized model: one shape for requests, responses and stream events, whatever the
dialect. Dialects (lunaroute.dialects) parse into it and build from it."""

from __future__ import annotations

from .content import (
    ContentBlock,
    ImageBlock,
    OpaqueBlock,
    RedactedThinkingBlock,
    TextBlock,
    ThinkingBlock,
    ToolResultBlock,
    ToolUseBlock,
)
from .request import Message, NormalizedRequest, Parameters, SystemPrompt, Tool, ToolChoice
from .response import STOP_REASONS, NormalizedResponse, Usage
from .stream import (
    BlockStart,
    BlockStop,
    InputJsonDelta,
    MessageDelta,
    MessageStart,
    MessageStop,
    NormalizedStreamEvent,
    Ping,
    SignatureDelta,
    StreamError,
    TextDelta,
    ThinkingDelta,
)

__all__ = [
    "ContentBlock",
    "ImageBlock",
    "OpaqueBlock",
    "RedactedThinkingBlock",
    "TextBlock",
    "ThinkingBlock",
    "ToolResultBlock",
    "ToolUseBlock",
    "Message",
    "NormalizedRequest",
    "Parameters",
    "SystemPrompt",
    "Tool",
    "ToolChoice",
    "STOP_REASONS",
    "NormalizedResponse",
    "Usage",
    "BlockStart",
    "BlockStop",
    "InputJsonDelta",
    "MessageDelta",
    "MessageStart",
    "MessageStop",
    "NormalizedStreamEvent",
    "Ping",
    "SignatureDelta",
    "StreamError",
    "TextDelta",
    "ThinkingDelta",
]
