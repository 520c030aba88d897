"""Hypothesis strategy: Responses API requests as the real API accepts them (and as the
SDK's `input += response.output` idiom sends them back)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

from .strategies import ARGS, B64, MEDIA, SCHEMA, TEXT, TOOL_NAME, URL, _maybe, _put


@st.composite
def _user_content(draw: Any) -> Any:
    if draw(st.booleans()):
        return draw(TEXT)
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["text", "text", "url", "data"]))
        if kind == "text":
            parts.append({"type": "input_text", "text": draw(TEXT)})
        else:
            url = draw(URL) if kind == "url" else f"data:{draw(MEDIA)};base64,{draw(B64)}"
            part = {"type": "input_image", "image_url": url}
            _put(part, "detail", _maybe(draw, st.sampled_from(["auto", "low", "high", "original"])))
            parts.append(part)
    return parts


@st.composite
def _assistant_item(draw: Any, n: int) -> dict[str, Any]:
    if draw(st.booleans()):
        return {"role": "assistant", "content": draw(TEXT)}
    # an output message item sent back as input
    return {
        "type": "message",
        "id": f"msg_{n}",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": draw(TEXT), "annotations": [], "logprobs": []}],
    }


@st.composite
def responses_request(draw: Any) -> dict[str, Any]:
    tools = draw(st.lists(TOOL_NAME, max_size=3, unique=True))
    items: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(0, 2))):
        items.append({"role": draw(st.sampled_from(["system", "developer"])), "content": draw(TEXT)})
    call_no = 0
    turns = draw(st.integers(1, 3))
    for turn in range(turns):
        items.append({"role": "user", "content": draw(_user_content())})
        if turn == turns - 1 or not draw(st.booleans()):
            continue
        if tools and draw(st.booleans()):
            if draw(st.booleans()):
                items.append(draw(_assistant_item(turn)))
            calls = []
            for _ in range(draw(st.integers(1, 3))):
                call_no += 1
                # ids with characters Anthropic refuses exercise the id sanitizing rule
                call_id = f"call{call_no}" + draw(st.sampled_from(["", "_x", ".a", ":b"]))
                call = {
                    "type": "function_call",
                    "call_id": call_id,
                    "name": draw(st.sampled_from(tools)),
                    "arguments": json.dumps(draw(ARGS)),
                }
                if draw(st.booleans()):
                    call.update(id=f"fc_{call_no}", status="completed")
                calls.append(call)
            items.extend(calls)
            for call in calls:
                output = draw(st.one_of(TEXT, st.just([{"type": "input_text", "text": "ok"}])))
                items.append({"type": "function_call_output", "call_id": call["call_id"], "output": output})
        else:
            items.append(draw(_assistant_item(turn)))
        if draw(st.booleans()):
            items.append({"role": "developer", "content": draw(TEXT)})
    body: dict[str, Any] = {"model": "gpt-4o"}
    if len(items) == 1 and type(items[0]["content"]) is str and draw(st.booleans()):
        body["input"] = items[0]["content"]
    else:
        body["input"] = items
    _put(body, "instructions", _maybe(draw, TEXT))
    _put(body, "temperature", _maybe(draw, st.floats(0, 2)))
    _put(body, "top_p", _maybe(draw, st.floats(0, 1)))
    _put(body, "max_output_tokens", _maybe(draw, st.integers(1, 8192)))
    _put(body, "user", _maybe(draw, TEXT))
    _put(body, "store", _maybe(draw, st.booleans()))
    _put(body, "metadata", _maybe(draw, st.dictionaries(st.sampled_from(["a", "b"]), TEXT, max_size=2)))
    _put(body, "include", _maybe(draw, st.just([])))
    _put(body, "truncation", _maybe(draw, st.sampled_from(["disabled", "auto"])))
    effort = _maybe(draw, st.sampled_from(["none", "minimal", "low", "medium", "high", "xhigh"]))
    if effort is not None:
        body["reasoning"] = {"effort": effort}
    fmt = _maybe(
        draw,
        st.sampled_from(
            [
                {"type": "text"},
                {"type": "json_object"},
                {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": True},
            ]
        ),
    )
    if fmt is not None:
        body["text"] = {"format": fmt}
    if tools:
        body["tools"] = [
            {"type": "function", "name": name, "description": draw(TEXT), "parameters": draw(SCHEMA)} for name in tools
        ]
        choice = draw(st.one_of(st.none(), st.sampled_from(["auto", "none", "required"]), st.sampled_from(tools)))
        if choice in tools:
            choice = {"type": "function", "name": choice}
        _put(body, "tool_choice", choice)
        _put(body, "parallel_tool_calls", _maybe(draw, st.booleans()))
    _put(body, "stream", _maybe(draw, st.booleans()))
    return body
