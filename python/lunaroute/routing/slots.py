"""Where circuit-breaker state lives: slots in one buffer, private or shared by processes.

Each provider's breaker keeps its counters in a `BREAKER_SLOT_SIZE`-byte slot of a buffer
(the kernel's shared-memory mode, docs/KERNELS.md §4). Two stores hand out slots:

- `LocalSlots`: an anonymous mmap for one process; the directory is a dict.
- `SharedSlotFile`: a file-backed mmap that several processes (granian workers) map. Its
  directory (provider name → slot index) lives in the file itself and is append-only, so
  every process finds the same slot for a name whatever order it registers names in, and a
  config reload that keeps a provider keeps its slot, hence its state.

Shared file layout (little-endian), version 1:

    0    8   magic b"LRBRKR01"
    8    4   layout version (1)
    12   4   slot size in bytes
    16   4   capacity (directory entries = slots)
    20   4   entries used
    24   8   CLOCK_MONOTONIC ms when the file was initialised
    32   40  boot id (ASCII, NUL-padded; empty where the OS has none)
    128      directory: capacity x 64-byte entries: u8 key length, then the UTF-8 key
    128 + capacity*64: slots, capacity x slot size

The file is (re)initialised, under an exclusive `flock`, when it is new, of another layout,
or from an earlier boot (the monotonic clock restarts at boot, so old `opened_at` stamps
would read as "in the future" and hold circuits open). Re-initialising zeroes the bytes in
place rather than truncating, so a process still mapping the file never faults.
"""

from __future__ import annotations

import hashlib
import mmap
import os
import struct
import threading
import time
import weakref
from typing import Protocol

MAGIC = b"LRBRKR01"
LAYOUT_VERSION = 1
HEADER_SIZE = 128
ENTRY_SIZE = 64
MAX_KEY_BYTES = ENTRY_SIZE - 1
DEFAULT_CAPACITY = 512
_HEADER = struct.Struct("<8sIIIIQ40s")  # magic, version, slot size, capacity, used, created, boot
_USED_AT = 20


def slot_key(name: str) -> bytes:
    """The directory key of a provider name: its UTF-8 bytes, or a digest when too long."""
    raw = name.encode("utf-8", "surrogatepass")
    if len(raw) <= MAX_KEY_BYTES:
        return raw
    return b"#" + hashlib.sha256(raw).hexdigest()[:40].encode("ascii")


def _boot_id() -> bytes:
    try:
        with open("/proc/sys/kernel/random/boot_id", "rb") as fh:
            return fh.read().strip()[:40]
    except OSError:
        return b""


def _now_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class SlotStore(Protocol):
    buffer: mmap.mmap

    def offset_of(self, name: str) -> int | None:
        """The byte offset of `name`'s slot (allocated on first use); None when full."""
        ...

    def close(self) -> None: ...


class LocalSlots:
    """Slots in an anonymous mmap, for one process."""

    def __init__(self, capacity: int, slot_size: int) -> None:
        self.capacity = max(1, capacity)
        self.slot_size = slot_size
        self.buffer = mmap.mmap(-1, self.capacity * slot_size)
        self._index: dict[str, int] = {}

    def offset_of(self, name: str) -> int | None:
        index = self._index.get(name)
        if index is None:
            if len(self._index) >= self.capacity:
                return None
            index = self._index[name] = len(self._index)
        return index * self.slot_size

    def close(self) -> None:
        _close_map(self.buffer)


class SharedSlotFile:
    """Slots in a file-backed mmap shared by every process that opens the same path."""

    def __init__(self, path: str, slot_size: int, capacity: int = DEFAULT_CAPACITY) -> None:
        import fcntl  # POSIX only; shared breakers are a Linux/macOS deployment feature

        self._fcntl: _Flock = fcntl
        self.path = path
        self.slot_size = slot_size
        self.capacity = capacity
        self._slots_at = HEADER_SIZE + capacity * ENTRY_SIZE
        self._size = self._slots_at + capacity * slot_size
        self._offsets: dict[str, int] = {}
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        self._fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        # A registry replaced on reload may simply be dropped: close the fd with it.
        self._close_fd = weakref.finalize(self, os.close, self._fd)
        try:
            with self._locked():
                self._prepare()
                self.buffer = mmap.mmap(self._fd, self._size)
        except BaseException:
            self._close_fd()
            raise

    def _locked(self) -> _FileLock:
        return _FileLock(self._fd, self._fcntl)

    def _valid_header(self) -> bool:
        if os.fstat(self._fd).st_size < self._size:
            return False
        raw = os.pread(self._fd, _HEADER.size, 0)
        if len(raw) < _HEADER.size:
            return False
        magic: bytes
        boot: bytes
        version: int
        slot_size: int
        capacity: int
        used: int
        created: int
        magic, version, slot_size, capacity, used, created, boot = _HEADER.unpack(raw)
        return (
            magic == MAGIC
            and version == LAYOUT_VERSION
            and slot_size == self.slot_size
            and capacity == self.capacity
            and used <= capacity
            and boot.rstrip(b"\0") == _boot_id()
            and created <= _now_ms()
        )

    def _prepare(self) -> None:
        """Under the lock: make the file a valid, correctly sized store."""
        if self._valid_header():
            return
        size = os.fstat(self._fd).st_size
        # Zero in place (never shrink: another process may map these pages), then grow.
        zero = bytes(min(size, self._size))
        if zero:
            os.pwrite(self._fd, zero, 0)
        if size < self._size:
            os.ftruncate(self._fd, self._size)
        header = _HEADER.pack(MAGIC, LAYOUT_VERSION, self.slot_size, self.capacity, 0, _now_ms(), _boot_id())
        os.pwrite(self._fd, header, 0)

    def _entry_key(self, index: int) -> bytes:
        at = HEADER_SIZE + index * ENTRY_SIZE
        length = self.buffer[at]
        return bytes(self.buffer[at + 1 : at + 1 + length])

    def offset_of(self, name: str) -> int | None:
        cached = self._offsets.get(name)
        if cached is not None:
            return cached
        key = slot_key(name)
        with self._locked():
            (used,) = struct.unpack_from("<I", self.buffer, _USED_AT)
            used = min(used, self.capacity)
            index = next((i for i in range(used) if self._entry_key(i) == key), None)
            if index is None:
                if used >= self.capacity:
                    return None
                index = used
                at = HEADER_SIZE + index * ENTRY_SIZE
                self.buffer[at] = len(key)
                self.buffer[at + 1 : at + 1 + len(key)] = key
                struct.pack_into("<I", self.buffer, _USED_AT, used + 1)
        offset = self._slots_at + index * self.slot_size
        self._offsets[name] = offset
        return offset

    def close(self) -> None:
        _close_map(self.buffer)
        self._close_fd()  # idempotent


class _Flock(Protocol):
    """What is used of the `fcntl` module (imported where a shared file is opened: POSIX only)."""

    @property
    def LOCK_EX(self) -> int: ...
    @property
    def LOCK_UN(self) -> int: ...
    def flock(self, fd: int, operation: int, /) -> None: ...


class _FileLock:
    """An exclusive lock for a `with` block: a thread lock (flock does not exclude threads
    sharing one open file), then `flock` to exclude other processes."""

    _threads = threading.Lock()

    def __init__(self, fd: int, fcntl_module: _Flock) -> None:
        self._fd = fd
        self._fcntl = fcntl_module

    def __enter__(self) -> None:
        self._threads.acquire()
        try:
            self._fcntl.flock(self._fd, self._fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise

    def __exit__(self, *exc: object) -> None:
        try:
            self._fcntl.flock(self._fd, self._fcntl.LOCK_UN)
        finally:
            self._threads.release()


def _close_map(buffer: mmap.mmap) -> None:
    """Close a mapping unless a breaker object still exports it (then the GC will)."""
    try:
        buffer.close()
    except BufferError:
        pass
