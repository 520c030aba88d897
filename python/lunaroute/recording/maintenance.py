"""Keeping the store and its index in step: reindex, journal recovery, retention sweeps.

All of it runs on the writer thread of a live recorder (recovery at start, sweeps
periodically) or from the command line (`lunaroute sessions reindex`); each is safe to run
beside a live writer of another process, because rows are only ever replaced by what the
files say and files are deleted before their rows.
"""

from __future__ import annotations

import logging
import os
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from .format import RecordError
from .index import COLUMNS, SessionIndex
from .journal import orphaned_journals, release_journal
from .session import row_values
from .store import SESSION_SUFFIX, STREAM_SUFFIX, TMP_SUFFIX, FileSessionStore

log = logging.getLogger("lunaroute.recording")

OnDamage = Callable[[Path, str], None]
_CHUNK = 500
_STALE_TMP_S = 3600.0


def index_row(values: dict[str, Any], relative: str, size: int) -> tuple[Any, ...]:
    full = dict(values, path=relative, size=size)
    return tuple(full.get(c) for c in COLUMNS)


def row_from_file(store: FileSessionStore, path: Path) -> tuple[Any, ...]:
    """The index row of a session file, read from the file (RecordError when unreadable)."""
    doc = store.read_document(path)
    size = _size(path) + _size(FileSessionStore.stream_path(path))
    return index_row(row_values(doc), path.relative_to(store.root).as_posix(), size)


def warn_damage(path: Path, reason: str) -> None:
    log.warning("recording: skipped damaged session file %s: %s", path, reason)


# ---------------------------------------------------------------------- reindex
@dataclass(slots=True)
class ReindexResult:
    indexed: int = 0
    damaged: int = 0
    removed: int = 0


def reindex(
    store: FileSessionStore,
    index: SessionIndex,
    on_damage: OnDamage = warn_damage,
    progress: Callable[[int], None] | None = None,
) -> ReindexResult:
    """Rebuild the index from the files: every readable session file gets its row; rows
    whose file is gone or damaged are removed. Memory stays flat (seen ids go to a temp
    table, rows are committed in chunks)."""
    result = ReindexResult()
    conn = index.conn
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS reindex_seen (id TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM reindex_seen")
    damaged_paths: set[str] = set()
    rows: list[tuple[Any, ...]] = []

    def commit() -> None:
        with index.transaction():
            conn.executemany(f"INSERT OR REPLACE INTO sessions ({', '.join(COLUMNS)}) VALUES ({_QMARKS})", rows)
            conn.executemany("INSERT OR IGNORE INTO reindex_seen (id) VALUES (?)", ((r[0],) for r in rows))
        rows.clear()

    for n, path in enumerate(store.iter_session_files(), 1):
        try:
            rows.append(row_from_file(store, path))
        except RecordError as exc:
            result.damaged += 1
            damaged_paths.add(path.relative_to(store.root).as_posix())
            on_damage(path, str(exc))
        if len(rows) >= _CHUNK:
            result.indexed += len(rows)
            commit()
        if progress is not None:
            progress(n)
    result.indexed += len(rows)
    if rows:
        commit()
    stale: list[str] = []
    for session_id, relative in conn.execute(
        "SELECT id, path FROM sessions WHERE id NOT IN (SELECT id FROM reindex_seen)"
    ).fetchall():
        if relative in damaged_paths or not (store.root / relative).exists():
            stale.append(session_id)
    if stale:
        with index.transaction():
            index.delete_ids(stale)
    result.removed = len(stale)
    conn.execute("DROP TABLE reindex_seen")
    return result


_QMARKS = ", ".join("?" * len(COLUMNS))


def recover_journals(store: FileSessionStore, index: SessionIndex, on_damage: OnDamage = warn_damage) -> int:
    """Index the files listed by journals of writers that died; returns how many."""
    recovered = 0
    for journal, relatives, fd in orphaned_journals(store.root):
        rows: list[tuple[Any, ...]] = []
        for relative in relatives:
            path = store.root / relative
            if not path.exists():
                continue  # the writer died before this file
            try:
                rows.append(row_from_file(store, path))
            except RecordError as exc:
                on_damage(path, str(exc))
        if rows:
            index.insert(rows)
            recovered += len(rows)
        release_journal(journal, fd)
    return recovered


# ---------------------------------------------------------------------- retention
@dataclass(slots=True)
class SweepResult:
    removed: int = 0
    freed_bytes: int = 0


def sweep(
    store: FileSessionStore,
    index: SessionIndex,
    *,
    retention_days: int | None,
    max_bytes: int | None,
    now: float | None = None,
) -> SweepResult:
    """Delete sessions older than `retention_days` and, while the indexed total exceeds
    `max_bytes`, the oldest ones; then stale temp files and empty directories."""
    now = time.time() if now is None else now
    result = SweepResult()
    if retention_days:
        cutoff = now - retention_days * 86400.0
        while batch := index.older_than(cutoff, _CHUNK):
            _remove(store, index, batch, result)
        for day, label in list(store.day_dirs()):
            day_end = datetime.strptime(label, "%Y-%m-%d").replace(tzinfo=UTC) + timedelta(days=1)
            if day_end.timestamp() <= cutoff:
                # Whatever is left of a day wholly past retention is unindexed: remove it all.
                result.freed_bytes += _tree_size(day)
                shutil.rmtree(day, ignore_errors=True)
    if max_bytes:
        total = index.total_size()
        while total > max_bytes:
            batch = index.oldest(_CHUNK)
            if not batch:
                break
            excess = total - max_bytes
            chosen = []
            for item in batch:
                chosen.append(item)
                excess -= item[2]
                if excess <= 0:
                    break
            _remove(store, index, chosen, result)
            total -= sum(item[2] for item in chosen)
    _remove_stale_temp(store, now)
    _remove_empty_dirs(store)
    return result


def _remove(
    store: FileSessionStore, index: SessionIndex, batch: Iterable[tuple[str, str, int]], result: SweepResult
) -> None:
    ids = []
    for session_id, relative, size in batch:
        path = store.root / relative
        # The session file first: a crash here leaves a stream file without its session,
        # which nothing reads and the next day-level sweep removes.
        for target in (path, FileSessionStore.stream_path(path)):
            try:
                os.unlink(target)
            except FileNotFoundError:
                pass
            except OSError as exc:
                log.warning("recording: cannot delete %s: %s", target, exc)
        ids.append(session_id)
        result.freed_bytes += size or 0
    with index.transaction():
        index.delete_ids(ids)
    result.removed += len(ids)


def _remove_stale_temp(store: FileSessionStore, now: float) -> None:
    """Temp files of writes a crash interrupted (only recent days are ever written)."""
    for day, _ in list(store.day_dirs())[-3:]:
        try:
            entries = list(os.scandir(day))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith(".") and entry.name.endswith(TMP_SUFFIX):
                try:
                    if now - entry.stat().st_mtime > _STALE_TMP_S:
                        os.unlink(entry.path)
                except OSError:
                    pass


def _remove_empty_dirs(store: FileSessionStore) -> None:
    for day, _ in list(store.day_dirs()):
        for directory in (day, day.parent, day.parent.parent):
            try:
                os.rmdir(directory)  # only succeeds when empty
            except OSError:
                break


def _tree_size(directory: Path) -> int:
    total = 0
    for entry in os.scandir(directory):
        if entry.name.endswith((SESSION_SUFFIX, STREAM_SUFFIX)):
            try:
                total += entry.stat().st_size
            except OSError:
                pass
    return total


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
