"""Structured logging: JSON lines for machines, readable text on a terminal.

Every line logged while a request is being served carries its `request_id` (a context
variable the listener sets, so nothing has to pass it along). Call sites log ids, names,
sizes, statuses and timings only: never a key, a credential, a prompt or an answer, at any
level. Libraries that would print request headers, bodies or URLs with their query strings
(the HTTP/2 stack, httpx) are held at warning even when LunaRoute logs at debug.
"""

from __future__ import annotations

import logging
import sys
import time
from contextvars import ContextVar
from typing import Any, TextIO

import orjson

LEVELS = {"trace": 5, "debug": 10, "info": 20, "warn": 30, "warning": 30, "error": 40, "critical": 50}
FORMATS = ("auto", "json", "text")

# The request being served by the current task (set by server/listener_app.py).
request_id_var: ContextVar[str | None] = ContextVar("lunaroute_request_id", default=None)

# Their debug output includes header values (an Authorization header among them) or bodies.
_CHATTY_LIBRARIES = ("hpack", "h2", "httpcore", "httpx", "urllib3", "requests")


def _timestamp(record: logging.LogRecord) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, msg, request_id (inside a request), then
    the call's own fields."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        rid = request_id_var.get()
        if rid is not None:
            doc["request_id"] = rid
        extra = getattr(record, "fields", None)
        if extra:
            doc.update(extra)
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc, default=str).decode()


_COLOURS = {"debug": "\x1b[2m", "info": "", "warning": "\x1b[33m", "error": "\x1b[31m", "critical": "\x1b[1;31m"}
_RESET = "\x1b[0m"


class TextFormatter(logging.Formatter):
    """`HH:MM:SS.mmm LEVEL logger: message key=value ...`, the level coloured on a terminal."""

    def __init__(self, colour: bool = False) -> None:
        super().__init__()
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        level = record.levelname.lower()
        shown = f"{level.upper():<7}"
        if self.colour and _COLOURS.get(level):
            shown = f"{_COLOURS[level]}{shown}{_RESET}"
        ts = time.strftime("%H:%M:%S", time.localtime(record.created)) + f".{int(record.msecs):03d}"
        parts = [f"{ts} {shown} {record.name}: {record.getMessage()}"]
        fields: dict[str, Any] = {}
        rid = request_id_var.get()
        if rid is not None:
            fields["request_id"] = rid
        fields.update(getattr(record, "fields", None) or {})
        for key, value in fields.items():
            text = value if isinstance(value, str) else orjson.dumps(value, default=str).decode()
            if isinstance(value, str) and (not value or any(c in value for c in ' "=')):
                text = orjson.dumps(value).decode()
            parts.append(f"{key}={text}")
        line = " ".join(parts)
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def formatter_for(fmt: str, stream: TextIO) -> logging.Formatter:
    """`auto` is text on a terminal and JSON lines otherwise (a file, a pipe, journald)."""
    tty = bool(getattr(stream, "isatty", lambda: False)())
    if fmt == "text" or fmt == "auto" and tty:
        return TextFormatter(colour=tty)
    return JsonFormatter()


def setup_logging(level: str = "info", fmt: str = "auto", stream: TextIO | None = None) -> None:
    stream = stream if stream is not None else sys.stderr
    lvl = LEVELS.get(level.lower(), logging.INFO)
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter_for(fmt, stream))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(lvl)
    # granian logs through its own logger; keep it at our level (its access log stays off).
    logging.getLogger("_granian").setLevel(max(lvl, logging.WARNING))
    logging.getLogger("granian").setLevel(max(lvl, logging.WARNING))
    for name in _CHATTY_LIBRARIES:
        logging.getLogger(name).setLevel(max(lvl, logging.WARNING))
    # The OTLP exporter says every failed export; one line per failure pattern is enough
    # (its own filter drops repeats), and never above warning for a collector being away.
    logging.getLogger("opentelemetry").setLevel(max(lvl, logging.WARNING))


def log_event(logger: logging.Logger, level: int, msg: str, **fields: Any) -> None:
    if logger.isEnabledFor(level):
        logger.log(level, msg, extra={"fields": fields})


_access_log = logging.getLogger("lunaroute.access")


def log_access(
    method: str,
    path: str,
    listener: str,
    status: int,
    latency_s: float,
    *,
    provider: str = "",
    model: str = "",
    attempts: int = 0,
    input_tokens: int = 0,
    output_tokens: int = 0,
    stream: bool = False,
    error: str | None = None,
) -> None:
    """The one access line of a request (logger `lunaroute.access`, level info). `error` is
    an error kind (`not_found_error`, `client_disconnected`...), never an error message: a
    provider's message may quote the request back."""
    if not _access_log.isEnabledFor(logging.INFO):
        return
    fields: dict[str, Any] = {
        "method": method,
        "path": path,
        "listener": listener,
        "status": status,
        "provider": provider,
        "model": model,
        "attempts": attempts,
        "latency_ms": round(latency_s * 1000, 3),
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
        "stream": stream,
    }
    if error is not None:
        fields["error"] = error
    _access_log.info("access", extra={"fields": fields})
