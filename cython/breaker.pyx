# cython: language_level=3, boundscheck=False, wraparound=False, annotation_typing=False
"""Cython circuit-breaker counters: kernel `breaker` (docs/KERNELS.md §4).

The state lives in a 64-byte slot (the layout every tier shares): a packed u64 word
(bits 0-7 state, 8-23 consecutive failures, 24-39 half-open successes, 40-55 half-open
inflight) and a u64 `opened_at_ms`. Every transition is one compare-and-swap on the packed
word (GCC `__atomic` builtins), so breakers in several processes mapping the same slot
lose no update and need no lock.

`opened_at_ms` cannot change in the same CAS as the word (no 128-bit CAS on an 8-aligned
slot), so a transition to OPEN stores it first and publishes it with the release CAS of
the word: whoever sees the new OPEN word sees its opening time. A transition that loses
its CAS race may leave its own "now" there instead of the winner's (both are "now").
"""
from libc.stdint cimport uint64_t
from posix.time cimport clock_gettime, timespec, CLOCK_MONOTONIC
from cpython.buffer cimport PyObject_GetBuffer, PyBuffer_Release, PyBUF_WRITABLE

from lunaroute.errors import InvalidArgumentError

cdef extern from *:
    """
    #include <stdint.h>
    static inline uint64_t lr_atomic_load(const uint64_t *p) {
        return __atomic_load_n(p, __ATOMIC_ACQUIRE);
    }
    static inline void lr_atomic_store(uint64_t *p, uint64_t v) {
        __atomic_store_n(p, v, __ATOMIC_RELEASE);
    }
    /* On failure `*expected` receives the current value, ready for the next attempt. */
    static inline int lr_atomic_cas(uint64_t *p, uint64_t *expected, uint64_t desired) {
        return __atomic_compare_exchange_n(p, expected, desired, 0,
                                           __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
    }
    """
    uint64_t lr_atomic_load(const uint64_t* p) nogil
    void lr_atomic_store(uint64_t* p, uint64_t v) nogil
    bint lr_atomic_cas(uint64_t* p, uint64_t* expected, uint64_t desired) nogil

BREAKER_SLOT_SIZE = 64

cdef enum:
    _CLOSED = 0
    _OPEN = 1
    _HALF_OPEN = 2
    _U16 = 0xFFFF
    _WORD = 0       # slot index (in u64 units) of the packed word
    _OPENED_AT = 1  # ... and of opened_at_ms

cdef uint64_t _FOREIGN_BITS = (<uint64_t>0xFF) << 56
cdef object _U64_MAX = 2**64 - 1
cdef object _TIMEOUT_MAX = 2**62


cdef inline uint64_t _pack(uint64_t w, uint64_t state, uint64_t failures, uint64_t successes,
                           uint64_t inflight) noexcept nogil:
    """The word `w` with new fields. Bits 56-63 belong to no field: kept as found in `w`
    (a future field may live there; every tier keeps them)."""
    return (w & _FOREIGN_BITS) | state | failures << 8 | successes << 24 | inflight << 40


cdef inline uint64_t _state(uint64_t w) noexcept nogil:
    return w & 0xFF


cdef inline uint64_t _failures(uint64_t w) noexcept nogil:
    return (w >> 8) & _U16


cdef inline uint64_t _successes(uint64_t w) noexcept nogil:
    return (w >> 24) & _U16


cdef inline uint64_t _inflight(uint64_t w) noexcept nogil:
    return (w >> 40) & _U16


cdef uint64_t _monotonic_ms() noexcept nogil:
    # CLOCK_MONOTONIC is system-wide: breakers in several processes agree on it
    # (Python's time.monotonic_ns() reads the same clock).
    cdef timespec ts
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return <uint64_t>ts.tv_sec * 1000 + <uint64_t>ts.tv_nsec // 1000000


cdef uint64_t _now(object now_ms) except? 0xFFFFFFFFFFFFFFFF:
    if now_ms is None:
        return _monotonic_ms()
    if not isinstance(now_ms, int):
        raise TypeError(f"now_ms must be an int or None, not {type(now_ms).__name__}")
    if not 0 <= now_ms <= _U64_MAX:
        raise InvalidArgumentError(f"now_ms must be a u64 millisecond count, got {now_ms}")
    return <uint64_t>now_ms


cdef _check_range(str name, object value, object low, object high):
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidArgumentError(f"{name} must be in [{low}, {high}], got {value}")


cdef class CircuitBreaker:
    """Consecutive-failure circuit breaker (CLOSED → OPEN → HALF_OPEN → CLOSED)."""

    CLOSED = _CLOSED
    OPEN = _OPEN
    HALF_OPEN = _HALF_OPEN

    cdef uint64_t _own[8]        # the private slot when no buffer is given (8-aligned)
    cdef uint64_t* _slot
    cdef Py_buffer _view         # held while attached: the mapping cannot go away under us
    cdef bint _has_view
    cdef uint64_t _threshold
    cdef uint64_t _timeout
    cdef uint64_t _trials

    def __cinit__(self, *args, **kwargs):
        self._slot = self._own
        self._has_view = False

    def __dealloc__(self):
        self._detach()

    cdef void _detach(self) noexcept:
        if self._has_view:
            self._has_view = False
            PyBuffer_Release(&self._view)
        self._slot = self._own

    def __init__(self, failure_threshold=5, reset_timeout_ms=30000, half_open_requests=3,
                 buffer=None, offset=0):
        _check_range("failure_threshold", failure_threshold, 1, _U16)
        _check_range("reset_timeout_ms", reset_timeout_ms, 0, _TIMEOUT_MAX)
        _check_range("half_open_requests", half_open_requests, 1, _U16)
        self._detach()
        self._threshold = failure_threshold
        self._timeout = reset_timeout_ms
        self._trials = half_open_requests
        if buffer is not None:
            self._attach(buffer, offset)
        # Never written here: attaching to a shared slot must not reset it (zeroes = CLOSED).

    cdef _attach(self, object buffer, object offset):
        cdef char* base
        _check_range("offset", offset, 0, _U64_MAX)
        if offset % 8:
            raise InvalidArgumentError(f"offset must be a multiple of 8, got {offset}")
        try:
            probe = memoryview(buffer)
        except TypeError:
            raise InvalidArgumentError(
                f"buffer must support the buffer protocol, not {type(buffer).__name__}"
            ) from None
        try:
            if probe.readonly:
                raise InvalidArgumentError("buffer is read-only")
            if not probe.c_contiguous:
                raise InvalidArgumentError("buffer must be contiguous")
            if probe.nbytes < offset + BREAKER_SLOT_SIZE:
                raise InvalidArgumentError(
                    f"buffer holds {probe.nbytes} bytes; a breaker at offset {offset} needs "
                    f"{offset + BREAKER_SLOT_SIZE}")
        finally:
            probe.release()
        PyObject_GetBuffer(buffer, &self._view, PyBUF_WRITABLE)
        self._has_view = True
        base = <char*>self._view.buf + <Py_ssize_t>offset
        if (<size_t>base) % 8:
            self._detach()
            # The 8-byte atomics need it; every tier applies the same rule.
            raise InvalidArgumentError("buffer slot is not 8-byte aligned")
        self._slot = <uint64_t*>base

    # ------------------------------------------------------------------ transitions
    cdef bint _elapsed(self, uint64_t now) noexcept:
        """OPEN long enough to let trial requests through."""
        cdef uint64_t opened = lr_atomic_load(&self._slot[_OPENED_AT])
        return now >= opened and now - opened >= self._timeout

    cdef bint _open(self, uint64_t* word, uint64_t failures, uint64_t now) noexcept:
        """CAS `word` to OPEN with `failures` (opened_at = now); False (and `word`
        reloaded) when another writer got there first."""
        lr_atomic_store(&self._slot[_OPENED_AT], now)
        return lr_atomic_cas(&self._slot[_WORD], word, _pack(word[0], _OPEN, failures, 0, 0))

    def state(self, now_ms=None) -> int:
        """The current state; an OPEN breaker whose timeout has passed turns HALF_OPEN."""
        cdef uint64_t now = _now(now_ms)
        cdef uint64_t w = lr_atomic_load(&self._slot[_WORD])
        while _state(w) == _OPEN and self._elapsed(now):
            if lr_atomic_cas(&self._slot[_WORD], &w, _pack(w, _HALF_OPEN, _failures(w), 0, 0)):
                return _HALF_OPEN
        return _state(w)

    def allow(self, now_ms=None) -> bool:
        """May a request go out now? In HALF_OPEN a True takes one trial slot."""
        cdef uint64_t now = _now(now_ms)
        cdef uint64_t w = lr_atomic_load(&self._slot[_WORD])
        while True:
            if _state(w) == _OPEN:
                if not self._elapsed(now):
                    return False
                # Promote and take the first trial slot in one step.
                if lr_atomic_cas(&self._slot[_WORD], &w,
                                 _pack(w, _HALF_OPEN, _failures(w), 0, 1)):
                    return True
            elif _state(w) == _HALF_OPEN:
                if _inflight(w) >= self._trials:
                    return False
                if lr_atomic_cas(&self._slot[_WORD], &w, _pack(
                        w, _HALF_OPEN, _failures(w), _successes(w), _inflight(w) + 1)):
                    return True
            else:
                return True

    def record_success(self, now_ms=None) -> None:
        """A request that went out succeeded."""
        cdef uint64_t successes, inflight
        cdef uint64_t w
        _now(now_ms)  # validated for parity with the other tiers; a success needs no clock
        w = lr_atomic_load(&self._slot[_WORD])
        while True:
            if _state(w) == _CLOSED:
                if not _failures(w):
                    return
                if lr_atomic_cas(&self._slot[_WORD], &w, _pack(
                        w, _CLOSED, 0, _successes(w), _inflight(w))):
                    return
            elif _state(w) == _HALF_OPEN:
                successes = _successes(w) + 1
                if successes >= self._trials:
                    if lr_atomic_cas(&self._slot[_WORD], &w, _pack(w, _CLOSED, 0, 0, 0)):
                        return
                else:
                    inflight = _inflight(w)
                    if inflight:
                        inflight -= 1
                    if lr_atomic_cas(&self._slot[_WORD], &w, _pack(
                            w, _HALF_OPEN, _failures(w), successes, inflight)):
                        return
            else:
                return  # OPEN: a request that started before it opened changes nothing

    def record_failure(self, now_ms=None) -> None:
        """A request that went out failed."""
        cdef uint64_t now = _now(now_ms)
        cdef uint64_t failures
        cdef uint64_t w = lr_atomic_load(&self._slot[_WORD])
        while True:
            if _state(w) == _CLOSED:
                failures = _failures(w)
                if failures < _U16:
                    failures += 1
                if failures >= self._threshold:
                    if self._open(&w, failures, now):
                        return
                elif lr_atomic_cas(&self._slot[_WORD], &w, _pack(
                        w, _CLOSED, failures, _successes(w), _inflight(w))):
                    return
            elif _state(w) == _HALF_OPEN:
                if self._open(&w, _failures(w), now):
                    return
            else:
                return  # OPEN already

    def reset(self) -> None:
        """Back to CLOSED with every counter and the opening time zeroed."""
        cdef uint64_t w = lr_atomic_load(&self._slot[_WORD])
        # The word first: a reader never sees a zero opening time on an OPEN word.
        while not lr_atomic_cas(&self._slot[_WORD], &w, _pack(w, _CLOSED, 0, 0, 0)):
            pass
        lr_atomic_store(&self._slot[_OPENED_AT], 0)

    def snapshot(self) -> tuple:
        """(state, consecutive_failures, half_open_successes, half_open_inflight, opened_at_ms)"""
        cdef uint64_t w = lr_atomic_load(&self._slot[_WORD])
        cdef uint64_t opened = lr_atomic_load(&self._slot[_OPENED_AT])
        return (_state(w), _failures(w), _successes(w), _inflight(w), opened)
