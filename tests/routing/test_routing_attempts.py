"""run_attempts against scripted upstreams: retries, fallbacks, errors, circuit breakers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.errors import (
    InvalidRequestError,
    RateLimitedError,
    UpstreamError,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from lunaroute.routing import (
    CLOSED,
    HALF_OPEN,
    OPEN,
    AttemptLog,
    BreakerRegistry,
    BreakerSettings,
    RetryPolicy,
    RouteDecision,
    RuleOptions,
    Target,
    UpstreamFailure,
    run_attempts,
)

from .routing_testkit import FakeSleep, Script, fail, run

A, B, C = Target("a", "ma"), Target("b", "mb"), Target("c")


def decision(*targets: Target, max_retries: int | None = None) -> RouteDecision:
    return RouteDecision("r", targets[0], list(targets[1:]), RuleOptions(max_retries=max_retries))


@pytest.fixture
def breakers() -> Iterator[BreakerRegistry]:
    # A high threshold: these tests look at retries, not at circuits opening.
    registry = BreakerRegistry({p: BreakerSettings(failure_threshold=1000) for p in "abc"})
    yield registry
    registry.close()


def test_primary_serves(breakers: BreakerRegistry) -> None:
    script = Script({"a": ["ok"]})
    result, log = run(decision(A, B), script, breakers)
    assert result == "ok:a"
    assert log.attempts == [("a", "ma", "ok")]
    assert (log.fallbacks_tried, log.served_by) == (0, A)


def test_retries_then_fallback_serves(breakers: BreakerRegistry) -> None:
    script = Script({"a": [fail(status=503), fail("connect"), fail("reset")], "b": ["ok"]})
    sleep = FakeSleep()
    result, log = run(decision(A, B), script, breakers, retries=2, sleep=sleep)
    assert result == "ok:b"
    assert script.calls == [("a", 0), ("a", 1), ("a", 2), ("b", 0)]
    assert [o for _, _, o in log.attempts] == ["status_503", "connect", "reset", "ok"]
    assert (log.fallbacks_tried, log.served_by) == (1, B)
    assert len(sleep.delays) == 2  # between the three attempts on a, none before b
    assert 0 <= sleep.delays[0] <= 0.1 and 0 <= sleep.delays[1] <= 0.2


def test_rule_max_retries_overrides_the_provider_setting(breakers: BreakerRegistry) -> None:
    script = Script({"a": [fail(status=500)], "b": ["ok"]})
    run(decision(A, B, max_retries=0), script, breakers, retries=5)
    assert script.calls_to("a") == 1
    script = Script({"a": [fail(status=500)], "b": ["ok"]})
    run(decision(A, B, max_retries=3), script, breakers, retries=0)
    assert script.calls_to("a") == 4


def test_client_4xx_goes_straight_to_the_client(breakers: BreakerRegistry) -> None:
    translated = InvalidRequestError("bad tool schema", param="tools")
    script = Script({"a": [fail(status=400, error=translated)], "b": ["ok"]})
    with pytest.raises(InvalidRequestError) as info:
        run(decision(A, B), script, breakers)
    assert info.value is translated
    assert script.calls == [("a", 0)]


def test_client_4xx_without_translation_keeps_its_status(breakers: BreakerRegistry) -> None:
    log = AttemptLog()
    with pytest.raises(UpstreamStatusError) as info:
        run(decision(A, B), Script({"a": [fail(status=422)]}), breakers, log=log)
    assert info.value.status == 422
    assert log.attempts == [("a", "ma", "status_422")]


def test_retry_after_is_honoured(breakers: BreakerRegistry) -> None:
    script = Script({"a": [fail(status=429, retry_after_s=7.0), "ok"]})
    sleep = FakeSleep()
    result, _ = run(decision(A), script, breakers, sleep=sleep)
    assert result == "ok:a" and sleep.delays == [7.0]


def test_retry_after_over_the_cap_moves_on_without_waiting(breakers: BreakerRegistry) -> None:
    script = Script({"a": [fail(status=429, retry_after_s=600.0)], "b": ["ok"]})
    sleep = FakeSleep()
    result, _ = run(decision(A, B), script, breakers, sleep=sleep)
    assert result == "ok:b" and sleep.delays == [] and script.calls_to("a") == 1


def test_everything_rate_limited_gives_429_with_retry_after(breakers: BreakerRegistry) -> None:
    script = Script({"a": [fail(status=503)], "b": [fail(status=429, retry_after_s=3.0)]})
    with pytest.raises(RateLimitedError) as info:
        run(decision(A, B), script, breakers, retries=1)
    assert (info.value.status, info.value.retry_after) == (429, 3.0)


def test_every_attempt_timed_out_gives_504(breakers: BreakerRegistry) -> None:
    script = Script({"a": [fail("timeout")], "b": [fail("timeout")]})
    with pytest.raises(UpstreamTimeoutError) as info:
        run(decision(A, B), script, breakers, retries=1)
    assert info.value.status == 504 and script.calls_to("b") == 2


def test_mixed_failures_give_502(breakers: BreakerRegistry) -> None:
    script = Script({"a": [fail("timeout")], "b": [fail(status=502)]})
    with pytest.raises(UpstreamError) as info:
        run(decision(A, B), script, breakers, retries=0)
    assert type(info.value) is UpstreamError and info.value.status == 502
    assert "a (timeout)" in info.value.message and "b (status_502)" in info.value.message


def test_stream_started_is_never_retried(breakers: BreakerRegistry) -> None:
    broken = fail("reset", stream_started=True)
    script = Script({"a": [broken], "b": ["ok"]})
    with pytest.raises(UpstreamFailure) as info:
        run(decision(A, B), script, breakers, retries=3)
    assert info.value is broken and script.calls == [("a", 0)]


def test_unexpected_errors_propagate_untouched(breakers: BreakerRegistry) -> None:
    script = Script({"a": [KeyError("bug")], "b": ["ok"]})
    log = AttemptLog()
    with pytest.raises(KeyError):
        run(decision(A, B), script, breakers, log=log)
    assert log.attempts == [("a", "ma", "error")]


# --------------------------------------------------------------------------- breakers
def fresh(threshold: int = 2, reset_ms: int = 150, trials: int = 2) -> BreakerRegistry:
    settings_ = BreakerSettings(failure_threshold=threshold, reset_timeout_ms=reset_ms, half_open_requests=trials)
    return BreakerRegistry({"a": settings_, "b": BreakerSettings()})


def test_breaker_opens_at_threshold_and_the_provider_gets_no_attempts_until_reset() -> None:
    with fresh(threshold=3, reset_ms=200) as breakers:
        script = Script({"a": [fail(status=500)], "b": ["ok"]})
        result, log = run(decision(A, B), script, breakers, retries=5)
        # three failures open the circuit: the fourth retry is not sent
        assert script.calls_to("a") == 3 and result == "ok:b"
        assert [o for _, _, o in log.attempts] == ["status_500"] * 3 + ["circuit_open", "ok"]
        assert breakers.states()["a"] == OPEN

        for _ in range(3):
            script = Script({"a": ["ok"], "b": ["ok"]})
            result, log = run(decision(A, B), script, breakers)
            assert script.calls_to("a") == 0 and result == "ok:b"
            assert log.attempts[0] == ("a", "ma", "circuit_open") and log.fallbacks_tried == 1

        time.sleep(0.25)  # the kernel reads CLOCK_MONOTONIC: really wait out the reset
        script = Script({"a": ["ok"], "b": ["ok"]})
        assert run(decision(A, B), script, breakers)[0] == "ok:a"
        assert breakers.states()["a"] == HALF_OPEN


def test_half_open_recovery_closes_after_enough_trial_successes() -> None:
    with fresh(threshold=1, reset_ms=100, trials=2) as breakers:
        run(decision(A, B), Script({"a": [fail("connect")], "b": ["ok"]}), breakers)
        assert breakers.states()["a"] == OPEN
        time.sleep(0.15)
        for expected in (HALF_OPEN, CLOSED):
            assert run(decision(A), Script({"a": ["ok"]}), breakers)[0] == "ok:a"
            assert breakers.states()["a"] == expected


def test_half_open_failure_reopens() -> None:
    with fresh(threshold=1, reset_ms=100) as breakers:
        run(decision(A, B), Script({"a": [fail("connect")], "b": ["ok"]}), breakers)
        time.sleep(0.15)
        script = Script({"a": [fail(status=503)], "b": ["ok"]})
        run(decision(A, B), script, breakers, retries=3)
        assert script.calls_to("a") == 1  # the trial failed: circuit open again, no retry
        assert breakers.states()["a"] == OPEN


def test_all_circuits_open_gives_502_without_any_attempt() -> None:
    with fresh(threshold=1, reset_ms=60_000) as breakers:
        breakers.get("a").record_failure()
        for _ in range(5):
            breakers.get("b").record_failure()
        script = Script({"a": ["ok"], "b": ["ok"]})
        log = AttemptLog()
        with pytest.raises(UpstreamError) as info:
            run(decision(A, B), script, breakers, log=log)
        assert info.value.status == 502
        assert info.value.message == "all providers unavailable (circuit open)"
        assert script.calls == [] and [o for *_, o in log.attempts] == ["circuit_open"] * 2


def test_429_is_not_a_breaker_failure_while_closed() -> None:
    with fresh(threshold=1) as breakers:
        run(decision(A, B), Script({"a": [fail(status=429)], "b": ["ok"]}), breakers, retries=0)
        assert breakers.states()["a"] == CLOSED
        assert breakers.activity("a").last_error == "status_429"


def test_429_ends_a_half_open_trial_as_a_failure() -> None:
    with fresh(threshold=1, reset_ms=100) as breakers:
        breakers.get("a").record_failure()
        time.sleep(0.15)
        run(decision(A, B), Script({"a": [fail(status=429)], "b": ["ok"]}), breakers, retries=0)
        assert breakers.states()["a"] == OPEN


def test_client_4xx_counts_as_a_sign_of_life() -> None:
    with fresh(threshold=2) as breakers:
        run(decision(A, B), Script({"a": [fail(status=500)], "b": ["ok"]}), breakers, retries=0)
        with pytest.raises(UpstreamStatusError):
            run(decision(A), Script({"a": [fail(status=404)]}), breakers)
        run(decision(A, B), Script({"a": [fail(status=500)], "b": ["ok"]}), breakers, retries=0)
        assert breakers.states()["a"] == CLOSED  # 500, 404, 500: never two in a row


def test_cancelled_half_open_trial_does_not_leak_its_slot() -> None:
    with fresh(threshold=1, reset_ms=100, trials=1) as breakers:
        breakers.get("a").record_failure()
        time.sleep(0.15)

        async def hang(target: Target, n: int) -> str:
            await asyncio.sleep(3600)
            return "never"

        async def main() -> None:
            task = asyncio.create_task(
                run_attempts(decision(A), hang, breakers=breakers, max_retries_for=lambda _: 0, policy=RetryPolicy())
            )
            await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

        asyncio.run(main())
        # The trial ended as a failure (circuit reopened) instead of holding the only slot:
        # after another reset timeout a new trial is admitted.
        assert breakers.states()["a"] == OPEN
        time.sleep(0.15)
        assert breakers.get("a").allow()


def test_cancellation_while_closed_records_nothing() -> None:
    with fresh(threshold=1) as breakers:

        async def cancelled(target: Target, n: int) -> str:
            raise asyncio.CancelledError

        with pytest.raises(asyncio.CancelledError):
            asyncio.run(
                run_attempts(
                    decision(A), cancelled, breakers=breakers, max_retries_for=lambda _: 0, policy=RetryPolicy()
                )
            )
        assert breakers.get("a").snapshot()[:2] == (CLOSED, 0)


# --------------------------------------------------------------------------- model check
FAILURES = {  # factories: every attempt raises a fresh exception
    "ok": None,
    "timeout": lambda: fail("timeout"),
    "connect": lambda: fail("connect"),
    "500": lambda: fail(status=500),
    "429": lambda: fail(status=429, retry_after_s=1.0),
    "400": lambda: fail(status=400),
}


def reference(scripts: dict[str, list[str]], order: list[str], retries: int) -> tuple[list[tuple[str, str]], str]:
    """The documented algorithm with breakers out of the picture: (calls, final outcome)."""
    calls: list[tuple[str, str]] = []
    outcomes: list[str] = []
    for provider in order:
        script = list(scripts[provider])
        for _ in range(retries + 1):
            outcome = script.pop(0) if len(script) > 1 else script[0]
            calls.append((provider, outcome))
            if outcome == "ok":
                return calls, "ok"
            if outcome == "400":
                return calls, "400"
            outcomes.append(outcome)
    if all(o == "timeout" for o in outcomes):
        return calls, "504"
    return calls, "429" if outcomes[-1] == "429" else "502"


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from("abc"),
        st.lists(st.sampled_from(sorted(FAILURES)), min_size=1, max_size=4),
        min_size=3,
        max_size=3,
    ),
    st.permutations(["a", "b", "c"]),
    st.integers(0, 2),
)
def test_run_attempts_follows_the_reference_algorithm(
    scripts: dict[str, list[str]], order: list[str], retries: int
) -> None:
    expected_calls, expected = reference(scripts, order, retries)
    script = Script({p: [FAILURES[o] or "ok" for o in s] for p, s in scripts.items()})
    targets = [Target(p) for p in order]
    registry = BreakerRegistry({p: BreakerSettings(failure_threshold=1000) for p in "abc"})
    sleep = FakeSleep()
    log = AttemptLog()
    try:
        result, _ = run(decision(*targets), script, registry, retries=retries, sleep=sleep, log=log)
        outcome = "ok"
        assert log.served_by == Target(result.split(":")[1])
    except UpstreamStatusError:  # a 400 with no translated error keeps its status
        outcome = "400"
    except UpstreamTimeoutError:
        outcome = "504"
    except RateLimitedError:
        outcome = "429"
    except UpstreamError:
        outcome = "502"
    finally:
        registry.close()
    assert outcome == expected
    assert [p for p, _ in script.calls] == [p for p, _ in expected_calls]
    assert [o for *_, o in log.attempts] == [
        "ok" if o == "ok" else o if o in ("timeout", "connect") else f"status_{o}" for _, o in expected_calls
    ]
    # one sleep per retry (a retry is a repeated call on the same provider)
    repeats = sum(1 for i in range(1, len(script.calls)) if script.calls[i][0] == script.calls[i - 1][0])
    assert len(sleep.delays) == repeats
    assert log.fallbacks_tried == len({p for p, _ in script.calls}) - 1
