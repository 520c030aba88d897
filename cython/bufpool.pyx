# cython: language_level=3, boundscheck=False, wraparound=False, annotation_typing=False
"""Cython buffer pool: kernel `bufpool` (docs/KERNELS.md §3).

A list used as a stack (the most recently released buffer, likeliest still in cache, goes
out first) guarded by a spinlock (GCC atomics). Why not a PyThread lock: on CPython 3.11
every PyThread lock acquisition reads the monotonic clock (its sem_clockwait deadline),
which made acquire+release twice as slow. The critical sections are a list push or pop
and a counter and never drop the GIL, so the lock is never contended while the GIL
serialises callers; it keeps the pool's thread safety its own rather than a side effect
of the GIL (a waiter would yield the CPU between attempts). This module does not declare
free-threading support, so a free-threaded interpreter keeps the GIL on for it.
"""
from cpython.bytearray cimport PyByteArray_GET_SIZE, PyByteArray_Resize
from cpython.list cimport PyList_GET_SIZE

cdef extern from *:
    """
    #include <sched.h>
    /* A test-and-set spinlock for the pool's few-instruction critical sections. */
    static inline void lr_spin_lock(int *flag) {
        while (__atomic_exchange_n(flag, 1, __ATOMIC_ACQUIRE)) {
            while (__atomic_load_n(flag, __ATOMIC_RELAXED)) {
                sched_yield();
            }
        }
    }
    static inline void lr_spin_unlock(int *flag) {
        __atomic_store_n(flag, 0, __ATOMIC_RELEASE);
    }
    """
    void lr_spin_lock(int* flag) nogil
    void lr_spin_unlock(int* flag) nogil

from sys import maxsize as _SSIZE_MAX

from lunaroute.errors import BufferPoolError, InvalidArgumentError

# A buffer grown past this many times buffer_size is not kept: one huge stream must not
# pin its memory in the pool forever.
cdef enum:
    _OVERSIZE_FACTOR = 4


cdef class BufferPool:
    """A bounded, thread-safe pool of reusable `bytearray` buffers (filled lazily)."""

    cdef Py_ssize_t _capacity
    cdef Py_ssize_t _buffer_size
    cdef Py_ssize_t _limit
    cdef list _idle
    cdef int _lock
    cdef Py_ssize_t _hits, _misses, _released, _dropped
    # The sizes as given (reported back unchanged even when clamped for the C fields).
    cdef object _capacity_obj
    cdef object _buffer_size_obj

    def __cinit__(self, *args, **kwargs):
        self._lock = 0
        self._idle = []

    def __init__(self, capacity: int = 1024, buffer_size: int = 65536) -> None:
        if not isinstance(capacity, int) or not isinstance(buffer_size, int):
            raise TypeError("capacity and buffer_size must be ints")
        if capacity < 0:
            raise InvalidArgumentError(f"capacity must be >= 0, got {capacity}")
        if buffer_size < 1:
            raise InvalidArgumentError(f"buffer_size must be >= 1, got {buffer_size}")
        # Beyond these, the values mean "unbounded" in practice; clamping keeps them in C.
        self._capacity = capacity if capacity < _SSIZE_MAX else _SSIZE_MAX
        self._buffer_size = (buffer_size if buffer_size < _SSIZE_MAX // _OVERSIZE_FACTOR
                             else _SSIZE_MAX // _OVERSIZE_FACTOR)
        self._limit = _OVERSIZE_FACTOR * self._buffer_size
        self._capacity_obj = capacity
        self._buffer_size_obj = buffer_size

    @property
    def capacity(self) -> int:
        return self._capacity_obj

    @property
    def buffer_size(self) -> int:
        return self._buffer_size_obj

    def acquire(self) -> bytearray:
        """An empty buffer: an idle one when there is one (a hit), else a new one (a miss)."""
        lr_spin_lock(&self._lock)
        try:
            if PyList_GET_SIZE(self._idle):
                self._hits += 1
                return self._idle.pop()
            self._misses += 1
        finally:
            lr_spin_unlock(&self._lock)
        return bytearray()

    def release(self, buf) -> bool:
        """Clear `buf` and keep it for reuse; False when it was dropped instead."""
        cdef bint oversize
        if not isinstance(buf, bytearray):
            raise BufferPoolError(f"release() takes a bytearray, not {type(buf).__name__}")
        oversize = PyByteArray_GET_SIZE(buf) > self._limit
        try:
            PyByteArray_Resize(buf, 0)
        except BufferError as exc:  # a memoryview of it is still alive
            raise BufferPoolError(
                f"cannot release a buffer that is still in use: {exc}") from None
        lr_spin_lock(&self._lock)
        try:
            self._released += 1
            if oversize or PyList_GET_SIZE(self._idle) >= self._capacity:
                self._dropped += 1
                return False
            self._idle.append(buf)
            return True
        finally:
            lr_spin_unlock(&self._lock)

    def available(self) -> int:
        """Buffers idle in the pool now."""
        return PyList_GET_SIZE(self._idle)

    def stats(self) -> dict:
        """{"hits", "misses", "released", "dropped"} since the pool was made."""
        cdef Py_ssize_t hits, misses, released, dropped
        lr_spin_lock(&self._lock)
        hits, misses, released, dropped = self._hits, self._misses, self._released, self._dropped
        lr_spin_unlock(&self._lock)
        return {"hits": hits, "misses": misses, "released": released, "dropped": dropped}

    def __repr__(self) -> str:
        return (f"BufferPool(capacity={self._capacity_obj}, "
                f"buffer_size={self._buffer_size_obj}, available={self.available()})")
