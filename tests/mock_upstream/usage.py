"""Deterministic token accounting and a prompt cache, so usage figures are predictable.

Token rule: one token per whitespace-separated word of every string value, except object
keys and the values of structural fields (`type`, `role`, ids, `cache_control`), so a text
costs the same whether sent as a plain string or as a typed block. Prompt caching is
modelled on prefixes of the prompt:
- Anthropic: a prefix ends at each block carrying `cache_control` (tools, then system, then
  message blocks; a top-level `cache_control` marks the last block). A prefix seen before is a
  cache read; the last breakpoint's prefix, if new, is a cache write (creation).
- OpenAI: automatic; a prefix ends after the tools and after each message. The longest
  prefix seen before is reported as `prompt_tokens_details.cached_tokens`.
There is no minimum cacheable length (the real APIs need ~1024 tokens) so tests stay small.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"\S+")


_STRUCTURAL = frozenset({"type", "role", "id", "tool_use_id", "tool_call_id", "cache_control"})


def count_tokens(value: Any) -> int:
    """Words in every string inside `value` (keys and structural fields excluded)."""
    if isinstance(value, str):
        return len(_WORD.findall(value))
    if isinstance(value, dict):
        return sum(count_tokens(v) for k, v in value.items() if k not in _STRUCTURAL)
    if isinstance(value, list):
        return sum(count_tokens(v) for v in value)
    return 0


@dataclass(frozen=True)
class Segment:
    """One cacheable unit of a prompt, in prompt order."""

    tokens: int
    canonical: str
    breakpoint_ttl: str | None = None  # "5m"/"1h" when the unit carries cache_control


@dataclass(frozen=True)
class CacheOutcome:
    total: int
    read: int
    created: int
    created_ttl: str = "5m"

    @property
    def uncached(self) -> int:
        return self.total - self.read - self.created


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _segment(value: Any, role: str = "") -> Segment:
    ttl = None
    if isinstance(value, dict) and isinstance(value.get("cache_control"), dict):
        ttl = value["cache_control"].get("ttl", "5m")
        value = {k: v for k, v in value.items() if k != "cache_control"}
    return Segment(count_tokens(value), role + _canonical(value), ttl)


def anthropic_segments(body: dict[str, Any]) -> list[Segment]:
    segments: list[Segment] = []
    for tool in body.get("tools") or []:
        segments.append(_segment(tool, "tool:"))
    system = body.get("system")
    if isinstance(system, str):
        segments.append(_segment(system, "system:"))
    elif isinstance(system, list):
        segments.extend(_segment(block, "system:") for block in system)
    for message in body.get("messages") or []:
        role = f"{message.get('role')}:"
        content = message.get("content")
        if isinstance(content, list):
            segments.extend(_segment(block, role) for block in content)
        else:
            segments.append(_segment(content, role))
    top = body.get("cache_control")
    if isinstance(top, dict) and segments and segments[-1].breakpoint_ttl is None:
        last = segments[-1]
        segments[-1] = Segment(last.tokens, last.canonical, top.get("ttl", "5m"))
    return segments


def openai_segments(body: dict[str, Any]) -> list[Segment]:
    """One segment for all tool definitions, then one per message; each ends a prefix."""
    segments = [
        Segment(
            count_tokens(body.get("tools") or []),
            "tools:" + _canonical(body.get("tools") or []),
            "auto",
        )
    ]
    for message in body.get("messages") or []:
        segments.append(Segment(count_tokens(message), "message:" + _canonical(message), "auto"))
    return segments


class PromptCache:
    """Remembers prompt-prefix digests per model; cleared by the control API's reset."""

    def __init__(self) -> None:
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._seen.clear()

    def lookup_and_store(self, model: str, segments: list[Segment], *, count_only: bool = False) -> CacheOutcome:
        """Cache outcome of this prompt; stores its breakpoints unless `count_only`."""
        digest = hashlib.sha256(model.encode())
        total = 0
        points: list[tuple[int, str, str]] = []
        for segment in segments:
            digest.update(segment.canonical.encode())
            digest.update(b"\x00")
            total += segment.tokens
            if segment.breakpoint_ttl is not None:
                points.append((total, digest.hexdigest(), segment.breakpoint_ttl))
        with self._lock:
            read = max((tokens for tokens, key, _ in points if key in self._seen), default=0)
            created, ttl = 0, "5m"
            if points and points[-1][1] not in self._seen:
                created = points[-1][0] - read
                ttl = points[-1][2]
            if not count_only:
                self._seen.update(key for _, key, _ in points)
        return CacheOutcome(total=total, read=read, created=created, created_ttl=ttl)
