"""Which strings of a parsed request body are text to redact, in either dialect.

Everything a person or a tool wrote is text: system prompts, message content, tool
results, tool call `arguments` (a JSON string) and tool `input` objects (every string in
them, whatever its key). Structural values are not: the model, roles, types, ids, tool
names, media types, stop reasons, cache_control, signatures, base64 payloads (a `data`
under a base64 `source`, audio data, any `data:...;base64,` URL), opaque provider data
(`encrypted_content`, `encrypted_index`) and a signed `thinking` block's text (the provider
rejects a turn whose thinking or encrypted parts were changed). Keys never change.
"""

from __future__ import annotations

from typing import Any

STRUCTURAL = frozenset(
    {
        "model",
        "role",
        "type",
        "id",
        "tool_call_id",
        "tool_use_id",
        "call_id",
        "name",
        "media_type",
        "object",
        "stop_reason",
        "finish_reason",
        "cache_control",
        "signature",
        "encrypted_content",
        "encrypted_index",
        "status",
        "detail",
    }
)
_TOOL_USE = frozenset({"tool_use", "server_tool_use"})
_BINARY_DATA_TYPES = frozenset({"base64", "redacted_thinking"})

Slot = tuple[Any, Any, str]  # (dict or list, key or index, the string there)


def text_slots(body: Any) -> list[Slot]:
    out: list[Slot] = []
    _walk(body, None, out, payload=False)
    return out


def _walk(node: Any, parent_key: Any, out: list[Slot], payload: bool) -> None:
    # Runs on every request with PII on: the checks are inlined, cheapest first, and empty
    # strings (nothing to find) are left out.
    if isinstance(node, dict):
        kind = node.get("type")
        for key, value in node.items():
            if isinstance(value, str):
                if not value:
                    continue
                if not payload and (
                    key in STRUCTURAL
                    or (key == "data" and (kind in _BINARY_DATA_TYPES or parent_key == "input_audio"))
                    or (key == "thinking" and kind == "thinking")
                ):
                    continue
                if value.startswith("data:") and ";base64," in value[:200]:
                    continue
                out.append((node, key, value))
            elif isinstance(value, (dict, list)):
                if payload:
                    _walk(value, key, out, True)
                elif key == "input" and kind in _TOOL_USE:
                    _walk(value, key, out, True)
                elif key not in STRUCTURAL:
                    _walk(value, key, out, False)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            if isinstance(value, str):
                if value and not (value.startswith("data:") and ";base64," in value[:200]):
                    out.append((node, i, value))
            elif isinstance(value, (dict, list)):
                _walk(value, parent_key, out, payload)
