"""A recorded exchange as the templates show it: turns of parts, answer, stream events.

The shapes of the three dialects are read by `recording.render` (the same reading as
`lunaroute sessions show`); this module only turns its tuples into what a template can
walk, and marks what is long enough to fold.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ..recording.render import answer_parts, request_turns

FOLD_CHARS = 1500
_THINKING = "thinking: "


@dataclass(slots=True)
class Part:
    kind: str  # text | thinking | call | result | note
    text: str = ""
    name: str = ""
    call_id: str = ""
    is_error: bool = False

    @property
    def long(self) -> bool:
        return len(self.text) > FOLD_CHARS or self.text.count("\n") > 30

    @property
    def headline(self) -> str:
        first = self.text.strip().split("\n", 1)[0]
        return first[:160] + ("…" if len(first) > 160 else "")


@dataclass(slots=True)
class Turn:
    role: str
    parts: list[Part] = field(default_factory=list)


def _part(raw: tuple[str, ...]) -> Part:
    kind = raw[0]
    if kind == "text":
        return Part("text", raw[1])
    if kind == "call":
        return Part("call", _pretty(raw[3]), name=raw[1], call_id=raw[2])
    if kind == "result":
        return Part("result", raw[2], call_id=raw[1], is_error=bool(raw[3]))
    # render.py keeps thinking as a note; here it gets a fold of its own.
    if raw[1].startswith(_THINKING):
        return Part("thinking", raw[1][len(_THINKING) :])
    return Part("note", raw[1])


def _pretty(args: str) -> str:
    try:
        return orjson.dumps(orjson.loads(args), option=orjson.OPT_INDENT_2).decode()
    except (orjson.JSONDecodeError, TypeError):
        return args


def request(obj: dict[str, Any]) -> list[Turn]:
    return [Turn(role, [_part(p) for p in parts]) for role, parts in request_turns(obj.get("request"))]


def answer(obj: dict[str, Any]) -> tuple[list[Part], str | None]:
    body = obj.get("response")
    if body is None:
        return [], None
    parts, stop = answer_parts(body)
    return [_part(p) for p in parts], stop


def new_input(turns: list[Turn], first_of_conversation: bool) -> list[Turn]:
    """What this request added to the conversation: the turns after the last assistant turn
    (clients resend the whole history every time); the system prompt on the first turn."""
    last = max((i for i, t in enumerate(turns) if t.role == "assistant"), default=-1)
    fresh = [t for t in turns[last + 1 :] if t.role != "system"]
    if first_of_conversation:
        fresh = [t for t in turns if t.role == "system"] + fresh
    return fresh


# ---------------------------------------------------------------------- stream events
def event_rows(events: list[dict[str, Any]], previous_t: float | None) -> list[dict[str, Any]]:
    rows = []
    for ev in events:
        t = ev.get("t_ms")
        gap = t - previous_t if isinstance(t, int | float) and previous_t is not None else None
        if isinstance(t, int | float):
            previous_t = t
        rows.append({"seq": ev.get("seq"), "t_ms": t, "gap_ms": gap, "event": ev.get("event"), "what": summary(ev)})
    return rows


def summary(ev: dict[str, Any]) -> str:
    """The part of an event's data a person looks for: the delta, else the data, short."""
    data = ev.get("data")
    if isinstance(data, str):
        if data[:1] in ("{", "["):
            try:
                data = orjson.loads(data)
            except orjson.JSONDecodeError:
                pass
    if isinstance(data, dict):
        delta = data.get("delta")
        if isinstance(delta, dict):
            for key in ("text", "thinking", "partial_json", "stop_reason"):
                if isinstance(delta.get(key), str):
                    return _short(f"{key}: {delta[key]!r}")
        block = data.get("content_block")
        if isinstance(block, dict):
            return _short(f"{block.get('type')} {block.get('name') or ''}".strip())
        choices = data.get("choices")
        if isinstance(choices, list) and choices and isinstance(choices[0], dict):
            d = choices[0].get("delta") or {}
            if isinstance(d, dict):
                if d.get("content"):
                    return _short(f"content: {d['content']!r}")
                calls = d.get("tool_calls")
                if isinstance(calls, list) and calls and isinstance(calls[0], dict):
                    fn = calls[0].get("function") or {}
                    if fn.get("name"):
                        return _short(f"tool call {fn['name']}")
                    return _short(f"arguments: {fn.get('arguments', '')!r}")
            if choices[0].get("finish_reason"):
                return f"finish: {choices[0]['finish_reason']}"
        if isinstance(data.get("usage"), dict):
            return _short("usage " + orjson.dumps(data["usage"]).decode())
        return _short(orjson.dumps(data).decode())
    return _short(str(data))


def _short(text: str, limit: int = 160) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
