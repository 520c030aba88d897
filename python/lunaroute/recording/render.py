"""`lunaroute sessions show`: one recorded session as a readable conversation.

The request and the answer are read by their shape, whichever dialect they are in (OpenAI
Chat Completions, Anthropic Messages, the Responses API), so a session renders even when
its body is unusual: what is not understood is shown as its type, never dropped silently.
"""

from __future__ import annotations

from typing import Any

import orjson

Part = tuple[str, ...]  # ("text", s) | ("call", name, id, args) | ("result", id, text, flag) | ("note", s)

_ROLE_COLOURS = {"system": "35", "user": "36", "assistant": "32", "tool": "33", "answer": "32;1", "error": "31;1"}


def render_session(obj: dict[str, Any], colour: bool = False) -> str:
    lines: list[str] = []
    lines += _summary(obj)
    for role, parts in request_turns(obj.get("request")):
        lines.append("")
        lines.append(_heading(role, colour))
        lines += _parts(parts)
    answer = obj.get("response")
    lines.append("")
    lines.append(_heading("answer", colour))
    if answer is None:
        lines.append("  (no answer recorded)")
    else:
        parts, stop = answer_parts(answer)
        lines += _parts(parts) or ["  (empty)"]
        if stop:
            lines.append(f"  [stop: {stop}]")
    if obj.get("stream_error"):
        lines.append(_heading("error", colour))
        lines.append(f"  {obj['stream_error']}")
    return "\n".join(lines) + "\n"


def _summary(obj: dict[str, Any]) -> list[str]:
    usage = obj.get("usage") or {}
    rows = [
        ("session", str(obj.get("id"))),
        ("time", f"{obj.get('timestamp')}   latency {_ms(obj.get('latency_ms'))}" + _ttft(obj)),
        (
            "route",
            f"listener {obj.get('listener')} ({obj.get('dialect')}) → {obj.get('provider')} / {obj.get('model')}"
            f"   asked for {obj.get('request_model')}   status {obj.get('status')}",
        ),
        (
            "tokens",
            f"in {usage.get('input_tokens', 0)} · out {usage.get('output_tokens', 0)}"
            f" · cache read {usage.get('cache_read_tokens', 0)} · cache write {usage.get('cache_write_tokens', 0)}"
            f"   cost {_cost(obj.get('cost_cents'))}",
        ),
    ]
    who = [f"{k} {obj[f]}" for k, f in (("tenant", "tenant"), ("key", "key_id")) if obj.get(f)]
    if obj.get("conversation_id"):
        who.append(f"conversation {obj['conversation_id']}")
    if who:
        rows.append(("client", "   ".join(who)))
    fallbacks = obj.get("fallbacks_tried") or []
    if fallbacks:
        rows.append(
            (
                "fallbacks",
                "; ".join(f"{f.get('provider')}/{f.get('model')}: {f.get('outcome')}" for f in fallbacks),
            )
        )
    if obj.get("error"):
        rows.append(("error", str(obj["error"])))
    return [f"{k:<10} {v}" for k, v in rows]


def _ttft(obj: dict[str, Any]) -> str:
    if obj.get("stream"):
        return f"   stream, first token {_ms(obj.get('ttft_ms'))}"
    return ""


def _ms(value: Any) -> str:
    return f"{value:.1f} ms" if isinstance(value, int | float) else "-"


def _cost(cents: Any) -> str:
    return f"${cents / 100:.6f}" if isinstance(cents, int | float) else "-"


def _heading(role: str, colour: bool) -> str:
    text = f"── {role} ──"
    if colour:
        return f"\033[{_ROLE_COLOURS.get(role, '1')}m{text}\033[0m"
    return text


def _parts(parts: list[Part]) -> list[str]:
    out: list[str] = []
    for part in parts:
        kind = part[0]
        if kind == "text":
            out += ["  " + line for line in part[1].splitlines() or [""]]
        elif kind == "call":
            out.append(f"  → tool call {part[1]} [{part[2]}]")
            out += ["      " + line for line in _pretty_json(part[3]).splitlines()]
        elif kind == "result":
            flag = " (error)" if part[3] else ""
            out.append(f"  ← tool result [{part[1]}]{flag}")
            out += ["      " + line for line in part[2].splitlines() or [""]]
        else:
            out.append(f"  [{part[1]}]")
    return out


def _pretty_json(args: str) -> str:
    try:
        return orjson.dumps(orjson.loads(args), option=orjson.OPT_INDENT_2).decode()
    except (orjson.JSONDecodeError, TypeError):
        return args


# ---------------------------------------------------------------------- request shapes
def request_turns(request: Any) -> list[tuple[str, list[Part]]]:
    if not isinstance(request, dict):
        return [("request", [("text", str(request))])] if request is not None else []
    turns: list[tuple[str, list[Part]]] = []
    system = request.get("system")
    if system:
        turns.append(("system", _blocks(system)))
    if request.get("instructions"):
        turns.append(("system", [("text", str(request["instructions"]))]))
    for message in request.get("messages") or []:
        if isinstance(message, dict):
            turns.append(_message(message))
    items = request.get("input")
    if isinstance(items, str):
        turns.append(("user", [("text", items)]))
    elif isinstance(items, list):
        turns += _response_items(items)
    return turns


def _message(message: dict[str, Any]) -> tuple[str, list[Part]]:
    role = str(message.get("role") or "?")
    parts = _blocks(message.get("content"))
    for call in message.get("tool_calls") or []:
        if isinstance(call, dict):
            fn = call.get("function") or {}
            parts.append(("call", str(fn.get("name")), str(call.get("id")), str(fn.get("arguments") or "")))
    if role == "tool":
        text = "\n".join(p[1] for p in parts if p[0] == "text")
        return "tool", [("result", str(message.get("tool_call_id")), text, "")]
    if role == "developer":
        role = "system"
    return role, parts


def _response_items(items: list[Any]) -> list[tuple[str, list[Part]]]:
    turns: list[tuple[str, list[Part]]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        kind = item.get("type")
        if kind == "function_call":
            turns.append(
                ("assistant", [("call", str(item.get("name")), str(item.get("call_id")), str(item.get("arguments")))])
            )
        elif kind == "function_call_output":
            turns.append(("tool", [("result", str(item.get("call_id")), str(item.get("output")), "")]))
        else:
            turns.append(_message(item))
    return turns


def _blocks(content: Any) -> list[Part]:
    """OpenAI content parts, Anthropic blocks or Responses parts → parts."""
    if content is None:
        return []
    if isinstance(content, str):
        return [("text", content)]
    if not isinstance(content, list):
        return [("text", str(content))]
    parts: list[Part] = []
    for block in content:
        if isinstance(block, str):
            parts.append(("text", block))
            continue
        if not isinstance(block, dict):
            continue
        kind = block.get("type")
        if kind in ("text", "input_text", "output_text"):
            parts.append(("text", str(block.get("text", ""))))
        elif kind == "tool_use":
            parts.append(
                ("call", str(block.get("name")), str(block.get("id")), orjson.dumps(block.get("input")).decode())
            )
        elif kind == "tool_result":
            text = "\n".join(p[1] for p in _blocks(block.get("content")) if p[0] == "text")
            parts.append(("result", str(block.get("tool_use_id")), text, "1" if block.get("is_error") else ""))
        elif kind == "thinking":
            parts.append(("note", f"thinking: {block.get('thinking', '')}"))
        elif kind in ("image", "image_url", "input_image"):
            parts.append(("note", "image"))
        else:
            parts.append(("note", str(kind)))
    return parts


# ---------------------------------------------------------------------- answer shapes
def answer_parts(answer: Any) -> tuple[list[Part], str | None]:
    """(parts, stop reason) of an answer in any of the three shapes, or of an error body."""
    if not isinstance(answer, dict):
        return [("text", str(answer))], None
    if "choices" in answer:  # OpenAI chat completion
        choices = answer.get("choices") or [{}]
        choice = choices[0] if isinstance(choices[0], dict) else {}
        _, parts = _message(choice.get("message") or {})
        return parts, choice.get("finish_reason")
    if answer.get("type") == "message" or "stop_reason" in answer:  # Anthropic
        return _blocks(answer.get("content")), answer.get("stop_reason")
    if answer.get("object") == "response":  # Responses API
        parts = []
        for _, item_parts in _response_items(answer.get("output") or []):
            parts += item_parts
        return parts, answer.get("status")
    if "error" in answer:
        err = answer["error"]
        message = err.get("message") if isinstance(err, dict) else err
        return [("text", f"error: {message}")], None
    return [("text", orjson.dumps(answer, option=orjson.OPT_INDENT_2).decode())], None
