"""Trying a decision's targets in order: retries with backoff, fallbacks, circuit breakers.

The caller supplies `attempt(target, n)` (the pipeline passes `Upstream.exchange` bound to
the request, egress/upstream.py), which sends one upstream request and either returns the
result or raises `UpstreamFailure` (lunaroute/errors.py) saying how it failed.
Everything about *whether* and *where* to try again lives here.

Breaker accounting, per attempt:
- success → `record_success`.
- connect error, timeout, reset, 5xx (any non-4xx status) → `record_failure`.
- 4xx other than 429 → `record_success`: the provider is up and judged the request; the
  error goes to the client untouched, so a stream of bad requests never opens a circuit.
- 429 → not a breaker failure while the circuit is closed: a rate limit is handled by
  Retry-After and fallbacks, and opening the circuit would overshoot the upstream's own
  Retry-After. During a half-open trial it counts as a failure (the circuit reopens): a
  provider still shedding load must not get all traffic back, and the trial slot must end.
- cancellation (client gone) or an unexpected exception → nothing while closed; during a
  half-open trial → `record_failure`, because the kernel frees a trial slot only through
  an outcome and a leaked slot would keep the circuit half-open forever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from ..errors import (
    GatewayError,
    RateLimitedError,
    UpstreamError,
    UpstreamFailure,
    UpstreamStatusError,
    UpstreamTimeoutError,
)
from .breakers import HALF_OPEN, BreakerRegistry, CircuitBreakerLike
from .retry import RetryPolicy
from .rules import Target
from .table import RouteDecision

T = TypeVar("T")
CIRCUIT_OPEN_MESSAGE = "all providers unavailable (circuit open)"


@dataclass(slots=True)
class AttemptLog:
    """What happened: every attempt as (provider, model, outcome), in order.

    Outcomes: "ok", "circuit_open" (skipped, nothing sent), "connect", "timeout", "reset",
    "status_<code>", "cancelled", "error". `fallbacks_tried` counts targets after the
    primary to which at least one request was sent.
    """

    attempts: list[tuple[str, str | None, str]] = field(default_factory=list)
    fallbacks_tried: int = 0
    served_by: Target | None = None


def _record_failure(
    breakers: BreakerRegistry, breaker: CircuitBreakerLike, target: Target, failure: UpstreamFailure, trial: bool
) -> None:
    if failure.is_client_error:
        breaker.record_success()
        breakers.note_success(target.provider)
        return
    breakers.note_failure(target.provider, failure.outcome)
    if not failure.is_rate_limit or trial:
        breaker.record_failure()


def _client_error(failure: UpstreamFailure, target: Target) -> GatewayError:
    if failure.error is not None:
        return failure.error
    return UpstreamStatusError(f"upstream {target.provider} returned {failure.status}", status=failure.status)


def _exhausted(log: AttemptLog, last: UpstreamFailure | None, all_timeouts: bool) -> GatewayError:
    """The error when no target served: 502 circuit-open, 504, 429 or 502."""
    if last is None:
        return UpstreamError(CIRCUIT_OPEN_MESSAGE)
    tried = ", ".join(f"{p} ({o})" for p, _, o in log.attempts if o != "circuit_open")
    if all_timeouts:
        return UpstreamTimeoutError(f"upstream timed out on every target: {tried}")
    if last.is_rate_limit:
        message = last.error.message if last.error is not None else "upstream rate limit"
        return RateLimitedError(message, retry_after=last.retry_after_s)
    return UpstreamError(f"every target failed: {tried}")


async def run_attempts(
    decision: RouteDecision,
    attempt: Callable[[Target, int], Awaitable[T]],
    *,
    breakers: BreakerRegistry,
    max_retries_for: Callable[[str], int],
    policy: RetryPolicy,
    sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    log: AttemptLog | None = None,
) -> tuple[T, AttemptLog]:
    """Try the primary, then each fallback, until one attempt succeeds.

    `attempt(target, n)`: n counts attempts on that target from 0. A target whose breaker
    refuses is skipped without sending anything. Retries (up to the rule's `max_retries`,
    else `max_retries_for(provider)`) follow connect/reset/timeout/5xx/429 failures, after
    `policy.delay_s`; a Retry-After above the policy's cap moves on instead of waiting.
    A 4xx other than 429 raises its translated error at once; a failure after the stream
    started is re-raised as is. Pass `log` to keep the attempt log when this raises.
    """
    log = log if log is not None else AttemptLog()
    last: UpstreamFailure | None = None
    all_timeouts = True
    rule_retries = decision.options.max_retries
    for index, target in enumerate((decision.primary, *decision.fallbacks)):
        breaker = breakers.get(target.provider)
        retries = rule_retries if rule_retries is not None else max_retries_for(target.provider)
        n = 0
        while True:
            trial = breaker.state() == HALF_OPEN
            if not breaker.allow():
                log.attempts.append((target.provider, target.model, "circuit_open"))
                break
            if n == 0 and index > 0:
                log.fallbacks_tried += 1
            try:
                result = await attempt(target, n)
            except UpstreamFailure as failure:
                log.attempts.append((target.provider, target.model, failure.outcome))
                _record_failure(breakers, breaker, target, failure, trial)
                if failure.is_client_error:
                    raise _client_error(failure, target) from failure
                if failure.stream_started:
                    raise
                last = failure
                all_timeouts = all_timeouts and failure.kind == "timeout"
                if n >= retries or not policy.honours(failure.retry_after_s):
                    break
                n += 1
                await sleep(policy.delay_s(n, failure.retry_after_s))
                continue
            except BaseException as exc:
                outcome = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
                log.attempts.append((target.provider, target.model, outcome))
                if trial:
                    breaker.record_failure()
                raise
            breaker.record_success()
            breakers.note_success(target.provider)
            log.attempts.append((target.provider, target.model, "ok"))
            log.served_by = target
            return result, log
    raise _exhausted(log, last, all_timeouts)
