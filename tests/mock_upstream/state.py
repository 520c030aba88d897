"""Everything the mock remembers between requests: script, request log, counters, ids, cache.

All of it is cleared by POST /_control/reset, except the count of currently open
connections, which describes live sockets.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from .behaviours import ScriptQueue
from .usage import PromptCache

STAT_NAMES = (
    "connections_total",
    "requests_total",
    "control_requests_total",
    "responses_by_status",
    "streams_started",
    "streams_completed",
    "streams_aborted_by_peer",
    "streams_died_by_script",
    "streams_ended_by_script",
    "hangs_aborted_by_peer",
    "resets_sent",
    "validation_errors",
)


@dataclass
class RecordedRequest:
    seq: int
    connection: int  # which TCP connection carried it (keep-alive reuse shows as equal ids)
    time: float
    method: str
    path: str
    query: str
    headers: list[list[str]]
    body: str
    json: Any
    behaviour: dict[str, Any] | None = None
    status: int | None = None
    outcome: str = "pending"
    response_body: bytes | bytearray = b""  # the body as written (streams: without chunk framing)

    def header(self, name: str) -> str | None:
        lower = name.lower()
        return next((v for k, v in self.headers if k.lower() == lower), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "connection": self.connection,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "header_map": {k.lower(): v for k, v in self.headers},
            "body": self.body,
            "json": self.json,
            "behaviour": self.behaviour,
            "status": self.status,
            "outcome": self.outcome,
            "response_body": bytes(self.response_body).decode("utf-8", errors="replace"),
        }


@dataclass
class Stats:
    counters: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    open_connections: int = 0

    def bump(self, name: str, by: int = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by

    def status(self, status: int) -> None:
        key = str(status)
        self.by_status[key] = self.by_status.get(key, 0) + 1

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: self.counters.get(name, 0) for name in STAT_NAMES}
        out["responses_by_status"] = dict(self.by_status)
        out["open_connections"] = self.open_connections
        return out


class MockState:
    def __init__(self) -> None:
        self.script = ScriptQueue()
        self.cache = PromptCache()
        self.stats = Stats()
        self.records: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._seq = itertools.count(1)
        self._ids = itertools.count(1)
        self._connections = itertools.count(1)  # never reset: ids stay unique per process

    def next_connection_id(self) -> int:
        return next(self._connections)

    def record(
        self,
        connection: int,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[str, str]],
        body: bytes,
        parsed: Any,
    ) -> RecordedRequest:
        with self._lock:
            rec = RecordedRequest(
                seq=next(self._seq),
                connection=connection,
                time=time.time(),
                method=method,
                path=path,
                query=query,
                headers=[[k, v] for k, v in headers],
                body=body.decode("utf-8", errors="replace"),
                json=parsed,
            )
            self.records.append(rec)
            return rec

    def new_id(self, prefix: str) -> str:
        """Deterministic, unique-until-reset ids: msg_mock000001, call_mock000002, ..."""
        return f"{prefix}mock{next(self._ids):06d}"

    def reset(self) -> None:
        with self._lock:
            self.script.clear()
            self.cache.clear()
            self.records.clear()
            open_now = self.stats.open_connections
            self.stats = Stats(open_connections=open_now)
            self._seq = itertools.count(1)
            self._ids = itertools.count(1)
