"""The normalized (non-streaming) response and token usage."""

from __future__ import annotations

from typing import Any

from .content import ContentBlock

# Normalized stop reasons: Anthropic's vocabulary plus OpenAI's "content_filter".
END_TURN = "end_turn"
MAX_TOKENS = "max_tokens"
STOP_SEQUENCE = "stop_sequence"
TOOL_USE = "tool_use"
CONTENT_FILTER = "content_filter"
REFUSAL = "refusal"
PAUSE_TURN = "pause_turn"
CONTEXT_WINDOW_EXCEEDED = "model_context_window_exceeded"

STOP_REASONS = frozenset(
    {END_TURN, MAX_TOKENS, STOP_SEQUENCE, TOOL_USE, CONTENT_FILTER, REFUSAL, PAUSE_TURN, CONTEXT_WINDOW_EXCEEDED}
)


class Usage:
    """Token counts.

    `input_tokens` is the WHOLE prompt, cached parts included (OpenAI `prompt_tokens`;
    Anthropic `input_tokens + cache_read_input_tokens + cache_creation_input_tokens`).
    `cache_read_tokens` / `cache_creation_tokens` are the parts of it read from / written to
    the provider's prompt cache. `reasoning_tokens` (OpenAI) is part of `output_tokens`.
    """

    __slots__ = ("input_tokens", "output_tokens", "cache_read_tokens", "cache_creation_tokens", "reasoning_tokens")

    def __init__(
        self,
        input_tokens: int = 0,
        output_tokens: int = 0,
        cache_read_tokens: int = 0,
        cache_creation_tokens: int = 0,
        reasoning_tokens: int | None = None,
    ) -> None:
        self.input_tokens = input_tokens
        self.output_tokens = output_tokens
        self.cache_read_tokens = cache_read_tokens
        self.cache_creation_tokens = cache_creation_tokens
        self.reasoning_tokens = reasoning_tokens

    @property
    def uncached_input_tokens(self) -> int:
        """Anthropic's `input_tokens`: the prompt minus cache reads and cache writes."""
        rest = self.input_tokens - self.cache_read_tokens - self.cache_creation_tokens
        return rest if rest > 0 else 0

    def __eq__(self, other: object) -> bool:
        return type(other) is Usage and all(getattr(self, n) == getattr(other, n) for n in Usage.__slots__)

    def __repr__(self) -> str:
        return (
            f"Usage(in={self.input_tokens}, out={self.output_tokens}, cache_read={self.cache_read_tokens}, "
            f"cache_creation={self.cache_creation_tokens})"
        )


class NormalizedResponse:
    """A complete assistant answer.

    - `content`: blocks in order (text, tool_use, thinking, ...).
    - `stop_reason`: one of STOP_REASONS, or None if the provider gave none.
    - `stop_sequence`: the stop sequence that matched (Anthropic only).
    - `created`: the provider's creation time (OpenAI), if any.
    - `extra`: top-level fields only the source dialect knows (e.g. `system_fingerprint`,
      `service_tier`), rebuilt only for the same dialect.
    """

    __slots__ = ("dialect", "id", "model", "content", "stop_reason", "stop_sequence", "usage", "created", "extra")

    def __init__(
        self,
        dialect: str,
        id: str,
        model: str,
        content: list[ContentBlock] | None = None,
        stop_reason: str | None = None,
        stop_sequence: str | None = None,
        usage: Usage | None = None,
        created: int | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.dialect = dialect
        self.id = id
        self.model = model
        self.content: list[ContentBlock] = content if content is not None else []
        self.stop_reason = stop_reason
        self.stop_sequence = stop_sequence
        self.usage = usage if usage is not None else Usage()
        self.created = created
        self.extra = extra

    def __repr__(self) -> str:
        return f"NormalizedResponse({self.id!r}, {self.stop_reason}, {self.content!r})"
