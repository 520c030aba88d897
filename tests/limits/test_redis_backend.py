"""The `redis` backend on a real redis-server: the Lua scripts decide exactly as the Python
algorithm does, instances share one limit and one budget, an admit is one round trip, and a
dead or frozen Redis follows `state.on_redis_error` without an exception or a hang."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.config import load_config
from lunaroute.errors import BudgetExceededError, RateLimitedError
from lunaroute.limits import LimitsEngine
from lunaroute.state import evaluate
from lunaroute.state.plan import (
    NEED_ONE,
    NO_LIMIT,
    TAKE_ONE,
    AdmitPlan,
    BucketCheck,
    BudgetCheck,
    ChargePlan,
    WindowCharge,
    WindowCheck,
)
from lunaroute.state.redis_store import RedisStateStore

from .limits_testkit import T0, Clock, RedisServer, budget_entry, key_entry, key_of, make_config, make_config_dir

PROCESSES = 3
ZERO = (0.0, 0.0, 0.0, 0.0)


def _redis_state(url: str, policy: str = "fail_open") -> dict:
    return {"state": {"backend": "redis", "redis_url": url, "on_redis_error": policy, "redis_timeout_ms": 200}}


# ---------------------------------------------------------------------- Lua == Python
def _plans() -> list[tuple[AdmitPlan, ChargePlan]]:
    day = (T0 - T0 % 86400, T0 - T0 % 86400 + 86400)
    throttle = BucketCheck("thr:b", 0.5, 2.0, TAKE_ONE)
    tpm = BucketCheck("t:key:k", 100.0, 3000.0, NEED_ONE)
    windows = (
        WindowCheck("w:b:daily", 0, *day, 5000.0, 40.0, NO_LIMIT),
        WindowCheck("w:c:daily", 1, *day, NO_LIMIT, NO_LIMIT, 2.5),
    )
    soft_throttle = BudgetCheck(0.3, throttle, True, False)
    soft_block = BudgetCheck(0.8, BucketCheck("thr:c", 1.0, 1.0, TAKE_ONE), False, True)
    full = AdmitPlan((BucketCheck("r:key:k", 3.0, 5.0, TAKE_ONE), tpm), (soft_throttle, soft_block), windows)
    only_rate = AdmitPlan((BucketCheck("r:key:k", 3.0, 5.0, TAKE_ONE), BucketCheck("r:global", 7.0, 9.0)), (), ())
    charges = tuple(WindowCharge(w.key, w.start, w.end) for w in windows)
    return [
        (full, ChargePlan(charges, (tpm,), 0.0, 0.0)),
        (only_rate, ChargePlan((), (), 0.0, 0.0)),
    ]


class PythonStore:
    """The reference: evaluate.py over a dict."""

    def __init__(self) -> None:
        self.records: dict[str, tuple[float, float, float, float]] = {}

    def admit(self, plan: AdmitPlan, now: float):
        keys = evaluate.admit_keys(plan)
        result, writes = evaluate.admit(plan, [self.records.get(k, ZERO) for k in keys], now)
        for i, record in writes:
            self.records[keys[i]] = record
        return result

    def charge(self, plan: ChargePlan, now: float):
        keys = evaluate.charge_keys(plan)
        usage, writes = evaluate.charge(plan, [self.records.get(k, ZERO) for k in keys], now)
        for i, record in writes:
            self.records[keys[i]] = record
        return usage


operation = st.one_of(
    st.tuples(st.just("admit"), st.integers(0, 1), st.floats(0, 2.0)),
    st.tuples(st.just("charge"), st.integers(0, 1), st.floats(0, 2.0), st.integers(0, 900), st.floats(0, 0.6)),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=st.lists(operation, min_size=1, max_size=60))
def test_lua_decides_exactly_as_python(redis_server: RedisServer, ops: list[tuple]) -> None:
    plans = _plans()
    reference = PythonStore()

    async def run() -> None:
        store = RedisStateStore(redis_server.url, timeout=1.0, prefix="diff:")
        await store.redis.flushdb()
        now = T0
        for op in ops:
            now += op[2]
            admit_plan, charge_plan = plans[op[1]]
            if op[0] == "admit":
                got, want = await store.admit(admit_plan, now), reference.admit(admit_plan, now)
                assert (got.status, got.soft, got.usage, got.window) == (
                    want.status,
                    want.soft,
                    want.usage,
                    want.window,
                )
                assert got.retry_after == pytest.approx(want.retry_after, rel=1e-12, abs=1e-9)
            else:
                charge_plan = ChargePlan(charge_plan.windows, charge_plan.buckets, float(op[3]), op[4])
                assert await store.charge(charge_plan, now) == reference.charge(charge_plan, now)
        for key, record in reference.records.items():
            values = await store.redis.hmget("diff:" + key, "a", "b", "c", "d")
            assert tuple(float(v or 0) for v in values) == record
        await store.aclose()

    asyncio.run(run())


# ---------------------------------------------------------------------- one engine
def test_engine_on_redis_limits_budgets_and_one_round_trip(tmp_path: Path, redis_server: RedisServer) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 50, "tokens": 10**6}})]
    keys = [key_entry("k", rate={"requests_per_second": 1, "burst": 30})]
    config = make_config(tmp_path, keys=keys, budgets=budgets, server=_redis_state(redis_server.url))
    key = key_of(config, "k")
    clock = Clock()
    admin = redis.Redis(port=redis_server.port)

    def evalsha_calls() -> tuple[int, set[str]]:
        stats = admin.info("commandstats")
        others = {name.removeprefix("cmdstat_") for name in stats} - {"evalsha"}
        return stats.get("cmdstat_evalsha", {}).get("calls", 0), others

    async def scenario() -> None:
        engine = LimitsEngine.from_config(config, tmp_path / "data", clock=clock)
        ticket = await engine.admit(key, "gpt-4o")  # loads the scripts
        await engine.settle(ticket, "openai", "gpt-4o", 10, 10)
        admin.config_resetstat()
        for _ in range(20):
            ticket = await engine.admit(key, "gpt-4o")
            await engine.settle(ticket, "openai", "gpt-4o", 100, 100)
        # One command per admit and one per settle; everything else ran inside the scripts.
        evalsha, others = evalsha_calls()
        assert evalsha == 40 and others <= {"hmget", "hset", "pexpire", "config|resetstat"}
        with pytest.raises(RateLimitedError) as refused:
            for _ in range(20):
                await engine.admit(key, "gpt-4o")
        assert 1.0 < refused.value.retry_after <= 1.002
        await engine.refresh()
        window = engine.snapshot()["budgets"][0]["windows"][0]
        assert window["usage"] == {"tokens": 4020, "requests": 30, "cost_cents": pytest.approx(2.5125)}
        assert await engine.reset_budget("b")
        await engine.aclose()

    asyncio.run(scenario())
    # Another instance (a restart) sees the reset, and Redis expires what it stores.
    engine = LimitsEngine.from_config(config, tmp_path / "data", clock=clock)

    async def after() -> None:
        await engine.refresh()
        assert engine.snapshot()["budgets"][0]["windows"][0]["usage"]["requests"] == 0
        await engine.aclose()

    asyncio.run(after())
    assert 0 < admin.pttl("lunaroute:w:b:daily") <= 40 * 86400 * 1000
    assert 0 < admin.pttl("lunaroute:r:key:k") <= (30 + 60) * 1000  # when full again, plus a minute
    admin.close()


# ---------------------------------------------------------------------- three instances
def instance(config_dir: str, data_dir: str, tries: int, tokens: int, concurrency: int, frozen: bool, start, results):
    config = load_config(Path(config_dir), Path(data_dir), env={})
    key = key_of(config, "k")

    async def run() -> tuple[int, int]:
        engine = LimitsEngine.from_config(config, Path(data_dir), clock=(lambda: T0) if frozen else time.time)
        counts = [0, 0]

        async def client(n: int) -> None:
            for _ in range(n):
                try:
                    ticket = await engine.admit(key, "gpt-4o")
                except RateLimitedError:
                    counts[1] += 1
                    continue
                counts[0] += 1
                await asyncio.sleep(0.001)  # the answer takes a moment: requests overlap
                await engine.settle(ticket, "openai", "gpt-4o", tokens, 0)

        start.wait(30)
        await asyncio.gather(*(client(tries // concurrency) for _ in range(concurrency)))
        await engine.aclose()
        return counts[0], counts[1]

    results.put(asyncio.run(run()))


def _instances(config_dir: Path, data_dir: Path, tries: int, tokens: int, concurrency: int, frozen: bool):
    ctx = multiprocessing.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    args = (str(config_dir), str(data_dir), tries, tokens, concurrency, frozen, start, results)
    procs = [ctx.Process(target=instance, args=args) for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    time.sleep(0.5)
    start.set()
    out = [results.get(timeout=120) for _ in procs]
    for proc in procs:
        proc.join(30)
        assert proc.exitcode == 0
    return out


def test_three_instances_hold_one_rate_limit(tmp_path: Path, redis_server: RedisServer) -> None:
    keys = [key_entry("k", rate={"requests_per_second": 1, "burst": 45})]
    config_dir = make_config_dir(tmp_path, keys=keys, server=_redis_state(redis_server.url))
    results = _instances(config_dir, tmp_path / "data", tries=60, tokens=0, concurrency=4, frozen=True)
    assert sum(a for a, _ in results) == 45


def test_three_instances_hold_one_budget(tmp_path: Path, redis_server: RedisServer) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"tokens": 30_000, "requests": 1000}})]
    config_dir = make_config_dir(
        tmp_path, keys=[key_entry("k")], budgets=budgets, server=_redis_state(redis_server.url)
    )
    concurrency = 4
    results = _instances(config_dir, tmp_path / "data", tries=120, tokens=400, concurrency=concurrency, frozen=False)
    admitted = sum(a for a, _ in results)
    admin = redis.Redis(port=redis_server.port)
    tokens, requests = (float(v) for v in admin.hmget("lunaroute:w:b:daily", "b", "c"))
    admin.close()
    assert requests == admitted and tokens == admitted * 400
    in_flight = PROCESSES * concurrency  # the most requests that can be admitted but unsettled
    assert 30_000 <= tokens <= 30_000 + in_flight * 400


# ---------------------------------------------------------------------- redis goes away
async def _timed(coro) -> tuple[object, float]:
    start = time.monotonic()
    try:
        result: object = await coro
    except RateLimitedError as exc:
        result = exc
    return result, time.monotonic() - start


def test_redis_killed_fail_open(tmp_path: Path, redis_server: RedisServer, caplog: pytest.LogCaptureFixture) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 10_000, "tokens": 10**9}})]
    config = make_config(tmp_path, keys=[key_entry("k")], budgets=budgets, server=_redis_state(redis_server.url))
    key = key_of(config, "k")

    async def scenario() -> None:
        engine = LimitsEngine.from_config(config, tmp_path / "data")
        for _ in range(5):
            ticket = await engine.admit(key, "gpt-4o")
            assert not ticket.degraded
            await engine.settle(ticket, "openai", "gpt-4o", 10, 0)
        redis_server.kill()
        slowest = 0.0
        for _ in range(30):
            ticket, took = await _timed(engine.admit(key, "gpt-4o"))
            assert ticket.degraded  # fail_open: served, not limited
            _, settle_took = await _timed(engine.settle(ticket, "openai", "gpt-4o", 7, 0))
            slowest = max(slowest, took, settle_took)
            await asyncio.sleep(0.01)
        assert slowest < 1.0
        assert not engine.store_available and engine.store_errors >= 1
        redis_server.start()  # same port, empty: Redis lost everything it held
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            ticket = await engine.admit(key, "gpt-4o")
            if not ticket.degraded:
                break
            await asyncio.sleep(0.05)
        assert not ticket.degraded and engine.store_available
        await engine.store.flush()
        await engine.refresh()
        usage = engine.snapshot()["budgets"][0]["windows"][0]["usage"]
        assert usage["tokens"] == 30 * 7  # the outage's charges were kept and sent on recovery
        await engine.aclose()

    with caplog.at_level(logging.INFO, logger="lunaroute.state"):
        asyncio.run(scenario())
    transitions = [r.getMessage() for r in caplog.records if "redis state store" in r.getMessage()]
    assert len(transitions) == 2
    assert "unreachable" in transitions[0] and "fail open" in transitions[0]
    assert "reachable again" in transitions[1]


def test_redis_frozen_fail_closed_never_hangs(tmp_path: Path, redis_server: RedisServer) -> None:
    """A stopped Redis accepts connections but never answers: timeouts, not a hang."""
    keys = [key_entry("k", rate={"requests_per_second": 1000})]
    config = make_config(tmp_path, keys=keys, server=_redis_state(redis_server.url, "fail_closed"))
    key = key_of(config, "k")

    async def scenario() -> None:
        engine = LimitsEngine.from_config(config, tmp_path / "data")
        await engine.admit(key, "m")
        assert redis_server.proc is not None
        os.kill(redis_server.proc.pid, signal.SIGSTOP)
        try:
            results = await asyncio.gather(*(_timed(engine.admit(key, "m")) for _ in range(20)))
            for _ in range(10):
                results.append(await _timed(engine.admit(key, "m")))
        finally:
            os.kill(redis_server.proc.pid, signal.SIGCONT)
        for refused, took in results:
            assert isinstance(refused, RateLimitedError) and not isinstance(refused, BudgetExceededError)
            assert refused.retry_after is not None and refused.retry_after >= 1.0
            assert took < 1.5
        assert engine.rate_limited == 30
        deadline = time.monotonic() + 15
        while True:
            result, _ = await _timed(engine.admit(key, "m"))
            if not isinstance(result, RateLimitedError) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert not isinstance(result, RateLimitedError) and engine.store_available
        await engine.aclose()

    asyncio.run(scenario())


def test_budgets_cli_on_redis(tmp_path: Path, redis_server: RedisServer) -> None:
    budgets = [budget_entry("b", {"type": "global"}, {"daily": {"requests": 10}})]
    config = make_config(tmp_path, budgets=budgets, server=_redis_state(redis_server.url))

    async def spend() -> None:
        engine = LimitsEngine.from_config(config, config.data_dir)  # the real clock, as the CLI's
        for _ in range(4):
            await engine.admit(None, "m")
        await engine.aclose()

    asyncio.run(spend())
    command = [sys.executable, "-m", "lunaroute", "budgets", "--config-dir", str(config.config_dir)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    listed = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert listed.returncode == 0, listed.stderr
    snap = orjson.loads(listed.stdout)
    assert snap["backend"] == "redis" and snap["budgets"][0]["windows"][0]["usage"]["requests"] == 4
    reset = subprocess.run([*command, "reset", "b"], capture_output=True, text=True, timeout=120, env=env)
    assert reset.returncode == 0, reset.stderr
    admin = redis.Redis(port=redis_server.port)
    assert float(admin.hget("lunaroute:w:b:daily", "c")) == 0
    admin.close()
    redis_server.kill()
    down = subprocess.run([*command, "--json"], capture_output=True, text=True, timeout=120, env=env)
    assert down.returncode == 1 and "cannot read budget usage: redis is unreachable" in down.stderr
