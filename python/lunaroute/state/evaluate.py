"""The admit / charge algorithm: pure functions from a plan, its records and the time to a
result and the records to write back.

A plan's records come in a fixed order (`admit_keys`, `charge_keys`); the caller reads them,
calls these functions and writes the changes back, all atomically (the file store holds its
lock). The Redis backend runs the same steps in Lua (`redis_lua.py`), and the tests hold both
to one set of cases. An admit is all-or-nothing: a request refused by any bucket or budget
takes nothing from the others.
"""

from __future__ import annotations

from collections.abc import Sequence
from math import inf

from .plan import (
    ADMITTED,
    EPSILON,
    NEED_ONE,
    OVER_BUDGET,
    RATE_LIMITED,
    TAKE_ONE,
    AdmitPlan,
    AdmitResult,
    BucketCheck,
    ChargePlan,
)

Record = tuple[float, float, float, float]
Writes = list[tuple[int, Record]]


def admit_keys(plan: AdmitPlan) -> list[str]:
    """The records an admit reads: windows, buckets, then each budget's throttle bucket."""
    return (
        [w.key for w in plan.windows] + [b.key for b in plan.buckets] + [budget.throttle.key for budget in plan.budgets]
    )


def charge_keys(plan: ChargePlan) -> list[str]:
    """The records a charge reads: windows, then buckets."""
    return [w.key for w in plan.windows] + [b.key for b in plan.buckets]


def refill(record: Record, bucket: BucketCheck, now: float) -> tuple[float, float]:
    """(level, updated_at) of a bucket at `now`. A clock behind the record's (another host)
    adds nothing and never moves the record back."""
    level, at = record[0], record[1]
    if at <= 0.0:
        return bucket.burst, now
    if now > at:
        return min(bucket.burst, level + (now - at) * bucket.rate), now
    return min(level, bucket.burst), at


def window_usage(record: Record, start: float) -> tuple[float, float, float]:
    """(tokens, requests, cost_cents) of a window record in the period starting at `start`."""
    if record[0] != start:
        return 0.0, 0.0, 0.0
    return record[1], record[2], record[3]


def admit(plan: AdmitPlan, records: Sequence[Record], now: float) -> tuple[AdmitResult, Writes]:
    windows = plan.windows
    budgets = plan.budgets
    nw = len(windows)
    usage: list[tuple[float, float, float]] = []
    # Past the soft limit: a budget's highest window ratio reached its soft_fraction; that
    # lasts until every window at or above it has rolled over (soft_until).
    ratio = [0.0] * len(budgets)
    soft_until = [-inf] * len(budgets)
    exhausted_end = -inf
    exhausted_at = -1
    for i in range(nw):
        w = windows[i]
        record = records[i]
        if record[0] == w.start:
            tokens, requests, cost = record[1], record[2], record[3]
        else:
            tokens = requests = cost = 0.0
        usage.append((tokens, requests, cost))
        # Each set limit: exhausted, or how much of it is used (a limit reaching here is > 0).
        r = 0.0
        limit = w.tokens
        if limit >= 0.0:
            if tokens >= limit:
                if w.end > exhausted_end:
                    exhausted_end, exhausted_at = w.end, i
                continue
            r = tokens / limit
        limit = w.requests
        if limit >= 0.0:
            if requests + 1.0 > limit:
                if w.end > exhausted_end:
                    exhausted_end, exhausted_at = w.end, i
                continue
            if requests / limit > r:
                r = requests / limit
        limit = w.cost_cents
        if limit >= 0.0:
            if cost >= limit:
                if w.end > exhausted_end:
                    exhausted_end, exhausted_at = w.end, i
                continue
            if cost / limit > r:
                r = cost / limit
        b = w.budget
        if r > ratio[b]:
            ratio[b] = r
        if r >= budgets[b].soft_fraction and w.end > soft_until[b]:
            soft_until[b] = w.end
    if exhausted_at >= 0:
        return AdmitResult(OVER_BUDGET, exhausted_end - now, usage=tuple(usage), window=exhausted_at), []

    buckets: Sequence[tuple[int, BucketCheck]] = plan.bucket_records
    soft: tuple[bool, ...] = ()
    if budgets:
        soft = tuple([ratio[b] >= budget.soft_fraction for b, budget in enumerate(budgets)])
        if True in soft:
            buckets = list(buckets)
            throttle_at = nw + len(plan.buckets)
            for b, budget in enumerate(budgets):
                if not soft[b]:
                    continue
                if budget.blocks:
                    return AdmitResult(OVER_BUDGET, soft_until[b] - now, soft=soft, usage=tuple(usage)), []
                if budget.throttles:
                    buckets.append((throttle_at + b, budget.throttle))

    writes: Writes = []
    wait = 0.0
    for index, bucket in buckets:
        level, at = refill(records[index], bucket, now)
        if level + EPSILON < 1.0:
            wait = max(wait, (1.0 - level) / bucket.rate)
        elif bucket.kind == TAKE_ONE:
            writes.append((index, (level - 1.0, at, 0.0, 0.0)))
    if wait > 0.0:
        return AdmitResult(RATE_LIMITED, wait, soft=soft, usage=tuple(usage)), []

    for i in range(nw):
        tokens, requests, cost = usage[i]
        writes.append((i, (windows[i].start, tokens, requests + 1.0, cost)))
    return AdmitResult(ADMITTED, 0.0, soft, tuple(usage)), writes


def charge(
    plan: ChargePlan, records: Sequence[Record], now: float
) -> tuple[tuple[tuple[float, float, float], ...], Writes]:
    """Add an answer's usage to its windows and token buckets: (windows' usage after, writes)."""
    after = []
    writes: Writes = []
    for i, w in enumerate(plan.windows):
        tokens, requests, cost = window_usage(records[i], w.start)
        record = (w.start, tokens + plan.tokens, requests, cost + plan.cost_cents)
        writes.append((i, record))
        after.append((record[1], record[2], record[3]))
    nw = len(plan.windows)
    for k, bucket in enumerate(plan.buckets):
        if bucket.kind != NEED_ONE:
            continue
        level, at = refill(records[nw + k], bucket, now)
        writes.append((nw + k, (level - plan.tokens, at, 0.0, 0.0)))
    return tuple(after), writes
