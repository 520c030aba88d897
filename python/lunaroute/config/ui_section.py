"""The `ui` section of server.yaml: the web UI's switch and its own listener (docs/UI.md)."""

from __future__ import annotations

from .binds import parse_bind
from .reader import Obj
from .schema import UiConfig

DEFAULT_UI_BIND = ("127.0.0.1", 8082)


def parse_ui(doc: Obj) -> UiConfig:
    sec = doc.obj("ui")
    enabled = sec.bool("enabled", False)
    if sec.raw("bind", None) is not None:
        host, port = parse_bind(sec.raw("bind"), sec.file, sec.field("bind"))
    else:
        host, port = DEFAULT_UI_BIND
    session_hours = sec.num("session_hours", 12.0, min=0.0, max=24.0 * 30, min_exclusive=True)
    sec.finish()
    return UiConfig(enabled=enabled, host=host, port=port, session_hours=session_hours)
