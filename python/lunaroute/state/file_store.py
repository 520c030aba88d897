"""The `file` backend: a RecordTable shared by the host's processes, snapshotted to disk.

`<data-dir>/state/limits.shm` is the live table (every worker maps it; a restarted server on
the same boot finds every counter as it was), `<data-dir>/state/limits.snapshot` the copy
written by atomic rename every `performance.state_persist_interval_secs` and on close. A
process crash loses nothing; a machine crash loses at most one interval.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from pathlib import Path

from . import evaluate, snapshot
from .base import Usage, WindowRef
from .file_table import DEFAULT_CAPACITY, RECORD, Location, RecordTable
from .plan import AdmitPlan, AdmitResult, ChargePlan

log = logging.getLogger("lunaroute.state")

TABLE_NAME = "limits.shm"
SNAPSHOT_NAME = "limits.snapshot"
_PLAN_CACHE = 65536
_unpack = RECORD.unpack_from
_pack = RECORD.pack_into


class FileStateStore:
    backend = "file"
    errors = 0

    def __init__(
        self,
        state_dir: Path | None,
        *,
        persist_interval: float = 10.0,
        capacity: int = DEFAULT_CAPACITY,
    ) -> None:
        """`state_dir=None`: a store private to this process, kept nowhere."""
        self.persist_interval = persist_interval
        self.snapshot_path = state_dir / SNAPSHOT_NAME if state_dir is not None else None
        self.table = RecordTable(
            str(state_dir / TABLE_NAME) if state_dir is not None else None, capacity, on_fresh=self._restore
        )
        self._plan_locations: dict[int, tuple[object, list[Location]]] = {}
        self._persister: asyncio.Task[None] | None = None
        self._persist_started = False
        self._closed = False

    @property
    def available(self) -> bool:
        return True

    def _restore(self, table: RecordTable) -> None:
        if self.snapshot_path is None:
            return
        entries = snapshot.read(self.snapshot_path)
        for key, record in entries:
            table.put_raw(key, record)
        if entries:
            log.info("limits state restored from %s (%d records)", self.snapshot_path, len(entries))

    # ------------------------------------------------------------------ the interface
    def _locations(self, anchor: object, keys: Callable[[], list[str]]) -> list[Location]:
        """Where a plan's records are; hold the lock. `anchor` is an object the rules cache
        per key (the admit plan, the windows a settle charges), so this is one dict lookup."""
        held = self._plan_locations.get(id(anchor))
        if held is not None and held[0] is anchor:
            return held[1]
        if len(self._plan_locations) >= _PLAN_CACHE:
            self._plan_locations.clear()
        found = self.table.locations(keys())
        self._plan_locations[id(anchor)] = (anchor, found)
        return found

    async def admit(self, plan: AdmitPlan, now: float) -> AdmitResult:
        if not self._persist_started:
            self._start_persister()
        table = self.table
        table.acquire()
        try:
            where = self._locations(plan, lambda: evaluate.admit_keys(plan))
            result, writes = evaluate.admit(plan, [_unpack(b, o) for b, o in where], now)
            for i, record in writes:
                buffer, offset = where[i]
                _pack(buffer, offset, *record)
        finally:
            table.release()
        return result

    async def charge(self, plan: ChargePlan, now: float) -> tuple[Usage, ...]:
        table = self.table
        table.acquire()
        try:
            if plan.anchor is not None:
                where = self._locations(plan.anchor, lambda: evaluate.charge_keys(plan))
            else:
                where = table.locations(evaluate.charge_keys(plan))
            usage, writes = evaluate.charge(plan, [_unpack(b, o) for b, o in where], now)
            for i, record in writes:
                buffer, offset = where[i]
                _pack(buffer, offset, *record)
        finally:
            table.release()
        return usage

    async def read_windows(self, windows: list[WindowRef]) -> list[Usage]:
        return self._read(windows)

    def cached_windows(self, windows: list[WindowRef]) -> list[Usage | None]:
        return list(self._read(windows))

    def _read(self, windows: list[WindowRef]) -> list[Usage]:
        with self.table.locked() as table:
            return [evaluate.window_usage(table.get(key), start) for key, start in windows]

    async def reset_windows(self, windows: list[WindowRef]) -> None:
        with self.table.locked() as table:
            for key, start in windows:
                table.put(key, (start, 0.0, 0.0, 0.0))

    async def flush(self) -> None:
        await self._persist(force=True)

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._persister is not None:
            self._persister.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._persister
        try:
            await self._persist(force=True)
        except OSError as exc:  # stopping must not fail: the live table still holds everything
            log.warning("cannot write the limits snapshot %s: %s", self.snapshot_path, exc)
        finally:
            self.table.close()

    # ------------------------------------------------------------------ persistence
    def _start_persister(self) -> None:
        self._persist_started = True
        if self.snapshot_path is not None and not self._closed:
            self._persister = asyncio.get_running_loop().create_task(self._persist_loop())

    async def _persist_loop(self) -> None:
        while True:
            await asyncio.sleep(self.persist_interval)
            try:
                await self._persist(force=False)
            except OSError as exc:
                log.warning("cannot write the limits snapshot %s: %s", self.snapshot_path, exc)

    async def _persist(self, *, force: bool) -> None:
        """One process per interval writes (the table notes when the last one did)."""
        if self.snapshot_path is None:
            return
        table = self.table
        with table.locked():
            # Wall time, not the limits clock: several processes compare it.
            if not table.claim_snapshot(time.time(), 0.0 if force else self.persist_interval * 0.5):
                return
            copy = snapshot.table_copy(table.buffer, table.capacity)
        path, capacity = self.snapshot_path, table.capacity
        await asyncio.to_thread(lambda: snapshot.write(path, snapshot.entries_of_copy(copy, capacity)))
