"""Issue collector with the exact wording of OpenAI's 400 invalid_request_error messages."""

from __future__ import annotations

from typing import Any

from .validation_common import Issue, is_int, is_number, json_type_name, quoted_choices


class OpenAIChecks:
    """Collects issues; each helper returns True when the value passed its check."""

    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, message: str, param: str | None = None, code: str | None = None) -> bool:
        self.issues.append(Issue(message, param, code))
        return False

    def missing(self, param: str) -> bool:
        return self.add(f"Missing required parameter: '{param}'.", param, "missing_required_parameter")

    def wrong_type(self, param: str, expected: str, value: Any) -> bool:
        return self.add(
            f"Invalid type for '{param}': expected {expected}, but got {json_type_name(value)} instead.",
            param,
            "invalid_type",
        )

    def bad_choice(self, param: str, value: Any, choices: list[str]) -> bool:
        return self.add(
            f"Invalid value: '{value}'. Supported values are: {quoted_choices(choices)}.",
            param,
            "invalid_value",
        )

    def extra_properties(self, where: str, keys: list[str]) -> bool:
        listed = ", ".join(f"'{k}'" for k in keys)
        verb = "was" if len(keys) == 1 else "were"
        return self.add(f"Additional properties are not allowed ({listed} {verb} unexpected) - '{where}'")

    # ------------------------------------------------------------------ typed getters
    def string(self, param: str, value: Any, *, nullable: bool = False) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, str):
            return self.wrong_type(param, "a string", value)
        return True

    def boolean(self, param: str, value: Any, *, nullable: bool = True) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, bool):
            return self.wrong_type(param, "a boolean", value)
        return True

    def obj(self, param: str, value: Any, *, nullable: bool = False) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, dict):
            return self.wrong_type(param, "an object", value)
        return True

    def array(self, param: str, value: Any, *, min_len: int = 0, max_len: int | None = None) -> bool:
        if not isinstance(value, list):
            return self.wrong_type(param, "an array", value)
        if len(value) < min_len:
            if not value:
                return self.add(
                    f"Invalid '{param}': empty array. Expected an array with minimum length "
                    f"{min_len}, but got an empty array instead.",
                    param,
                    "empty_array",
                )
            return self.add(
                f"Invalid '{param}': array too short. Expected an array with minimum length "
                f"{min_len}, but got an array with length {len(value)} instead.",
                param,
                "array_below_min_length",
            )
        if max_len is not None and len(value) > max_len:
            return self.add(
                f"Invalid '{param}': array too long. Expected an array with maximum length "
                f"{max_len}, but got an array with length {len(value)} instead.",
                param,
                "array_above_max_length",
            )
        return True

    def choice(self, param: str, value: Any, choices: list[str], *, nullable: bool = True) -> bool:
        if value is None and nullable:
            return True
        if not isinstance(value, str):
            return self.wrong_type(param, "a string", value)
        if value not in choices:
            return self.bad_choice(param, value, choices)
        return True

    def decimal(
        self,
        param: str,
        value: Any,
        low: float | None,
        high: float | None,
        *,
        nullable: bool = True,
    ) -> bool:
        if value is None and nullable:
            return True
        if not is_number(value):
            return self.wrong_type(param, "a decimal", value)
        if low is not None and value < low:
            return self.add(
                f"Invalid '{param}': decimal below minimum value. Expected a value >= {_fmt(low)}, "
                f"but got {_fmt(value)} instead.",
                param,
                "decimal_below_min_value",
            )
        if high is not None and value > high:
            return self.add(
                f"Invalid '{param}': decimal above maximum value. Expected a value <= "
                f"{_fmt(high)}, "
                f"but got {_fmt(value)} instead.",
                param,
                "decimal_above_max_value",
            )
        return True

    def integer(self, param: str, value: Any, low: int | None, high: int | None, *, nullable: bool = True) -> bool:
        if value is None and nullable:
            return True
        if not is_int(value):
            return self.wrong_type(param, "an integer", value)
        if low is not None and value < low:
            return self.add(
                f"Invalid '{param}': integer below minimum value. Expected a value >= {low}, but got {value} instead.",
                param,
                "integer_below_min_value",
            )
        if high is not None and value > high:
            return self.add(
                f"Invalid '{param}': integer above maximum value. Expected a value <= {high}, but got {value} instead.",
                param,
                "integer_above_max_value",
            )
        return True


def _fmt(number: float) -> str:
    """2 rather than 2.0, as OpenAI prints bounds."""
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)
