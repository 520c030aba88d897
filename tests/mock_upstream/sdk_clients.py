"""Official SDK clients pointed straight at a mock upstream (used by the mock's own tests
and available to other test modules)."""

from __future__ import annotations

from typing import Any

import anthropic
import openai

from .fixture import MockUpstream

OPENAI_MODEL = "gpt-4o"
ANTHROPIC_MODEL = "claude-sonnet-4-6"


def openai_client(mock: MockUpstream, *, api_key: str = "sk-test-openai", **kwargs: Any) -> openai.OpenAI:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 10.0)
    return openai.OpenAI(base_url=mock.url + "/v1", api_key=api_key, **kwargs)


def anthropic_client(mock: MockUpstream, *, api_key: str = "sk-ant-test", **kwargs: Any) -> anthropic.Anthropic:
    kwargs.setdefault("max_retries", 0)
    kwargs.setdefault("timeout", 10.0)
    return anthropic.Anthropic(base_url=mock.url, api_key=api_key, **kwargs)
