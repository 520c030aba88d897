"""Refuse to start on an address some other process already listens on.

granian binds with SO_REUSEPORT (our own workers share the client ports by design), so a
second `lunaroute serve` on the same ports would start and silently share the traffic. The
supervisor probes every address once, before any worker exists, with a plain socket that
does not ask for port sharing: the kernel then refuses the bind while anyone listens there.
"""

from __future__ import annotations

import errno
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..config.schema import Config


class BindError(Exception):
    """An address this config listens on cannot be had. `str()` is the one-line message."""


def bind_addresses(config: Config) -> list[tuple[str, int, str]]:
    """(host, port, what) of every socket `serve` will listen on."""
    out = [(li.host, li.port, f"listener {li.id}") for li in config.listeners]
    obs = config.observability
    if obs.metrics_enabled:
        out.append((obs.metrics_host, obs.metrics_port, "metrics listener"))
    ui = getattr(config, "ui", None)
    if ui is not None and ui.enabled:
        out.append((ui.host, ui.port, "web UI listener"))
    return out


def check_addresses_free(config: Config) -> None:
    """Raises BindError naming the first address that cannot be bound."""
    for host, port, what in bind_addresses(config):
        err = _probe(host, port)
        if err is None:
            continue
        where = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if err.errno == errno.EADDRINUSE:
            raise BindError(f"{where} ({what}) is already in use")
        raise BindError(f"cannot listen on {where} ({what}): {err.strerror or err}")


def _probe(host: str, port: int) -> OSError | None:
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[
            0
        ]
    except socket.gaierror as exc:
        return exc
    with socket.socket(family, kind, proto) as sock:
        # Connections of an earlier run lingering in TIME_WAIT must not count as "in use";
        # with SO_REUSEADDR the bind still fails while a socket listens on the address.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(addr)
        except OSError as exc:
            return exc
    return None
