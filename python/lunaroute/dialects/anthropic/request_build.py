"""Normalized request → Anthropic Messages request body.

Works for a request from either dialect; from Anthropic itself it is rebuilt faithfully. The
cross-dialect rules (docs/TRANSLATION.md): system prompts joined into `system`, consecutive
same-role turns merged, temperature clamped to 0..1, `max_tokens` defaulted, `n > 1`
refused, OpenAI-only parameters dropped.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ...errors import InvalidRequestError
from ...model import ContentBlock, NormalizedRequest
from .._reasoning import THINKING_BUDGET, anthropic_format
from ..base import TargetOptions, carry_extra_fields, log_dropped
from .blocks import build_block

_CHOICE_TYPES = {"auto": "auto", "none": "none", "required": "any"}
_EMPTY_SCHEMA = {"type": "object", "properties": {}}


def build_request(req: NormalizedRequest, *, model: str, stream: bool, options: TargetOptions) -> dict[str, Any]:
    same = req.dialect == "anthropic"
    p = req.params
    if p.n is not None and p.n > 1:
        raise InvalidRequestError(
            "n: an Anthropic provider returns one choice per request; n > 1 cannot be routed to it", param="n"
        )
    thinking_ok = options.supports_thinking
    body: dict[str, Any] = {
        "model": model,
        "max_tokens": p.max_tokens if p.max_tokens is not None else options.default_max_tokens,
        "messages": _messages(req, same, thinking_ok),
    }
    if req.system:
        body["system"] = _system(req, same)
    if p.temperature is not None:
        t = p.temperature
        body["temperature"] = t if t <= 1 else 1.0  # Anthropic's range is 0..1 (OpenAI's 0..2)
    if p.top_p is not None:
        body["top_p"] = p.top_p
    if p.top_k is not None:
        body["top_k"] = p.top_k
    if p.stop is not None:
        body["stop_sequences"] = p.stop
    for name in ("presence_penalty", "frequency_penalty", "seed"):
        if getattr(p, name) is not None:
            log_dropped(name, "anthropic")
    if stream:
        body["stream"] = True
    metadata: dict[str, Any] | None = None
    if same and req.metadata:
        metadata = dict(req.metadata)
    elif req.metadata:
        log_dropped("metadata", "anthropic")
    if p.user is not None:
        metadata = metadata or {}
        metadata["user_id"] = p.user
    if metadata is not None:
        body["metadata"] = metadata
    _tools(req, body, same)
    if req.thinking is not None:
        if thinking_ok:
            body["thinking"] = req.thinking
        else:
            log_dropped("thinking", "anthropic target without thinking")
    elif not same and req.reasoning_effort is not None and req.reasoning_effort != "none":
        _thinking_from_effort(req.reasoning_effort, body, thinking_ok)
    if not same and req.output_format is not None:
        body["output_config"] = {"format": anthropic_format(req.output_format)}
    carry_extra_fields(body, req.extra, same, "anthropic")
    return body


def _thinking_from_effort(effort: str, body: dict[str, Any], thinking_ok: bool) -> None:
    """OpenAI `reasoning_effort` → extended thinking with the effort's usual budget. The
    answer keeps its own room (`max_tokens` grows by the budget), and what thinking rules
    out goes: temperature and top_k (top_p only below 0.95); a forced tool choice keeps the
    answer as asked and thinking is left off instead."""
    choice = body.get("tool_choice")
    forced = choice is not None and choice.get("type") in ("any", "tool")
    if not thinking_ok or forced or _resumes_tool_turn_without_thinking(body["messages"]):
        log_dropped(f"reasoning effort {effort!r}", "anthropic target (thinking not possible here)")
        return
    budget = THINKING_BUDGET.get(effort, THINKING_BUDGET["medium"])
    body["thinking"] = {"type": "enabled", "budget_tokens": budget}
    body["max_tokens"] = body["max_tokens"] + budget
    for name in ("temperature", "top_k"):
        if body.pop(name, None) is not None:
            log_dropped(name, "anthropic (not allowed with thinking)")
    top_p = body.get("top_p")
    if top_p is not None and top_p < 0.95:
        del body["top_p"]
        log_dropped("top_p", "anthropic (below 0.95 is not allowed with thinking)")


def _resumes_tool_turn_without_thinking(messages: list[dict[str, Any]]) -> bool:
    """Whether the request answers an assistant turn's tool calls and that turn does not
    open with a thinking block. With thinking on, Anthropic resumes inside that turn and
    refuses it; a client of another dialect never has the thinking blocks to send back."""
    if len(messages) < 2 or messages[-1]["role"] != "user" or messages[-2]["role"] != "assistant":
        return False
    answers, turn = messages[-1]["content"], messages[-2]["content"]
    if type(answers) is str or type(turn) is str or not turn:
        return False
    if not any(b.get("type") == "tool_result" for b in answers):
        return False
    return any(b.get("type") == "tool_use" for b in turn) and turn[0].get("type") not in (
        "thinking",
        "redacted_thinking",
    )


def _system(req: NormalizedRequest, same: bool) -> Any:
    if same and req.system_as_blocks:
        out = []
        for prompt in req.system:
            block: dict[str, Any] = {"type": "text", "text": prompt.text}
            if prompt.cache_control is not None:
                block["cache_control"] = prompt.cache_control
            if prompt.extra:
                block.update(prompt.extra)
            out.append(block)
        return out
    # Several system prompts (OpenAI system/developer messages, wherever they stood) become
    # one string, in order, separated by a blank line.
    return req.system_text()


def _messages(req: NormalizedRequest, same: bool, thinking_ok: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    last: dict[str, Any] | None = None
    content: str | list[ContentBlock] | list[dict[str, Any]]  # a message's blocks, then as sent
    for m in req.messages:
        content = m.content
        if type(content) is not str:
            if TYPE_CHECKING:
                assert not isinstance(content, str)
            built = [build_block(b, same, thinking_ok, m.role) for b in content]
            content = [b for b in built if b is not None]
            if not content and not same:
                log_dropped(f"empty {m.role} message", "anthropic")
                continue
        elif m.role == "assistant" and not same and (not content or content.isspace()):
            log_dropped("blank assistant message", "anthropic")
            continue
        if last is not None and last["role"] == m.role and not same:
            # Anthropic merges consecutive same-role turns anyway; sending them merged keeps
            # strict validators (and tool_result-first rules) happy.
            prev = last["content"]
            if type(prev) is str:
                prev = last["content"] = [{"type": "text", "text": prev}] if prev else []
            if type(content) is str:
                if content:
                    prev.append({"type": "text", "text": content})
            else:
                prev.extend(content)
            continue
        msg: dict[str, Any] = {"role": m.role, "content": content}
        if same and m.extra:
            msg.update(m.extra)
        out.append(msg)
        last = msg
    if not same and out and out[-1]["role"] == "assistant":
        _strip_prefill(out[-1])
    return out


def _strip_prefill(msg: dict[str, Any]) -> None:
    """Anthropic refuses a final assistant turn (a prefill) ending in whitespace; the
    trailing whitespace carries no meaning for the continuation, so it is removed."""
    content = msg["content"]
    if type(content) is str:
        msg["content"] = content.rstrip()
    elif content and content[-1].get("type") == "text":
        text = content[-1]["text"].rstrip()
        if text:
            content[-1] = {**content[-1], "text": text}
        else:
            content.pop()


def _tools(req: NormalizedRequest, body: dict[str, Any], same: bool) -> None:
    tools = req.tools
    if tools is None:
        return
    out = []
    for tool in tools:
        if tool.type == "function":
            entry: dict[str, Any] = {"name": tool.name}
            if tool.description is not None:
                entry["description"] = tool.description
            schema = tool.parameters
            if schema is None:
                schema = _EMPTY_SCHEMA
            elif "type" not in schema:
                schema = {"type": "object", **schema}
            entry["input_schema"] = schema
            if tool.cache_control is not None:
                entry["cache_control"] = tool.cache_control
            if tool.strict is not None:
                # Anthropic validates a strict tool's input against its schema (structured
                # outputs), as OpenAI does: the flag means the same in both.
                entry["strict"] = tool.strict
            if same and tool.extra:
                entry.update(tool.extra)
            out.append(entry)
        elif same and tool.raw is not None:
            out.append(tool.raw)
        else:
            log_dropped(f"{tool.type} tool {tool.name!r}", "anthropic")
    if not out and not same:
        return
    body["tools"] = out
    choice = req.tool_choice
    no_parallel = req.parallel_tool_calls is False
    said_parallel = same and req.parallel_tool_calls is True  # an explicit `false` kept on a rebuild
    if choice is not None or no_parallel or said_parallel:
        entry = (
            {"type": "auto"}
            if choice is None
            else (
                {"type": "tool", "name": choice.name} if choice.type == "tool" else {"type": _CHOICE_TYPES[choice.type]}
            )
        )
        if entry["type"] != "none" and (no_parallel or said_parallel):
            entry["disable_parallel_tool_use"] = no_parallel
        body["tool_choice"] = entry
