"""Strict, typed reading of one decoded config mapping.

Every config section is read through an `Obj`: each accessor checks the value's type and
range and raises `ConfigError(file, field, reason)` with the full dotted field path, so a
user sees exactly which line to fix. `finish()` rejects every key that was never read, which
is how unknown (usually misspelt) fields are caught. Bad values are named by
`lunaroute.bad_value.describe`, which the routes parser shares.
"""

from __future__ import annotations

import builtins
import difflib
import math
import re
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from ..bad_value import describe
from ..errors import ConfigError

T = TypeVar("T")


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<required>"


REQUIRED: Any = _Missing()


_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_$-]+$")


def join(path: str, key: str | int) -> str:
    """`a.b`, `a[3]`; a key that is not a plain word is quoted (`a['x y']`) so field paths
    stay unambiguous and on one line."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if not _PLAIN_KEY.fullmatch(key):
        return f"{path}[{key!r}]"
    return f"{path}.{key}" if path else key


class Obj:
    """A mapping being read field by field. `path` is the dotted path of the mapping itself."""

    __slots__ = ("file", "path", "data", "_read")

    def __init__(self, value: Any, file: str, path: str = "") -> None:
        if not isinstance(value, dict):
            raise ConfigError(file, path, f"expected a mapping, got {describe(value)}")
        for key in value:
            if not isinstance(key, str):
                raise ConfigError(file, path, f"field names must be strings, got {describe(key)}")
        self.file = file
        self.path = path
        self.data: dict[str, Any] = value
        self._read: set[str] = set()

    # ------------------------------------------------------------------ plumbing
    def field(self, key: str | int) -> str:
        return join(self.path, key)

    def error(self, key: str | int, reason: str) -> ConfigError:
        return ConfigError(self.file, self.field(key), reason)

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = REQUIRED) -> Any:
        """The value as decoded. Absent (or null, with a default) → `default`."""
        self._read.add(key)
        if key not in self.data or (self.data[key] is None and default is not REQUIRED):
            if default is REQUIRED:
                raise self.error(key, "required field is missing")
            return default
        return self.data[key]

    def finish(self) -> None:
        """Reject the fields nobody read: they are unknown to LunaRoute."""
        for key in self.data:
            if key not in self._read:
                known = sorted(self._read)
                hint = difflib.get_close_matches(key, known, n=1)
                if hint:
                    reason = f"unknown field (did you mean '{hint[0]}'?)"
                elif known:
                    reason = f"unknown field (known: {', '.join(known)})"
                else:
                    reason = "unknown field"
                raise self.error(key, reason)

    def ignore(self, *keys: str) -> None:
        """Accept fields that LunaRoute reads elsewhere or deliberately ignores."""
        self._read.update(keys)

    # ------------------------------------------------------------------ scalars
    def str(
        self,
        key: str,
        default: Any = REQUIRED,
        *,
        choices: Iterable[str] | None = None,
        allow_empty: bool = False,
    ) -> Any:
        value = self.raw(key, default)
        if value is default and default is not REQUIRED:
            return value
        if not isinstance(value, str):
            raise self.error(key, f"expected a string, got {describe(value)}")
        if not allow_empty and not value.strip():
            raise self.error(key, "must not be empty")
        if choices is not None:
            options = tuple(choices)
            if value not in options:
                raise self.error(key, f"expected one of {', '.join(options)}, got {describe(value)}")
        return value

    def int(
        self,
        key: builtins.str,
        default: Any = REQUIRED,
        *,
        min: int | None = None,
        max: int | None = None,
    ) -> Any:
        value = self.raw(key, default)
        if value is default and default is not REQUIRED:
            return value
        # bool is an int subclass in Python; `true` is never a number in a config file.
        if isinstance(value, float) and value.is_integer() and math.isfinite(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"expected an integer, got {describe(value)}")
        self._check_range(key, value, min, max)
        return value

    def num(
        self,
        key: builtins.str,
        default: Any = REQUIRED,
        *,
        min: float | None = None,
        max: float | None = None,
        min_exclusive: bool = False,
    ) -> Any:
        value = self.raw(key, default)
        if value is default and default is not REQUIRED:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"expected a number, got {describe(value)}")
        value = float(value)
        if not math.isfinite(value):
            raise self.error(key, f"expected a finite number, got {describe(value)}")
        if min_exclusive and min is not None and value <= min:
            raise self.error(key, f"must be greater than {min:g}, got {value:g}")
        self._check_range(key, value, min, max)
        return value

    def bool(self, key: builtins.str, default: Any = REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is default and default is not REQUIRED:
            return value
        if not isinstance(value, bool):
            raise self.error(key, f"expected true or false, got {describe(value)}")
        return value

    def _check_range(self, key: builtins.str, value: float, lo: float | None, hi: float | None) -> None:
        if lo is not None and value < lo:
            raise self.error(key, f"must be at least {lo:g}, got {describe(value)}")
        if hi is not None and value > hi:
            raise self.error(key, f"must be at most {hi:g}, got {describe(value)}")

    # ------------------------------------------------------------------ containers
    def obj(self, key: builtins.str, *, required: builtins.bool = False) -> Obj:
        """A nested mapping; absent (or null) reads as an empty mapping unless required."""
        value = self.raw(key, REQUIRED if required else None)
        return Obj({} if value is None else value, self.file, self.field(key))

    def list(self, key: builtins.str, default: Any = REQUIRED) -> Any:
        value = self.raw(key, default)
        if value is default and default is not REQUIRED:
            return value
        if not isinstance(value, list):
            raise self.error(key, f"expected a list, got {describe(value)}")
        return value

    def items(self, key: builtins.str) -> Iterator[tuple[builtins.int, Any]]:
        """Enumerate a list field that may be absent (→ nothing)."""
        return enumerate(self.list(key, []))

    def str_list(
        self,
        key: builtins.str,
        default: Any = REQUIRED,
        *,
        choices: Iterable[builtins.str] | None = None,
        unique: builtins.bool = True,
    ) -> Any:
        value = self.list(key, default)
        if value is default and default is not REQUIRED:
            return value
        options = tuple(choices) if choices is not None else None
        seen: set[str] = set()
        for i, item in enumerate(value):
            where = f"{self.field(key)}[{i}]"
            if not isinstance(item, str) or not item.strip():
                raise ConfigError(self.file, where, f"expected a non-empty string, got {describe(item)}")
            if options is not None and item not in options:
                raise ConfigError(
                    self.file,
                    where,
                    f"expected one of {', '.join(options)}, got {describe(item)}",
                )
            if unique and item in seen:
                raise ConfigError(self.file, where, f"duplicate value {describe(item)}")
            seen.add(item)
        return value

    def str_map(self, key: builtins.str) -> dict[builtins.str, builtins.str]:
        """A mapping of string to string (absent → empty)."""
        sub = self.obj(key)
        out: dict[str, str] = {}
        for name, value in sub.data.items():
            if not isinstance(value, str):
                raise sub.error(name, f"expected a string, got {describe(value)}")
            out[name] = value
        sub.ignore(*sub.data)
        return out


def element(value: Any, file: str, path: str) -> Obj:
    """An `Obj` for one list element (its path already carries the index)."""
    return Obj(value, file, path)
