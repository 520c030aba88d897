"""Reasoning effort and structured output: the words each dialect uses, and the mapping
between them (docs/TRANSLATION.md, "Reasoning" and "Structured output").

The normalized request keeps effort in OpenAI's words (`none` … `xhigh`) and structured
output as {"type": "json_schema", "name", "schema", "strict"} or {"type": "json_object"}.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from ._check import fail, need_dict, need_one_of, opt_bool, opt_str, wrong_type

OPENAI_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
ANTHROPIC_EFFORTS = ("low", "medium", "high", "xhigh", "max")

# Anthropic → OpenAI: `max` has no OpenAI twin; the highest OpenAI level stands for it.
EFFORT_FROM_ANTHROPIC = {"low": "low", "medium": "medium", "high": "high", "xhigh": "xhigh", "max": "xhigh"}
# A `thinking` budget (Anthropic's older control) read as an effort: the levels' usual budgets.
_BUDGET_STEPS = ((2048, "low"), (8192, "medium"), (24576, "high"))
# OpenAI effort → the thinking budget an Anthropic target gets (≥ 1024, the API minimum).
THINKING_BUDGET = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 16384, "xhigh": 32000}

# OpenAI models that take `reasoning_effort`; sending it to others is a 400 there.
_REASONING_MODEL = re.compile(r"^(o\d|gpt-5|codex)").match

# OpenAI caps end-user ids (`user`) at 64 characters; Claude Code sends a JSON string of ~150.
MAX_OPENAI_USER = 64


def effort_of_budget(budget: int) -> str:
    for limit, effort in _BUDGET_STEPS:
        if budget <= limit:
            return effort
    return "xhigh"


def is_reasoning_model(model: str) -> bool:
    return _REASONING_MODEL(model) is not None


def openai_user(user: str) -> str:
    """An end-user id OpenAI accepts: as given when short enough, else a stable digest of it
    (the same client, the same id; the original stays in the recorded request)."""
    if len(user) <= MAX_OPENAI_USER:
        return user
    return "lr_" + hashlib.sha256(user.encode()).hexdigest()[:48]


# ----------------------------------------------------------------------------- parsing
def parse_openai_response_format(value: Any) -> dict[str, Any] | None:
    """OpenAI `response_format` → the normalized form (None for plain text)."""
    return parse_openai_format(value, "response_format", nested=True)


def parse_openai_format(value: Any, param: str, *, nested: bool) -> dict[str, Any] | None:
    """An OpenAI structured-output format → the normalized form (None for plain text).
    Chat's `response_format` nests the schema under `json_schema` and lets it default to any
    object (`nested`); the Responses API's `text.format` holds it flat and requires it."""
    fmt = need_dict(value, param)
    # each API's own order of the types, as its error messages list them
    kinds = ("text", "json_object", "json_schema") if nested else ("text", "json_schema", "json_object")
    kind = need_one_of(fmt.get("type"), kinds, f"{param}.type")
    if kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if nested:
        param = f"{param}.json_schema"
        spec = need_dict(fmt.get("json_schema"), param)
        schema = spec.get("schema", {"type": "object"})
    else:
        spec = fmt
        schema = spec.get("schema")
        if schema is None:
            fail(f"{param}.schema", "required for a json_schema format")
    if type(schema) is not dict:
        wrong_type(f"{param}.schema", "an object", schema)
    return {
        "type": "json_schema",
        "name": opt_str(spec, "name", f"{param}.name") or "response",
        "schema": schema,
        "strict": opt_bool(spec, "strict", f"{param}.strict"),
    }


def parse_anthropic_format(value: Any, param: str) -> dict[str, Any]:
    """Anthropic `output_config.format` / `output_format` → the normalized form."""
    fmt = need_dict(value, param)
    need_one_of(fmt.get("type"), ("json_schema",), f"{param}.type")
    schema = fmt.get("schema")
    if type(schema) is not dict:
        if schema is None:
            fail(f"{param}.schema", "required")
        wrong_type(f"{param}.schema", "an object", schema)
    return {"type": "json_schema", "name": "response", "schema": schema, "strict": True}


# ----------------------------------------------------------------------------- building
def openai_response_format(fmt: dict[str, Any]) -> dict[str, Any]:
    if fmt["type"] == "json_object":
        return {"type": "json_object"}
    spec: dict[str, Any] = {"name": fmt.get("name") or "response", "schema": fmt["schema"]}
    if fmt.get("strict") is not None:
        spec["strict"] = fmt["strict"]
    return {"type": "json_schema", "json_schema": spec}


def anthropic_format(fmt: dict[str, Any]) -> dict[str, Any]:
    """Anthropic's structured output takes a JSON schema; `json_object` asks for any object."""
    if fmt["type"] == "json_object":
        return {"type": "json_schema", "schema": {"type": "object", "additionalProperties": True}}
    return {"type": "json_schema", "schema": fmt["schema"]}
