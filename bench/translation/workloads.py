"""Realistic translation workloads: a 20-message conversation in each dialect, the provider's
answer, and a streamed answer as (event_type, data) pairs as the SSE framer yields them."""

from __future__ import annotations

import json
from typing import Any

SENTENCE = "Here is a sentence of ordinary length, about the size of a chat turn in a real session. "


def openai_request() -> dict[str, Any]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": "You are a helpful assistant. " * 4}]
    for i in range(8):
        messages.append({"role": "user", "content": SENTENCE * 2 + str(i)})
        messages.append({"role": "assistant", "content": SENTENCE * 3 + str(i)})
    messages.append(
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        }
    )
    messages.append(
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": '{"q": "cat breeds"}'}}
            ],
        }
    )
    messages.append({"role": "tool", "tool_call_id": "call_1", "content": "Siamese, Persian, Maine Coon"})
    assert len(messages) == 20
    return {
        "model": "gpt-4o",
        "messages": messages,
        "temperature": 0.7,
        "max_tokens": 1024,
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "lookup",
                    "description": "Search",
                    "parameters": {"type": "object", "properties": {"q": {"type": "string"}}},
                },
            }
        ],
    }


def anthropic_request() -> dict[str, Any]:
    messages: list[dict[str, Any]] = []
    for i in range(9):
        messages.append({"role": "user", "content": SENTENCE * 2 + str(i)})
        messages.append({"role": "assistant", "content": SENTENCE * 3 + str(i)})
    messages[-1] = {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Let me look."},
            {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "cat breeds"}},
        ],
    }
    messages.append(
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "toolu_1", "content": "Siamese, Persian, Maine Coon"},
                {"type": "text", "text": "Thanks!"},
            ],
        }
    )
    messages.append({"role": "user", "content": "One more question."})  # consecutive user turns are allowed
    assert len(messages) == 20 and messages[0]["role"] == "user"
    return {
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": "You are a helpful assistant. " * 4,
        "temperature": 0.7,
        "messages": messages,
        "tools": [
            {
                "name": "lookup",
                "description": "Search",
                "input_schema": {"type": "object", "properties": {"q": {"type": "string"}}},
            }
        ],
    }


def anthropic_answer() -> dict[str, Any]:
    return {
        "id": "msg_01Bench",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "text", "text": SENTENCE * 4},
            {"type": "tool_use", "id": "toolu_2", "name": "lookup", "input": {"q": "more"}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 1200,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 800,
            "output_tokens": 90,
        },
    }


def openai_answer() -> dict[str, Any]:
    return {
        "id": "chatcmpl-Bench",
        "object": "chat.completion",
        "created": 1741570283,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": SENTENCE * 4,
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "lookup", "arguments": '{"q": "more"}'},
                        }
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 2000,
            "completion_tokens": 90,
            "total_tokens": 2090,
            "prompt_tokens_details": {"cached_tokens": 800},
        },
        "system_fingerprint": "fp_1",
    }


def _words(n: int) -> list[str]:
    return [f"word{i} " for i in range(n)]


def anthropic_stream(deltas: int) -> list[tuple[str, str]]:
    """message_start, one text block of `deltas` text deltas, message_delta, message_stop."""
    ev = [
        (
            "message_start",
            json.dumps(
                {
                    "type": "message_start",
                    "message": {
                        "id": "msg_S",
                        "type": "message",
                        "role": "assistant",
                        "content": [],
                        "model": "claude-sonnet-4-5",
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 100, "output_tokens": 1},
                    },
                }
            ),
        ),
        (
            "content_block_start",
            json.dumps({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
    ]
    ev += [
        (
            "content_block_delta",
            json.dumps({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}),
        )
        for w in _words(deltas)
    ]
    ev += [
        ("content_block_stop", json.dumps({"type": "content_block_stop", "index": 0})),
        (
            "message_delta",
            json.dumps(
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                    "usage": {"output_tokens": deltas},
                }
            ),
        ),
        ("message_stop", json.dumps({"type": "message_stop"})),
    ]
    return ev


def openai_stream(deltas: int) -> list[tuple[str, str]]:
    def chunk(delta: dict[str, Any], finish: str | None = None) -> tuple[str, str]:
        return (
            "message",
            json.dumps(
                {
                    "id": "chatcmpl-S",
                    "object": "chat.completion.chunk",
                    "created": 1741570283,
                    "model": "gpt-4o-2024-08-06",
                    "system_fingerprint": "fp_1",
                    "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
                    "usage": None,
                }
            ),
        )

    ev = [chunk({"role": "assistant", "content": "", "refusal": None})]
    ev += [chunk({"content": w}) for w in _words(deltas)]
    ev.append(chunk({}, "stop"))
    ev.append(
        (
            "message",
            json.dumps(
                {
                    "id": "chatcmpl-S",
                    "object": "chat.completion.chunk",
                    "created": 1741570283,
                    "model": "gpt-4o-2024-08-06",
                    "choices": [],
                    "usage": {"prompt_tokens": 100, "completion_tokens": deltas, "total_tokens": 100 + deltas},
                }
            ),
        )
    )
    ev.append(("message", "[DONE]"))
    return ev
