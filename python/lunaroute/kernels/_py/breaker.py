"""Pure-Python circuit-breaker counters: the reference semantics of kernel `breaker`
(docs/KERNELS.md §4).

The state lives in a 64-byte slot laid out exactly like the native tiers' (so a slot in a
shared `mmap` reads the same whichever backend wrote it): a packed u64 word (state,
consecutive failures, half-open successes, half-open inflight) and a u64 `opened_at_ms`.
This tier guards the read-modify-write with one process-wide lock instead of a
compare-and-swap: exact within a process, best-effort across processes (the documented
limitation of the fallback tier).
"""

from __future__ import annotations

import ctypes
import struct
import threading
import time

from ...errors import InvalidArgumentError

BREAKER_SLOT_SIZE: int = 64

_HEAD = struct.Struct("<QQ")  # packed word, opened_at_ms
_WORD = struct.Struct("<Q")
_U16 = 0xFFFF
_U64_MAX = 2**64 - 1
_TIMEOUT_MAX = 2**62

# The packed word: bits 0-7 state, 8-23 failures, 24-39 half-open successes, 40-55
# half-open inflight. Bits 56-63 belong to no field: every tier keeps them as found.
_STATE = 0xFF
_FAILURES_SHIFT = 8
_SUCCESSES_SHIFT = 24
_INFLIGHT_SHIFT = 40
_FAILURES = _U16 << _FAILURES_SHIFT
_SUCCESSES = _U16 << _SUCCESSES_SHIFT
_INFLIGHT = _U16 << _INFLIGHT_SHIFT
_FOREIGN_BITS = 0xFF << 56
_ONE_INFLIGHT = 1 << _INFLIGHT_SHIFT
# OPEN → HALF_OPEN keeps the failure count (and foreign bits), zeroes the trial counters.
_KEEP_ON_PROMOTE = _FAILURES | _FOREIGN_BITS

# One lock for every breaker of the process: two objects mapping the same slot must
# serialise against each other, and a breaker update is far too short to contend.
_LOCK = threading.Lock()

CLOSED = 0
OPEN = 1
HALF_OPEN = 2


def _now(now_ms: int | None) -> int:
    if now_ms is None:
        return time.monotonic_ns() // 1_000_000
    if type(now_ms) is int and 0 <= now_ms <= _U64_MAX:
        return now_ms
    if not isinstance(now_ms, int):
        raise TypeError(f"now_ms must be an int or None, not {type(now_ms).__name__}")
    if not 0 <= now_ms <= _U64_MAX:
        raise InvalidArgumentError(f"now_ms must be a u64 millisecond count, got {now_ms}")
    return now_ms


def _check_range(name: str, value: int, low: int, high: int) -> None:
    if not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidArgumentError(f"{name} must be in [{low}, {high}], got {value}")


def _slot(buffer: object, offset: int) -> memoryview:
    _check_range("offset", offset, 0, _U64_MAX)
    if offset % 8:
        raise InvalidArgumentError(f"offset must be a multiple of 8, got {offset}")
    try:
        # Any object is tried: memoryview's TypeError is the buffer-protocol test.
        view = memoryview(buffer)  # type: ignore[arg-type]
    except TypeError:
        raise InvalidArgumentError(f"buffer must support the buffer protocol, not {type(buffer).__name__}") from None
    if view.readonly:
        raise InvalidArgumentError("buffer is read-only")
    if not view.c_contiguous:
        raise InvalidArgumentError("buffer must be contiguous")
    view = view.cast("B")
    if len(view) < offset + BREAKER_SLOT_SIZE:
        raise InvalidArgumentError(
            f"buffer holds {len(view)} bytes; a breaker at offset {offset} needs {offset + BREAKER_SLOT_SIZE}"
        )
    slot = view[offset : offset + BREAKER_SLOT_SIZE]
    # The native tiers use 8-byte atomics on this slot; keep the same rule here so that a
    # buffer accepted by one backend is accepted by all.
    if ctypes.addressof(ctypes.c_char.from_buffer(slot)) % 8:
        raise InvalidArgumentError("buffer slot is not 8-byte aligned")
    return slot


class CircuitBreaker:
    """Consecutive-failure circuit breaker (CLOSED → OPEN → HALF_OPEN → CLOSED)."""

    CLOSED = CLOSED
    OPEN = OPEN
    HALF_OPEN = HALF_OPEN

    __slots__ = ("_threshold", "_timeout", "_trials", "_slot")

    def __init__(
        self,
        failure_threshold: int = 5,
        reset_timeout_ms: int = 30000,
        half_open_requests: int = 3,
        buffer: object = None,
        offset: int = 0,
    ) -> None:
        _check_range("failure_threshold", failure_threshold, 1, _U16)
        _check_range("reset_timeout_ms", reset_timeout_ms, 0, _TIMEOUT_MAX)
        _check_range("half_open_requests", half_open_requests, 1, _U16)
        self._threshold = failure_threshold
        self._timeout = reset_timeout_ms
        self._trials = half_open_requests
        # Never written here: attaching to a shared slot must not reset it (zeroes = CLOSED).
        self._slot = memoryview(bytearray(BREAKER_SLOT_SIZE)) if buffer is None else _slot(buffer, offset)

    # ------------------------------------------------------------------ operations
    # Each operation reads the packed word once and writes back only what changed, keeping
    # every bit it does not own (bits 56-63 included) as found.
    def state(self, now_ms: int | None = None) -> int:
        now = _now(now_ms)
        word: int
        opened: int
        with _LOCK:
            slot = self._slot
            word, opened = _HEAD.unpack_from(slot)
            state = word & _STATE
            if state == OPEN and now - opened >= self._timeout:
                _WORD.pack_into(slot, 0, word & _KEEP_ON_PROMOTE | HALF_OPEN)
                return HALF_OPEN
            return state

    def allow(self, now_ms: int | None = None) -> bool:
        now = _now(now_ms)
        with _LOCK:
            slot = self._slot
            word, opened = _HEAD.unpack_from(slot)
            state = word & _STATE
            if state == OPEN:
                if now - opened < self._timeout:
                    return False
                # promote and take the first trial slot in one step
                _WORD.pack_into(slot, 0, word & _KEEP_ON_PROMOTE | HALF_OPEN | _ONE_INFLIGHT)
                return True
            if state == HALF_OPEN:
                if word >> _INFLIGHT_SHIFT & _U16 >= self._trials:
                    return False
                _WORD.pack_into(slot, 0, word + _ONE_INFLIGHT)
            return True

    def record_success(self, now_ms: int | None = None) -> None:
        _now(now_ms)  # validated for parity with the native tiers; a success needs no clock
        with _LOCK:
            slot = self._slot
            word = _WORD.unpack_from(slot)[0]
            state = word & _STATE
            if state == CLOSED:
                if word & _FAILURES:
                    _WORD.pack_into(slot, 0, word & ~_FAILURES)
            elif state == HALF_OPEN:
                successes = (word >> _SUCCESSES_SHIFT & _U16) + 1
                if successes >= self._trials:
                    _WORD.pack_into(slot, 0, word & _FOREIGN_BITS)  # CLOSED, all counters 0
                else:
                    inflight = word >> _INFLIGHT_SHIFT & _U16
                    _WORD.pack_into(
                        slot,
                        0,
                        word & ~(_SUCCESSES | _INFLIGHT)
                        | successes << _SUCCESSES_SHIFT
                        | (inflight - 1 if inflight else 0) << _INFLIGHT_SHIFT,
                    )

    def record_failure(self, now_ms: int | None = None) -> None:
        now = _now(now_ms)
        with _LOCK:
            slot = self._slot
            word = _WORD.unpack_from(slot)[0]
            state = word & _STATE
            if state == CLOSED:
                failures = word >> _FAILURES_SHIFT & _U16
                if failures < _U16:  # saturating
                    failures += 1
                word = word & ~_FAILURES | failures << _FAILURES_SHIFT
                if failures >= self._threshold:
                    _HEAD.pack_into(slot, 0, word & ~_STATE | OPEN, now)
                else:
                    _WORD.pack_into(slot, 0, word)
            elif state == HALF_OPEN:
                _HEAD.pack_into(slot, 0, word & ~(_STATE | _SUCCESSES | _INFLIGHT) | OPEN, now)

    def reset(self) -> None:
        """Back to CLOSED with every counter and the opening time zeroed."""
        with _LOCK:
            slot = self._slot
            _HEAD.pack_into(slot, 0, _WORD.unpack_from(slot)[0] & _FOREIGN_BITS, 0)

    def snapshot(self) -> tuple[int, int, int, int, int]:
        """(state, consecutive_failures, half_open_successes, half_open_inflight, opened_at_ms)"""
        with _LOCK:
            word, opened = _HEAD.unpack_from(self._slot)
        return (
            word & _STATE,
            word >> _FAILURES_SHIFT & _U16,
            word >> _SUCCESSES_SHIFT & _U16,
            word >> _INFLIGHT_SHIFT & _U16,
            opened,
        )
