"""System-prompt patches on a Responses API body.

The system prompt a patch edits is `instructions` plus the run of `system` / `developer`
message items at the top of `input` (the same prompt the translation sends first).
`replace` makes it `instructions` alone (the leading run is dropped, so a client cannot keep
a prompt a policy replaced); `prepend` goes before `instructions`; `append` goes after the
last item of the leading run, else after `instructions`. Text is joined by a blank line; an
item whose content is an array of parts gets an `input_text` part of its own.

Values are replaced, never edited in place, so a shallow copy of the body is all a caller
needs to keep the client's request intact (recording shows it as sent).
"""

from __future__ import annotations

from typing import Any

from ..system_patch import text_after, text_before, unpatchable

_SYSTEM_ROLES = ("system", "developer")


def patch_system(data: dict[str, Any], prepend: str | None, append: str | None, replace: str | None) -> None:
    instructions = data.get("instructions")
    if instructions is not None and type(instructions) is not str:
        raise unpatchable("instructions", "a string")
    inp = data.get("input")
    items: list[Any] = [] if type(inp) is not list else list(inp)
    run = 0
    while run < len(items) and _is_system_item(items[run]):
        run += 1
    if replace is not None:
        instructions = replace
        if run:
            del items[:run]
            run = 0
    if prepend is not None:
        instructions = text_before(prepend, instructions or "")
    if append is not None:
        if run:
            items[run - 1] = _appended(items[run - 1], run - 1, append)
        else:
            instructions = text_after(instructions or "", append)
    if instructions is not None:
        data["instructions"] = instructions
    if type(inp) is list:
        data["input"] = items


def _is_system_item(item: Any) -> bool:
    return type(item) is dict and item.get("role") in _SYSTEM_ROLES and item.get("type", "message") == "message"


def _appended(item: dict[str, Any], index: int, text: str) -> dict[str, Any]:
    content = item.get("content")
    if type(content) is str:
        content = text_after(content, text)
    elif type(content) is list:
        content = [*content, {"type": "input_text", "text": text}]
    else:
        raise unpatchable(f"input[{index}].content", "a string or an array of input_text parts")
    out = dict(item)
    out["content"] = content
    return out
