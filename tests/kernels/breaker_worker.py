"""Child-process side of the cross-process breaker tests (importable by `spawn`)."""

from __future__ import annotations

import mmap
from typing import Any

from lunaroute.kernels import module_for


def hammer_failures(backend: str, path: str, offset: int, count: int, barrier: Any) -> None:
    """Map the file, attach a breaker to the slot at `offset`, record `count` failures."""
    mod = module_for("breaker", backend)
    assert mod is not None, backend
    with open(path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), 0)
        breaker = mod.CircuitBreaker(failure_threshold=65535, buffer=mm, offset=offset)
        barrier.wait(timeout=60)
        for _ in range(count):
            breaker.record_failure(1000)
        del breaker
        mm.close()


def open_breaker(backend: str, path: str, offset: int, now_ms: int) -> None:
    """Trip the shared breaker at `offset` (threshold 2) from another process."""
    mod = module_for("breaker", backend)
    assert mod is not None, backend
    with open(path, "r+b") as fh:
        mm = mmap.mmap(fh.fileno(), 0)
        breaker = mod.CircuitBreaker(failure_threshold=2, reset_timeout_ms=500, buffer=mm, offset=offset)
        breaker.record_failure(now_ms)
        breaker.record_failure(now_ms)
        del breaker
        mm.close()
