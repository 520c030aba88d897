"""The session index: one SQLite row per session file, so a query reads only what matches.

`<data>/sessions/index.sqlite`, WAL mode (readers such as `lunaroute export` never block the
writer). Every row can be rebuilt from its file (`reindex`), so the index is a cache: losing
it loses nothing.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

INDEX_NAME = "index.sqlite"

COLUMNS = (
    "id",
    "ts",
    "tenant",
    "key_id",
    "listener",
    "request_model",
    "model",
    "provider",
    "status",
    "input_tokens",
    "output_tokens",
    "cost_cents",
    "conversation_id",
    "stream",
    "latency_ms",
    "path",
    "size",
)
_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    ts REAL NOT NULL,
    tenant TEXT,
    key_id TEXT,
    listener TEXT,
    request_model TEXT,
    model TEXT,
    provider TEXT,
    status INTEGER,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cost_cents REAL,
    conversation_id TEXT,
    stream INTEGER,
    latency_ms REAL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS sessions_ts ON sessions(ts);
CREATE INDEX IF NOT EXISTS sessions_tenant_ts ON sessions(tenant, ts);
CREATE INDEX IF NOT EXISTS sessions_key_ts ON sessions(key_id, ts);
CREATE INDEX IF NOT EXISTS sessions_model_ts ON sessions(model, ts);
CREATE INDEX IF NOT EXISTS sessions_conversation_ts ON sessions(conversation_id, ts);
"""
_INSERT = f"INSERT OR REPLACE INTO sessions ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"


@dataclass(slots=True)
class SessionFilter:
    since: float | None = None
    until: float | None = None
    tenant: str | None = None
    key_id: str | None = None
    model: str | None = None  # matches the served model or the one the client asked for
    status: tuple[int, int] | None = None  # inclusive range: (200, 200) or (400, 499)
    conversation_id: str | None = None
    provider: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.since is not None:
            clauses.append("ts >= ?")
            args.append(self.since)
        if self.until is not None:
            clauses.append("ts < ?")
            args.append(self.until)
        for column, value in (
            ("tenant", self.tenant),
            ("key_id", self.key_id),
            ("conversation_id", self.conversation_id),
            ("provider", self.provider),
        ):
            if value is not None:
                clauses.append(f"{column} = ?")
                args.append(value)
        if self.model is not None:
            clauses.append("(model = ? OR request_model = ?)")
            args += [self.model, self.model]
        if self.status is not None:
            clauses.append("status BETWEEN ? AND ?")
            args += list(self.status)
        return (" WHERE " + " AND ".join(clauses)) if clauses else "", args


class SessionIndex:
    def __init__(self, path: Path, *, durable: bool = False, busy_timeout_s: float = 10.0) -> None:
        self.path = Path(path)
        if not self.path.exists():
            # Created 0600 up front: SQLite gives its -wal and -shm files the mode of the database.
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.close(fd)
        self.conn = sqlite3.connect(str(self.path), timeout=busy_timeout_s, isolation_level=None)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        self.conn.executescript(_SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # ------------------------------------------------------------------ writing
    def insert(self, rows: Iterable[tuple[Any, ...]]) -> None:
        with self.transaction():
            self.conn.executemany(_INSERT, rows)

    def transaction(self) -> _Transaction:
        return _Transaction(self.conn)

    def delete_ids(self, ids: Iterable[str]) -> None:
        self.conn.executemany("DELETE FROM sessions WHERE id = ?", ((i,) for i in ids))

    # ------------------------------------------------------------------ reading
    def query(
        self, flt: SessionFilter, *, newest_first: bool = False, limit: int | None = None
    ) -> Iterator[dict[str, Any]]:
        """Matching rows one at a time (the cursor streams: constant memory)."""
        where, args = flt.where()
        sql = f"SELECT {', '.join(COLUMNS)} FROM sessions{where} ORDER BY ts {'DESC' if newest_first else 'ASC'}, id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        for row in self.conn.execute(sql, args):
            yield dict(zip(COLUMNS, row))

    def count(self, flt: SessionFilter) -> int:
        where, args = flt.where()
        return int(self.conn.execute(f"SELECT COUNT(*) FROM sessions{where}", args).fetchone()[0])

    def get(self, session_id: str) -> dict[str, Any] | None:
        row = self.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return dict(zip(COLUMNS, row)) if row else None

    def total_size(self) -> int:
        return int(self.conn.execute("SELECT COALESCE(SUM(size), 0) FROM sessions").fetchone()[0])

    def oldest(self, limit: int) -> list[tuple[str, str, int]]:
        """(id, path, size) of the oldest sessions."""
        return self.conn.execute("SELECT id, path, size FROM sessions ORDER BY ts, id LIMIT ?", (limit,)).fetchall()

    def older_than(self, cutoff: float, limit: int) -> list[tuple[str, str, int]]:
        return self.conn.execute(
            "SELECT id, path, size FROM sessions WHERE ts < ? ORDER BY ts, id LIMIT ?", (cutoff, limit)
        ).fetchall()

    def has(self, session_id: str) -> bool:
        return self.conn.execute("SELECT 1 FROM sessions WHERE id = ?", (session_id,)).fetchone() is not None


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT (ROLLBACK on an exception); the connection is in autocommit."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.conn.execute("ROLLBACK" if exc_type is not None else "COMMIT")
