"""What a state store is asked to check and charge, and what it answers.

A plan is flat data (names and numbers) so that every backend runs the same algorithm on it:
`evaluate.py` in Python over a record table, and the Lua scripts of `redis_lua.py` inside
Redis. Every record is four floats; absent records read as zeros.

- bucket record: (level, updated_at, 0, 0); `updated_at == 0` means never used (full).
- window record: (period_start, tokens, requests, cost_cents); a stored start other than
  the current period's means the window rolled over and its counters read as zero.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Bucket kinds
TAKE_ONE = 1  # a request bucket: admitting takes one token
NEED_ONE = 2  # a tokens-per-minute bucket: admitting needs one token, settle takes the usage

# Admit outcomes
ADMITTED = 0
RATE_LIMITED = 1
OVER_BUDGET = 2

NO_LIMIT = -1.0
# Float slack: a request retried exactly `retry_after` seconds later must get its token.
EPSILON = 1e-9


@dataclass(frozen=True, slots=True)
class BucketCheck:
    key: str
    rate: float  # tokens per second
    burst: float  # bucket size
    kind: int = TAKE_ONE


@dataclass(frozen=True, slots=True)
class BudgetCheck:
    soft_fraction: float  # soft_limit_percent / 100
    throttle: BucketCheck  # taken only while the budget is past its soft limit
    throttles: bool  # `throttle` is among the actions
    blocks: bool  # `block` is among the actions: past the soft limit is over budget


@dataclass(frozen=True, slots=True)
class WindowCheck:
    key: str
    budget: int  # index into AdmitPlan.budgets
    start: float
    end: float
    tokens: float = NO_LIMIT
    requests: float = NO_LIMIT
    cost_cents: float = NO_LIMIT


@dataclass(frozen=True, slots=True)
class AdmitPlan:
    buckets: tuple[BucketCheck, ...]
    budgets: tuple[BudgetCheck, ...]
    windows: tuple[WindowCheck, ...]
    # Derived: (record index, bucket) of each bucket; a plan serves many requests.
    bucket_records: tuple[tuple[int, BucketCheck], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        first = len(self.windows)
        object.__setattr__(self, "bucket_records", tuple((first + k, b) for k, b in enumerate(self.buckets)))


@dataclass(slots=True)  # not frozen: built per request, and frozen __init__ is slow
class AdmitResult:
    status: int
    retry_after: float = 0.0
    soft: tuple[bool, ...] = ()  # per budget: past its soft limit
    usage: tuple[tuple[float, float, float], ...] = ()  # per window, before this request
    window: int = -1  # OVER_BUDGET: the window that ends last among those exhausted


@dataclass(frozen=True, slots=True)
class WindowCharge:
    key: str
    start: float
    end: float


@dataclass(slots=True)  # not frozen: built per answer
class ChargePlan:
    windows: tuple[WindowCharge, ...]
    buckets: tuple[BucketCheck, ...]  # NEED_ONE buckets: usage is taken from them
    tokens: float
    cost_cents: float
    # An object standing for these exact windows and buckets, which a store may cache
    # their record locations under (None: do not cache).
    anchor: object = None


ZERO_PLAN = AdmitPlan((), (), ())
