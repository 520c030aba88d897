"""The loaded config as plain data for the config page, with every secret masked.

Masked: provider API keys (the page says whether one is set and from which variable),
key hashes (left out entirely), passwords in URLs (`redis://:***@host`), and the values of
headers and fields whose names say they hold a credential.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

MASK = "***"
_SECRET_NAME = re.compile(
    r"(^|[_-])(api[_-]?key|secret|password|passwd|token|authorization|cookie|credential)s?$", re.I
)
_SECRET_HEADER = re.compile(r"auth|key|token|secret|cookie|session|signature", re.I)
_DROPPED = {"key_hash"}


def plain(value: Any, name: str = "") -> Any:
    """Dataclasses, tuples, paths and mappings → JSON-like data, secrets masked."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            if f.name in _DROPPED or not f.init:
                continue
            out[f.name] = plain(getattr(value, f.name), f.name)
        return out
    if isinstance(value, dict):
        headers = name.endswith("headers")
        result = {}
        for k, v in value.items():
            key = str(k)
            if key in _DROPPED:
                continue
            if (headers and _SECRET_HEADER.search(key)) or (_SECRET_NAME.search(key) and v is not None):
                result[key] = MASK
            else:
                result[key] = plain(v, key)
        return result
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v, name) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, str):
        if _SECRET_NAME.search(name):
            return MASK
        return mask_url(value) if "://" in value else value
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value)


def mask_url(text: str) -> str:
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    if parts.password is None and parts.username is None:
        return text
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if parts.port is not None:
        host += f":{parts.port}"
    user = parts.username or ""
    auth = f"{user}:{MASK}" if parts.password is not None else MASK
    return urlunsplit((parts.scheme, f"{auth}@{host}", parts.path, parts.query, parts.fragment))


def sections(config: Any) -> list[tuple[str, str]]:
    """(title, YAML text) of each part of the config, in the order of the files."""
    providers = {}
    for name, prov in config.providers.items():
        entry = plain(prov)
        entry["api_key"] = (
            f"set (from {prov.api_key_env})" if prov.api_key else "not set: the client's own key is passed"
        )
        providers[name] = entry
    keys = [plain(k) for k in config.keys]
    parts: list[tuple[str, Any]] = [
        ("server", plain(config.server)),
        ("listeners", plain(config.listeners)),
        ("providers", providers),
        ("storage", plain(config.storage)),
        ("pii", plain(config.pii)),
        ("state", plain(config.state)),
        ("rate_limits", plain(config.rate_limits)),
        ("observability", plain(config.observability)),
        ("performance", plain(config.performance)),
        ("pricing", plain(config.pricing)),
        ("ui", plain(config.ui)),
        ("bypass", config.bypass),
        ("routes", plain(config.routes_raw)),
        ("keys (hashes never shown)", keys),
        ("budgets", plain(config.budgets)),
        ("prompts", [_patch(p) for p in getattr(config.prompts, "patches", ())]),
    ]
    return [(title, yaml.safe_dump(value, sort_keys=False, allow_unicode=True, width=100)) for title, value in parts]


def _patch(patch: Any) -> dict[str, Any]:
    selector = patch.selector
    return {
        "id": patch.id,
        "enabled": patch.enabled,
        "listener": getattr(selector, "listener", None),
        "priority": getattr(selector, "priority", None),
        "prepend": patch.prepend,
        "append": patch.append,
        "replace": patch.replace,
    }
