"""Strict validation of an OpenAI Chat Completions request body (POST /v1/chat/completions).

Field set and bounds follow the published API reference and the official SDK's
`CompletionCreateParams`; unknown top-level fields are refused as the real API does
("Unrecognized request argument supplied: X").
"""

from __future__ import annotations

import re
from typing import Any

from .openai_checks import OpenAIChecks
from .openai_messages import check_messages
from .validation_common import Issue

KNOWN_FIELDS = frozenset(
    {
        "model",
        "messages",
        "audio",
        "frequency_penalty",
        "function_call",
        "functions",
        "logit_bias",
        "logprobs",
        "max_completion_tokens",
        "max_tokens",
        "metadata",
        "modalities",
        "moderation",
        "n",
        "parallel_tool_calls",
        "prediction",
        "presence_penalty",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning_effort",
        "response_format",
        "safety_identifier",
        "seed",
        "service_tier",
        "stop",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "user",
        "verbosity",
        "web_search_options",
    }
)

FUNCTION_NAME = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
# End-user ids (`user`, `safety_identifier`) are capped; longer ones get 400.
MAX_END_USER_ID = 64
_SERVICE_TIERS = ["auto", "default", "flex", "scale", "priority", "fast"]
_EFFORTS = ["none", "minimal", "low", "medium", "high", "xhigh"]


def openai_request_issues(body: Any) -> list[Issue]:
    """Every problem found in `body`, most important first."""
    c = OpenAIChecks()
    if not isinstance(body, dict):
        c.add("Invalid request body: expected a JSON object.", None, "invalid_type")
        return c.issues
    unknown = [k for k in body if k not in KNOWN_FIELDS]
    if unknown:
        plural = "s" if len(unknown) > 1 else ""
        c.add(f"Unrecognized request argument{plural} supplied: {', '.join(unknown)}")
    for required in ("model", "messages"):
        if required not in body:
            c.missing(required)
    if "model" in body and c.string("model", body["model"]) and not body["model"]:
        c.add("you must provide a model parameter", "model", "invalid_value")
    if "messages" in body:
        check_messages(c, body["messages"])
    _check_sampling(c, body)
    _check_streaming(c, body)
    tool_names = _check_tools(c, body.get("tools"))
    _check_tool_choice(c, body, tool_names)
    _check_misc(c, body)
    return c.issues


def _check_sampling(c: OpenAIChecks, body: dict[str, Any]) -> None:
    c.decimal("temperature", body.get("temperature"), 0, 2)
    c.decimal("top_p", body.get("top_p"), 0, 1)
    c.decimal("frequency_penalty", body.get("frequency_penalty"), -2, 2)
    c.decimal("presence_penalty", body.get("presence_penalty"), -2, 2)
    c.integer("max_tokens", body.get("max_tokens"), 1, None)
    c.integer("max_completion_tokens", body.get("max_completion_tokens"), 1, None)
    c.integer("n", body.get("n"), 1, 128)
    c.integer("seed", body.get("seed"), None, None)
    c.boolean("logprobs", body.get("logprobs"))
    if c.integer("top_logprobs", body.get("top_logprobs"), 0, 20):
        if body.get("top_logprobs") is not None and body.get("logprobs") is not True:
            c.add(
                "Invalid value for 'logprobs': must be true when 'top_logprobs' is specified.",
                "logprobs",
                "invalid_value",
            )
    stop = body.get("stop")
    if stop is not None and not isinstance(stop, str):
        if isinstance(stop, list):
            if c.array("stop", stop, max_len=4):
                for i, item in enumerate(stop):
                    c.string(f"stop[{i}]", item)
        else:
            c.wrong_type("stop", "one of a string or array of strings", stop)
    bias = body.get("logit_bias")
    if c.obj("logit_bias", bias, nullable=True) and bias:
        for token, value in bias.items():
            c.integer(f"logit_bias.{token}", value, -100, 100, nullable=False)


def _check_streaming(c: OpenAIChecks, body: dict[str, Any]) -> None:
    c.boolean("stream", body.get("stream"))
    options = body.get("stream_options")
    if options is None:
        return
    if body.get("stream") is not True:
        c.add(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            "stream_options",
            "invalid_value",
        )
    if c.obj("stream_options", options):
        for key, value in options.items():
            if key in ("include_usage", "include_obfuscation"):
                c.boolean(f"stream_options.{key}", value, nullable=False)
            else:
                c.extra_properties("stream_options", [key])


def _check_tools(c: OpenAIChecks, tools: Any) -> list[str]:
    names: list[str] = []
    if tools is None:
        return names
    if not c.array("tools", tools, max_len=128):
        return names
    for i, tool in enumerate(tools):
        where = f"tools[{i}]"
        if not c.obj(where, tool):
            continue
        kind = tool.get("type")
        if kind is None:
            c.missing(f"{where}.type")
            continue
        if not c.choice(f"{where}.type", kind, ["function", "custom"], nullable=False):
            continue
        extra = [k for k in tool if k not in ("type", kind)]
        if extra:
            c.extra_properties(where, extra)
        spec = tool.get(kind)
        if spec is None:
            c.missing(f"{where}.{kind}")
            continue
        if not c.obj(f"{where}.{kind}", spec):
            continue
        name = spec.get("name")
        if name is None:
            c.missing(f"{where}.{kind}.name")
        elif c.string(f"{where}.{kind}.name", name):
            if FUNCTION_NAME.match(name):
                names.append(name)
            else:
                c.add(
                    f"Invalid '{where}.{kind}.name': string does not match pattern. Expected a "
                    "string that matches the pattern '^[a-zA-Z0-9_-]{1,64}$'.",
                    f"{where}.{kind}.name",
                    "invalid_value",
                )
        if "description" in spec:
            c.string(f"{where}.{kind}.description", spec["description"])
        if kind == "function":
            allowed = {"name", "description", "parameters", "strict"}
            if "parameters" in spec:
                c.obj(f"{where}.function.parameters", spec["parameters"])
            c.boolean(f"{where}.function.strict", spec.get("strict"))
        else:
            allowed = {"name", "description", "format"}
        extra = [k for k in spec if k not in allowed]
        if extra:
            c.extra_properties(f"{where}.{kind}", extra)
    return names


def _check_tool_choice(c: OpenAIChecks, body: dict[str, Any], tool_names: list[str]) -> None:
    has_tools = bool(body.get("tools"))
    if "parallel_tool_calls" in body:
        c.boolean("parallel_tool_calls", body["parallel_tool_calls"], nullable=False)
        if not has_tools:
            c.add(
                "Invalid value for 'parallel_tool_calls': 'parallel_tool_calls' is only allowed "
                "when 'tools' are specified.",
                "parallel_tool_calls",
            )
    choice = body.get("tool_choice")
    if choice is None:
        return
    if not has_tools:
        c.add(
            "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
            "tool_choice",
        )
        return
    if isinstance(choice, str):
        c.choice("tool_choice", choice, ["none", "auto", "required"], nullable=False)
        return
    if not c.obj("tool_choice", choice):
        return
    kind = choice.get("type")
    if kind is None:
        c.missing("tool_choice.type")
        return
    if not c.choice("tool_choice.type", kind, ["function", "custom", "allowed_tools"], nullable=False):
        return
    if kind == "allowed_tools":
        allowed = choice.get("allowed_tools")
        if allowed is None:
            c.missing("tool_choice.allowed_tools")
        elif c.obj("tool_choice.allowed_tools", allowed):
            c.choice(
                "tool_choice.allowed_tools.mode",
                allowed.get("mode"),
                ["auto", "required"],
                nullable=False,
            )
            c.array("tool_choice.allowed_tools.tools", allowed.get("tools"))
        return
    spec = choice.get(kind)
    if spec is None:
        c.missing(f"tool_choice.{kind}")
        return
    if not c.obj(f"tool_choice.{kind}", spec):
        return
    name = spec.get("name")
    if name is None:
        c.missing(f"tool_choice.{kind}.name")
    elif c.string(f"tool_choice.{kind}.name", name) and name not in tool_names:
        c.add(
            f"Invalid value for 'tool_choice': function '{name}' is not one of the functions provided in 'tools'.",
            "tool_choice",
            "invalid_value",
        )


def _check_misc(c: OpenAIChecks, body: dict[str, Any]) -> None:
    for key in ("user", "safety_identifier", "prompt_cache_key"):
        c.string(key, body.get(key), nullable=True)
    for key in ("user", "safety_identifier"):
        value = body.get(key)
        if isinstance(value, str) and len(value) > MAX_END_USER_ID:
            c.add(
                f"Invalid '{key}': string too long. Expected a string with maximum length {MAX_END_USER_ID}, "
                f"but got a string with length {len(value)} instead.",
                key,
                "string_above_max_length",
            )
    c.boolean("store", body.get("store"))
    c.choice("service_tier", body.get("service_tier"), _SERVICE_TIERS)
    c.choice("reasoning_effort", body.get("reasoning_effort"), _EFFORTS)
    c.choice("verbosity", body.get("verbosity"), ["low", "medium", "high"])
    c.choice("prompt_cache_retention", body.get("prompt_cache_retention"), ["in_memory", "24h"])
    modalities = body.get("modalities")
    if modalities is not None and c.array("modalities", modalities):
        for i, item in enumerate(modalities):
            c.choice(f"modalities[{i}]", item, ["text", "audio"], nullable=False)
    metadata = body.get("metadata")
    if c.obj("metadata", metadata, nullable=True) and metadata:
        if len(metadata) > 16:
            c.add("Invalid 'metadata': too many properties (max 16).", "metadata", "invalid_value")
        for key, value in metadata.items():
            c.string(f"metadata.{key}", value)
    fmt = body.get("response_format")
    if fmt is not None and c.obj("response_format", fmt):
        kind = fmt.get("type")
        if kind is None:
            c.missing("response_format.type")
        elif c.choice("response_format.type", kind, ["text", "json_object", "json_schema"], nullable=False):
            if kind == "json_schema":
                schema = fmt.get("json_schema")
                if schema is None:
                    c.missing("response_format.json_schema")
                elif c.obj("response_format.json_schema", schema):
                    if "name" not in schema:
                        c.missing("response_format.json_schema.name")
                    else:
                        c.string("response_format.json_schema.name", schema["name"])
    for key in ("audio", "prediction", "web_search_options", "moderation", "prompt_cache_options"):
        c.obj(key, body.get(key), nullable=True)
    functions = body.get("functions")
    if functions is not None and c.array("functions", functions, min_len=1, max_len=128):
        for i, fn in enumerate(functions):
            if c.obj(f"functions[{i}]", fn):
                if "name" not in fn:
                    c.missing(f"functions[{i}].name")
                else:
                    c.string(f"functions[{i}].name", fn["name"])
