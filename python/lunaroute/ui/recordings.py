"""What the UI reads of the recordings: index pages, one session, a conversation's turns.

Everything goes through the recording package (`open_reader`, `SessionFilter`, the store's
readers); only the paging is the UI's own. Pages are keyset-paged on (ts, id), never by
OFFSET, so the last page of 100,000 sessions costs what the first does. sqlite3 connections
belong to the thread that opened them: each of the UI's worker threads keeps its own reader.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

from ..recording import RecordError, SessionFilter
from ..recording.index import COLUMNS, INDEX_NAME
from ..recording.query import Reader, export_object, open_reader

PAGE_SIZE = 50
# Counting every match of a broad filter costs a pass over the index: past this many the
# page says "more than".
COUNT_CAP = 10_000
TURNS_PER_PAGE = 20
EVENTS_PER_PAGE = 200


@dataclass(slots=True)
class Page:
    rows: list[dict[str, Any]]
    newer: str | None  # cursor of the page before (newer sessions), None on the first
    older: str | None  # cursor of the next page (older sessions), None on the last
    total: int  # COUNT_CAP + 1 means "more than COUNT_CAP"


def encode_cursor(row: dict[str, Any]) -> str:
    return f"{row['ts']!r}~{row['id']}"


def decode_cursor(text: str | None) -> tuple[float, str] | None:
    if not text:
        return None
    ts, sep, session_id = text.partition("~")
    if not sep:
        return None
    try:
        return float(ts), session_id
    except ValueError:
        return None


class Recordings:
    def __init__(self, data_dir: Path, key_file: Path | None) -> None:
        self.data_dir = Path(data_dir)
        self.key_file = key_file
        self._local = threading.local()
        self._readers: list[Reader] = []
        self._lock = threading.Lock()

    @property
    def index_path(self) -> Path:
        return self.data_dir / "sessions" / INDEX_NAME

    def available(self) -> bool:
        return self.index_path.exists()

    def reader(self) -> Reader:
        reader = getattr(self._local, "reader", None)
        if reader is None:
            reader = open_reader(self.data_dir, self.key_file)
            self._local.reader = reader
            with self._lock:
                self._readers.append(reader)
        return reader

    def close(self) -> None:
        """Only once no worker thread reads any more."""
        with self._lock:
            readers, self._readers = self._readers, []
        for reader in readers:
            try:
                reader.index.conn.close()
            except Exception:
                pass

    # ------------------------------------------------------------------ listings
    def page(
        self, flt: SessionFilter, *, before: str | None = None, after: str | None = None, size: int = PAGE_SIZE
    ) -> Page:
        """Newest first. `before`: the sessions older than that cursor; `after`: newer ones."""
        conn = self.reader().index.conn
        where, args = flt.where()
        total = int(
            conn.execute(
                f"SELECT COUNT(*) FROM (SELECT 1 FROM sessions{where} LIMIT ?)", [*args, COUNT_CAP + 1]
            ).fetchone()[0]
        )
        cols = ", ".join(COLUMNS)
        going_back = decode_cursor(after)
        going_on = decode_cursor(before)
        clauses, extra = [], []
        if going_on is not None:
            clauses.append("(ts, id) < (?, ?)")
            extra += list(going_on)
        elif going_back is not None:
            clauses.append("(ts, id) > (?, ?)")
            extra += list(going_back)
        joined = where
        if clauses:
            joined = (where + " AND " if where else " WHERE ") + " AND ".join(clauses)
        order = "ASC" if going_back is not None and going_on is None else "DESC"
        sql = f"SELECT {cols} FROM sessions{joined} ORDER BY ts {order}, id {order} LIMIT ?"
        found = [dict(zip(COLUMNS, r)) for r in conn.execute(sql, [*args, *extra, size + 1])]
        more = len(found) > size
        found = found[:size]
        if order == "ASC":
            found.reverse()
            newer = encode_cursor(found[0]) if more and found else None
            older = encode_cursor(found[-1]) if found else None
        else:
            newer = encode_cursor(found[0]) if found and (going_on is not None) else None
            older = encode_cursor(found[-1]) if more and found else None
        return Page(found, newer, older, total)

    def latest(self, limit: int) -> list[dict[str, Any]]:
        return list(self.reader().index.query(SessionFilter(), newest_first=True, limit=limit))

    def distinct(self, column: str, limit: int = 200) -> list[str]:
        """Values seen in an indexed column (for the search form's suggestions)."""
        if column not in ("model", "tenant", "key_id"):  # the columns with an index of their own
            raise ValueError(column)
        conn = self.reader().index.conn
        # Skip-scan over the column's own index: one probe per distinct value, not per row.
        out: list[str] = []
        row = conn.execute(f"SELECT MIN({column}) FROM sessions WHERE {column} IS NOT NULL").fetchone()
        value = row[0] if row else None
        while value is not None and len(out) < limit:
            out.append(str(value))
            value = conn.execute(f"SELECT MIN({column}) FROM sessions WHERE {column} > ?", (value,)).fetchone()[0]
        return out

    # ------------------------------------------------------------------ one session
    def find(self, session_id: str) -> dict[str, Any] | None:
        return self.reader().find(session_id)

    def document(self, row: dict[str, Any]) -> dict[str, Any]:
        """The exported object without events (RecordError when its files are damaged)."""
        reader = self.reader()
        doc = reader.store.read_document(reader.store.path_of(row["path"]))
        obj = export_object(doc)
        obj["stream_events"] = int(doc.get("stream_events") or 0)
        return obj

    def events(self, row: dict[str, Any], start: int, count: int) -> list[dict[str, Any]]:
        """Events start .. start+count of a streamed session."""
        reader = self.reader()
        events: Iterator[dict[str, Any]] = reader.store.iter_events(reader.store.path_of(row["path"]))
        return list(islice(events, start, start + count))

    def raw(self, row: dict[str, Any]) -> dict[str, Any]:
        """What `lunaroute sessions show --json` prints."""
        return self.reader().session(row, True)

    # ------------------------------------------------------------------ conversations
    def conversation(self, conversation_id: str, page: int, size: int = TURNS_PER_PAGE) -> tuple[list[Any], int]:
        """(turns of the page, oldest first, as (row, document or RecordError), total turns)."""
        flt = SessionFilter(conversation_id=conversation_id)
        conn = self.reader().index.conn
        where, args = flt.where()
        total = int(conn.execute(f"SELECT COUNT(*) FROM sessions{where}", args).fetchone()[0])
        sql = f"SELECT {', '.join(COLUMNS)} FROM sessions{where} ORDER BY ts, id LIMIT ? OFFSET ?"
        rows = [dict(zip(COLUMNS, r)) for r in conn.execute(sql, [*args, size, page * size])]
        turns: list[Any] = []
        for row in rows:
            try:
                turns.append((row, self.document(row)))
            except RecordError as exc:
                turns.append((row, exc))
        return turns, total

    def conversation_totals(self, conversation_id: str) -> dict[str, Any]:
        conn = self.reader().index.conn
        row = conn.execute(
            "SELECT COUNT(*), MIN(ts), MAX(ts), SUM(input_tokens), SUM(output_tokens), SUM(cost_cents), "
            "SUM(status >= 400 OR status = 0), SUM(latency_ms) FROM sessions WHERE conversation_id = ?",
            (conversation_id,),
        ).fetchone()
        keys = ("turns", "first", "last", "input_tokens", "output_tokens", "cost_cents", "errors", "latency_ms")
        return dict(zip(keys, row))
