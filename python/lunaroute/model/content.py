"""Content blocks of the normalized model.

One class per kind of content, each a plain slotted class (construction and attribute access
are on the translation hot path). `kind` is a class attribute, so dispatching on it is one
attribute read and one identity comparison of interned strings; it is typed as its literal, so
`block.kind == "text"` narrows a `ContentBlock` for the type checker (the stream events in
model/stream.py do the same).

Fields that only one dialect knows (OpenAI's image `detail`, Anthropic's `cache_control`, a
text block's `citations`, ...) are kept so a same-dialect round trip loses nothing; builders
for the other dialect ignore them (docs/TRANSLATION.md lists every such rule).
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal


class TextBlock:
    """Plain text. `extra` holds the block's other keys (e.g. Anthropic `citations`)."""

    __slots__ = ("text", "cache_control", "extra")
    kind: ClassVar[Literal["text"]] = "text"

    def __init__(
        self, text: str, cache_control: dict[str, Any] | None = None, extra: dict[str, Any] | None = None
    ) -> None:
        self.text = text
        self.cache_control = cache_control
        self.extra = extra

    def __repr__(self) -> str:
        return f"TextBlock({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is TextBlock and _same(self, other, TextBlock.__slots__)


class ImageBlock:
    """An image given by URL (`source == "url"`) or inline base64 data with its media type."""

    __slots__ = ("source", "url", "media_type", "data", "detail", "cache_control", "extra")
    kind: ClassVar[Literal["image"]] = "image"

    def __init__(
        self,
        source: str,
        url: str | None = None,
        media_type: str | None = None,
        data: str | None = None,
        detail: str | None = None,
        cache_control: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.source = source  # "url" | "base64"
        self.url = url
        self.media_type = media_type
        self.data = data
        self.detail = detail  # OpenAI only: "auto" | "low" | "high"
        self.cache_control = cache_control
        self.extra = extra

    def __repr__(self) -> str:
        where = self.url if self.source == "url" else f"{self.media_type};base64,{len(self.data or '')}B"
        return f"ImageBlock({self.source}: {where})"

    def __eq__(self, other: object) -> bool:
        return type(other) is ImageBlock and _same(self, other, ImageBlock.__slots__)


class ToolUseBlock:
    """A tool call made by the assistant.

    OpenAI carries arguments as a JSON *string*, Anthropic as an *object*. Both forms are
    kept lazily: `arguments` is the raw string when the call came from OpenAI, `input` the
    object when it came from Anthropic; the other form is computed only if a builder needs it.
    """

    __slots__ = ("id", "name", "input", "arguments", "cache_control", "extra")
    kind: ClassVar[Literal["tool_use"]] = "tool_use"

    def __init__(
        self,
        id: str,
        name: str,
        input: Any = None,
        arguments: str | None = None,
        cache_control: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.id = id
        self.name = name
        self.input = input
        self.arguments = arguments
        self.cache_control = cache_control
        self.extra = extra

    def __repr__(self) -> str:
        return f"ToolUseBlock({self.id!r}, {self.name!r})"

    def __eq__(self, other: object) -> bool:
        return type(other) is ToolUseBlock and _same(self, other, ToolUseBlock.__slots__)


class ToolResultBlock:
    """The result of a tool call, sent back by the user side. `content` is a string or a list
    of TextBlock / ImageBlock / OpaqueBlock."""

    __slots__ = ("tool_use_id", "content", "is_error", "cache_control", "extra")
    kind: ClassVar[Literal["tool_result"]] = "tool_result"

    def __init__(
        self,
        tool_use_id: str,
        content: str | list[ContentBlock],
        is_error: bool | None = None,
        cache_control: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.tool_use_id = tool_use_id
        self.content = content
        self.is_error = is_error
        self.cache_control = cache_control
        self.extra = extra

    def __repr__(self) -> str:
        return f"ToolResultBlock({self.tool_use_id!r}, is_error={self.is_error})"

    def __eq__(self, other: object) -> bool:
        return type(other) is ToolResultBlock and _same(self, other, ToolResultBlock.__slots__)


class ThinkingBlock:
    """Extended thinking (Anthropic). `signature` must be sent back unchanged to Anthropic."""

    __slots__ = ("thinking", "signature", "extra")
    kind: ClassVar[Literal["thinking"]] = "thinking"

    def __init__(self, thinking: str, signature: str | None = None, extra: dict[str, Any] | None = None) -> None:
        self.thinking = thinking
        self.signature = signature
        self.extra = extra

    def __repr__(self) -> str:
        return f"ThinkingBlock({len(self.thinking)} chars)"

    def __eq__(self, other: object) -> bool:
        return type(other) is ThinkingBlock and _same(self, other, ThinkingBlock.__slots__)


class RedactedThinkingBlock:
    """Encrypted thinking (Anthropic): opaque `data` that must be sent back unchanged."""

    __slots__ = ("data", "extra")
    kind: ClassVar[Literal["redacted_thinking"]] = "redacted_thinking"

    def __init__(self, data: str, extra: dict[str, Any] | None = None) -> None:
        self.data = data
        self.extra = extra

    def __repr__(self) -> str:
        return "RedactedThinkingBlock()"

    def __eq__(self, other: object) -> bool:
        return type(other) is RedactedThinkingBlock and _same(self, other, RedactedThinkingBlock.__slots__)


class OpaqueBlock:
    """A block only its own dialect understands (Anthropic `document`, `server_tool_use`,
    OpenAI `input_audio`, `file`, custom tool calls, ...): kept verbatim for a same-dialect
    round trip; the other dialect's builder refuses or drops it (docs/TRANSLATION.md)."""

    __slots__ = ("dialect", "type", "raw")
    kind: ClassVar[Literal["opaque"]] = "opaque"

    def __init__(self, dialect: str, type: str, raw: dict[str, Any]) -> None:
        self.dialect = dialect
        self.type = type
        self.raw = raw

    def __repr__(self) -> str:
        return f"OpaqueBlock({self.dialect}:{self.type})"

    def __eq__(self, other: object) -> bool:
        return type(other) is OpaqueBlock and _same(self, other, OpaqueBlock.__slots__)


ContentBlock = (
    TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock | OpaqueBlock
)


def _same(a: object, b: object, slots: tuple[str, ...]) -> bool:
    for name in slots:
        if getattr(a, name) != getattr(b, name):
            return False
    return True
