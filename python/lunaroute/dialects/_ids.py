"""Identifier conversions between the dialects.

Response ids are converted deterministically (same input, same output) so that a client can
correlate ids and golden tests need no wildcards: an Anthropic answer id `msg_X` becomes
`chatcmpl-X` for an OpenAI client and back.

Tool-call ids: Anthropic requires `^[a-zA-Z0-9_-]+$`; OpenAI accepts any string. Ids going to
Anthropic are sanitized by one fixed rule (every other character → `_`), applied both to the
assistant's `tool_use.id` and the user's `tool_result.tool_use_id`, so pairs still match.
"""

from __future__ import annotations

import re
import time
import uuid

_NOT_ANTHROPIC_ID = re.compile(r"[^a-zA-Z0-9_-]")


def anthropic_message_id(upstream_id: str) -> str:
    if upstream_id.startswith("msg_"):
        return upstream_id
    core = upstream_id[9:] if upstream_id.startswith("chatcmpl-") else upstream_id
    return "msg_" + (core or uuid.uuid4().hex[:24])


def openai_completion_id(upstream_id: str) -> str:
    if upstream_id.startswith("chatcmpl-"):
        return upstream_id
    core = upstream_id[4:] if upstream_id.startswith("msg_") else upstream_id
    return "chatcmpl-" + (core or uuid.uuid4().hex[:24])


def anthropic_tool_id(tool_id: str) -> str:
    """A tool id Anthropic accepts. Ids that already conform (the norm) cost one regex scan.
    An empty id (never sent by real providers) maps to one fixed id so pairs still match."""
    if not tool_id:
        return "toolu_empty"
    if _NOT_ANTHROPIC_ID.search(tool_id) is None:
        return tool_id
    return _NOT_ANTHROPIC_ID.sub("_", tool_id)


def generated_tool_id(position: int) -> str:
    """An id for a tool call an upstream sent without one (some OpenAI-compatible servers)."""
    return f"call_{uuid.uuid4().hex[:20]}_{position}"


def now() -> int:
    """Seconds since the epoch, for OpenAI's `created`."""
    return int(time.time())
