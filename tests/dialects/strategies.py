"""Hypothesis strategies: valid requests of each dialect (as the real APIs accept them) and
JSON-ish garbage for the parsers."""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import strategies as st

# Text the providers accept as message content: at least one non-space character.
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=24).filter(
    lambda s: s.strip()
)
TOOL_NAME = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_-]{0,20}", fullmatch=True)
MEDIA = st.sampled_from(["image/png", "image/jpeg", "image/gif", "image/webp"])
B64 = st.binary(min_size=1, max_size=24).map(lambda b: base64.b64encode(b).decode())
URL = st.from_regex(r"https://example\.com/[a-z]{1,8}\.(png|jpg)", fullmatch=True)
SCHEMA = st.sampled_from(
    [
        {"type": "object", "properties": {}},
        {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
        {
            "type": "object",
            "properties": {"n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        },
    ]
)
ARGS = st.dictionaries(
    st.sampled_from(["q", "n", "city", "tags"]),
    st.one_of(st.integers(-5, 5), TEXT, st.lists(TEXT, max_size=2)),
    max_size=3,
)
JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=8)
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)),
    max_leaves=12,
)


def _maybe(draw: Any, strategy: Any) -> Any:
    return draw(st.one_of(st.none(), strategy))


def _put(body: dict[str, Any], key: str, value: Any) -> None:
    if value is not None:
        body[key] = value


# --------------------------------------------------------------------------- OpenAI
@st.composite
def openai_user_content(draw: Any) -> Any:
    if draw(st.booleans()):
        return draw(TEXT)
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["text", "text", "url", "data"]))
        if kind == "text":
            parts.append({"type": "text", "text": draw(TEXT)})
        elif kind == "url":
            image: dict[str, Any] = {"url": draw(URL)}
            _put(image, "detail", _maybe(draw, st.sampled_from(["auto", "low", "high"])))
            parts.append({"type": "image_url", "image_url": image})
        else:
            parts.append({"type": "image_url", "image_url": {"url": f"data:{draw(MEDIA)};base64,{draw(B64)}"}})
    return parts


@st.composite
def openai_request(draw: Any) -> dict[str, Any]:
    tools = draw(st.lists(TOOL_NAME, max_size=3, unique=True))
    messages: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        messages.append({"role": draw(st.sampled_from(["system", "developer"])), "content": draw(TEXT)})
    call_no = 0
    for turn in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(openai_user_content())})
        if draw(st.booleans()) and turn < 2:
            if tools and draw(st.booleans()):
                calls = []
                for _ in range(draw(st.integers(1, 3))):
                    call_no += 1
                    # ids with characters Anthropic refuses exercise the id sanitizing rule
                    call_id = f"call{call_no}" + draw(st.sampled_from(["", "_x", ".a", ":b", "-c"]))
                    args = draw(ARGS)
                    calls.append(
                        {
                            "id": call_id,
                            "type": "function",
                            "function": {"name": draw(st.sampled_from(tools)), "arguments": json.dumps(args)},
                        }
                    )
                msg: dict[str, Any] = {"role": "assistant", "content": _maybe(draw, TEXT), "tool_calls": calls}
                messages.append(msg)
                for call in calls:
                    content: Any = draw(
                        st.one_of(
                            TEXT, st.lists(TEXT.map(lambda t: {"type": "text", "text": t}), min_size=1, max_size=2)
                        )
                    )
                    messages.append({"role": "tool", "tool_call_id": call["id"], "content": content})
            else:
                messages.append({"role": "assistant", "content": draw(TEXT)})
            if draw(st.booleans()):
                messages.append({"role": "system", "content": draw(TEXT)})
    body: dict[str, Any] = {"model": "gpt-4o", "messages": messages}
    _put(body, "temperature", _maybe(draw, st.floats(0, 2)))
    _put(body, "top_p", _maybe(draw, st.floats(0, 1)))
    _put(body, draw(st.sampled_from(["max_tokens", "max_completion_tokens"])), _maybe(draw, st.integers(1, 8192)))
    _put(body, "stop", _maybe(draw, st.one_of(TEXT, st.lists(TEXT, min_size=1, max_size=4))))
    _put(body, "presence_penalty", _maybe(draw, st.floats(-2, 2)))
    _put(body, "frequency_penalty", _maybe(draw, st.floats(-2, 2)))
    _put(body, "seed", _maybe(draw, st.integers(-(2**31), 2**31)))
    _put(body, "user", _maybe(draw, TEXT))
    _put(body, "n", _maybe(draw, st.integers(1, 3)))
    _put(body, "logprobs", _maybe(draw, st.booleans()))
    if tools:
        body["tools"] = [
            {"type": "function", "function": {"name": name, "description": draw(TEXT), "parameters": draw(SCHEMA)}}
            for name in tools
        ]
        choice = draw(st.one_of(st.none(), st.sampled_from(["auto", "none", "required"]), st.sampled_from(tools)))
        if choice in tools:
            choice = {"type": "function", "function": {"name": choice}}
        _put(body, "tool_choice", choice)
        _put(body, "parallel_tool_calls", _maybe(draw, st.booleans()))
    if draw(st.booleans()):
        body["stream"] = True
        if draw(st.booleans()):
            body["stream_options"] = {"include_usage": draw(st.booleans())}
    return body


# --------------------------------------------------------------------------- Anthropic
@st.composite
def anthropic_user_blocks(draw: Any) -> list[dict[str, Any]]:
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["text", "text", "b64", "url"]))
        if kind == "text":
            block: dict[str, Any] = {"type": "text", "text": draw(TEXT)}
        elif kind == "b64":
            block = {"type": "image", "source": {"type": "base64", "media_type": draw(MEDIA), "data": draw(B64)}}
        else:
            block = {"type": "image", "source": {"type": "url", "url": draw(URL)}}
        if draw(st.integers(0, 4)) == 0:
            block["cache_control"] = {"type": "ephemeral"}
        blocks.append(block)
    return blocks


@st.composite
def anthropic_request(draw: Any) -> dict[str, Any]:
    tools = draw(st.lists(TOOL_NAME, max_size=3, unique=True))
    messages: list[dict[str, Any]] = []
    pending: list[str] = []  # tool_use ids the next user turn must answer
    tool_no = 0
    turns = draw(st.integers(1, 3))
    for turn in range(turns):
        content: Any
        if pending:
            results = []
            for tool_id in pending:
                result: dict[str, Any] = {"type": "tool_result", "tool_use_id": tool_id}
                shape = draw(st.sampled_from(["str", "blocks", "none", "image"]))
                if shape == "str":
                    result["content"] = draw(TEXT)
                elif shape == "blocks":
                    result["content"] = [
                        {"type": "text", "text": t} for t in draw(st.lists(TEXT, min_size=1, max_size=2))
                    ]
                elif shape == "image":
                    result["content"] = [
                        {"type": "text", "text": draw(TEXT)},
                        {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": draw(B64)}},
                    ]
                _put(result, "is_error", _maybe(draw, st.booleans()))
                results.append(result)
            content = results + (draw(anthropic_user_blocks()) if draw(st.booleans()) else [])
            pending = []
        else:
            content = draw(st.one_of(TEXT, anthropic_user_blocks()))
        messages.append({"role": "user", "content": content})
        if turn == turns - 1 and not draw(st.booleans()):
            break
        if tools and draw(st.booleans()) and turn < turns - 1:
            blocks: list[dict[str, Any]] = []
            if draw(st.booleans()):
                blocks.append({"type": "thinking", "thinking": draw(TEXT), "signature": "sig"})
            if draw(st.booleans()):
                blocks.append({"type": "text", "text": draw(TEXT)})
            for _ in range(draw(st.integers(1, 3))):
                tool_no += 1
                tool_id = f"toolu_{tool_no:02d}"
                blocks.append(
                    {"type": "tool_use", "id": tool_id, "name": draw(st.sampled_from(tools)), "input": draw(ARGS)}
                )
                pending.append(tool_id)
            messages.append({"role": "assistant", "content": blocks})
        elif turn < turns - 1 or draw(st.booleans()):
            messages.append({"role": "assistant", "content": draw(TEXT).rstrip() or "ok"})
    if pending:  # the last assistant turn called tools: answer them
        messages.append(
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": t, "content": "done"} for t in pending]}
        )
    _cap_cache_breakpoints(messages)
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "max_tokens": draw(st.integers(1, 8192)),
        "messages": messages,
    }
    system = draw(
        st.one_of(st.none(), TEXT, st.lists(TEXT.map(lambda t: {"type": "text", "text": t}), min_size=1, max_size=3))
    )
    _put(body, "system", system)
    _put(body, "temperature", _maybe(draw, st.floats(0, 1)))
    _put(body, "top_p", _maybe(draw, st.floats(0, 1)))
    _put(body, "top_k", _maybe(draw, st.integers(1, 500)))
    _put(body, "stop_sequences", _maybe(draw, st.lists(TEXT, max_size=4)))
    if draw(st.booleans()):
        body["metadata"] = {"user_id": draw(TEXT)}
    if tools:
        body["tools"] = [{"name": n, "description": draw(TEXT), "input_schema": draw(SCHEMA)} for n in tools]
        kind = draw(st.sampled_from([None, "auto", "any", "tool", "none"]))
        if kind is not None:
            choice: dict[str, Any] = {"type": kind}
            if kind == "tool":
                choice["name"] = draw(st.sampled_from(tools))
            if kind != "none" and draw(st.booleans()):
                choice["disable_parallel_tool_use"] = draw(st.booleans())
            body["tool_choice"] = choice
    _put(body, "stream", _maybe(draw, st.booleans()))
    return body


def _cap_cache_breakpoints(messages: list[dict[str, Any]], limit: int = 4) -> None:
    """Anthropic accepts at most 4 cache_control breakpoints per request."""
    seen = 0
    for m in messages:
        if isinstance(m["content"], list):
            for block in m["content"]:
                if "cache_control" in block:
                    seen += 1
                    if seen > limit:
                        del block["cache_control"]


# --------------------------------------------------------------------------- mutations
def _paths(value: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(value, dict):
        for k, v in value.items():
            out.extend(_paths(v, prefix + (k,)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            out.extend(_paths(v, prefix + (i,)))
    return out


@st.composite
def mutated(draw: Any, base: Any) -> Any:
    """A valid request with one to three places replaced by arbitrary JSON (or deleted)."""
    import copy

    body = copy.deepcopy(draw(base))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _paths(body) if p]
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = body
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(JSON)
    return body
