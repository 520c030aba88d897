"""Public entry points of the mock's request validation.

`validate_openai_request` / `validate_anthropic_request` return every problem as a message
string (an empty list means the real API would accept the body). The server uses the
`*_issues` functions, which also carry the `param`/`code` fields of OpenAI error bodies.
"""

from __future__ import annotations

from typing import Any

from .anthropic_validator import anthropic_request_issues
from .openai_validator import openai_request_issues
from .validation_common import Issue

__all__ = [
    "Issue",
    "anthropic_request_issues",
    "openai_request_issues",
    "validate_anthropic_count_tokens_request",
    "validate_anthropic_request",
    "validate_openai_request",
]


def validate_openai_request(body: dict[str, Any]) -> list[str]:
    """Problems with a POST /v1/chat/completions body; [] when valid."""
    return [issue.message for issue in openai_request_issues(body)]


def validate_anthropic_request(body: dict[str, Any]) -> list[str]:
    """Problems with a POST /v1/messages body; [] when valid."""
    return [issue.message for issue in anthropic_request_issues(body)]


def validate_anthropic_count_tokens_request(body: dict[str, Any]) -> list[str]:
    """Problems with a POST /v1/messages/count_tokens body; [] when valid."""
    return [issue.message for issue in anthropic_request_issues(body, count_tokens=True)]
