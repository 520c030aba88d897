"""Test helpers for the dialect tests: SSE parsing, fixture loading, upstream validators."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "translation"

Validator = Callable[[dict[str, Any]], list[str]]


def parse_sse(raw: bytes | str) -> list[tuple[str, str]]:
    """(event_type, data) of each event of a complete SSE text (WHATWG rules for the fields
    these streams use: event, data; comments skipped; a trailing unterminated event dropped)."""
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    events: list[tuple[str, str]] = []
    event, data = "", []
    for line in text.replace("\r\n", "\n").split("\n"):
        if not line:
            if data:
                events.append((event or "message", "\n".join(data)))
            event, data = "", []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            event = value
        elif name == "data":
            data.append(value)
    return events


def sse_comments(raw: bytes) -> list[str]:
    return [line for line in raw.decode().split("\n") if line.startswith(":")]


def decoded_events(raw: bytes | str) -> list[tuple[str, Any]]:
    """SSE events with JSON data decoded (`[DONE]` kept as the string)."""
    out = []
    for event, data in parse_sse(raw):
        out.append((event, data if data == "[DONE]" else json.loads(data)))
    return out


def strip_keys(value: Any, ignore: set[str]) -> Any:
    """`value` without the keys in `ignore`, at any depth (generated timestamps)."""
    if isinstance(value, dict):
        return {k: strip_keys(v, ignore) for k, v in value.items() if k not in ignore}
    if isinstance(value, list):
        return [strip_keys(v, ignore) for v in value]
    if isinstance(value, tuple):
        return tuple(strip_keys(v, ignore) for v in value)
    return value


def load_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def case_dirs() -> list[Path]:
    return sorted(p for p in FIXTURES.iterdir() if (p / "case.json").is_file())


def upstream_validator(dialect: str) -> Validator:
    """The strict request validator of the mock upstream (tests/mock_upstream/validators.py)
    when it is present; else a minimal structural check written here."""
    try:
        from tests.mock_upstream import validators
    except ImportError:  # pragma: no cover - the other engineer's module is missing
        return _minimal_openai if dialect == "openai" else _minimal_anthropic
    return validators.validate_openai_request if dialect == "openai" else validators.validate_anthropic_request


def _minimal_openai(body: dict[str, Any]) -> list[str]:
    problems = []
    if not isinstance(body.get("model"), str):
        problems.append("model")
    msgs = body.get("messages")
    if not isinstance(msgs, list) or not msgs:
        problems.append("messages")
    else:
        for m in msgs:
            if m.get("role") not in ("system", "developer", "user", "assistant", "tool"):
                problems.append("role")
    if "top_k" in body:
        problems.append("top_k")
    return problems


def _minimal_anthropic(body: dict[str, Any]) -> list[str]:
    problems = []
    if not isinstance(body.get("max_tokens"), int):
        problems.append("max_tokens")
    t = body.get("temperature")
    if t is not None and not 0 <= t <= 1:
        problems.append("temperature")
    for m in body.get("messages") or []:
        if m.get("role") not in ("user", "assistant"):
            problems.append("role")
    for key in ("n", "seed", "presence_penalty", "frequency_penalty", "user"):
        if key in body:
            problems.append(key)
    return problems
