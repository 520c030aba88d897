"""Spill files: exchanges the writer could not keep up with, parked on disk until it can.

With `queue_full: spill`, an exchange that finds the recorder's queue full goes to a second
bounded queue, drained by a spill thread that only appends it (lightly encoded, encrypted
when recording is) to `<data>/sessions/spill/<pid>-<n>.spill`: far cheaper than compressing,
writing and indexing a session, so it keeps up where the writer cannot. The writer replays
spill files when it has caught up.

Each spill file is locked (flock) by the process appending to it; any process's writer may
replay a file it can lock, so the files of a crashed process (or another worker) are
replayed too, and one file is never replayed by two writers at once. A file torn by a crash
replays up to its last whole record.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from .capture import Captured, capture, decode_captured, encode_captured
from .format import KIND_SPILL, Codec, RecordError
from .store import FILE_MODE, make_private_dir

log = logging.getLogger("lunaroute.recording")

SPILL_DIR = "spill"
SPILL_SUFFIX = ".spill"
_ROTATE_BYTES = 64 << 20


class SpillWriter:
    """The spill thread and its queue. `offer()` is called on the request path."""

    def __init__(self, directory: Path, codec: Codec, max_items: int, fsync: bool, on_error: Callable[[], None]):
        self.directory = Path(directory)
        self._codec = codec
        self._max = max_items
        self._fsync = fsync
        self._on_error = on_error
        self._queue: deque[tuple[Any, Any, float]] = deque()
        self._wake = threading.Event()
        self._stop = False
        # Held while an item is taken from the queue and appended, and while the file is
        # sealed: the writer's flush barrier takes it to know nothing is in flight.
        self.lock = threading.Lock()
        self._fd: int | None = None
        self._name: Path | None = None
        self._size = 0
        self._seq = 0
        self.spilled = 0
        self._thread = threading.Thread(target=self._run, name="lunaroute-spill", daemon=True)
        self._thread.start()

    def offer(self, item: tuple[Any, Any, float]) -> bool:
        if len(self._queue) >= self._max:
            return False
        self._queue.append(item)
        self._wake.set()
        return True

    def _run(self) -> None:
        while True:
            self._wake.wait(1.0)
            self._wake.clear()
            while True:
                with self.lock:
                    if not self._queue:
                        break
                    item = self._queue.popleft()
                    self._append(item)
            if self._stop:
                return

    def _append(self, item: tuple[Any, Any, float]) -> None:
        try:
            record = self._codec.seal(KIND_SPILL, encode_captured(capture(*item)), compression="none")
            if self._fd is None:
                self._open()
            assert self._fd is not None
            view = memoryview(record)
            while view:
                view = view[os.write(self._fd, view) :]
            if self._fsync:
                os.fsync(self._fd)
            self._size += len(record)
            self.spilled += 1
            if self._size >= _ROTATE_BYTES:
                self._seal()
        except Exception:
            log.exception("recording: could not spill an exchange")
            self._on_error()

    def _open(self) -> None:
        make_private_dir(self.directory)
        self._seq += 1
        name = self.directory / f"{os.getpid()}-{time.time_ns()}-{self._seq}{SPILL_SUFFIX}"
        fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_APPEND, FILE_MODE)
        fcntl.flock(fd, fcntl.LOCK_EX)
        self._fd, self._name, self._size = fd, name, 0

    def _seal(self) -> None:
        """Close the current file, which makes it replayable."""
        if self._fd is not None:
            os.close(self._fd)  # releases the flock
            self._fd = None

    def drain_into(self, sink: Callable[[tuple[Any, Any, float]], None]) -> None:
        """Under `lock`: hand the queued items to `sink` directly and seal the file. Called by
        the writer's flush barrier, so a flush leaves nothing behind in the spill path."""
        while self._queue:
            sink(self._queue.popleft())
        self._seal()

    def pending(self) -> int:
        return len(self._queue)

    def stop(self) -> None:
        self._stop = True
        self._wake.set()
        self._thread.join(5.0)
        with self.lock:
            self._seal()


def spill_files(directory: Path) -> list[Path]:
    try:
        names = sorted(n for n in os.listdir(directory) if n.endswith(SPILL_SUFFIX))
    except OSError:
        return []
    return [directory / n for n in names]


class SpillReplay:
    """One spill file claimed for replay: iterate its exchanges, then `done()` deletes it."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd

    @classmethod
    def claim(cls, path: Path) -> SpillReplay | None:
        """The file, locked for us; None when another thread or process holds it."""
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            return None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            return None
        if not os.path.exists(path):  # replayed and deleted while we opened it
            os.close(fd)
            return None
        return cls(path, fd)

    def exchanges(self, codec: Codec, on_damage: Callable[[str], None]) -> Iterator[Captured]:
        with os.fdopen(os.dup(self._fd), "rb") as fh:
            try:
                for kind, data in codec.records(fh):
                    if kind != KIND_SPILL:
                        raise RecordError("spill file holds a record of another kind")
                    try:
                        yield decode_captured(data)
                    except (ValueError, KeyError, TypeError, IndexError) as exc:
                        on_damage(f"{self.path}: damaged spilled exchange skipped ({exc})")
            except RecordError as exc:
                on_damage(f"{self.path}: {exc}; the records before it were replayed")

    def done(self) -> None:
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass
        self.release()

    def release(self) -> None:
        os.close(self._fd)
