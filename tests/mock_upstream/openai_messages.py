"""Validation of the `messages` array of an OpenAI Chat Completions request.

Covers each role's allowed fields, content shapes (string or typed parts), assistant
`tool_calls`, and the pairing rule the real API enforces: an assistant message with
`tool_calls` must be followed by one `tool` message per call id, and a `tool` message must
answer a call of the assistant message right before the run of tool messages.
"""

from __future__ import annotations

from typing import Any

from .openai_checks import OpenAIChecks

ROLES = ["system", "assistant", "user", "function", "tool", "developer"]

# `annotations` is not a documented input field, but the API accepts it on assistant messages
# because SDK users append `completion.choices[0].message` (which carries it) verbatim.
_ROLE_FIELDS: dict[str, set[str]] = {
    "system": {"role", "content", "name"},
    "developer": {"role", "content", "name"},
    "user": {"role", "content", "name"},
    "assistant": {
        "role",
        "content",
        "name",
        "tool_calls",
        "refusal",
        "audio",
        "function_call",
        "annotations",
    },
    "tool": {"role", "content", "tool_call_id"},
    "function": {"role", "content", "name"},
}

_PART_TYPES = ["text", "image_url", "input_audio", "refusal", "audio", "file"]
_ALLOWED_PARTS: dict[str, set[str]] = {
    "system": {"text"},
    "developer": {"text"},
    "user": {"text", "image_url", "input_audio", "file"},
    "assistant": {"text", "refusal"},
    "tool": {"text"},
    "function": {"text"},
}


def check_messages(c: OpenAIChecks, messages: Any) -> None:
    if not c.array("messages", messages, min_len=1):
        return
    for i, message in enumerate(messages):
        _check_message(c, i, message)
    _check_tool_pairing(c, messages)


def _check_message(c: OpenAIChecks, i: int, message: Any) -> None:
    where = f"messages[{i}]"
    if not c.obj(where, message):
        return
    role = message.get("role")
    if role is None:
        c.missing(f"{where}.role")
        return
    if not c.choice(f"{where}.role", role, ROLES, nullable=False):
        return
    extra = [k for k in message if k not in _ROLE_FIELDS[role]]
    if extra:
        c.extra_properties(f"messages.{i}", extra)
    if "name" in message:
        c.string(f"{where}.name", message["name"])
    if role == "assistant":
        _check_assistant(c, where, message)
    else:
        if "content" not in message:
            c.missing(f"{where}.content")
        else:
            _check_content(c, f"{where}.content", message["content"], role, nullable=False)
    if role == "tool":
        if "tool_call_id" not in message:
            c.missing(f"{where}.tool_call_id")
        else:
            c.string(f"{where}.tool_call_id", message["tool_call_id"])


def _check_assistant(c: OpenAIChecks, where: str, message: dict[str, Any]) -> None:
    has_calls = message.get("tool_calls") is not None or message.get("function_call") is not None
    alt = has_calls or message.get("audio") is not None or message.get("refusal") is not None
    content = message.get("content")
    if content is None:
        if not alt:
            c.missing(f"{where}.content")
    else:
        _check_content(c, f"{where}.content", content, "assistant", nullable=True)
    if message.get("refusal") is not None:
        c.string(f"{where}.refusal", message["refusal"])
    if message.get("tool_calls") is not None:
        _check_tool_calls(c, f"{where}.tool_calls", message["tool_calls"])
    if message.get("function_call") is not None:
        fc = message["function_call"]
        if c.obj(f"{where}.function_call", fc):
            for key in ("name", "arguments"):
                if key not in fc:
                    c.missing(f"{where}.function_call.{key}")
                else:
                    c.string(f"{where}.function_call.{key}", fc[key])


def _check_content(c: OpenAIChecks, param: str, content: Any, role: str, *, nullable: bool) -> None:
    if content is None and nullable:
        return
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        c.wrong_type(param, "one of a string or array of objects", content)
        return
    if not c.array(param, content, min_len=1):
        return
    for j, part in enumerate(content):
        _check_part(c, f"{param}[{j}]", part, role)


def _check_part(c: OpenAIChecks, where: str, part: Any, role: str) -> None:
    if not c.obj(where, part):
        return
    kind = part.get("type")
    if kind is None:
        c.missing(f"{where}.type")
        return
    if not c.choice(f"{where}.type", kind, _PART_TYPES, nullable=False):
        return
    if kind not in _ALLOWED_PARTS[role]:
        allowed = sorted(_ALLOWED_PARTS[role])
        c.add(
            f"Invalid value: '{kind}'. Supported values are: " + ", ".join(f"'{a}'" for a in allowed) + ".",
            f"{where}.type",
            "invalid_value",
        )
        return
    if kind == "text":
        _required_string(c, where, part, "text")
        _no_extra(c, where, part, {"type", "text"})
    elif kind == "refusal":
        _required_string(c, where, part, "refusal")
        _no_extra(c, where, part, {"type", "refusal"})
    elif kind == "image_url":
        _no_extra(c, where, part, {"type", "image_url"})
        image = part.get("image_url")
        if image is None:
            c.missing(f"{where}.image_url")
        elif c.obj(f"{where}.image_url", image):
            _required_string(c, f"{where}.image_url", image, "url")
            c.choice(f"{where}.image_url.detail", image.get("detail"), ["auto", "low", "high"])
            _no_extra(c, f"{where}.image_url", image, {"url", "detail"})
    elif kind == "input_audio":
        audio = part.get("input_audio")
        if audio is None:
            c.missing(f"{where}.input_audio")
        elif c.obj(f"{where}.input_audio", audio):
            _required_string(c, f"{where}.input_audio", audio, "data")
            if "format" not in audio:
                c.missing(f"{where}.input_audio.format")
            else:
                c.choice(f"{where}.input_audio.format", audio["format"], ["wav", "mp3"], nullable=False)
    elif kind == "file":
        file = part.get("file")
        if file is None:
            c.missing(f"{where}.file")
        elif c.obj(f"{where}.file", file):
            for key in ("file_data", "file_id", "filename"):
                if key in file:
                    c.string(f"{where}.file.{key}", file[key])


def _check_tool_calls(c: OpenAIChecks, param: str, calls: Any) -> None:
    if not c.array(param, calls, min_len=1):
        return
    for k, call in enumerate(calls):
        where = f"{param}[{k}]"
        if not c.obj(where, call):
            continue
        _required_string(c, where, call, "id")
        kind = call.get("type")
        if kind is None:
            c.missing(f"{where}.type")
            continue
        if not c.choice(f"{where}.type", kind, ["function", "custom"], nullable=False):
            continue
        body_key = kind
        _no_extra(c, where, call, {"id", "type", body_key})
        body = call.get(body_key)
        if body is None:
            c.missing(f"{where}.{body_key}")
        elif c.obj(f"{where}.{body_key}", body):
            _required_string(c, f"{where}.{body_key}", body, "name")
            _required_string(c, f"{where}.{body_key}", body, "arguments" if kind == "function" else "input")


def _check_tool_pairing(c: OpenAIChecks, messages: list[Any]) -> None:
    """Every assistant tool call is answered, and every tool message answers a call."""
    pending: dict[str, bool] = {}
    pending_from: int | None = None
    answerable: set[str] = set()
    for i, message in enumerate(messages):
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "tool":
            call_id = message.get("tool_call_id")
            if not answerable:
                c.add(
                    "Invalid parameter: messages with role 'tool' must be a response to a "
                    "preceeding message with 'tool_calls'.",
                    f"messages.[{i}].role",
                )
                continue
            if isinstance(call_id, str):
                if call_id not in answerable:
                    c.add(
                        f"Invalid parameter: 'tool_call_id' of '{call_id}' not found in "
                        "'tool_calls' of previous message.",
                        f"messages.[{i}].tool_call_id",
                    )
                pending.pop(call_id, None)
            continue
        _report_unanswered(c, pending, pending_from)
        pending, pending_from, answerable = {}, None, set()
        if role == "assistant" and isinstance(message.get("tool_calls"), list):
            ids = [
                call.get("id")
                for call in message["tool_calls"]
                if isinstance(call, dict) and isinstance(call.get("id"), str)
            ]
            pending = dict.fromkeys(ids, True)
            answerable = set(ids)
            pending_from = i
    _report_unanswered(c, pending, pending_from)


def _report_unanswered(c: OpenAIChecks, pending: dict[str, bool], index: int | None) -> None:
    if pending and index is not None:
        c.add(
            "An assistant message with 'tool_calls' must be followed by tool messages responding "
            "to each 'tool_call_id'. The following tool_call_ids did not have response messages: " + ", ".join(pending),
            f"messages.[{index}].role",
        )


def _required_string(c: OpenAIChecks, where: str, obj: dict[str, Any], key: str) -> None:
    if key not in obj:
        c.missing(f"{where}.{key}")
    else:
        c.string(f"{where}.{key}", obj[key])


def _no_extra(c: OpenAIChecks, where: str, obj: dict[str, Any], allowed: set[str]) -> None:
    extra = [k for k in obj if k not in allowed]
    if extra:
        c.extra_properties(where, extra)
