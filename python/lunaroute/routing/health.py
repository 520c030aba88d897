"""Provider health: passive (what real traffic did to the breakers) and active probes.

Passive health needs no task: `run_attempts` records every outcome in the breakers and in
the registry's activity notes. Active probes are optional: for each provider given an
interval, a task calls the server's `probe(provider) -> bool` that often.

How a probe result touches the circuit (probes must help, never mask real traffic):
- breaker CLOSED: a failed probe records a failure (an outage is noticed before clients
  hit it); a passing probe records nothing, so a cheap probe cannot reset the failure
  count of real requests that keep failing.
- breaker HALF_OPEN: the probe takes a trial slot like a request (`allow()`) and records
  its result, so probes alone can close a recovered circuit (or reopen it). If every
  trial slot is taken by real requests, the probe result is recorded nowhere.
- breaker OPEN (reset timeout not elapsed): the probe still runs, for the snapshot, but
  cannot change the circuit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from .breakers import CLOSED, HALF_OPEN, OPEN, STATE_NAMES, BreakerRegistry

log = logging.getLogger("lunaroute.routing")

Probe = Callable[[str], Awaitable[bool]]
MIN_INTERVAL_MS = 100


class HealthMonitor:
    """Per-provider health for `/readyz`, the breaker-state metric and `doctor`."""

    def __init__(
        self,
        breakers: BreakerRegistry,
        *,
        probe: Probe | None = None,
        intervals_ms: Mapping[str, int] | None = None,
        probe_timeout_ms: int = 5000,
    ) -> None:
        intervals = dict(intervals_ms or {})
        if intervals and probe is None:
            raise ValueError("probe intervals given without a probe callable")
        for name, interval in intervals.items():
            if isinstance(interval, bool) or not isinstance(interval, int) or interval < MIN_INTERVAL_MS:
                raise ValueError(f"probe interval for {name!r} must be an integer >= {MIN_INTERVAL_MS} ms")
        self._breakers = breakers
        self._probe = probe
        self._intervals = intervals
        self._probe_timeout_s = probe_timeout_ms / 1000.0
        self._probe_ok: dict[str, bool] = {}
        self._tasks: list[asyncio.Task[None]] = []

    def use_registry(self, breakers: BreakerRegistry) -> None:
        """Follow a config reload: probes and readiness use the new registry from now on."""
        self._breakers = breakers

    @property
    def running(self) -> bool:
        return bool(self._tasks)

    async def start(self) -> None:
        """Start one probe loop per provider with an interval (no-op when none or started)."""
        if self._tasks or self._probe is None:
            return
        for name in sorted(self._intervals):
            task = asyncio.create_task(self._loop(name, self._intervals[name] / 1000.0), name=f"lunaroute-probe-{name}")
            self._tasks.append(task)

    async def stop(self) -> None:
        """Cancel the probe loops and wait for them to end."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _loop(self, provider: str, interval_s: float) -> None:
        while True:
            await self.probe_once(provider)
            await asyncio.sleep(interval_s)

    async def probe_once(self, provider: str) -> bool:
        """Run the probe for `provider` now and apply its result; returns it."""
        if self._probe is None:
            raise RuntimeError("HealthMonitor has no probe callable")
        try:
            ok = bool(await asyncio.wait_for(self._probe(provider), self._probe_timeout_s))
            reason = "probe failed"
        except TimeoutError:
            ok, reason = False, "probe timed out"
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a probe is outside code: its bug must not kill the loop
            log.warning("health probe for %s raised %s: %s", provider, type(exc).__name__, exc)
            ok, reason = False, f"probe raised {type(exc).__name__}"
        self._probe_ok[provider] = ok
        self._apply(provider, ok, reason)
        return ok

    def _apply(self, provider: str, ok: bool, reason: str) -> None:
        breaker = self._breakers.get(provider)
        state = breaker.state()
        if ok:
            self._breakers.note_success(provider)
        else:
            self._breakers.note_failure(provider, reason)
        if state == CLOSED and not ok:
            breaker.record_failure()
        elif state == HALF_OPEN and breaker.allow():
            if ok:
                breaker.record_success()
            else:
                breaker.record_failure()

    def ready(self) -> bool:
        """At least one provider whose circuit is not open."""
        return any(state != OPEN for state in self._breakers.states().values())

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """provider → {state, last_ok, last_error, last_error_at, probe_ok} (wall-clock s)."""
        out: dict[str, dict[str, Any]] = {}
        for name, state in sorted(self._breakers.states().items()):
            activity = self._breakers.activity(name)
            out[name] = {
                "state": STATE_NAMES.get(state, str(state)),
                "last_ok": activity.last_ok,
                "last_error": activity.last_error,
                "last_error_at": activity.last_error_at,
                "probe_ok": self._probe_ok.get(name),
            }
        return out
