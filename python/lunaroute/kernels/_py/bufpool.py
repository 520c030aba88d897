"""Pure-Python buffer pool: the reference semantics of kernel `bufpool` (docs/KERNELS.md §3).

A list used as a stack under one lock: the most recently released buffer is handed out
first, so it is the one most likely still warm in the CPU cache.
"""

from __future__ import annotations

import threading

from ...errors import BufferPoolError, InvalidArgumentError

# A buffer grown past this many times buffer_size is not kept: one huge stream must not
# pin its memory in the pool forever.
_OVERSIZE_FACTOR = 4


class BufferPool:
    """A bounded, thread-safe pool of reusable `bytearray` buffers (filled lazily)."""

    __slots__ = ("_capacity", "_buffer_size", "_limit", "_idle", "_lock", "_hits", "_misses", "_released", "_dropped")

    def __init__(self, capacity: int = 1024, buffer_size: int = 65536) -> None:
        if not isinstance(capacity, int) or not isinstance(buffer_size, int):
            raise TypeError("capacity and buffer_size must be ints")
        if capacity < 0:
            raise InvalidArgumentError(f"capacity must be >= 0, got {capacity}")
        if buffer_size < 1:
            raise InvalidArgumentError(f"buffer_size must be >= 1, got {buffer_size}")
        self._capacity = capacity
        self._buffer_size = buffer_size
        self._limit = _OVERSIZE_FACTOR * buffer_size
        self._idle: list[bytearray] = []
        self._lock = threading.Lock()
        self._hits = 0
        self._misses = 0
        self._released = 0
        self._dropped = 0

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def buffer_size(self) -> int:
        return self._buffer_size

    def acquire(self) -> bytearray:
        """An empty buffer: an idle one when there is one (a hit), else a new one (a miss)."""
        with self._lock:
            if self._idle:
                self._hits += 1
                return self._idle.pop()
            self._misses += 1
        return bytearray()

    def release(self, buf: bytearray) -> bool:
        """Clear `buf` and keep it for reuse; False when it was dropped instead."""
        if not isinstance(buf, bytearray):
            raise BufferPoolError(f"release() takes a bytearray, not {type(buf).__name__}")
        oversize = len(buf) > self._limit
        try:
            buf.clear()
        except BufferError as exc:  # a memoryview of it is still alive
            raise BufferPoolError(f"cannot release a buffer that is still in use: {exc}") from None
        with self._lock:
            self._released += 1
            if oversize or len(self._idle) >= self._capacity:
                self._dropped += 1
                return False
            self._idle.append(buf)
            return True

    def available(self) -> int:
        return len(self._idle)

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {
                "hits": self._hits,
                "misses": self._misses,
                "released": self._released,
                "dropped": self._dropped,
            }
