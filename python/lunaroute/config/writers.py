"""Writing a decoded config document back in the format of its file (JSON, YAML, TOML).

Used by the commands that edit config files (`keys create/delete`). YAML and TOML
comments are not preserved by a rewrite; JSON has none.
"""

from __future__ import annotations

import json
import math
import re
from datetime import date, datetime, time
from typing import Any, cast

import orjson
import yaml

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def dump_document(doc: dict[str, Any], name: str) -> bytes:
    ext = name.rsplit(".", 1)[-1].lower()
    if ext == "json":
        return orjson.dumps(doc, option=orjson.OPT_INDENT_2) + b"\n"
    if ext == "toml":
        return dump_toml(doc).encode()
    return cast(str, yaml.dump(doc, Dumper=_YamlDumper, sort_keys=False, allow_unicode=True)).encode()


class _YamlDumper(yaml.SafeDumper):  # type: ignore[misc]  # yaml ships no type information
    """SafeDumper that double-quotes strings holding characters YAML would otherwise fold
    or normalise on reading (NEL, line/paragraph separators, control characters)."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    if any(not ch.isprintable() or ch in "\x85\u2028\u2029" for ch in text):
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style='"')
    return dumper.represent_str(text)


_YamlDumper.add_representer(str, _represent_str)


def dump_toml(doc: dict[str, Any]) -> str:
    """A TOML rendering of `doc`: scalars, lists, tables and arrays of tables.

    `None` values are left out (TOML has no null; an absent optional field means the same).
    """
    lines: list[str] = []
    _table(doc, [], lines)
    return "\n".join(lines).lstrip("\n") + "\n"


def _table(doc: dict[str, Any], path: list[str], lines: list[str]) -> None:
    nested: list[tuple[str, Any]] = []
    for key, value in doc.items():
        if value is None:
            continue
        if isinstance(value, dict) or _is_table_array(value):
            nested.append((key, value))
        else:
            lines.append(f"{_key(key)} = {_value(value)}")
    for key, value in nested:
        sub = [*path, key]
        header = ".".join(_key(k) for k in sub)
        if isinstance(value, dict):
            lines.extend(["", f"[{header}]"])
            _table(value, sub, lines)
        else:
            for item in value:
                lines.extend(["", f"[[{header}]]"])
                _table(item, sub, lines)


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _string(key)


def _string(text: str) -> str:
    # JSON string escapes are valid TOML basic-string escapes; TOML also forbids raw DEL.
    return json.dumps(text, ensure_ascii=False).replace("\x7f", "\\u007f")


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        inner = ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items() if v is not None)
        return "{ " + inner + " }" if inner else "{}"
    raise TypeError(f"cannot write a {type(value).__name__} to TOML")
