"""Normalized answers → Responses API `Response` objects: the non-streamed answer, and the
pieces a stream's events are made of (output items, usage, the response snapshot).

- `output` follows the answer's order: each run of text is one `message` item (one
  `output_text` part), each tool call one `function_call` item. A tool-only answer has no
  message item; an answer with neither gets one empty message item, so `output[0]` exists.
- Thinking and provider-only blocks are left out: a `reasoning` item sent back as input
  (`input += response.output`) could not be translated for the other provider.
- `status` is `incomplete` when the provider stopped on its token limit (`incomplete_details:
  {reason: max_output_tokens}`) or its content filter (`content_filter`).
- Ids are new and unique (`resp_…`, `msg_…`, `fc_…`): LunaRoute keeps no response state, so
  an id names nothing it could be asked for again.
"""

from __future__ import annotations

import itertools
import os
from typing import TYPE_CHECKING, Any

from ...model import ContentBlock, NormalizedRequest, NormalizedResponse, TextBlock, ToolUseBlock, Usage
from ...model import response as sr
from .._ids import now
from .._tool_args import arguments_json
from ..base import log_dropped

_INCOMPLETE = {
    sr.MAX_TOKENS: "max_output_tokens",
    sr.CONTEXT_WINDOW_EXCEEDED: "max_output_tokens",
    sr.CONTENT_FILTER: "content_filter",
    sr.REFUSAL: "content_filter",
}

# Unique ids without a random draw per id: a per-process random part and a counter.
_ID_BASE = os.urandom(6).hex()
_ID_COUNTER = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}_{_ID_BASE}{next(_ID_COUNTER):010x}"


def incomplete_reason(stop_reason: str | None) -> str | None:
    return _INCOMPLETE.get(stop_reason) if stop_reason is not None else None


def usage_json(usage: Usage) -> dict[str, Any]:
    """Responses `usage`: input_tokens is the whole prompt, cache reads and writes included
    (as OpenAI counts it); reasoning tokens are part of output_tokens."""
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_creation_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def message_item(item_id: str, text: str | None, status: str) -> dict[str, Any]:
    """A message item; `text` None is one with no content part yet (a stream's first event)."""
    content = [] if text is None else [text_part(text)]
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def function_call_item(item_id: str, call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def response_object(
    response_id: str,
    created_at: int,
    model: str,
    request: NormalizedRequest,
    status: str,
    output: list[dict[str, Any]],
    usage: dict[str, Any] | None,
    incomplete: str | None = None,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A `Response`: the answer's fields, and the request's settings echoed as the API does."""
    p = request.params
    fmt = request.output_format
    return {
        "id": response_id,
        "object": "response",
        "created_at": created_at,
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": None if incomplete is None else {"reason": incomplete},
        "instructions": None,
        "max_output_tokens": p.max_tokens,
        "metadata": request.metadata or {},
        "model": model,
        "output": output,
        "parallel_tool_calls": request.parallel_tool_calls is not False,
        "previous_response_id": None,
        "reasoning": {"effort": request.reasoning_effort, "summary": None},
        "store": False,
        "temperature": p.temperature,
        "text": {"format": {"type": "text"} if fmt is None else fmt},
        "tool_choice": _tool_choice(request),
        "tools": _tools(request),
        "top_p": p.top_p,
        "truncation": "disabled",
        "usage": usage,
        "user": p.user,
    }


def _tool_choice(request: NormalizedRequest) -> Any:
    choice = request.tool_choice
    if choice is None:
        return "auto"
    if choice.type == "tool":
        return {"type": "function", "name": choice.name}
    return choice.type


def _tools(request: NormalizedRequest) -> list[dict[str, Any]]:
    return [
        {
            "type": "function",
            "name": tool.name,
            "description": tool.description,
            "parameters": tool.parameters,
            "strict": tool.strict,
        }
        for tool in request.tools or ()
    ]


def output_items(content: list[ContentBlock]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    texts: list[str] = []
    for block in content:
        # `kind` is read once; each branch's TYPE_CHECKING assert tells the type checker
        # what `block` is there, at no cost at run time.
        kind = block.kind
        if kind == "text":
            if TYPE_CHECKING:
                assert isinstance(block, TextBlock)
            texts.append(block.text)
        elif kind == "tool_use":
            if TYPE_CHECKING:
                assert isinstance(block, ToolUseBlock)
            if texts and any(texts):
                items.append(message_item(new_id("msg"), "".join(texts), "completed"))
            texts = []
            items.append(function_call_item(new_id("fc"), block.id, block.name, arguments_json(block), "completed"))
        else:
            log_dropped(f"{getattr(block, 'type', kind)} block of the answer", "responses")
    if (texts and any(texts)) or not items:
        items.append(message_item(new_id("msg"), "".join(texts), "completed"))
    return items


def build_response(resp: NormalizedResponse, *, model: str, request: NormalizedRequest) -> dict[str, Any]:
    incomplete = incomplete_reason(resp.stop_reason)
    return response_object(
        new_id("resp"),
        resp.created if resp.created is not None else now(),
        model,
        request,
        "completed" if incomplete is None else "incomplete",
        output_items(resp.content),
        usage_json(resp.usage),
        incomplete,
    )
