"""The OpenAI dialect: auth, error replies, POST /v1/chat/completions, GET /v1/models."""

from __future__ import annotations

import time
from typing import Any

from .behaviours import Behaviour
from .error_bodies import openai_error
from .http11 import HttpRequest
from .openai_shapes import CompletionMeta, chat_completion, chat_completion_events
from .openai_validator import openai_request_issues
from .replies import JsonReply, StreamReply
from .responses import Conversation, ToolResult, ToolSpec, plan_reply
from .state import MockState
from .usage import openai_segments

MODELS = ["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini"]
_MODEL_CREATED = 1715367049

NO_KEY_MESSAGE = (
    "You didn't provide an API key. You need to provide your API key in an Authorization header "
    "using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank "
    "username) if you're accessing the API from your browser and are prompted for a username and "
    "password. You can obtain an API key from https://platform.openai.com/account/api-keys."
)
BAD_JSON_MESSAGE = (
    "We could not parse the JSON body of your request. (HINT: This likely means you aren't using "
    "your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not "
    "valid JSON. If you have trouble figuring out how to fix this, please contact us through our "
    "help center at help.openai.com.)"
)


def _mask(key: str) -> str:
    if len(key) <= 8:
        return "*" * len(key)
    return key[:3] + "*" * (len(key) - 7) + key[-4:]


class OpenAIDialect:
    name = "openai"

    def __init__(self, state: MockState, api_keys: frozenset[str] | None):
        self.state = state
        self.api_keys = api_keys

    # ------------------------------------------------------------------ framing
    def headers(self, request_id: str, *, stream: bool = False) -> list[tuple[str, str]]:
        kind = "text/event-stream; charset=utf-8" if stream else "application/json"
        headers = [
            ("content-type", kind),
            ("x-request-id", request_id),
            ("openai-version", "2020-10-01"),
            ("openai-processing-ms", "1"),
            ("openai-organization", "mock-upstream"),
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
        body = openai_error(status, message, error_type=error_type, param=param, code=code)
        return JsonReply(status, body, self.headers(request_id))

    def not_found(self, request: HttpRequest, request_id: str) -> JsonReply:
        return self.error(404, request_id, f"Invalid URL ({request.method} {request.path})", code=None)

    def bad_method(self, request: HttpRequest, request_id: str) -> JsonReply:
        return self.error(405, request_id, f"Invalid method for URL ({request.method} {request.path})")

    def bad_json(self, request_id: str) -> JsonReply:
        return self.error(400, request_id, BAD_JSON_MESSAGE)

    # ------------------------------------------------------------------ checks
    def authenticate(self, request: HttpRequest, request_id: str) -> JsonReply | None:
        auth = request.header("authorization") or ""
        scheme, _, key = auth.partition(" ")
        key = key.strip()
        if scheme.lower() != "bearer" or not key:
            return self.error(401, request_id, NO_KEY_MESSAGE, code=None)
        if self.api_keys is not None and key not in self.api_keys:
            return self.error(
                401,
                request_id,
                f"Incorrect API key provided: {_mask(key)}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    def validate(self, path_kind: str, body: Any, request_id: str) -> JsonReply | None:
        issues = openai_request_issues(body)
        if not issues:
            return None
        first = issues[0]
        return self.error(400, request_id, first.message, param=first.param, code=first.code)

    # ------------------------------------------------------------------ endpoints
    def chat_completions(self, body: dict[str, Any], request_id: str, scripted: Behaviour) -> JsonReply | StreamReply:
        conv = conversation(body)
        calls = scripted.scripted_calls()
        plans = [
            plan_reply(conv, lambda: self.state.new_id("call_"), scripted.text, calls)
            for _ in range(body.get("n") or 1)
        ]
        cache = self.state.cache.lookup_and_store(body["model"], openai_segments(body))
        prompt_tokens, cached_tokens = cache.total, cache.read
        if scripted.usage is not None:
            usage = scripted.usage
            cached_tokens = usage["cache_read_input_tokens"]
            prompt_tokens = usage["input_tokens"] + cached_tokens + usage["cache_creation_input_tokens"]
            # completion_tokens sums the choices: the first one carries the scripted count.
            for i, plan in enumerate(plans):
                plan.scripted_output_tokens = usage["output_tokens"] if i == 0 else 0
        meta = CompletionMeta(
            id=self.state.new_id("chatcmpl-"),
            created=int(time.time()),
            model=body["model"],
            prompt_tokens=prompt_tokens,
            cached_tokens=cached_tokens,
        )
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            return StreamReply(
                chat_completion_events(meta, plans, include_usage),
                self.headers(request_id, stream=True),
            )
        return JsonReply(200, chat_completion(meta, plans), self.headers(request_id))

    def models(self, request_id: str, model_id: str | None) -> JsonReply:
        if model_id is None:
            data = [_model(name) for name in MODELS]
            return JsonReply(200, {"object": "list", "data": data}, self.headers(request_id))
        if model_id not in MODELS:
            return self.error(
                404,
                request_id,
                f"The model '{model_id}' does not exist",
                param="model",
                code="model_not_found",
            )
        return JsonReply(200, _model(model_id), self.headers(request_id))


def _model(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": _MODEL_CREATED, "owned_by": "system"}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return " ".join(p["text"] for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def conversation(body: dict[str, Any]) -> Conversation:
    """Reduce a (valid) chat completions request to what the reply rules look at."""
    messages = body["messages"]
    i = len(messages) - 1
    while i >= 0 and messages[i]["role"] == "tool":
        i -= 1
    trailing = messages[i + 1 :]
    names: dict[str, str] = {}
    if trailing and i >= 0 and messages[i]["role"] == "assistant":
        for call in messages[i].get("tool_calls") or []:
            body_key = call.get("type", "function")
            names[call["id"]] = call.get(body_key, {}).get("name")
    results = [ToolResult(m["tool_call_id"], names.get(m["tool_call_id"]), _text(m["content"])) for m in trailing]
    last_user = next((m for m in reversed(messages) if m["role"] == "user"), None)
    conv = Conversation(
        last_user_text=_text(last_user["content"]) if last_user else "",
        tool_results=results,
        tools=[
            ToolSpec(t["function"]["name"], t["function"].get("parameters") or {})
            for t in body.get("tools") or []
            if t.get("type") == "function"
        ],
        allow_parallel=body.get("parallel_tool_calls") is not False,
    )
    choice = body.get("tool_choice")
    if choice == "none":
        conv.tools_disabled = True
    elif choice == "required":
        conv.must_use_tool = True
    elif isinstance(choice, dict) and choice.get("type") == "function":
        conv.forced_tool = choice["function"]["name"]
    stop = body.get("stop")
    conv.stop_sequences = [stop] if isinstance(stop, str) else list(stop or [])
    limit = body.get("max_completion_tokens")
    conv.max_output_tokens = limit if limit is not None else body.get("max_tokens")
    return conv
