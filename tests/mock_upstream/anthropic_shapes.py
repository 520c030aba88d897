"""Anthropic Messages response shapes: the `message` object and its event stream.

Stream sequence: message_start (empty content, stop_reason null), then for each content
block content_block_start / content_block_delta... / content_block_stop (a `ping` follows
the first content_block_start), message_delta (stop_reason, stop_sequence and cumulative
usage), message_stop. Thinking blocks stream thinking_delta then one signature_delta;
tool_use blocks stream input_json_delta fragments, starting with an empty one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from .replies import json_pieces, sse_named, text_pieces
from .responses import ReplyPlan
from .usage import CacheOutcome


@dataclass(frozen=True)
class MessageMeta:
    id: str
    model: str
    cache: CacheOutcome


def usage(meta: MessageMeta, output_tokens: int) -> dict[str, Any]:
    cache = meta.cache
    return {
        "input_tokens": cache.uncached,
        "cache_creation_input_tokens": cache.created,
        "cache_read_input_tokens": cache.read,
        "cache_creation": {
            "ephemeral_5m_input_tokens": cache.created if cache.created_ttl != "1h" else 0,
            "ephemeral_1h_input_tokens": cache.created if cache.created_ttl == "1h" else 0,
        },
        "output_tokens": output_tokens,
        "service_tier": "standard",
    }


def content_blocks(plan: ReplyPlan) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    if plan.thinking is not None:
        blocks.append({"type": "thinking", "thinking": plan.thinking, "signature": plan.signature})
    if plan.text:
        blocks.append({"type": "text", "text": plan.text})
    for call in plan.tool_calls:
        blocks.append({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments})
    return blocks


def message(meta: MessageMeta, plan: ReplyPlan) -> dict[str, Any]:
    return {
        "id": meta.id,
        "type": "message",
        "role": "assistant",
        "model": meta.model,
        "content": content_blocks(plan),
        "stop_reason": plan.stop_reason,
        "stop_sequence": plan.stop_sequence,
        "usage": usage(meta, plan.output_tokens),
    }


def message_events(meta: MessageMeta, plan: ReplyPlan) -> list[bytes]:
    start = {
        "id": meta.id,
        "type": "message",
        "role": "assistant",
        "model": meta.model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage(meta, min(1, plan.output_tokens)),
    }
    events = [sse_named("message_start", {"type": "message_start", "message": start})]
    blocks = content_blocks(plan)
    for index, block in enumerate(blocks):
        events.extend(_block_events(index, block))
        if index == 0:
            events.insert(2, sse_named("ping", {"type": "ping"}))
    if not blocks:
        events.append(sse_named("ping", {"type": "ping"}))
    final_usage = usage(meta, plan.output_tokens)
    events.append(
        sse_named(
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": plan.stop_reason, "stop_sequence": plan.stop_sequence},
                "usage": {
                    "input_tokens": final_usage["input_tokens"],
                    "cache_creation_input_tokens": final_usage["cache_creation_input_tokens"],
                    "cache_read_input_tokens": final_usage["cache_read_input_tokens"],
                    "output_tokens": final_usage["output_tokens"],
                },
            },
        )
    )
    events.append(sse_named("message_stop", {"type": "message_stop"}))
    return events


def _block_events(index: int, block: dict[str, Any]) -> list[bytes]:
    kind = block["type"]
    deltas: list[dict[str, Any]]
    if kind == "text":
        opening = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": piece} for piece in text_pieces(block["text"])]
    elif kind == "thinking":
        opening = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": piece} for piece in text_pieces(block["thinking"])]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:
        opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        arguments = json.dumps(block["input"], separators=(",", ":"), ensure_ascii=False)
        deltas = [{"type": "input_json_delta", "partial_json": ""}]
        deltas.extend({"type": "input_json_delta", "partial_json": piece} for piece in json_pieces(arguments))
    events = [
        sse_named(
            "content_block_start",
            {"type": "content_block_start", "index": index, "content_block": opening},
        )
    ]
    events.extend(
        sse_named("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
        for delta in deltas
    )
    events.append(sse_named("content_block_stop", {"type": "content_block_stop", "index": index}))
    return events
