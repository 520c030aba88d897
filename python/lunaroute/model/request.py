"""The normalized request: what every dialect parses into and builds from.

Conventions (docs/TRANSLATION.md has the full rules):
- Roles are only "user" and "assistant". System prompts live in `NormalizedRequest.system`;
  tool results are `ToolResultBlock`s inside a user message (the Anthropic shape: one OpenAI
  `tool` message becomes one block, consecutive ones share a user message).
- `Message.content` is a `str` for plain text (the common, cheap case) or a list of blocks.
- `None` means "not given"; builders omit what is not given.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .content import ContentBlock, TextBlock


class SystemPrompt:
    """One system instruction. `role` is "system" or "developer" (OpenAI); `position` is the
    index in `NormalizedRequest.messages` it stood before (OpenAI allows system messages
    anywhere; a same-dialect rebuild puts them back there)."""

    __slots__ = ("text", "role", "position", "cache_control", "extra")

    def __init__(
        self,
        text: str,
        role: str = "system",
        position: int = 0,
        cache_control: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.text = text
        self.role = role
        self.position = position
        self.cache_control = cache_control
        self.extra = extra

    def __repr__(self) -> str:
        return f"SystemPrompt({self.role}@{self.position}: {self.text[:40]!r})"


class Message:
    """One conversation turn. `extra` keeps the message's dialect-only keys (same-dialect only)."""

    __slots__ = ("role", "content", "name", "extra")

    def __init__(
        self,
        role: str,
        content: str | list[ContentBlock],
        name: str | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.role = role  # "user" | "assistant"
        self.content = content
        self.name = name
        self.extra = extra

    def blocks(self) -> list[ContentBlock]:
        """The content as a list of blocks (a string becomes one TextBlock)."""
        content = self.content
        if type(content) is str:
            return [TextBlock(content)]
        if TYPE_CHECKING:
            assert not isinstance(content, str)  # what `type(content) is str` ruled out
        return content

    def __repr__(self) -> str:
        return f"Message({self.role}, {self.content!r})"


class Tool:
    """A tool the model may call. `type` is "function" for ordinary (client) tools; any other
    value is a provider-specific tool kept verbatim in `raw` (Anthropic server tools such as
    `web_search_20250305`, OpenAI `custom` tools)."""

    __slots__ = ("type", "name", "description", "parameters", "strict", "cache_control", "raw", "extra")

    def __init__(
        self,
        name: str,
        description: str | None = None,
        parameters: dict[str, Any] | None = None,
        type: str = "function",
        strict: bool | None = None,
        cache_control: dict[str, Any] | None = None,
        raw: dict[str, Any] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.type = type
        self.name = name
        self.description = description
        self.parameters = parameters  # JSON schema of the arguments
        self.strict = strict
        self.cache_control = cache_control
        self.raw = raw
        self.extra = extra

    def __repr__(self) -> str:
        return f"Tool({self.type}:{self.name})"


class ToolChoice:
    """How the model must use tools: "auto", "none", "required" (Anthropic "any") or "tool"
    (one named tool: `name`)."""

    __slots__ = ("type", "name")

    def __init__(self, type: str, name: str | None = None) -> None:
        self.type = type
        self.name = name

    def __repr__(self) -> str:
        return f"ToolChoice({self.type}{':' + self.name if self.name else ''})"

    def __eq__(self, other: object) -> bool:
        return type(other) is ToolChoice and other.type == self.type and other.name == self.name


class Parameters:
    """Sampling and length parameters.

    `max_tokens_field` remembers which OpenAI field carried the limit ("max_tokens" or
    "max_completion_tokens") and `stop_is_string` whether OpenAI `stop` was a bare string, so
    an OpenAI → OpenAI rebuild is faithful.
    """

    __slots__ = (
        "temperature",
        "top_p",
        "top_k",
        "max_tokens",
        "max_tokens_field",
        "stop",
        "stop_is_string",
        "presence_penalty",
        "frequency_penalty",
        "seed",
        "n",
        "user",
    )

    def __init__(self) -> None:
        self.temperature: float | None = None
        self.top_p: float | None = None
        self.top_k: int | None = None
        self.max_tokens: int | None = None
        self.max_tokens_field: str | None = None
        self.stop: list[str] | None = None
        self.stop_is_string = False
        self.presence_penalty: float | None = None
        self.frequency_penalty: float | None = None
        self.seed: int | None = None
        self.n: int | None = None
        self.user: str | None = None


class NormalizedRequest:
    """A chat request, independent of the dialect it came in.

    - `dialect`: the dialect it was parsed from ("openai" | "anthropic").
    - `parallel_tool_calls`: False when the client forbade parallel calls (OpenAI
      `parallel_tool_calls: false` / Anthropic `tool_choice.disable_parallel_tool_use: true`).
    - `stream_include_usage`: the client asked for a usage chunk (OpenAI `stream_options`).
    - `thinking`: Anthropic's `thinking` config object as given (Anthropic targets only).
    - `reasoning_effort`, `output_format`: see their comments in `__init__`; both dialects
      read and write them.
    - `metadata`: the client's `metadata` object minus Anthropic's `user_id` (→ `params.user`).
    - `extra`: top-level fields the normalized model does not cover (dialect-specific or
      unknown), sent again only to a provider of the same dialect.
    - `id`: free for the caller (request id); not used by translation.
    """

    __slots__ = (
        "dialect",
        "model",
        "system",
        "system_as_blocks",
        "messages",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "params",
        "stream",
        "stream_include_usage",
        "stream_options",
        "thinking",
        "reasoning_effort",
        "output_format",
        "metadata",
        "extra",
        "id",
    )

    def __init__(self, dialect: str, model: str) -> None:
        self.dialect = dialect
        self.model = model
        self.system: list[SystemPrompt] = []
        self.system_as_blocks = False  # Anthropic `system` came as a list of text blocks
        self.messages: list[Message] = []
        self.tools: list[Tool] | None = None
        self.tool_choice: ToolChoice | None = None
        self.parallel_tool_calls: bool | None = None
        self.params = Parameters()
        self.stream = False
        self.stream_include_usage = False
        self.stream_options: dict[str, Any] | None = None  # OpenAI stream_options as given
        self.thinking: dict[str, Any] | None = None
        # How hard a reasoning model should think, in OpenAI's words ("none", "minimal",
        # "low", "medium", "high", "xhigh"): OpenAI `reasoning_effort`, Anthropic
        # `output_config.effort` or the `thinking` budget (docs/TRANSLATION.md).
        self.reasoning_effort: str | None = None
        # Structured output: {"type": "json_schema", "name", "schema", "strict"} or
        # {"type": "json_object"} (OpenAI `response_format`, Anthropic `output_config.format`
        # / `output_format`).
        self.output_format: dict[str, Any] | None = None
        self.metadata: dict[str, Any] | None = None
        self.extra: dict[str, Any] = {}
        self.id = ""

    def system_text(self, separator: str = "\n\n") -> str:
        """Every system prompt, in order, joined by `separator` (the cross-dialect rule)."""
        return separator.join(p.text for p in self.system)

    def __repr__(self) -> str:
        return f"NormalizedRequest({self.dialect}, {self.model!r}, {len(self.messages)} messages)"
