"""The recorder: every proxied exchange to a session file, off the request path.

`observe(exchange)` only appends to a bounded in-memory queue (no I/O, no locks in the
common case). A writer thread wakes every `flush_interval` (or sooner when a batch's worth
is waiting), and per batch: notes the batch in its journal, builds and writes each session
(store.py), makes the batch durable as the fsync policy says, commits the index rows, clears
the journal. So a `kill -9` loses at most what was queued in the last interval, and any
file it did write is indexed by the next writer to start (journal recovery).

A full queue never blocks a request: `queue_full: drop` counts the exchange in `dropped`;
`queue_full: spill` hands it to the spill thread (spill.py), which parks it on disk for the
writer to replay once it has caught up (beyond a second full queue, it is dropped too).

`flush(timeout)` returns once everything observed before the call is written and indexed
(spilled exchanges included); `close(timeout)` flushes, then stops the threads — the
server calls it on SIGTERM/SIGINT after draining requests. Counters for metrics: `written`,
`errors` (lunaroute_recording_errors_total), `dropped`, `spilled`.

Forking servers must create the recorder in each worker (threads do not survive a fork);
workers share the data directory safely (one journal and spill file per process, SQLite's
own locking for the index).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .capture import Captured, capture
from .format import Codec
from .index import INDEX_NAME, SessionIndex
from .journal import Journal
from .keys import KeyRing
from .maintenance import recover_journals, sweep
from .session import build_session
from .spill import SPILL_DIR, SpillReplay, SpillWriter, spill_files
from .store import FileSessionStore

log = logging.getLogger("lunaroute.recording")

QUEUE_FULL_POLICIES = ("drop", "spill")
_BATCH_MAX = 1024
_FIRST_SWEEP_DELAY_S = 5.0
_WARN_EVERY_S = 10.0
_MIN_SPILL_QUEUE = 1024


@dataclass(frozen=True, slots=True)
class RecorderSettings:
    compression: str = "zstd"
    compression_level: int = 3
    encrypt: bool = False
    key_file: Path | None = None
    fsync: str = "batch"
    queue_size: int = 10_000
    queue_full: str = "spill"
    flush_interval_s: float = 1.0
    retention_days: int | None = 30
    max_disk_bytes: int | None = None
    sweep_interval_s: float = 600.0

    @classmethod
    def from_storage(cls, storage: Any) -> RecorderSettings:
        """From config.schema.StorageConfig (fields read with defaults, so an older config
        object still works)."""
        defaults = cls()
        max_mb = getattr(storage, "max_disk_mb", None)
        return cls(
            compression=getattr(storage, "compression", defaults.compression),
            compression_level=getattr(storage, "compression_level", defaults.compression_level),
            encrypt=bool(getattr(storage, "encryption_enabled", False)),
            key_file=getattr(storage, "key_file", None),
            fsync=getattr(storage, "fsync", defaults.fsync),
            queue_size=getattr(storage, "queue_size", defaults.queue_size),
            queue_full=getattr(storage, "queue_full", defaults.queue_full),
            flush_interval_s=getattr(storage, "flush_interval_ms", 1000) / 1000.0,
            retention_days=getattr(storage, "retention_days", defaults.retention_days),
            max_disk_bytes=int(max_mb * 1024 * 1024) if max_mb else None,
        )


def open_keyring(settings: RecorderSettings) -> KeyRing:
    if settings.key_file is None:
        if settings.encrypt:
            raise ValueError("encryption is enabled but no key_file is set")
        return KeyRing()
    return KeyRing.load(Path(settings.key_file), required=settings.encrypt)


class Recorder:
    def __init__(self, data_dir: Path, settings: RecorderSettings | None = None) -> None:
        self.settings = s = settings or RecorderSettings()
        if s.queue_full not in QUEUE_FULL_POLICIES:
            raise ValueError(f"unknown queue_full policy {s.queue_full!r}")
        self.root = Path(data_dir) / "sessions"
        keyring = open_keyring(s)
        self.store = FileSessionStore(self.root, self._codec(keyring), s.fsync)
        self.store.ensure_root()
        self._keyring = keyring
        self._queue: deque[tuple[Any, Any, float]] = deque()
        self._max = max(1, int(s.queue_size))
        self._batch = max(1, min(_BATCH_MAX, self._max // 4))
        self._wake = threading.Event()
        self._cond = threading.Condition()
        self._flush_requested = 0
        self._flush_done = 0
        self._closed = False
        self._stop = False
        self._errors_lock = threading.Lock()
        self._last_warning = 0.0
        self._pending_rows: list[tuple[Any, ...]] = []
        self._index: SessionIndex | None = None
        self._journal: Journal | None = None
        self.written = 0
        self.errors = 0
        self.dropped = 0
        self._spill: SpillWriter | None = None
        self._replayed = 0  # the spill writer's count when its files were last replayed
        self._next_sweep = time.monotonic() + _FIRST_SWEEP_DELAY_S
        if s.queue_full == "spill":
            # The spill thread's own queue only absorbs bursts: it empties in microseconds per item.
            spill_queue = max(self._max, _MIN_SPILL_QUEUE)
            self._spill = SpillWriter(
                self.root / SPILL_DIR, self._codec(keyring), spill_queue, s.fsync == "always", self._count_error
            )
        self._thread = threading.Thread(target=self._run, name="lunaroute-recorder", daemon=True)
        self._thread.start()

    @classmethod
    def from_config(cls, storage_cfg: Any, data_dir: Path) -> Recorder | None:
        """A running recorder for `config.storage`, or None when recording is disabled."""
        if not getattr(storage_cfg, "sessions_enabled", True):
            return None
        return cls(data_dir, RecorderSettings.from_storage(storage_cfg))

    def _codec(self, keyring: KeyRing) -> Codec:
        s = self.settings
        return Codec(s.compression, s.compression_level, keyring, s.encrypt)

    # ------------------------------------------------------------------ request path
    def observe(self, exchange: Any, request_data: Any = None) -> None:
        """Queue one finished exchange. Never blocks, never raises; the signature fits the
        gateway's observer hook (`GatewayState.observers`)."""
        if self._closed:
            self.dropped += 1
            return
        queue = self._queue
        item = (exchange, request_data, time.time())
        if len(queue) < self._max:
            queue.append(item)
            if len(queue) >= self._batch and not self._wake.is_set():  # set() takes a lock: once will do
                self._wake.set()
        elif self._spill is None or not self._spill.offer(item):
            self.dropped += 1

    __call__ = observe

    @property
    def spilled(self) -> int:
        return self._spill.spilled if self._spill is not None else 0

    @property
    def queued(self) -> int:
        return len(self._queue) + (self._spill.pending() if self._spill is not None else 0)

    # ------------------------------------------------------------------ control
    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything observed before this call is on disk and indexed (True),
        or `timeout` seconds (False)."""
        with self._cond:
            self._flush_requested += 1
            target = self._flush_requested
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._flush_done < target:
                left = deadline - time.monotonic()
                if left <= 0 or not self._thread.is_alive():
                    return False
                self._cond.wait(min(left, 0.5))
        return True

    def close(self, timeout: float = 30.0) -> bool:
        """Flush everything queued, then stop. Exchanges observed afterwards are dropped."""
        if self._closed:
            self._thread.join(timeout)
            return not self._thread.is_alive()
        self._closed = True
        deadline = time.monotonic() + timeout
        ok = self.flush(timeout)
        self._stop = True
        self._wake.set()
        self._thread.join(max(0.0, deadline - time.monotonic()))
        return ok and not self._thread.is_alive()

    def sweep_now(self) -> None:
        """Run the retention sweep on the next writer iteration (tests, admin tools)."""
        self._next_sweep = 0.0
        self._wake.set()

    # ------------------------------------------------------------------ writer thread
    def _run(self) -> None:
        try:
            self._start_writer()
        except Exception:
            log.exception("recording: writer start-up failed")
            self._count_error()
        interval = self.settings.flush_interval_s
        due = time.monotonic() + interval
        while True:
            self._wait_for_work(due)
            with self._cond:
                barrier = self._flush_requested
            # Everything queued once the interval is over (so nothing waits longer than that),
            # else only whole batches: the rest joins the next one.
            whole = self._stop or barrier > self._flush_done or time.monotonic() >= due
            if whole:
                due = time.monotonic() + interval
            try:
                self._drain_queue(whole)
                if barrier > self._flush_done or self._caught_up_with_spill():
                    self._replay_spill_files()
                if time.monotonic() >= self._next_sweep:
                    self._sweep()
            except Exception:  # the writer must outlive any single failure
                log.exception("recording: writer iteration failed")
                self._count_error()
            if barrier > self._flush_done:
                with self._cond:
                    self._flush_done = barrier
                    self._cond.notify_all()
            if self._stop and not self._queue:
                break
        self._stop_writer()

    def _wait_for_work(self, due: float) -> None:
        """Until a batch's worth is queued, `due` (the flush interval is over), or a flush, a
        sweep or the stop is asked for. A wake-up that finds none of these (the signal was
        left set while the last batch was written) waits on: a writer that woke for a handful
        of exchanges would pay the per-batch costs (journal, sync, index commit) for a handful."""
        while len(self._queue) < self._batch and not self._stop and self._flush_requested == self._flush_done:
            now = time.monotonic()
            if now >= due or now >= self._next_sweep:
                return
            self._wake.wait(min(due, self._next_sweep) - now)
            self._wake.clear()

    def _caught_up_with_spill(self) -> bool:
        """Spilled exchanges wait until the writer has caught up with the live queue."""
        spill = self._spill
        return spill is not None and spill.spilled > self._replayed and len(self._queue) < self._batch

    def _start_writer(self) -> None:
        try:
            self._index = SessionIndex(self.root / INDEX_NAME, durable=self.settings.fsync == "always")
            recovered = recover_journals(self.store, self._index)
            if recovered:
                log.info("recording: indexed %d session files of an interrupted writer", recovered)
        except Exception:
            log.exception("recording: the session index is unavailable (files are still written)")
            self._index = None
        self._journal = Journal(self.root, fsync=self.settings.fsync == "always")
        # Spill files of an earlier run (whatever the policy now) are replayed at start.
        self._replay_spill_files()

    def _stop_writer(self) -> None:
        if self._spill is not None:
            self._spill.stop()
        if self._journal is not None:
            if self._pending_rows:
                self._journal.abandon()  # rows not indexed: the journal stays for the next start
            else:
                self._journal.close()
        if self._index is not None:
            self._index.close()
        self.store.close_dirs()

    def _drain_queue(self, whole: bool = True) -> None:
        """What is queued now (not what arrives meanwhile: under a steady load the loop must
        still reach its barrier and sweep checks); with `whole` false, only full batches."""
        queue = self._queue
        size = self._batch
        left = len(queue)
        if not whole:
            left -= left % size
        while left > 0:
            batch: list[tuple[Any, Any, float]] = []
            while queue and len(batch) < min(size, left):
                batch.append(queue.popleft())
            left -= len(batch)
            if not batch:
                return
            self._write_batch([(item, None) for item in batch])

    def _replay_spill_files(self) -> None:
        """Spilled exchanges: the ones still queued for the spill thread, then every spill
        file no other writer holds (ours, sealed now, and those of dead processes)."""
        if self._spill is not None:
            with self._spill.lock:
                self._replayed = self._spill.spilled
                self._spill.drain_into(self._queue.append)
        codec = self._codec(self._keyring)
        for path in spill_files(self.root / SPILL_DIR):
            replay = SpillReplay.claim(path)
            if replay is None:
                continue
            try:
                batch: list[tuple[Any, Captured | None]] = []
                for cap in replay.exchanges(codec, self._spill_damaged):
                    batch.append((None, cap))
                    if len(batch) >= _BATCH_MAX:
                        self._write_batch(batch)
                        batch = []
                if batch:
                    self._write_batch(batch)
            except BaseException:
                replay.release()
                raise
            if self._pending_rows:
                replay.release()  # not indexed yet: keep the file for another try
            else:
                replay.done()
        self._drain_queue()

    def _write_batch(self, batch: list[tuple[Any, Captured | None]]) -> None:
        caps: list[Captured] = []
        for item, cap in batch:
            try:
                caps.append(capture(*item) if cap is None else cap)
            except Exception:
                self._count_error()
                self._warn("could not build a session", exc_info=True)
        relative_path = self.store.relative_path
        relatives = [relative_path(cap.id, cap.timestamp) for cap in caps]
        if self._journal is not None:
            try:
                self._journal.note(relatives)
            except OSError:
                self._count_error()
                self._warn("journal write failed", exc_info=True)
        rows = self._pending_rows
        # Built one at a time: a batch of long streams never has all its documents in memory.
        for cap, relative in zip(caps, relatives):
            try:
                built = build_session(cap)
            except Exception:
                self._count_error()
                self._warn("could not build a session", exc_info=True)
                continue
            try:
                size = self.store.write(relative, built.document, built.stream_lines)
            except Exception:
                self._count_error()
                self._warn("could not write a session file", exc_info=True)
                continue
            rows.append((*built.row, relative, size))
            self.written += 1
        try:
            self.store.sync_batch()
        except OSError:
            self._count_error()
            self._warn("sync failed", exc_info=True)
        self._commit_rows()

    def _commit_rows(self) -> None:
        if not self._pending_rows:
            return
        if self._index is None:
            return  # files stay journaled: the next writer (or reindex) indexes them
        try:
            self._index.insert(self._pending_rows)
        except Exception:
            self._count_error()
            self._warn("index update failed (kept for the next batch)", exc_info=True)
            return
        self._pending_rows = []
        if self._journal is not None:
            try:
                self._journal.clear()
            except OSError:
                self._warn("journal truncate failed", exc_info=True)

    def _sweep(self) -> None:
        s = self.settings
        self._next_sweep = time.monotonic() + s.sweep_interval_s
        if self._index is None:
            return
        result = sweep(self.store, self._index, retention_days=s.retention_days, max_bytes=s.max_disk_bytes)
        if result.removed:
            log.info("recording: retention removed %d sessions (%d bytes)", result.removed, result.freed_bytes)

    # ------------------------------------------------------------------ errors
    def _count_error(self) -> None:
        with self._errors_lock:
            self.errors += 1

    def _spill_damaged(self, message: str) -> None:
        self._count_error()
        self._warn(message)

    def _warn(self, message: str, exc_info: bool = False) -> None:
        """A warning at most every 10 s: a full disk must not flood the log."""
        now = time.monotonic()
        if now - self._last_warning >= _WARN_EVERY_S:
            self._last_warning = now
            log.warning("recording: %s (errors so far: %d)", message, self.errors, exc_info=exc_info)
