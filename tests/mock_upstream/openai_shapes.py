"""OpenAI Chat Completions response shapes: `chat.completion` and the chunk stream.

Stream sequence per choice (choices interleaved when n > 1): a first chunk with the role
(and, for tool-only answers, the first call's id/name), content deltas, for each tool call
its id/name then argument fragments, a finish chunk with an empty delta; then, with
stream_options.include_usage, a usage chunk with `choices: []` (every earlier chunk then has
`"usage": null`); then `data: [DONE]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .replies import json_pieces, sse_data, text_pieces
from .responses import ReplyPlan

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
}
SYSTEM_FINGERPRINT = "fp_mock_upstream"


@dataclass(frozen=True)
class CompletionMeta:
    id: str
    created: int
    model: str
    prompt_tokens: int
    cached_tokens: int


def usage(meta: CompletionMeta, plans: list[ReplyPlan]) -> dict[str, Any]:
    completion = sum(plan.output_tokens for plan in plans)
    return {
        "prompt_tokens": meta.prompt_tokens,
        "completion_tokens": completion,
        "total_tokens": meta.prompt_tokens + completion,
        "prompt_tokens_details": {"cached_tokens": meta.cached_tokens, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _tool_call(call: Any) -> dict[str, Any]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.arguments_json},
    }


def chat_completion(meta: CompletionMeta, plans: list[ReplyPlan]) -> dict[str, Any]:
    choices = []
    for index, plan in enumerate(plans):
        message: dict[str, Any] = {
            "role": "assistant",
            "content": plan.text if (plan.text or not plan.tool_calls) else None,
            "refusal": None,
            "annotations": [],
        }
        if plan.tool_calls:
            message["tool_calls"] = [_tool_call(call) for call in plan.tool_calls]
        choices.append(
            {
                "index": index,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH_REASONS[plan.stop_reason],
            }
        )
    return {
        "id": meta.id,
        "object": "chat.completion",
        "created": meta.created,
        "model": meta.model,
        "choices": choices,
        "usage": usage(meta, plans),
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def _choice_deltas(plan: ReplyPlan) -> list[tuple[dict[str, Any], str | None]]:
    """(delta, finish_reason) pairs of one choice, in order."""
    deltas: list[tuple[dict[str, Any], str | None]] = []
    calls = plan.tool_calls
    if plan.text or not calls:
        deltas.append(({"role": "assistant", "content": "", "refusal": None}, None))
        deltas.extend(({"content": piece}, None) for piece in text_pieces(plan.text))
        first_call_in_role_chunk = False
    else:
        first_call_in_role_chunk = True
    for k, call in enumerate(calls):
        header = {
            "index": k,
            "id": call.id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        if k == 0 and first_call_in_role_chunk:
            deltas.append(
                (
                    {"role": "assistant", "content": None, "tool_calls": [header], "refusal": None},
                    None,
                )
            )
        else:
            deltas.append(({"tool_calls": [header]}, None))
        for fragment in json_pieces(call.arguments_json):
            deltas.append(({"tool_calls": [{"index": k, "function": {"arguments": fragment}}]}, None))
    deltas.append(({}, FINISH_REASONS[plan.stop_reason]))
    return deltas


def chat_completion_events(meta: CompletionMeta, plans: list[ReplyPlan], include_usage: bool) -> list[bytes]:
    per_choice = [_choice_deltas(plan) for plan in plans]
    events: list[bytes] = []
    longest = max(len(d) for d in per_choice)
    for step in range(longest):
        for index, deltas in enumerate(per_choice):
            if step >= len(deltas):
                continue
            delta, finish = deltas[step]
            events.append(
                sse_data(
                    _chunk(
                        meta,
                        [
                            {
                                "index": index,
                                "delta": delta,
                                "logprobs": None,
                                "finish_reason": finish,
                            }
                        ],
                        include_usage,
                    )
                )
            )
    if include_usage:
        final = _chunk(meta, [], include_usage)
        final["usage"] = usage(meta, plans)
        events.append(sse_data(final))
    events.append(b"data: [DONE]\n\n")
    return events


def _chunk(meta: CompletionMeta, choices: list[dict[str, Any]], include_usage: bool) -> dict[str, Any]:
    chunk: dict[str, Any] = {
        "id": meta.id,
        "object": "chat.completion.chunk",
        "created": meta.created,
        "model": meta.model,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": choices,
    }
    if include_usage:
        chunk["usage"] = None
    return chunk
