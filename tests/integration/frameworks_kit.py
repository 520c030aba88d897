"""Routes, clients and provider-side readers for tests/integration/test_frameworks.py.

A `Route` is one path through the standard gateway: the dialect the framework speaks (which
listener it talks to) and the dialect of the provider the rules pick for the model. The
readers turn what the strict mock recorded into dialect-neutral facts (tools offered, tool
choice, output schema, tool exchange) so one assertion covers both provider dialects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import anthropic
import instructor
import openai
from langchain_anthropic import ChatAnthropic
from langchain_openai import ChatOpenAI
from pydantic import BaseModel
from pydantic_ai.models.anthropic import AnthropicModel
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.profiles.anthropic import anthropic_model_profile
from pydantic_ai.providers.anthropic import AnthropicProvider
from pydantic_ai.providers.openai import OpenAIProvider

from .gateway import Gateway

CLIENT_KEY = "client-key"
UPSTREAM_PATHS = {"openai": "/v1/chat/completions", "anthropic": "/v1/messages"}
# The standard gateway sends gpt-* to the OpenAI provider and claude-* to the Anthropic one,
# from either listener.
MODELS = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-6"}
# Provider-issued tool-call ids, in each provider's own style, so a test can follow one id
# from the provider's answer through the framework and back into the next request.
CALL_IDS = {"openai": "call_Paris01", "anthropic": "toolu_Paris01"}

# Top-level fields and headers only the other dialect has: none may reach a provider.
_FOREIGN_FIELDS = {
    "openai": {"system", "output_config", "output_format", "stop_sequences", "top_k", "thinking", "context_management"},
    "anthropic": {
        "response_format",
        "parallel_tool_calls",
        "stream_options",
        "max_completion_tokens",
        "n",
        "user",
        "reasoning_effort",
        "seed",
    },
}
_FOREIGN_HEADERS = {
    "openai": {"anthropic-version", "anthropic-beta", "x-api-key"},
    "anthropic": {"openai-organization", "openai-project", "openai-beta"},
}


@dataclass(frozen=True)
class Route:
    client: str
    provider: str

    @property
    def id(self) -> str:
        return f"{self.client}-client-to-{self.provider}"

    @property
    def model(self) -> str:
        return MODELS[self.provider]

    @property
    def upstream_path(self) -> str:
        return UPSTREAM_PATHS[self.provider]

    @property
    def call_id(self) -> str:
        return CALL_IDS[self.provider]

    def script_text(self, text: str) -> dict:
        return {"path": self.upstream_path, "text": text}

    def script_tool_call(self, name: str, arguments: dict) -> dict:
        return {"path": self.upstream_path, "tool_calls": [{"name": name, "input": arguments, "id": self.call_id}]}


ROUTES = [Route(client, provider) for client in ("openai", "anthropic") for provider in ("openai", "anthropic")]


class City(BaseModel):
    """A city and two facts about it."""

    name: str
    population: int
    coastal: bool


LISBON = {"name": "Lisbon", "population": 545000, "coastal": True}
LISBON_JSON = json.dumps(LISBON)


# ------------------------------------------------------------------ clients at the gateway
def langchain_chat(gw: Gateway, route: Route, **kw: Any) -> ChatOpenAI | ChatAnthropic:
    if route.client == "openai":
        # Chat Completions, whatever the model name (ChatOpenAI picks the Responses API for some).
        return ChatOpenAI(
            model=route.model,
            base_url=gw.openai_url + "/v1",
            api_key=CLIENT_KEY,
            max_retries=0,
            use_responses_api=False,
            stream_usage=True,
            **kw,
        )
    return ChatAnthropic(
        model=route.model, base_url=gw.anthropic_url, api_key=CLIENT_KEY, max_retries=0, max_tokens=512, **kw
    )


def pydantic_ai_model(gw: Gateway, route: Route) -> OpenAIChatModel | AnthropicModel:
    if route.client == "openai":
        client = openai.AsyncOpenAI(base_url=gw.openai_url + "/v1", api_key=CLIENT_KEY, max_retries=0)
        return OpenAIChatModel(route.model, provider=OpenAIProvider(openai_client=client))
    aclient = anthropic.AsyncAnthropic(base_url=gw.anthropic_url, api_key=CLIENT_KEY, max_retries=0)
    # pydantic-ai picks Anthropic features by Claude model name; behind LunaRoute a gpt-* name
    # gets `output_config.format` translated to `response_format`, so it may use native output.
    profile = {**anthropic_model_profile(route.model), "supports_json_schema_output": True}
    return AnthropicModel(route.model, provider=AnthropicProvider(anthropic_client=aclient), profile=profile)


def instructor_client(gw: Gateway, route: Route, mode: instructor.Mode) -> Any:
    if route.client == "openai":
        raw = openai.OpenAI(base_url=gw.openai_url + "/v1", api_key=CLIENT_KEY, max_retries=0)
        return instructor.from_openai(raw, mode=mode)
    return instructor.from_anthropic(
        anthropic.Anthropic(base_url=gw.anthropic_url, api_key=CLIENT_KEY, max_retries=0), mode=mode
    )


# ------------------------------------------------------------------ what the provider got
def provider_requests(mock: Any, route: Route) -> list[dict]:
    """The bodies the provider received, after checking every request reached the route's
    provider, was answered 200 and carries nothing of the other dialect."""
    records = mock.requests()
    assert records, "the provider received nothing"
    for rec in records:
        assert rec["path"].split("?")[0] == route.upstream_path, f"request went to {rec['path']}"
        body = rec["json"]
        error = rec["response_body"] if rec["status"] != 200 else ""
        assert rec["status"] == 200, f"provider answered {rec['status']}: {error}"
        leaked = _FOREIGN_FIELDS[route.provider] & set(body)
        assert not leaked, f"fields of the other dialect reached the {route.provider} provider: {leaked}"
        headers = _FOREIGN_HEADERS[route.provider] & set(rec["header_map"])
        assert not headers, f"headers of the other dialect reached the {route.provider} provider: {headers}"
        assert rec["header_map"].get("authorization") != f"Bearer {CLIENT_KEY}", "the client's key reached the provider"
    return [rec["json"] for rec in records]


def tools_offered(body: dict, provider: str) -> dict[str, dict]:
    """Tool name → its parameters schema."""
    if provider == "openai":
        return {t["function"]["name"]: t["function"].get("parameters") for t in body.get("tools", [])}
    return {t["name"]: t.get("input_schema") for t in body.get("tools", [])}


def tool_strict(body: dict, provider: str, name: str) -> bool | None:
    """A tool's `strict` flag (OpenAI: on the function; Anthropic: on the tool)."""
    if provider == "openai":
        return next(t["function"].get("strict") for t in body["tools"] if t["function"]["name"] == name)
    return next(t.get("strict") for t in body["tools"] if t["name"] == name)


def tool_choice(body: dict, provider: str) -> str | None:
    """`auto`, `none`, `any` (some tool must be called), a forced tool's name, or None when absent."""
    choice = body.get("tool_choice")
    if choice is None:
        return None
    if provider == "openai":
        if isinstance(choice, str):
            return "any" if choice == "required" else choice
        return choice["function"]["name"]
    return choice["name"] if choice["type"] == "tool" else choice["type"]


def output_format(body: dict, provider: str) -> dict | None:
    """The structured-output format asked of the provider: `{"type": "json_schema", "schema"}`,
    `{"type": "json_object"}`, or None."""
    if provider == "openai":
        fmt = body.get("response_format")
        if fmt is None or fmt["type"] == "text":
            return None
        if fmt["type"] == "json_object":
            return {"type": "json_object"}
        return {
            "type": "json_schema",
            "schema": fmt["json_schema"]["schema"],
            "strict": fmt["json_schema"].get("strict"),
        }
    fmt = (body.get("output_config") or {}).get("format")
    if fmt is None:
        return None
    assert fmt["type"] == "json_schema", fmt
    return {"type": "json_schema", "schema": fmt["schema"]}


def assert_city_schema(schema: dict) -> None:
    assert schema["type"] == "object"
    assert set(schema["properties"]) == {"name", "population", "coastal"}
    assert schema["properties"]["population"]["type"] == "integer"
    assert schema["properties"]["coastal"]["type"] == "boolean"
    assert set(schema.get("required", [])) == {"name", "population", "coastal"}


def system_text(body: dict, provider: str) -> str:
    if provider == "openai":
        return "\n".join(m["content"] for m in body["messages"] if m["role"] in ("system", "developer"))
    system = body.get("system", "")
    return system if isinstance(system, str) else "\n".join(b["text"] for b in system)


def tool_exchange(body: dict, provider: str) -> tuple[dict, dict]:
    """The last tool call of the conversation and the result answering it, as
    `{"id", "name", "arguments"}` and `{"id", "content"}`."""
    messages = body["messages"]
    if provider == "openai":
        call = next(m for m in reversed(messages) if m["role"] == "assistant" and m.get("tool_calls"))["tool_calls"][-1]
        result = next(m for m in reversed(messages) if m["role"] == "tool")
        content = result["content"]
        text = content if isinstance(content, str) else "".join(p["text"] for p in content)
        fn = call["function"]
        return {"id": call["id"], "name": fn["name"], "arguments": json.loads(fn["arguments"])}, {
            "id": result["tool_call_id"],
            "content": text,
        }
    blocks = [(m["role"], b) for m in messages if isinstance(m["content"], list) for b in m["content"]]
    use = [b for role, b in blocks if role == "assistant" and b["type"] == "tool_use"][-1]
    res = [b for role, b in blocks if role == "user" and b["type"] == "tool_result"][-1]
    content = res["content"]
    text = content if isinstance(content, str) else "".join(b["text"] for b in content if b["type"] == "text")
    return {"id": use["id"], "name": use["name"], "arguments": use["input"]}, {
        "id": res["tool_use_id"],
        "content": text,
    }
