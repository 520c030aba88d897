"""Issue collector with the wording of Anthropic's 400 invalid_request_error messages.

Anthropic validates with pydantic, so messages read "<dotted.path>: <pydantic message>",
e.g. "max_tokens: Field required" or "foo: Extra inputs are not permitted".
"""

from __future__ import annotations

from typing import Any

from .validation_common import Issue, is_int, is_number


def literal_list(values: list[str]) -> str:
    """'a', 'b' or 'c' — pydantic's rendering of a Literal's allowed values."""
    quoted = [f"'{v}'" for v in values]
    if len(quoted) == 1:
        return quoted[0]
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]


class AnthropicChecks:
    """Collects issues; each helper returns True when the value passed its check."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, path: str, message: str) -> bool:
        self.issues.append(Issue(f"{path}: {message}" if path else message, path or None))
        return False

    def missing(self, path: str) -> bool:
        return self.add(path, "Field required")

    def extra(self, path: str, obj: dict[str, Any], allowed: set[str] | frozenset[str]) -> None:
        for key in obj:
            if key not in allowed:
                self.add(f"{path}.{key}" if path else key, "Extra inputs are not permitted")

    def string(self, path: str, value: Any, *, nullable: bool = False, max_len: int | None = None) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, str):
            return self.add(path, "Input should be a valid string")
        if max_len is not None and len(value) > max_len:
            return self.add(path, f"String should have at most {max_len} characters")
        return True

    def boolean(self, path: str, value: Any, *, nullable: bool = False) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, bool):
            return self.add(path, "Input should be a valid boolean")
        return True

    def obj(self, path: str, value: Any, *, nullable: bool = False) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, dict):
            return self.add(path, "Input should be a valid dictionary")
        return True

    def array(self, path: str, value: Any) -> bool:
        if not isinstance(value, list):
            return self.add(path, "Input should be a valid list")
        return True

    def literal(self, path: str, value: Any, choices: list[str], *, nullable: bool = False) -> bool:
        if value is None and nullable:
            return True
        if value not in choices or not isinstance(value, str):
            return self.add(path, f"Input should be {literal_list(choices)}")
        return True

    def integer(self, path: str, value: Any, low: int | None = None, high: int | None = None) -> bool:
        if not is_int(value):
            return self.add(path, "Input should be a valid integer")
        return self._bounds(path, value, low, high)

    def number(self, path: str, value: Any, low: float | None = None, high: float | None = None) -> bool:
        if not is_number(value):
            return self.add(path, "Input should be a valid number")
        return self._bounds(path, value, low, high)

    def _bounds(self, path: str, value: float, low: float | None, high: float | None) -> bool:
        if low is not None and value < low:
            return self.add(path, f"Input should be greater than or equal to {_fmt(low)}")
        if high is not None and value > high:
            return self.add(path, f"Input should be less than or equal to {_fmt(high)}")
        return True

    def cache_control(self, path: str, value: Any) -> bool:
        """`{"type": "ephemeral", "ttl"?: "5m"|"1h"}` or null."""
        if value is None:
            return True
        if not self.obj(path, value):
            return False
        ok = self.literal(f"{path}.type", value.get("type"), ["ephemeral"])
        if "ttl" in value:
            ok = self.literal(f"{path}.ttl", value["ttl"], ["5m", "1h"]) and ok
        self.extra(path, value, {"type", "ttl"})
        return ok


def _fmt(number: float) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def check_output_config(c: AnthropicChecks, path: str, value: Any) -> None:
    """`output_config` of a request, or of a system turn (per-turn control)."""
    if not c.obj(path, value, nullable=True) or value is None:
        return
    c.extra(path, value, {"effort", "format"})
    if "effort" in value:
        c.literal(f"{path}.effort", value["effort"], ["low", "medium", "high", "xhigh", "max"], nullable=True)
