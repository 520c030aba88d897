"""Reading recordings back: time arguments, the exported session object, export writers.

An exported session (one NDJSON line, or one element of the JSON array) is the session
document (session.py) with `timestamp` as RFC 3339 and, for streams, `events`: the SSE events
as the client received them, `{"seq", "t_ms", "event", "data"}`, `data` parsed when it is
JSON. Sessions are read one at a time in index order, so memory stays flat however many
match.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import orjson

from ..config.timestamps import parse_timestamp
from .format import Codec, RecordError
from .index import INDEX_NAME, SessionFilter, SessionIndex
from .keys import KeyRing
from .store import FileSessionStore

_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)([smhdw]))")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_STATUS_CLASS = re.compile(r"([1-5])xx")

# Key order of an exported session.
EXPORT_FIELDS = (
    "id",
    "timestamp",
    "tenant",
    "key_id",
    "listener",
    "dialect",
    "request_model",
    "provider",
    "model",
    "status",
    "error",
    "stream",
    "latency_ms",
    "ttft_ms",
    "usage",
    "cost_cents",
    "conversation_id",
    "request_id",
    "attempts",
    "fallbacks_tried",
    "prompt_patches",
    "request",
    "response",
    "stream_error",
)


def parse_when(text: str, now: float | None = None) -> float:
    """A duration back from now (`90s`, `15m`, `1h30m`, `7d`, `2w`) or an ISO 8601 time →
    unix seconds. ValueError otherwise."""
    text = text.strip()
    now = time.time() if now is None else now
    if text and _DURATION.sub("", text) == "":
        return now - sum(float(n) * _UNIT_S[u] for n, u in _DURATION.findall(text))
    when = parse_timestamp(text)
    if when is None:
        raise ValueError(f"expected a duration such as 1h, 30m, 7d or an ISO 8601 time, got {text!r}")
    return when.timestamp()


def parse_status(text: str) -> tuple[int, int]:
    """`200` → (200, 200); `4xx` → (400, 499); `error` → (400, 599)."""
    text = text.strip().lower()
    if text == "error":
        return (400, 599)
    found = _STATUS_CLASS.fullmatch(text)
    if found:
        base = int(found.group(1)) * 100
        return (base, base + 99)
    if text.isdigit() and 100 <= int(text) <= 599:
        return (int(text), int(text))
    raise ValueError(f"expected a status (200), a class (4xx) or 'error', got {text!r}")


def rfc3339(ts: float) -> str:
    when = datetime.fromtimestamp(ts, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


@dataclass(slots=True)
class Reader:
    """What the command line reads recordings through: the store, for opening files, and the
    index, for finding them."""

    store: FileSessionStore
    index: SessionIndex

    def close(self) -> None:
        self.index.close()

    def session(self, row: dict[str, Any], with_events: bool = True) -> dict[str, Any]:
        """The exported object of an indexed session (RecordError when its files are damaged)."""
        path = self.store.path_of(row["path"])
        doc = self.store.read_document(path)
        obj = export_object(doc)
        if with_events and doc.get("stream") and doc.get("stream_events"):
            obj["events"] = [_event(ev) for ev in self.store.iter_events(path)]
        return obj

    def find(self, session_id: str) -> dict[str, Any] | None:
        """A session by id (a unique prefix of at least 8 characters will do)."""
        row = self.index.get(session_id)
        if row is None and len(session_id) >= 8:
            rows = self.index.conn.execute(
                "SELECT id FROM sessions WHERE id >= ? AND id < ? LIMIT 2", (session_id, session_id + "\U0010ffff")
            ).fetchall()
            if len(rows) == 1:
                row = self.index.get(rows[0][0])
        return row


def open_reader(data_dir: Path, key_file: Path | None) -> Reader:
    """The recordings of `data_dir`, readable with the key of `key_file` and the keys beside it."""
    root = Path(data_dir) / "sessions"
    keyring = KeyRing.load(key_file, required=False) if key_file is not None else KeyRing()
    store = FileSessionStore(root, Codec(keyring=keyring))
    store.ensure_root()
    return Reader(store, SessionIndex(root / INDEX_NAME))


def export_object(doc: dict[str, Any]) -> dict[str, Any]:
    obj = {name: doc.get(name) for name in EXPORT_FIELDS}
    obj["timestamp"] = rfc3339(float(doc.get("timestamp") or 0.0))
    if obj["fallbacks_tried"] is None:
        obj["fallbacks_tried"] = []
    if obj["prompt_patches"] is None:  # recorded before prompts.json existed
        obj["prompt_patches"] = []
    return obj


def _event(ev: dict[str, Any]) -> dict[str, Any]:
    data = ev.get("data")
    if isinstance(data, str) and data[:1] in ("{", "["):
        try:
            ev["data"] = orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return ev


# ---------------------------------------------------------------------- export
@dataclass(slots=True)
class ExportResult:
    written: int = 0
    skipped: int = 0


def export(
    reader: Reader,
    flt: SessionFilter,
    out: IO[bytes],
    *,
    fmt: str = "ndjson",
    with_events: bool = True,
    on_skip: Callable[[str, str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ExportResult:
    """Write every matching session to `out`, oldest first. A session whose files are
    damaged is skipped and reported through `on_skip(path, reason)`."""
    result = ExportResult()
    first = True
    if fmt == "json":
        out.write(b"[")
    for n, row in enumerate(reader.index.query(flt), 1):
        try:
            obj = reader.session(row, with_events)
        except RecordError as exc:
            result.skipped += 1
            if on_skip is not None:
                on_skip(str(reader.store.path_of(row["path"])), str(exc))
            continue
        line = orjson.dumps(obj)
        if fmt == "json":
            out.write(b"\n" if first else b",\n")
            out.write(line)
        else:
            out.write(line + b"\n")
        first = False
        result.written += 1
        if progress is not None:
            progress(n)
    if fmt == "json":
        out.write(b"]\n" if first else b"\n]\n")
    return result


class Progress:
    """A one-line progress bar on stderr, redrawn at most 10 times a second; nothing at all
    when stderr is not a terminal."""

    def __init__(self, total: int, label: str, stream: IO[str] | None = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = total > 0 and self.stream.isatty()
        self.total = total
        self.label = label
        self._last = 0.0

    def __call__(self, done: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < self.total:
            return
        self._last = now
        frac = min(1.0, done / self.total)
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r{self.label} [{bar:<30}] {done}/{self.total}")
        self.stream.flush()

    def end(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def iter_rows(reader: Reader, flt: SessionFilter, limit: int | None) -> Iterator[dict[str, Any]]:
    """Newest first, for listings."""
    return reader.index.query(flt, newest_first=True, limit=limit)
