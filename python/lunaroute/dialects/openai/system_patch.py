"""System-prompt patches on an OpenAI Chat Completions body.

The system prompt a patch edits is the run of `system` / `developer` messages at the top of
`messages` (a system message later in the conversation is a turn, not the prompt). `prepend`
edits the first of them, `append` the last, `replace` turns the run into one message; with
no such run a `system` message is inserted first. Content that is a string gets the text
joined by a blank line; content that is an array of text parts gets a part of its own.

Values are replaced, never edited in place, so a shallow copy of the body is all a caller
needs to keep the client's request intact (recording shows it as sent).
"""

from __future__ import annotations

from typing import Any

from ..system_patch import text_after, text_before, text_block, unpatchable

_SYSTEM_ROLES = ("system", "developer")


def patch_system(data: dict[str, Any], prepend: str | None, append: str | None, replace: str | None) -> None:
    messages = data.get("messages")
    if type(messages) is not list:
        raise unpatchable("messages", "an array of messages")
    msgs = list(messages)
    run = 0
    while run < len(msgs) and type(msgs[run]) is dict and msgs[run].get("role") in _SYSTEM_ROLES:
        run += 1
    if replace is not None:
        if run:
            first = dict(msgs[0])
            first["content"] = replace
            msgs[0:run] = [first]
            run = 1
        else:
            msgs.insert(0, {"role": "system", "content": replace})
            run = 1
    if prepend is not None:
        if run:
            msgs[0] = _edited(msgs[0], 0, prepend, before=True)
        else:
            msgs.insert(0, {"role": "system", "content": prepend})
            run = 1
    if append is not None:
        if run:
            msgs[run - 1] = _edited(msgs[run - 1], run - 1, append, before=False)
        else:
            msgs.insert(0, {"role": "system", "content": append})
    data["messages"] = msgs


def _edited(message: dict[str, Any], index: int, text: str, *, before: bool) -> dict[str, Any]:
    content = message.get("content")
    if type(content) is str:
        content = text_before(text, content) if before else text_after(content, text)
    elif type(content) is list:
        content = [text_block(text), *content] if before else [*content, text_block(text)]
    else:
        raise unpatchable(f"messages[{index}].content", "a string or an array of text parts")
    out = dict(message)
    out["content"] = content
    return out
