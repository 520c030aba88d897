"""The StateStore interface (spec §3.1): where rate-limit buckets and budget counters live.

Two backends keep it: `file` (one host: shared memory for its worker processes, snapshotted
to disk) and `redis` (every instance on one Redis server). Both run the algorithm of
`evaluate.py` atomically, so N workers or N machines hold one limit, not N.
"""

from __future__ import annotations

from typing import Protocol

from ..errors import LunaRouteError
from .plan import AdmitPlan, AdmitResult, ChargePlan

Usage = tuple[float, float, float]  # tokens, requests, cost_cents
WindowRef = tuple[str, float]  # record key, current period start


class StateUnavailableError(LunaRouteError):
    """The store cannot be reached (Redis down); the caller applies `state.on_redis_error`."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class StateStore(Protocol):
    backend: str
    errors: int  # failed round trips so far (the `state_errors` counter)

    @property
    def available(self) -> bool:
        """False while the store is unreachable (always True for `file`)."""
        ...

    async def admit(self, plan: AdmitPlan, now: float) -> AdmitResult:
        """Check and take, atomically. Raises StateUnavailableError."""
        ...

    async def charge(self, plan: ChargePlan, now: float) -> tuple[Usage, ...]:
        """Add an answer's usage; the windows' usage after it. Never raises for an
        unreachable store: the charge is kept and applied once the store is back."""
        ...

    async def read_windows(self, windows: list[WindowRef]) -> list[Usage]:
        """Current usage of each window (zeros for a rolled-over one). Raises StateUnavailableError."""
        ...

    def cached_windows(self, windows: list[WindowRef]) -> list[Usage | None]:
        """Usage without waiting: live for `file`, the last value seen for `redis`."""
        ...

    async def reset_windows(self, windows: list[WindowRef]) -> None:
        """Zero each window's current period. Raises StateUnavailableError."""
        ...

    async def flush(self) -> None:
        """Make everything so far durable: a snapshot now (`file`), pending charges (`redis`)."""
        ...

    async def aclose(self) -> None: ...
