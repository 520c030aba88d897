"""Token buckets: never more than burst + rate x t admitted over any interval, whatever the
arrival pattern; Retry-After is exact; key, tenant and global levels all hold."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.config.schema import ApiKey
from lunaroute.errors import BudgetExceededError, RateLimitedError
from lunaroute.limits import LimitsEngine
from lunaroute.state import FileStateStore

from .limits_testkit import T0, Clock, key_entry, key_of, make_config


@pytest.fixture(scope="module")
def base_config(tmp_path_factory: pytest.TempPathFactory):
    return make_config(tmp_path_factory.mktemp("bucket"))


def _engine(config, clock: Clock) -> LimitsEngine:
    # A store private to this process: the property runs many engines, none needs sharing.
    return LimitsEngine(config, FileStateStore(None), clock=clock)


def _run(coro):
    return asyncio.run(coro)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.floats(min_value=0.05, max_value=500.0),
    burst=st.integers(min_value=1, max_value=40),
    gaps=st.lists(st.floats(min_value=0.0, max_value=3.0), min_size=1, max_size=120),
)
def test_never_more_than_burst_plus_rate_times_t(base_config, rate: float, burst: int, gaps: list[float]) -> None:
    key = ApiKey(id="k", name="k", key_hash="x", rps=rate, burst=burst)
    config = dataclasses.replace(base_config, keys=[key])
    clock = Clock()
    engine = _engine(config, clock)
    accepted: list[float] = []

    async def arrive() -> None:
        for gap in gaps:
            clock.advance(gap / rate)  # gaps in units of the refill period: every pattern matters
            try:
                await engine.admit(key, "gpt-4o")
            except RateLimitedError as exc:
                assert exc.retry_after is not None and exc.retry_after > 0
                continue
            accepted.append(clock.now)

    _run(arrive())
    for i in range(len(accepted)):
        for j in range(i, len(accepted)):
            assert j - i + 1 <= burst + rate * (accepted[j] - accepted[i]) + 1e-6
    # And the bucket is not stingy: the first `burst` arrivals are never refused.
    assert len(accepted) >= min(burst, len(gaps))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rate=st.floats(min_value=0.05, max_value=500.0),
    burst=st.integers(min_value=1, max_value=10),
    drain=st.integers(min_value=0, max_value=30),
    wait=st.floats(min_value=0.0, max_value=0.999),
)
def test_retry_after_is_exact(base_config, rate: float, burst: int, drain: int, wait: float) -> None:
    """Refused with Retry-After r (whole milliseconds): admitted at r, refused 2 ms before."""
    key = ApiKey(id="k", name="k", key_hash="x", rps=rate, burst=burst)
    config = dataclasses.replace(base_config, keys=[key])
    clock = Clock()
    engine = _engine(config, clock)

    async def scenario() -> None:
        for _ in range(burst + drain):
            try:
                await engine.admit(key, "m")
            except RateLimitedError:
                pass
        clock.advance(wait / rate)
        try:
            await engine.admit(key, "m")
            return  # a token was there after all
        except RateLimitedError as exc:
            retry = exc.retry_after
        assert retry is not None and 0 < retry <= 1 / rate + 0.002
        assert retry * 1000 == pytest.approx(round(retry * 1000), abs=1e-6)
        start = clock.now
        if retry > 0.002:
            clock.now = start + retry - 0.002
            with pytest.raises(RateLimitedError):
                await engine.admit(key, "m")
        clock.now = start + retry
        await engine.admit(key, "m")

    _run(scenario())


def test_key_tenant_and_global_buckets_each_hold(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        keys=[
            key_entry("a1", tenant="acme", rate={"requests_per_second": 100, "burst": 3}),
            key_entry("a2", tenant="acme"),
            key_entry("b1", tenant="beta"),
        ],
        server={
            "rate_limits": {
                "global": {"requests_per_second": 1, "burst": 9},
                "tenants": {
                    "acme": {"requests_per_second": 1, "burst": 5},
                    "*": {"requests_per_second": 1, "burst": 2},
                },
            }
        },
    )
    clock = Clock()
    engine = LimitsEngine.from_config(config, tmp_path / "data", clock=clock)
    a1, a2, b1 = (key_of(config, k) for k in ("a1", "a2", "b1"))

    async def admitted(key, tries: int) -> int:
        count = 0
        for _ in range(tries):
            try:
                await engine.admit(key, "m")
                count += 1
            except RateLimitedError:
                pass
        return count

    async def scenario() -> None:
        assert await admitted(a1, 10) == 3  # the key's burst
        assert await admitted(a2, 10) == 2  # acme's burst (5) minus a1's three
        assert await admitted(b1, 10) == 2  # beta has no entry: "*" gives it its own bucket of 2
        assert await admitted(None, 10) == 2  # local mode: only the global bucket (9 - 7)
        assert engine.rate_limited == 7 + 8 + 8 + 8
        await engine.aclose()

    _run(scenario())


def test_tokens_per_minute_is_charged_from_real_usage(tmp_path: Path) -> None:
    config = make_config(tmp_path, keys=[key_entry("k", rate={"tokens_per_minute": 600})])
    clock = Clock()
    engine = LimitsEngine.from_config(config, tmp_path / "data", clock=clock)
    key = key_of(config, "k")

    async def scenario() -> None:
        ticket = await engine.admit(key, "gpt-4o")
        ticket2 = await engine.admit(key, "gpt-4o")  # admitting takes nothing: usage is unknown yet
        await engine.settle(ticket, "openai", "gpt-4o", 500, 400)
        await engine.settle(ticket2, "openai", "gpt-4o", 0, 100)  # 1000 tokens: 400 in debt
        with pytest.raises(RateLimitedError) as refused:
            await engine.admit(key, "gpt-4o")
        # 401 tokens to refill at 10 tokens per second, rounded up to the millisecond
        assert 40.1 < refused.value.retry_after <= 40.102
        assert not isinstance(refused.value, BudgetExceededError)
        clock.advance(refused.value.retry_after)
        await engine.admit(key, "gpt-4o")
        await engine.aclose()

    _run(scenario())


def test_settle_charges_a_ticket_once(tmp_path: Path) -> None:
    config = make_config(tmp_path, keys=[key_entry("k", rate={"tokens_per_minute": 1000})])
    engine = LimitsEngine.from_config(config, tmp_path / "data", clock=Clock(T0))
    key = key_of(config, "k")

    async def scenario() -> None:
        ticket = await engine.admit(key, "gpt-4o")
        first = await engine.settle(ticket, "openai", "gpt-4o", 600, 0)
        again = await engine.settle(ticket, "openai", "gpt-4o", 600, 0)
        assert first == again == pytest.approx(600 * 2.5 / 10_000)
        await engine.admit(key, "gpt-4o")  # 400 left: one charge, not two
        await engine.aclose()

    _run(scenario())
