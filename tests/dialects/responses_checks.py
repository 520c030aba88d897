"""A Responses API stream, checked the way the official SDK reads it: every event validated
against the SDK's event models (strictly: every required field present and typed) and fed
to the SDK's own stream state machine (`ResponseStreamState`, what `client.responses.stream`
runs), plus the rules of CONTRACT §8 the SDK does not enforce itself."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from openai._models import validate_type
from openai._types import omit
from openai.lib.streaming.responses._responses import ResponseStreamState
from openai.types.responses import ResponseStreamEvent

from .helpers import parse_sse

TERMINAL = ("response.completed", "response.incomplete", "response.failed")


@dataclass
class ResponsesStream:
    types: list[str] = field(default_factory=list)
    final: Any = None  # the SDK's Response from the terminal event
    text: str = ""  # what the SDK's snapshot deltas add up to
    calls: list[tuple[str, str, str]] = field(default_factory=list)  # (call_id, name, arguments)


def check_responses_stream(raw: bytes | str) -> ResponsesStream:
    text = raw.decode() if isinstance(raw, bytes) else raw
    assert "[DONE]" not in text
    out = ResponsesStream()
    state = ResponseStreamState(input_tools=omit, text_format=omit)
    response_id = None
    items: dict[int, str] = {}  # output_index → item id
    open_items: set[int] = set()
    for n, (event, data) in enumerate(parse_sse(text)):
        obj = json.loads(data)
        assert event == obj["type"], "each event's `event:` line names its data.type"
        assert obj["sequence_number"] == n, "sequence numbers count from 0, one per event"
        assert not (out.types and out.types[-1] in TERMINAL), "the terminal event is the last"
        validate_type(type_=ResponseStreamEvent, value=obj)  # raises on a missing or mistyped field
        out.types.append(obj["type"])
        if "response" in obj:
            response_id = response_id or obj["response"]["id"]
            assert obj["response"]["id"] == response_id, "every lifecycle event names the same response"
        if obj["type"] == "response.output_item.added":
            index = obj["output_index"]
            assert index == len(items), "items are added at output_index 0, 1, 2..."
            items[index] = obj["item"]["id"]
            open_items.add(index)
            if obj["item"]["type"] == "function_call":
                assert obj["item"]["arguments"] == "", "a new function_call item carries arguments: ''"
        elif "item_id" in obj:
            assert items[obj["output_index"]] == obj["item_id"], "item events name their item"
            assert obj["output_index"] in open_items, "no item event after the item is done"
        if obj["type"] == "response.output_item.done":
            assert items[obj["output_index"]] == obj["item"]["id"]
            open_items.discard(obj["output_index"])
        for sdk_event in state.handle_event(validate_type(type_=ResponseStreamEvent, value=obj)):
            if sdk_event.type == "response.output_text.delta":
                out.text = sdk_event.snapshot  # the SDK's accumulated text of that part
            elif sdk_event.type in TERMINAL:
                out.final = sdk_event.response
    assert out.types[:2] == ["response.created", "response.in_progress"]
    assert out.types[-1] in TERMINAL, "a stream always ends with its terminal event"
    assert sum(t in TERMINAL for t in out.types) == 1
    if out.types[-1] != "response.failed":
        assert not open_items, "every item is done before the response is"
        out.text = "".join(part.text for item in out.final.output if item.type == "message" for part in item.content)
    out.calls = [(i.call_id, i.name, i.arguments) for i in out.final.output if i.type == "function_call"]
    return out
