"""How long to wait before retrying the same target."""

from __future__ import annotations

import math
import random

# An upstream Retry-After longer than this is not waited for: the request moves on to the
# next target (or reaches the client as a 429 carrying the upstream's Retry-After).
RETRY_AFTER_CAP_S = 30.0


class RetryPolicy:
    """Exponential backoff with full jitter (AWS style), honouring Retry-After.

    Before retry number `attempt` (1 = the first retry) the wait is uniform in
    [0, min(cap_ms, base_ms * 2**(attempt-1))] ms, unless the upstream said how long to
    wait (Retry-After): then exactly that, capped at `retry_after_cap_s`.
    """

    __slots__ = ("base_ms", "cap_ms", "retry_after_cap_s", "_rng")

    def __init__(
        self,
        base_ms: int = 100,
        cap_ms: int = 5000,
        *,
        retry_after_cap_s: float = RETRY_AFTER_CAP_S,
        rng: random.Random | None = None,
    ) -> None:
        if base_ms < 0 or cap_ms < 0 or retry_after_cap_s < 0:
            raise ValueError("retry delays must not be negative")
        self.base_ms = base_ms
        self.cap_ms = cap_ms
        self.retry_after_cap_s = retry_after_cap_s
        self._rng = rng if rng is not None else random.Random()

    def backoff_ceiling_s(self, attempt: int) -> float:
        exponent = min(max(attempt, 1) - 1, 62)  # 2**62 ms is already past any cap
        return min(self.cap_ms, self.base_ms * (1 << exponent)) / 1000.0

    def honours(self, retry_after_s: float | None) -> bool:
        """False when the upstream asks for a wait longer than we are willing to hold."""
        if retry_after_s is None or not _usable(retry_after_s):
            return True
        return retry_after_s <= self.retry_after_cap_s

    def delay_s(self, attempt: int, retry_after_s: float | None) -> float:
        if retry_after_s is not None and _usable(retry_after_s):
            return min(retry_after_s, self.retry_after_cap_s)
        return self._rng.uniform(0.0, self.backoff_ceiling_s(attempt))


def _usable(retry_after_s: float | None) -> bool:
    """A Retry-After we can act on: a real, non-negative number of seconds."""
    return (
        retry_after_s is not None
        and not isinstance(retry_after_s, bool)
        and isinstance(retry_after_s, (int, float))
        and not math.isnan(retry_after_s)
        and retry_after_s >= 0
    )
