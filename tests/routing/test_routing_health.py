"""HealthMonitor: readiness, snapshot, and active probes on real asyncio tasks."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from lunaroute.routing import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    BreakerRegistry,
    BreakerSettings,
    HealthMonitor,
    RouteDecision,
    RuleOptions,
    Target,
)

from .routing_testkit import Script, fail, run


@pytest.fixture
def breakers() -> Iterator[BreakerRegistry]:
    s = BreakerSettings(failure_threshold=2, reset_timeout_ms=100, half_open_requests=1)
    registry = BreakerRegistry({"a": s, "b": s})
    yield registry
    registry.close()


def open_circuit(registry: BreakerRegistry, provider: str) -> None:
    for _ in range(2):
        registry.get(provider).record_failure()


def test_ready_while_any_provider_is_not_open(breakers: BreakerRegistry) -> None:
    monitor = HealthMonitor(breakers)
    assert monitor.ready()
    open_circuit(breakers, "a")
    assert monitor.ready()
    open_circuit(breakers, "b")
    assert not monitor.ready()
    time.sleep(0.15)  # reset timeout passed: half-open counts as not open
    assert monitor.ready()


def test_no_providers_is_not_ready() -> None:
    with BreakerRegistry({}) as registry:
        assert not HealthMonitor(registry).ready()


def test_snapshot_reflects_real_traffic(breakers: BreakerRegistry) -> None:
    decision = RouteDecision("r", Target("a"), [Target("b")], RuleOptions())
    before = time.time()
    run(decision, Script({"a": [fail("timeout")], "b": ["ok"]}), breakers, retries=1)
    snap = HealthMonitor(breakers).snapshot()
    assert snap["a"]["state"] == "open" and snap["b"]["state"] == "closed"
    assert snap["a"]["last_error"] == "timeout" and snap["a"]["last_error_at"] >= before
    assert snap["a"]["last_ok"] is None
    assert snap["b"]["last_ok"] >= before and snap["b"]["last_error"] is None
    assert snap["a"]["probe_ok"] is None


def test_probe_failures_open_a_closed_circuit_but_successes_do_not_reset_it(breakers: BreakerRegistry) -> None:
    results = {"a": True, "b": False}

    async def probe(provider: str) -> bool:
        return results[provider]

    monitor = HealthMonitor(breakers, probe=probe)

    async def main() -> None:
        breakers.get("a").record_failure()  # one real failure
        assert await monitor.probe_once("a") is True
        assert breakers.get("a").snapshot()[1] == 1  # a passing probe did not reset it
        await monitor.probe_once("b")
        await monitor.probe_once("b")

    asyncio.run(main())
    assert breakers.states() == {"a": CLOSED, "b": OPEN}
    snap = monitor.snapshot()
    assert (snap["a"]["probe_ok"], snap["b"]["probe_ok"]) == (True, False)
    assert snap["b"]["last_error"] == "probe failed"


def test_probe_can_close_a_half_open_circuit(breakers: BreakerRegistry) -> None:
    async def probe(provider: str) -> bool:
        return True

    monitor = HealthMonitor(breakers, probe=probe)
    open_circuit(breakers, "a")

    async def main() -> None:
        await monitor.probe_once("a")  # still open: recorded nowhere
        assert breakers.states()["a"] == OPEN
        await asyncio.sleep(0.15)
        assert breakers.states()["a"] == HALF_OPEN
        await monitor.probe_once("a")

    asyncio.run(main())
    assert breakers.states()["a"] == CLOSED


def test_probe_errors_and_timeouts_count_as_failures(breakers: BreakerRegistry) -> None:
    async def probe(provider: str) -> bool:
        if provider == "a":
            raise RuntimeError("probe bug")
        await asyncio.sleep(10)
        return True

    monitor = HealthMonitor(breakers, probe=probe, probe_timeout_ms=20)

    async def main() -> None:
        assert await monitor.probe_once("a") is False
        assert await monitor.probe_once("b") is False

    asyncio.run(main())
    snap = monitor.snapshot()
    assert snap["a"]["last_error"] == "probe raised RuntimeError"
    assert snap["b"]["last_error"] == "probe timed out"


def test_probe_loops_start_and_stop(breakers: BreakerRegistry) -> None:
    calls: list[str] = []

    async def probe(provider: str) -> bool:
        calls.append(provider)
        return False

    monitor = HealthMonitor(breakers, probe=probe, intervals_ms={"b": 100})

    async def main() -> None:
        await monitor.start()
        assert monitor.running
        await monitor.start()  # idempotent
        await asyncio.sleep(0.25)
        await monitor.stop()
        assert not monitor.running
        count = len(calls)
        await asyncio.sleep(0.15)
        assert len(calls) == count  # nothing runs after stop

    asyncio.run(main())
    assert set(calls) == {"b"} and 2 <= len(calls) <= 4
    states = breakers.states()  # b opened; its 100 ms reset may have passed since
    assert states["a"] == CLOSED and states["b"] in (OPEN, HALF_OPEN)


@pytest.mark.parametrize("intervals", [{"a": 10}, {"a": True}, {"a": "1s"}])
def test_bad_probe_intervals_are_refused(breakers: BreakerRegistry, intervals: dict) -> None:
    async def probe(provider: str) -> bool:
        return True

    with pytest.raises(ValueError):
        HealthMonitor(breakers, probe=probe, intervals_ms=intervals)


def test_intervals_need_a_probe(breakers: BreakerRegistry) -> None:
    with pytest.raises(ValueError):
        HealthMonitor(breakers, intervals_ms={"a": 1000})


def test_use_registry_follows_a_reload(breakers: BreakerRegistry) -> None:
    monitor = HealthMonitor(breakers)
    open_circuit(breakers, "a")
    open_circuit(breakers, "b")
    assert not monitor.ready()
    with BreakerRegistry({"c": BreakerSettings()}, previous=breakers) as reloaded:
        monitor.use_registry(reloaded)
        assert monitor.ready() and list(monitor.snapshot()) == ["c"]
