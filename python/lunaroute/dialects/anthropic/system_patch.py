"""System-prompt patches on an Anthropic Messages body: the top-level `system`.

A string stays a string (the text joined by a blank line); a list of text blocks gets a
block of its own before or after, and the blocks it had keep their `cache_control`.
`replace` keeps the form: a list becomes one block carrying the last `cache_control` the
old blocks had, so a client that asked for the system prompt to be cached still has it
cached. With no `system`, the patch text becomes it. System turns inside `messages` are
turns, not the prompt, and are left alone.

`data["system"]` is replaced, never edited in place (see the OpenAI twin for why).
"""

from __future__ import annotations

from typing import Any

from ..system_patch import text_after, text_before, text_block, unpatchable


def patch_system(data: dict[str, Any], prepend: str | None, append: str | None, replace: str | None) -> None:
    system = data.get("system")
    if replace is not None:
        system = _replaced(system, replace)
    elif system is not None and type(system) is not str and type(system) is not list:
        raise unpatchable("system", "a string or an array of text blocks")
    if prepend is not None:
        if isinstance(system, list):
            system = [text_block(prepend), *system]
        else:
            system = text_before(prepend, system or "")
    if append is not None:
        if isinstance(system, list):
            system = [*system, text_block(append)]
        else:
            system = text_after(system or "", append)
    data["system"] = system


def _replaced(system: Any, text: str) -> str | list[dict[str, Any]]:
    if type(system) is not list:
        return text
    block = text_block(text)
    for old in reversed(system):
        if type(old) is dict and old.get("cache_control") is not None:
            block["cache_control"] = old["cache_control"]
            break
    return [block]
