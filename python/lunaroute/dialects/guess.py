"""Which dialect a bare request body is written in, for tools that get a body without an
endpoint (`lunaroute route --request FILE` on a listener serving both dialects)."""

from __future__ import annotations

from typing import Any

# Fields only one of the two request dialects has.
_OPENAI_ONLY = frozenset(
    {
        "max_completion_tokens",
        "n",
        "response_format",
        "stream_options",
        "frequency_penalty",
        "presence_penalty",
        "logprobs",
        "top_logprobs",
        "logit_bias",
        "seed",
        "user",
        "parallel_tool_calls",
        "functions",
        "function_call",
        "modalities",
        "reasoning_effort",
    }
)
_ANTHROPIC_ONLY = frozenset({"system", "stop_sequences", "top_k", "thinking", "anthropic_version"})


def guess_dialect(body: dict[str, Any]) -> str:
    """openai or anthropic, from the fields only one of them uses."""
    keys = set(body)
    messages = body.get("messages")
    roles = {m.get("role") for m in messages if isinstance(m, dict)} if isinstance(messages, list) else set()
    if keys & _OPENAI_ONLY or roles & {"system", "developer", "tool", "function"}:
        return "openai"
    if keys & _ANTHROPIC_ONLY:
        return "anthropic"
    # Anthropic requires max_tokens; an OpenAI body without system-role messages that sets
    # it is rarer than an Anthropic one.
    return "anthropic" if "max_tokens" in keys else "openai"
