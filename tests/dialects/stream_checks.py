"""Stream well-formedness checkers (assert the dialect's event grammar while assembling the
answer a client would see) and renderers of an answer plan as upstream SSE of each dialect."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from .helpers import parse_sse


@dataclass
class Assembled:
    text: str = ""
    thinking: str = ""
    tools: list[list[str]] = field(default_factory=list)  # [id, name, arguments]
    stop: str | None = None
    usage: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    blocks: list[str] = field(default_factory=list)  # Anthropic block kinds in order


def assemble_openai(raw: bytes, *, include_usage: bool) -> Assembled:
    """Check an OpenAI chat.completion.chunk stream and assemble it.

    Grammar: a first chunk with delta.role "assistant"; tool_calls indices consecutive from 0,
    each first seen with id/type/name; exactly one finish_reason; usage present (usage chunk
    with choices [] when asked, else on the finish chunk); `[DONE]` exactly once and last —
    unless the stream ends with an error event (then no [DONE]).
    """
    out = Assembled()
    events = parse_sse(raw)
    assert events, "empty stream"
    datas = [d for _, d in events]
    if datas[-1] == "[DONE]":
        assert datas.count("[DONE]") == 1
        datas = datas[:-1]
    else:
        last = json.loads(datas[-1])
        assert "error" in last, "a stream must end with [DONE] or an error event"
        out.error = last["error"]
        assert set(out.error) == {"message", "type", "param", "code"}
        datas = datas[:-1]
        assert "[DONE]" not in datas
    chunks = [json.loads(d) for d in datas]
    if out.error is not None and not chunks:
        return out  # an error before anything else
    assert chunks, "no role chunk"
    first = chunks[0]["choices"][0]["delta"]
    assert first.get("role") == "assistant"
    finishes = 0
    tool_index: dict[int, int] = {}
    for n, chunk in enumerate(chunks):
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["id"].startswith("chatcmpl-")
        if not chunk["choices"]:
            assert include_usage and n == len(chunks) - 1, "usage chunk must be last"
            out.usage = chunk["usage"]
            continue
        assert finishes == 0, "nothing but the usage chunk may follow the finish chunk"
        if include_usage:
            assert chunk.get("usage", "missing") is None
        choice = chunk["choices"][0]
        delta = choice["delta"]
        if n and "role" in delta:
            raise AssertionError("role only in the first chunk")
        if delta.get("content"):
            out.text += delta["content"]
        for call in delta.get("tool_calls") or []:
            k = call["index"]
            if k not in tool_index:
                assert k == len(tool_index), "tool_calls indices must be consecutive from 0"
                assert call["id"] and call["type"] == "function" and "name" in call["function"]
                tool_index[k] = len(out.tools)
                out.tools.append([call["id"], call["function"]["name"], call["function"].get("arguments", "")])
            else:
                assert "id" not in call
                out.tools[tool_index[k]][2] += call["function"]["arguments"]
        if choice["finish_reason"] is not None:
            finishes += 1
            out.stop = choice["finish_reason"]
            assert delta == {}
            if not include_usage:
                out.usage = chunk["usage"]
    if out.error is None:
        assert finishes == 1, "exactly one finish_reason"
        assert out.usage is not None, "a streamed answer carries usage"
        assert out.usage["total_tokens"] == out.usage["prompt_tokens"] + out.usage["completion_tokens"]
    return out


def assemble_anthropic(raw: bytes) -> Assembled:
    """Check an Anthropic Messages event stream and assemble it.

    Grammar: message_start first; content_block_start indices consecutive from 0, one block
    open at a time, deltas only to the open block (of its kind), every block stopped;
    message_delta then message_stop last — or an error event last (nothing after it).
    """
    out = Assembled()
    events = [(e, json.loads(d)) for e, d in parse_sse(raw)]
    if len(events) == 1 and events[0][0] == "error":
        out.error = events[0][1]["error"]
        return out  # an error before anything else
    assert events and events[0][0] == "message_start"
    for name, data in events:
        assert data["type"] == name, "event name and data.type agree"
    msg = events[0][1]["message"]
    assert msg["content"] == [] and msg["role"] == "assistant" and msg["id"].startswith("msg_")
    usage = dict(msg["usage"])
    open_index = None
    kinds: list[str] = []
    seen_delta = False
    ended = False
    for n, (name, data) in enumerate(events[1:], 1):
        assert not ended, "nothing after message_stop"
        if name == "error":
            assert n == len(events) - 1, "error is the last event"
            out.error = data["error"]
            break
        if name == "ping":
            continue
        if name == "content_block_start":
            assert not seen_delta, "no block after message_delta"
            assert open_index is None, "previous block not stopped"
            assert data["index"] == len(kinds), "indices consecutive from 0"
            block = data["content_block"]
            kinds.append(block["type"])
            open_index = data["index"]
            if block["type"] == "tool_use":
                assert block["input"] == {}
                out.tools.append([block["id"], block["name"], ""])
        elif name == "content_block_delta":
            assert data["index"] == open_index, "delta for the open block only"
            delta = data["delta"]
            expected = {
                "text": "text_delta",
                "tool_use": "input_json_delta",
                "thinking": ("thinking_delta", "signature_delta"),
            }
            want = expected[kinds[-1]]
            assert delta["type"] == want or delta["type"] in want
            if delta["type"] == "text_delta":
                out.text += delta["text"]
            elif delta["type"] == "input_json_delta":
                out.tools[-1][2] += delta["partial_json"]
            elif delta["type"] == "thinking_delta":
                out.thinking += delta["thinking"]
        elif name == "content_block_stop":
            assert data["index"] == open_index
            open_index = None
        elif name == "message_delta":
            assert open_index is None, "blocks stopped before message_delta"
            seen_delta = True
            out.stop = data["delta"]["stop_reason"]
            usage.update({k: v for k, v in data["usage"].items() if v is not None})
        elif name == "message_stop":
            assert seen_delta, "message_delta before message_stop"
            ended = True
        else:
            raise AssertionError(f"unexpected event {name}")
    if out.error is None:
        assert ended, "stream must end with message_stop"
    out.usage = usage
    out.blocks = kinds
    return out


# --------------------------------------------------------------------------- rendering
# A plan: {"blocks": [("text", [chunks]) | ("tool", id, name, [chunks]) | ("thinking", [chunks])],
#          "stop": normalized stop reason, "usage": (input, output, cache_read, cache_creation),
#          "pings": bool}

OPENAI_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def render_anthropic(plan: dict[str, Any]) -> list[tuple[str, str]]:
    i, o, cr, cc = plan["usage"]
    ev: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "msg_plan",
                "type": "message",
                "role": "assistant",
                "content": [],
                "model": "claude-x",
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {
                    "input_tokens": i,
                    "cache_creation_input_tokens": cc,
                    "cache_read_input_tokens": cr,
                    "output_tokens": 1,
                },
            },
        }
    ]
    for idx, block in enumerate(plan["blocks"]):
        kind = block[0]
        if kind == "text":
            ev.append({"type": "content_block_start", "index": idx, "content_block": {"type": "text", "text": ""}})
            ev += [
                {"type": "content_block_delta", "index": idx, "delta": {"type": "text_delta", "text": c}}
                for c in block[1]
            ]
        elif kind == "tool":
            ev.append(
                {
                    "type": "content_block_start",
                    "index": idx,
                    "content_block": {"type": "tool_use", "id": block[1], "name": block[2], "input": {}},
                }
            )
            ev += [
                {"type": "content_block_delta", "index": idx, "delta": {"type": "input_json_delta", "partial_json": c}}
                for c in block[3]
            ]
        else:
            ev.append(
                {
                    "type": "content_block_start",
                    "index": idx,
                    "content_block": {"type": "thinking", "thinking": "", "signature": ""},
                }
            )
            ev += [
                {"type": "content_block_delta", "index": idx, "delta": {"type": "thinking_delta", "thinking": c}}
                for c in block[1]
            ]
            ev.append(
                {"type": "content_block_delta", "index": idx, "delta": {"type": "signature_delta", "signature": "sig"}}
            )
        if plan["pings"]:
            ev.append({"type": "ping"})
        ev.append({"type": "content_block_stop", "index": idx})
    seq = "STOP" if plan["stop"] == "stop_sequence" else None
    ev.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": plan["stop"], "stop_sequence": seq},
            "usage": {"output_tokens": o},
        }
    )
    ev.append({"type": "message_stop"})
    return [(e["type"], json.dumps(e)) for e in ev]


def render_openai(plan: dict[str, Any]) -> list[tuple[str, str]]:
    i, o, cr, cc = plan["usage"]

    def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[str, str]:
        return (
            "message",
            json.dumps(
                {
                    "id": "chatcmpl-plan",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt-x",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                    "usage": None,
                }
            ),
        )

    out = [chunk({"role": "assistant", "content": ""})]
    k = 0
    for block in plan["blocks"]:
        if block[0] == "text":
            out += [chunk({"content": c}) for c in block[1]]
        elif block[0] == "tool":
            out.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": k,
                                "id": block[1],
                                "type": "function",
                                "function": {"name": block[2], "arguments": ""},
                            }
                        ]
                    }
                )
            )
            out += [chunk({"tool_calls": [{"index": k, "function": {"arguments": c}}]}) for c in block[3]]
            k += 1
    out.append(chunk({}, OPENAI_FINISH[plan["stop"]]))
    usage = {
        "prompt_tokens": i + cr + cc,
        "completion_tokens": o,
        "total_tokens": i + cr + cc + o,
        "prompt_tokens_details": {"cached_tokens": cr},
    }
    out.append(
        (
            "message",
            json.dumps(
                {
                    "id": "chatcmpl-plan",
                    "object": "chat.completion.chunk",
                    "created": 1,
                    "model": "gpt-x",
                    "choices": [],
                    "usage": usage,
                }
            ),
        )
    )
    out.append(("message", "[DONE]"))
    return out
