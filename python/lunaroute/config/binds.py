"""`host:port` values (listener and metrics binds) and config-relative paths."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from ..bad_value import describe
from ..errors import ConfigError

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"(?=.{{1,253}}\Z){_LABEL}(?:\.{_LABEL})*")


def parse_bind(value: object, file: str, field: str) -> tuple[str, int]:
    """`127.0.0.1:8080`, `[::1]:8080`, `localhost:8080` → (host, port)."""
    bad = ConfigError(file, field, f"expected host:port, got {describe(value)}")
    if not isinstance(value, str):
        raise bad
    text = value.strip()
    if text.startswith("["):
        host, sep, port_text = text[1:].partition("]:")
        if not sep:
            raise bad
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise bad from None
    else:
        host, sep, port_text = text.rpartition(":")
        if not sep or not host or ":" in host:
            raise bad
        if not _valid_host(host):
            raise bad
    if not port_text.isdigit() or not port_text.isascii():
        raise bad
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise ConfigError(file, field, f"port must be between 1 and 65535, got {port}")
    return host, port


def _valid_host(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
        return True
    except ValueError:
        pass
    if re.fullmatch(r"[0-9.]+", host):
        return False  # digits and dots that are not an IPv4 address
    return _HOSTNAME.fullmatch(host) is not None


def resolve_path(value: str, base: Path) -> Path:
    """`~` expanded; a relative path is relative to `base` (the config directory)."""
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
