"""What the dialects' `patch_system` share: how a patch's text joins a system prompt.

Each dialect edits its own shape (dialects/*/system_patch.py); a prompt held as one string
gets the patch text joined by a blank line, the separator the translation uses between
system prompts (docs/TRANSLATION.md), so a patched prompt reads the same on every route.
"""

from __future__ import annotations

from typing import Any

from ..errors import InvalidRequestError

SEPARATOR = "\n\n"


def text_before(text: str, prompt: str) -> str:
    return text + SEPARATOR + prompt if prompt else text


def text_after(prompt: str, text: str) -> str:
    return prompt + SEPARATOR + text if prompt else text


def text_block(text: str) -> dict[str, Any]:
    """A text block (Anthropic) or text part (OpenAI): the two spell it the same."""
    return {"type": "text", "text": text}


def unpatchable(param: str, expected: str) -> InvalidRequestError:
    """A request a matching patch cannot edit is refused rather than sent unpatched: a patch
    may be a policy (a replaced system prompt) that must not be bypassed by a malformed body."""
    return InvalidRequestError(f"{param}: expected {expected} (a prompt patch applies to it)", param=param)
