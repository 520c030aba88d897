"""`describe(value)`: how an error message names a bad value read from a file.

A leaf module (it imports nothing from lunaroute) so that every file parser, the config
sections and the routes file alike, names values the same way without importing another.
"""

from __future__ import annotations

from typing import Any


def describe(value: Any) -> str:
    """A short, user-facing rendering of a bad value for `got ...` messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "...'"
    if isinstance(value, (int, float)):
        text = repr(value)
        return text if len(text) <= 40 else text[:37] + "..."
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list"
    return f"a {type(value).__name__}"
