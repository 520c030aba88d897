"""Field checks shared by the request parsers.

Each helper returns the value (or None when absent/null) or raises InvalidRequestError with
`param` set to the field's path, e.g. `messages[3].content[0].image_url.url`. bool is never
accepted where a number is expected (JSON `true` is not a number, although Python's `True`
is an int).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from ..errors import InvalidRequestError

T = TypeVar("T")


def fail(param: str | None, problem: str) -> NoReturn:
    raise InvalidRequestError(f"{param}: {problem}" if param else problem, param=param)


def type_name(value: Any) -> str:
    if value is None:
        return "null"
    t = type(value)
    if t is bool:
        return "a boolean"
    if t is int:
        return "an integer"
    if t is float:
        return "a number"
    if t is str:
        return "a string"
    if t is list:
        return "an array"
    if t is dict:
        return "an object"
    return t.__name__


def wrong_type(param: str, expected: str, value: Any) -> NoReturn:
    fail(param, f"expected {expected}, got {type_name(value)}")


def need_str(value: Any, param: str) -> str:
    if type(value) is not str:
        wrong_type(param, "a string", value)
    return value


def need_dict(value: Any, param: str) -> dict[str, Any]:
    if type(value) is not dict:
        wrong_type(param, "an object", value)
    return value


def need_list(value: Any, param: str) -> list[Any]:
    if type(value) is not list:
        wrong_type(param, "an array", value)
    return value


def opt_str(data: dict[str, Any], key: str, param: str | None = None) -> str | None:
    value = data.get(key)
    if value is None or type(value) is str:
        return value
    wrong_type(param or key, "a string", value)


def opt_bool(data: dict[str, Any], key: str, param: str | None = None) -> bool | None:
    value = data.get(key)
    if value is None or type(value) is bool:
        return value
    wrong_type(param or key, "a boolean", value)


def opt_dict(data: dict[str, Any], key: str, param: str | None = None) -> dict[str, Any] | None:
    value = data.get(key)
    if value is None or type(value) is dict:
        return value
    wrong_type(param or key, "an object", value)


def opt_number(
    data: dict[str, Any], key: str, lo: float | None = None, hi: float | None = None, param: str | None = None
) -> float | int | None:
    value = data.get(key)
    if value is None:
        return None
    t = type(value)
    if (t is not int and t is not float) or (t is float and not math.isfinite(value)):
        wrong_type(param or key, "a number", value)
    if TYPE_CHECKING:
        assert isinstance(value, (int, float))  # what the test through `t` just established
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        fail(param or key, f"must be between {_fmt(lo)} and {_fmt(hi)}, got {value}")
    return value


def opt_int(
    data: dict[str, Any], key: str, lo: int | None = None, hi: int | None = None, param: str | None = None
) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if type(value) is not int:
        wrong_type(param or key, "an integer", value)
    if lo is not None and value < lo:
        fail(param or key, f"must be at least {lo}, got {value}")
    if hi is not None and value > hi:
        fail(param or key, f"must be at most {hi}, got {value}")
    return value


def need_one_of(value: Any, choices: tuple[str, ...], param: str) -> str:
    if type(value) is not str or value not in choices:
        shown = repr(value) if type(value) is str else type_name(value)
        fail(param, f"must be one of {', '.join(repr(c) for c in choices)}, got {shown}")
    return value


def string_list(value: Any, param: str) -> list[str]:
    items = need_list(value, param)
    for i, item in enumerate(items):
        if type(item) is not str:
            wrong_type(f"{param}[{i}]", "a string", item)
    return items


def extra_keys(data: dict[str, Any], known: frozenset[str]) -> dict[str, Any] | None:
    """The keys of `data` outside `known` (None when there are none: the common case costs
    one C-level subset test)."""
    if data.keys() <= known:
        return None
    return {k: v for k, v in data.items() if k not in known}


def _fmt(x: float | None) -> str:
    if x is None:
        return "any"
    return str(int(x)) if float(x).is_integer() else str(x)


def at(err: InvalidRequestError, path: str) -> InvalidRequestError:
    """`err` (raised with a param relative to some object) re-raised for the object at `path`.

    Parsers validate with relative params and let each level prefix its own place on the way
    up, so the happy path never formats a field path (formatting them eagerly cost more than
    the checks themselves)."""
    rel = err.param or ""
    param = path + (rel if not rel or rel[0] == "[" else "." + rel)
    problem = err.message[len(rel) + 2 :] if rel and err.message.startswith(rel + ": ") else err.message
    return InvalidRequestError(f"{param}: {problem}", param=param)


def parse_each(value: Any, param: str, parse: Callable[[Any], T]) -> list[T]:
    """`value` as a list, each item through `parse`; an item's error names its place
    (`tools[3].name`)."""
    out: list[T] = []
    for i, item in enumerate(need_list(value, param)):
        try:
            out.append(parse(item))
        except InvalidRequestError as err:
            raise at(err, f"{param}[{i}]") from None
    return out
