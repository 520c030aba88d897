"""Helpers of the prompt-patch tests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lunaroute.dialects import get_dialect
from lunaroute.prompts import Patched, PromptPatches, parse_prompts
from lunaroute.routing import RouteRequest


def patches_of(*patches: dict[str, Any]) -> PromptPatches:
    return parse_prompts({"patches": list(patches)}, file="prompts.json")


def request(
    data: dict[str, Any],
    *,
    dialect: str = "openai",
    listener: str | None = None,
    headers: Mapping[str, str] | None = None,
    key_id: str | None = None,
    tenant: str | None = None,
) -> RouteRequest:
    return RouteRequest(listener or dialect, dialect, data["model"], headers or {}, key_id, tenant, data)


def apply(patches: PromptPatches, data: dict[str, Any], **kwargs: Any) -> Patched | None:
    req = request(data, **kwargs)
    return patches.apply(get_dialect(req.listener_type), req, data)


def openai_body(model: str = "gpt-4o", system: str | None = "S", **extra: Any) -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "user", "content": "hi"}]
    if system is not None:
        messages.insert(0, {"role": "system", "content": system})
    return {"model": model, "messages": messages, **extra}


def anthropic_body(model: str = "claude-sonnet-4", system: Any = "S", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
    if system is not None:
        body["system"] = system
    return {**body, **extra}


def system_of(dialect: str, data: dict[str, Any]) -> str:
    """Every system prompt of a body, joined as the translation joins them."""
    return get_dialect(dialect).parse_request(data).system_text()
