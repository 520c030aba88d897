"""The Anthropic dialect: auth and version headers, error replies, POST /v1/messages,
POST /v1/messages/count_tokens, GET /v1/models."""

from __future__ import annotations

import re
from typing import Any

from .anthropic_shapes import MessageMeta, message, message_events
from .anthropic_validator import anthropic_request_issues
from .behaviours import Behaviour
from .error_bodies import anthropic_error
from .http11 import HttpRequest
from .replies import JsonReply, StreamReply
from .responses import Conversation, ToolResult, ToolSpec, plan_reply
from .state import MockState
from .usage import CacheOutcome, anthropic_segments

# Versions are dates; the official SDK sends its own (2023-06-01 for years, newer since).
API_VERSION = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MODELS = [
    ("claude-sonnet-4-6", "Claude Sonnet 4.6", "2026-02-17T00:00:00Z"),
    ("claude-opus-4-6", "Claude Opus 4.6", "2026-02-05T00:00:00Z"),
    ("claude-haiku-4-5", "Claude Haiku 4.5", "2025-10-01T00:00:00Z"),
]
ORGANIZATION_ID = "00000000-0000-4000-8000-000000000000"


class AnthropicDialect:
    name = "anthropic"

    def __init__(self, state: MockState, api_keys: frozenset[str] | None):
        self.state = state
        self.api_keys = api_keys

    # ------------------------------------------------------------------ framing
    def headers(self, request_id: str, *, stream: bool = False) -> list[tuple[str, str]]:
        kind = "text/event-stream; charset=utf-8" if stream else "application/json"
        headers = [
            ("content-type", kind),
            ("request-id", request_id),
            ("anthropic-organization-id", ORGANIZATION_ID),
        ]
        if stream:
            headers.append(("cache-control", "no-cache"))
        return headers

    def error(
        self,
        status: int,
        request_id: str,
        message: str | None = None,
        *,
        error_type: str | None = None,
        param: str | None = None,
        code: str | None = None,
    ) -> JsonReply:
        body = anthropic_error(status, request_id, message, error_type=error_type)
        return JsonReply(status, body, self.headers(request_id))

    def not_found(self, request: HttpRequest, request_id: str) -> JsonReply:
        return self.error(404, request_id, "Not Found")

    def bad_method(self, request: HttpRequest, request_id: str) -> JsonReply:
        return self.error(405, request_id, "Method Not Allowed", error_type="invalid_request_error")

    def bad_json(self, request_id: str) -> JsonReply:
        return self.error(
            400,
            request_id,
            "There was an error parsing the body of your request. Please ensure your request body is valid JSON.",
        )

    # ------------------------------------------------------------------ checks
    def authenticate(self, request: HttpRequest, request_id: str) -> JsonReply | None:
        # The API takes the key as `x-api-key` or, as current SDKs send it, `Authorization: Bearer`.
        key = (request.header("x-api-key") or "").strip()
        scheme, _, bearer = (request.header("authorization") or "").partition(" ")
        if not key and scheme.lower() == "bearer":
            key = bearer.strip()
        if not key:
            return self.error(401, request_id, "x-api-key header is required")
        if self.api_keys is not None and key not in self.api_keys:
            return self.error(401, request_id, "invalid x-api-key")
        version = request.header("anthropic-version")
        if not version:
            return self.error(400, request_id, "anthropic-version: header is required")
        if not API_VERSION.match(version):
            return self.error(400, request_id, f"anthropic-version: invalid version '{version}'")
        return None

    def validate(self, path_kind: str, body: Any, request_id: str) -> JsonReply | None:
        issues = anthropic_request_issues(body, count_tokens=path_kind == "count_tokens")
        if not issues:
            return None
        return self.error(400, request_id, issues[0].message)

    # ------------------------------------------------------------------ endpoints
    def messages(self, body: dict[str, Any], request_id: str, scripted: Behaviour) -> JsonReply | StreamReply:
        plan = plan_reply(
            conversation(body), lambda: self.state.new_id("toolu_"), scripted.text, scripted.scripted_calls()
        )
        cache = self.state.cache.lookup_and_store(body["model"], anthropic_segments(body))
        if scripted.usage is not None:
            plan.scripted_output_tokens = scripted.usage["output_tokens"]
            read, created = scripted.usage["cache_read_input_tokens"], scripted.usage["cache_creation_input_tokens"]
            cache = CacheOutcome(scripted.usage["input_tokens"] + read + created, read, created)
        meta = MessageMeta(id=self.state.new_id("msg_"), model=body["model"], cache=cache)
        if body.get("stream"):
            return StreamReply(message_events(meta, plan), self.headers(request_id, stream=True))
        return JsonReply(200, message(meta, plan), self.headers(request_id))

    def count_tokens(self, body: dict[str, Any], request_id: str) -> JsonReply:
        outcome = self.state.cache.lookup_and_store(body["model"], anthropic_segments(body), count_only=True)
        return JsonReply(200, {"input_tokens": outcome.total}, self.headers(request_id))

    def models(self, request_id: str, model_id: str | None) -> JsonReply:
        if model_id is None:
            data = [_model(*entry) for entry in MODELS]
            body = {
                "data": data,
                "has_more": False,
                "first_id": data[0]["id"],
                "last_id": data[-1]["id"],
            }
            return JsonReply(200, body, self.headers(request_id))
        for entry in MODELS:
            if entry[0] == model_id:
                return JsonReply(200, _model(*entry), self.headers(request_id))
        return self.error(404, request_id, f"model: {model_id}")


def _model(model_id: str, display_name: str, created_at: str) -> dict[str, Any]:
    return {
        "type": "model",
        "id": model_id,
        "display_name": display_name,
        "created_at": created_at,
        "lifecycle": "active",
    }


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content or []:
        if isinstance(block, dict) and block.get("type") == "text":
            parts.append(block["text"])
    return " ".join(parts)


def conversation(body: dict[str, Any]) -> Conversation:
    """Reduce a (valid) messages request to what the reply rules look at."""
    # Mid-conversation system turns steer the model; the reply rules read the dialogue only.
    messages = [m for m in body["messages"] if m["role"] != "system"]
    turns: list[tuple[str, list[Any]]] = []
    for m in messages:
        blocks = m["content"] if isinstance(m["content"], list) else [{"type": "text", "text": m["content"]}]
        if turns and turns[-1][0] == m["role"]:
            turns[-1][1].extend(blocks)
        else:
            turns.append((m["role"], list(blocks)))
    results: list[ToolResult] = []
    if turns and turns[-1][0] == "user":
        names: dict[str, str] = {}
        if len(turns) > 1:
            names = {b["id"]: b["name"] for b in turns[-2][1] if b.get("type") == "tool_use"}
        for block in turns[-1][1]:
            if block.get("type") == "tool_result":
                results.append(
                    ToolResult(
                        block["tool_use_id"],
                        names.get(block["tool_use_id"]),
                        _text(block.get("content") or ""),
                        bool(block.get("is_error")),
                    )
                )
    user_texts = [_text(m["content"]) for m in messages if m["role"] == "user"]
    conv = Conversation(
        last_user_text=next((t for t in reversed(user_texts) if t), ""),
        tool_results=results,
        tools=[
            ToolSpec(t["name"], t.get("input_schema") or {})
            for t in body.get("tools") or []
            if t.get("type") in (None, "custom")
        ],
        stop_sequences=list(body.get("stop_sequences") or []),
        max_output_tokens=body.get("max_tokens"),
        thinking=(body.get("thinking") or {}).get("type") in ("enabled", "adaptive"),
    )
    choice = body.get("tool_choice") or {}
    kind = choice.get("type")
    conv.tools_disabled = kind == "none"
    conv.must_use_tool = kind == "any"
    conv.forced_tool = choice.get("name") if kind == "tool" else None
    conv.allow_parallel = not choice.get("disable_parallel_tool_use", False)
    return conv
