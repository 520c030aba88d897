"""Building blocks shared by the OpenAI and Anthropic request validators.

A validator walks a parsed JSON body and collects `Issue`s. The first issue is what the
server answers with (the real APIs report one problem at a time); the full list is what
`validators.validate_*_request` returns so tests can see everything that is wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Issue:
    """One validation problem, with the `param`/`code` an OpenAI error body carries."""

    message: str
    param: str | None = None
    code: str | None = None


def is_int(value: Any) -> bool:
    """JSON integer: bool is excluded because `True` is an `int` in Python."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """Finite JSON number (int or float, not bool)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, float) and math.isfinite(value)


def json_type_name(value: Any) -> str:
    """The noun OpenAI uses in "expected X, but got Y instead" messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "an unknown type"


def quoted_choices(values: list[str]) -> str:
    """'a', 'b', and 'c' — the enumeration style of OpenAI's invalid_value messages."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) <= 2:
        return " and ".join(quoted)
    return ", ".join(quoted[:-1]) + ", and " + quoted[-1]
