"""`listeners:` of server.yaml → ListenerConfig list."""

from __future__ import annotations

import re
from pathlib import Path

from .binds import parse_bind, resolve_path
from .reader import Obj, element, join
from .schema import ListenerConfig, ListenerType, TlsConfig

LISTENER_TYPES = ("openai", "anthropic", "both")
DEFAULT_BINDS: dict[ListenerType, tuple[str, int]] = {"openai": ("127.0.0.1", 8080), "anthropic": ("127.0.0.1", 8081)}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def default_listeners() -> list[ListenerConfig]:
    return [ListenerConfig(id=kind, type=kind, host=host, port=port) for kind, (host, port) in DEFAULT_BINDS.items()]


def parse_listeners(doc: Obj, config_dir: Path) -> list[ListenerConfig]:
    if not doc.has("listeners") or doc.data["listeners"] is None:
        doc.ignore("listeners")
        return default_listeners()
    entries = doc.list("listeners")
    if not entries:
        raise doc.error("listeners", "at least one listener is needed")
    out: list[ListenerConfig] = []
    ids: dict[str, int] = {}
    ports: dict[int, int] = {}
    for i, value in enumerate(entries):
        item = element(value, doc.file, join(doc.field("listeners"), i))
        listener = _parse_one(item, config_dir)
        if listener.id in ids:
            first = ids[listener.id]
            raise item.error("id", f"duplicate listener id '{listener.id}' (also listeners[{first}])")
        if listener.port in ports:
            raise item.error("bind", f"port {listener.port} is already used by listeners[{ports[listener.port]}]")
        ids[listener.id] = i
        ports[listener.port] = i
        out.append(listener)
    return out


def _parse_one(item: Obj, config_dir: Path) -> ListenerConfig:
    raw_id = item.raw("id", None)
    if item.has("type") and item.data["type"] is not None:
        kind = item.str("type", choices=LISTENER_TYPES)
    elif raw_id in ("openai", "anthropic"):
        item.ignore("type")
        kind = raw_id
    else:
        raise item.error("type", f"required field is missing (one of {', '.join(LISTENER_TYPES)})")
    listener_id = item.str("id", kind)
    if not _ID.fullmatch(listener_id):
        raise item.error("id", f"must be 1-64 letters, digits, '_', '.' or '-', got {listener_id!r}")
    if item.has("bind") and item.data["bind"] is not None:
        host, port = parse_bind(item.raw("bind"), item.file, item.field("bind"))
    elif kind in DEFAULT_BINDS:
        item.ignore("bind")
        host, port = DEFAULT_BINDS[kind]
    else:
        raise item.error("bind", "required for a listener of type 'both' (host:port)")
    tls = _parse_tls(item, config_dir)
    size_mb = item.num("max_body_size_mb", 10.0, min=0.0, max=4096.0, min_exclusive=True)
    bypass = item.bool("bypass", None)
    item.finish()
    return ListenerConfig(
        id=listener_id,
        type=kind,
        host=host,
        port=port,
        tls=tls,
        max_body_size_mb=size_mb,
        max_body_bytes=int(size_mb * 1024 * 1024),
        bypass=bypass,
    )


def _parse_tls(item: Obj, config_dir: Path) -> TlsConfig | None:
    if item.raw("tls", None) is None:
        return None
    tls = item.obj("tls")
    paths = {}
    for name in ("cert", "key"):
        path = resolve_path(tls.str(name), config_dir)
        if not path.is_file():
            raise tls.error(name, f"file not found: {path}")
        paths[name] = path
    tls.finish()
    return TlsConfig(cert=paths["cert"], key=paths["key"])
