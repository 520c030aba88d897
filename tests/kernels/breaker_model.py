"""An independent, obviously-correct model of the circuit breaker of docs/KERNELS.md §4,
kept as plain fields (no slot, no packing) so that it cannot share a bug with the kernels.
"""

from __future__ import annotations

CLOSED, OPEN, HALF_OPEN = 0, 1, 2


class BreakerModel:
    def __init__(self, failure_threshold: int, reset_timeout_ms: int, half_open_requests: int) -> None:
        self.threshold = failure_threshold
        self.timeout = reset_timeout_ms
        self.trials = half_open_requests
        self.st = CLOSED
        self.failures = self.successes = self.inflight = self.opened_at = 0

    def _promote(self, now: int) -> None:
        if self.st == OPEN and now - self.opened_at >= self.timeout:
            self.st, self.successes, self.inflight = HALF_OPEN, 0, 0

    def state(self, now: int) -> int:
        self._promote(now)
        return self.st

    def allow(self, now: int) -> bool:
        self._promote(now)
        if self.st == CLOSED:
            return True
        if self.st == OPEN:
            return False
        if self.inflight < self.trials:
            self.inflight += 1
            return True
        return False

    def record_success(self, now: int) -> None:
        if self.st == CLOSED:
            self.failures = 0
        elif self.st == HALF_OPEN:
            self.successes += 1
            self.inflight = max(0, self.inflight - 1)
            if self.successes >= self.trials:
                self.st, self.failures, self.successes, self.inflight = CLOSED, 0, 0, 0

    def record_failure(self, now: int) -> None:
        if self.st == CLOSED:
            self.failures = min(self.failures + 1, 0xFFFF)
            if self.failures >= self.threshold:
                self.st, self.opened_at = OPEN, now
        elif self.st == HALF_OPEN:
            self.st, self.opened_at, self.successes, self.inflight = OPEN, now, 0, 0

    def reset(self) -> None:
        self.st = CLOSED
        self.failures = self.successes = self.inflight = self.opened_at = 0

    def snapshot(self) -> tuple[int, int, int, int, int]:
        return (self.st, self.failures, self.successes, self.inflight, self.opened_at)
