"""`${ENV_VAR}` substitution inside every string value of a decoded config document.

Syntax: `${NAME}` is replaced by the variable's value (unset → ConfigError naming the file,
field and variable); `${NAME:-fallback}` uses `fallback` when NAME is unset or empty;
`$${...}` is an escape that yields a literal `${...}`. A lone `$` is left alone (argon2
hashes are full of them).

The walk also guards the loader against hostile documents: YAML aliases can make a tiny
file expand into billions of nodes, or refer to themselves; both become a ConfigError
instead of an endless loop.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .reader import join

# `$${` escape | `${NAME}` / `${NAME:-default}` | any other `${` (malformed)
_TOKEN = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}|\$\{")

MAX_NODES = 200_000
MAX_DEPTH = 64


def substitute_string(text: str, file: str, field: str, env: Mapping[str, str] | None = None) -> str:
    if "${" not in text:
        return text
    environ = os.environ if env is None else env

    def replace(m: re.Match[str]) -> str:
        whole = m.group(0)
        if whole == "$${":
            return "${"
        name = m.group(1)
        if name is None:
            raise ConfigError(file, field, "malformed ${...} reference (use ${NAME}, or $${ for a literal ${)")
        value = environ.get(name)
        if m.group(2) is not None and not value:
            return m.group(2)
        if value is None:
            raise ConfigError(file, field, f"environment variable {name} is not set")
        return value

    return _TOKEN.sub(replace, text)


def substitute(doc: Any, file: str, env: Mapping[str, str] | None = None) -> Any:
    """A copy of `doc` with every string value substituted. Keys are left as they are."""
    budget = [MAX_NODES]
    active: set[int] = set()

    def walk(node: Any, path: str, depth: int) -> Any:
        budget[0] -= 1
        if budget[0] < 0:
            raise ConfigError(file, "", f"document too large (over {MAX_NODES} values)")
        if depth > MAX_DEPTH:
            raise ConfigError(file, path, f"nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, str):
            return substitute_string(node, file, path, env)
        if isinstance(node, (dict, list)):
            if id(node) in active:
                raise ConfigError(file, path, "refers to itself (recursive YAML alias)")
            active.add(id(node))
            try:
                if isinstance(node, dict):
                    return {k: walk(v, join(path, str(k)), depth + 1) for k, v in node.items()}
                return [walk(v, join(path, i), depth + 1) for i, v in enumerate(node)]
            finally:
                active.discard(id(node))
        return node

    return walk(doc, "", 0)
