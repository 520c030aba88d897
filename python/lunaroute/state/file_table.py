"""Named four-float records in one mmap: private to a process, or a file every worker process
of the host maps (the way `routing/slots.py` shares circuit breakers).

Shared file layout (little-endian), version 1:

    0    8   magic b"LRLIMIT1"
    8    4   layout version (1)
    12   4   capacity (directory entries = records)
    16   4   entries used
    24   8   wall-clock time of the last snapshot (float seconds)
    32   40  boot id (ASCII, NUL-padded; empty where the OS has none)
    128      directory: capacity x 64-byte entries (u8 key length, then the key), an open
             addressing hash table (crc32 of the key, linear probing); never shrinks, so a
             name keeps its record for the life of the file
    128 + capacity*64: records, capacity x 32 bytes (4 doubles)

Every read-modify-write happens under `locked()`: a thread lock, then an exclusive `flock` on
the file (no compare-and-swap kernel serves arbitrary records, and a critical section of a few
microseconds makes the lock cheap). `flock` belongs to an open file, which a forked child
shares with its parent, so a child reopens the file before its first lock.

The file is (re)initialised when it is new, of another layout, or from an earlier boot: after
a machine crash its pages may not all have reached the disk, and the snapshot (`snapshot.py`)
is the copy that did. `on_fresh` runs under the lock right after, to restore that snapshot.
"""

from __future__ import annotations

import hashlib
import logging
import mmap
import os
import struct
import threading
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger("lunaroute.state")

MAGIC = b"LRLIMIT1"
LAYOUT_VERSION = 1
HEADER_SIZE = 128
ENTRY_SIZE = 64
MAX_KEY_BYTES = ENTRY_SIZE - 1
RECORD = struct.Struct("<4d")
DEFAULT_CAPACITY = 65536
_HEADER = struct.Struct("<8sII")  # magic, version, capacity
_USED = struct.Struct("<I")
_USED_AT = 16
_PERSISTED = struct.Struct("<d")
_PERSISTED_AT = 24
_BOOT_AT = 32
_BOOT_SIZE = 40
_ZERO_RECORD = (0.0, 0.0, 0.0, 0.0)

Record = tuple[float, float, float, float]
Location = tuple[bytearray | mmap.mmap, int]

# Bumped in every forked child, so a table notices it must reopen its file before locking
# (cheaper than asking the OS for the pid on every lock).
_fork_generation = [0]


def _forked() -> None:
    _fork_generation[0] += 1


os.register_at_fork(after_in_child=_forked)


def record_key(name: str) -> bytes:
    raw = name.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_KEY_BYTES:
        return raw
    return b"#" + hashlib.sha256(raw).hexdigest()[:40].encode("ascii")


def boot_id() -> bytes:
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as fh:
            return fh.read().strip()[:_BOOT_SIZE]
    except OSError:
        return b""


class RecordTable:
    """`path=None`: an anonymous mapping for this process alone (the `file` backend's tests,
    and `lunaroute` commands that need no sharing)."""

    def __init__(
        self,
        path: str | None,
        capacity: int = DEFAULT_CAPACITY,
        on_fresh: Callable[[RecordTable], None] | None = None,
    ) -> None:
        self.path = path
        self.capacity = capacity
        self._records_at = HEADER_SIZE + capacity * ENTRY_SIZE
        self._size = self._records_at + capacity * RECORD.size
        self._locations: dict[str, Location] = {}
        self._threads = threading.Lock()
        self._fd = -1
        self._generation = _fork_generation[0]
        self.fresh = False
        if path is None:
            self.buffer = mmap.mmap(-1, self._size)
            _HEADER.pack_into(self.buffer, 0, MAGIC, LAYOUT_VERSION, capacity)
            return
        import fcntl  # POSIX only, like the shared breakers

        self._fcntl = fcntl
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX)
            try:
                self.fresh = self._prepare()
                self.buffer = mmap.mmap(self._fd, self._size)
                if self.fresh and on_fresh is not None:
                    on_fresh(self)
            finally:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        except BaseException:
            os.close(self._fd)
            raise

    # ------------------------------------------------------------------ file lifecycle
    def _valid(self) -> bool:
        if os.fstat(self._fd).st_size < self._size:
            return False
        head = os.pread(self._fd, HEADER_SIZE, 0)
        if len(head) < HEADER_SIZE:
            return False
        magic, version, capacity = _HEADER.unpack_from(head)
        (used,) = _USED.unpack_from(head, _USED_AT)
        return (
            magic == MAGIC
            and version == LAYOUT_VERSION
            and capacity == self.capacity
            and used <= capacity
            and head[_BOOT_AT : _BOOT_AT + _BOOT_SIZE].rstrip(b"\0") == boot_id()
        )

    def _prepare(self) -> bool:
        """Under the flock: a valid store of this layout. True when it was (re)initialised."""
        if self._valid():
            return False
        size = os.fstat(self._fd).st_size
        # Zero in place, never shrink: another process may still map these pages.
        if size:
            os.pwrite(self._fd, bytes(min(size, self._size)), 0)
        if size < self._size:
            os.ftruncate(self._fd, self._size)
        head = bytearray(HEADER_SIZE)
        _HEADER.pack_into(head, 0, MAGIC, LAYOUT_VERSION, self.capacity)
        boot = boot_id()
        head[_BOOT_AT : _BOOT_AT + len(boot)] = boot
        os.pwrite(self._fd, bytes(head), 0)
        return True

    def _reopen_after_fork(self) -> None:
        # The inherited descriptor shares its flock with the parent: take one of our own.
        old = self._fd
        self._fd = os.open(self.path, os.O_RDWR)  # type: ignore[arg-type]
        self._generation = _fork_generation[0]
        self._threads = threading.Lock()
        try:
            os.close(old)
        except OSError:
            pass

    def acquire(self) -> None:
        """Take the lock (the hot path calls this pair rather than the `locked()` block)."""
        if self._generation != _fork_generation[0] and self._fd >= 0:
            self._reopen_after_fork()
        self._threads.acquire()
        if self._fd >= 0:
            try:
                self._fcntl.flock(self._fd, self._fcntl.LOCK_EX)
            except BaseException:
                self._threads.release()
                raise

    def release(self) -> None:
        try:
            if self._fd >= 0:
                self._fcntl.flock(self._fd, self._fcntl.LOCK_UN)
        finally:
            self._threads.release()

    @contextmanager
    def locked(self) -> Iterator[RecordTable]:
        self.acquire()
        try:
            yield self
        finally:
            self.release()

    def close(self) -> None:
        try:
            self.buffer.close()
        except (BufferError, AttributeError):
            pass
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    # ------------------------------------------------------------------ records (under the lock)
    def _entry_key(self, index: int) -> bytes:
        at = HEADER_SIZE + index * ENTRY_SIZE
        length = self.buffer[at]
        return bytes(self.buffer[at + 1 : at + 1 + length])

    def location(self, name: str) -> Location:
        """(buffer, offset) of `name`'s record, allocated on first use; hold the lock."""
        found = self._locations.get(name)
        if found is not None:
            return found
        found = self._allocate(name)
        self._locations[name] = found
        return found

    def _allocate(self, name: str) -> Location:
        key = record_key(name)
        index = zlib.crc32(key) % self.capacity
        for _ in range(self.capacity):
            at = HEADER_SIZE + index * ENTRY_SIZE
            length = self.buffer[at]
            if length == 0:
                (used,) = _USED.unpack_from(self.buffer, _USED_AT)
                if used + 1 >= self.capacity:  # keep one hole so every probe ends
                    break
                self.buffer[at + 1 : at + 1 + len(key)] = key
                self.buffer[at] = len(key)
                _USED.pack_into(self.buffer, _USED_AT, used + 1)
                return self.buffer, self._records_at + index * RECORD.size
            if length == len(key) and self.buffer[at + 1 : at + 1 + length] == key:
                return self.buffer, self._records_at + index * RECORD.size
            index = (index + 1) % self.capacity
        log.error("limits state table %s is full: %r is counted by this process only", self.path, name)
        return bytearray(RECORD.size), 0

    def locations(self, names: list[str]) -> list[Location]:
        return [self.location(name) for name in names]

    def get(self, name: str) -> Record:
        buffer, offset = self.location(name)
        return RECORD.unpack_from(buffer, offset)

    def put(self, name: str, record: Record) -> None:
        buffer, offset = self.location(name)
        RECORD.pack_into(buffer, offset, *record)

    def put_raw(self, key: bytes, record: Record) -> None:
        """Store under an already encoded key (restoring a snapshot)."""
        self.put(key.decode("utf-8", "surrogatepass"), record)

    # ------------------------------------------------------------------ snapshot bookkeeping
    def claim_snapshot(self, now: float, interval: float) -> bool:
        """Under the lock: True (and the time noted) when no process snapshotted for `interval`."""
        (last,) = _PERSISTED.unpack_from(self.buffer, _PERSISTED_AT)
        if last and 0.0 <= now - last < interval:
            return False
        _PERSISTED.pack_into(self.buffer, _PERSISTED_AT, now)
        return True
