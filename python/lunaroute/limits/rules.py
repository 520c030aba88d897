"""The config's limits compiled for the hot path: which buckets and budgets hold a request.

A request of key K (tenant T) is held by: K's bucket and tokens-per-minute bucket (keys.json
`rate_limit`), T's (server.yaml `rate_limits.tenants`, `*` for every tenant without its own
entry), the global ones (`rate_limits.global`), and every budget that names K (scope key or
K's `budget_id`), T (scope tenant) or everyone (scope global). Without a key (local mode)
only the global limits and budgets apply.

A key's plan is built once and reused until one of its windows ends.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any

from ..state.plan import (
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
from .windows import PeriodCache, zone

DEFAULT_THROTTLE_RPS = 1.0
DEFAULT_THROTTLE_BURST = 1
_PLAN_CACHE = 65536


@dataclass(frozen=True, slots=True)
class Rate:
    rps: float | None = None
    burst: float | None = None
    tpm: float | None = None


def _rate_of(spec: Any) -> Rate | None:
    """A Rate from a config object with requests_per_second / burst / tokens_per_minute."""
    if spec is None:
        return None
    rps = getattr(spec, "requests_per_second", None)
    burst = getattr(spec, "burst", None)
    tpm = getattr(spec, "tokens_per_minute", None)
    if rps is None and tpm is None:
        return None
    return Rate(rps, burst, tpm)


def _buckets(name: str, rate: Rate | None) -> tuple[list[BucketCheck], list[BucketCheck]]:
    """(request buckets, tokens-per-minute buckets) of one level."""
    if rate is None:
        return [], []
    requests: list[BucketCheck] = []
    tokens: list[BucketCheck] = []
    if rate.rps is not None:
        burst = rate.burst if rate.burst is not None else max(1.0, math.ceil(rate.rps))
        requests.append(BucketCheck(f"r:{name}", float(rate.rps), float(burst), TAKE_ONE))
    if rate.tpm is not None:
        tokens.append(BucketCheck(f"t:{name}", rate.tpm / 60.0, float(rate.tpm), NEED_ONE))
    return requests, tokens


class Budget:
    """One budgets.json entry, with a period cache per window."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.id: str = raw["id"]
        self.raw = raw
        self.scope: dict[str, Any] = dict(raw["scope"])
        self.timezone: str = raw.get("timezone") or "UTC"
        tz: tzinfo = zone(self.timezone)
        self.windows: list[tuple[str, dict[str, int | None], PeriodCache]] = [
            (w["type"], dict(w["limits"]), PeriodCache(w["type"], tz)) for w in raw["windows"]
        ]
        enforcement = raw.get("enforcement") or {}
        self.soft_percent: float = float(enforcement.get("soft_limit_percent", 80.0))
        self.actions: tuple[str, ...] = tuple(enforcement.get("actions", ()))
        throttle = enforcement.get("throttle") or {}
        self.throttle = BucketCheck(
            f"thr:{self.id}",
            float(throttle.get("requests_per_second") or DEFAULT_THROTTLE_RPS),
            float(throttle.get("burst") or DEFAULT_THROTTLE_BURST),
            TAKE_ONE,
        )
        self.reroute_to: str | dict[str, str] | None = enforcement.get("reroute_to")
        self.check = BudgetCheck(
            soft_fraction=self.soft_percent / 100.0,
            throttle=self.throttle,
            throttles="throttle" in self.actions,
            blocks="block" in self.actions,
        )

    def window_key(self, window_type: str) -> str:
        return f"w:{self.id}:{window_type}"

    def refs(self, now: float) -> list[tuple[str, float, float]]:
        """(record key, period start, period end) of each window at `now`."""
        return [(self.window_key(kind), *cache.at(now)) for kind, _, cache in self.windows]

    def reroute_target(self, model: str) -> str | None:
        target = self.reroute_to
        if isinstance(target, str):
            return target
        if isinstance(target, dict):
            return target.get(model) or target.get("*")
        return None


@dataclass(slots=True)
class Entry:
    """What holds one key's requests, and until when its windows' periods are valid."""

    plan: AdmitPlan
    budgets: tuple[Budget, ...]
    token_buckets: tuple[BucketCheck, ...]
    charges: tuple[WindowCharge, ...]  # the windows a settle charges, in this period
    valid_from: float
    valid_until: float


def _limit(value: int | None) -> float:
    return NO_LIMIT if value is None else float(value)


class LimitRules:
    def __init__(self, config: Any) -> None:
        limits = getattr(config, "rate_limits", None)
        self.global_rate = _rate_of(getattr(limits, "global_limit", None))
        tenants = getattr(limits, "tenants", None) or {}
        self.tenant_rates: dict[str, Rate | None] = {name: _rate_of(spec) for name, spec in tenants.items()}
        self.budgets: dict[str, Budget] = {b["id"]: Budget(b) for b in config.budgets}
        self._global_budgets = [b for b in self.budgets.values() if b.scope["type"] == "global"]
        self._by_tenant: dict[str, list[Budget]] = {}
        self._by_key: dict[str, list[Budget]] = {}
        for b in self.budgets.values():
            if b.scope["type"] == "tenant":
                self._by_tenant.setdefault(b.scope["id"], []).append(b)
            elif b.scope["type"] == "key":
                self._by_key.setdefault(b.scope["id"], []).append(b)
        self._entries: dict[str | None, Entry] = {}

    def budgets_of(self, key: Any) -> tuple[Budget, ...]:
        found: list[Budget] = list(self._global_budgets)
        if key is not None:
            found += self._by_tenant.get(key.tenant, [])
            found += self._by_key.get(key.id, [])
            named = self.budgets.get(key.budget_id) if key.budget_id else None
            if named is not None:
                found.append(named)
        unique: dict[str, Budget] = {}
        for b in found:
            unique.setdefault(b.id, b)
        return tuple(unique.values())

    def entry(self, key: Any, now: float) -> Entry:
        key_id = None if key is None else key.id
        entry = self._entries.get(key_id)
        if entry is None or not entry.valid_from <= now < entry.valid_until:
            entry = self._build(key, now)
            if len(self._entries) >= _PLAN_CACHE:
                self._entries.clear()
            self._entries[key_id] = entry
        return entry

    def _build(self, key: Any, now: float) -> Entry:
        requests, tokens = _buckets("global", self.global_rate)
        if key is not None:
            tenant_rate = self.tenant_rates.get(key.tenant, self.tenant_rates.get("*"))
            more = _buckets(f"tenant:{key.tenant}", tenant_rate)
            requests += more[0]
            tokens += more[1]
            key_rate = Rate(key.rps, key.burst, getattr(key, "tpm", None))
            more = _buckets(f"key:{key.id}", key_rate if key_rate.rps or key_rate.tpm else None)
            requests += more[0]
            tokens += more[1]
        budgets = self.budgets_of(key)
        windows: list[WindowCheck] = []
        valid_from, valid_until = -math.inf, math.inf
        for index, budget in enumerate(budgets):
            for (_, limits, _), (record, start, end) in zip(budget.windows, budget.refs(now)):
                windows.append(
                    WindowCheck(
                        record,
                        index,
                        start,
                        end,
                        _limit(limits.get("tokens")),
                        _limit(limits.get("requests")),
                        _limit(limits.get("cost_cents")),
                    )
                )
                valid_from, valid_until = max(valid_from, start), min(valid_until, end)
        plan = AdmitPlan(tuple(requests + tokens), tuple(b.check for b in budgets), tuple(windows))
        charges = tuple(WindowCharge(w.key, w.start, w.end) for w in windows)
        return Entry(plan, budgets, tuple(tokens), charges, valid_from, valid_until)

    def charge_plan(self, entry: Entry, now: float, tokens: float, cost_cents: float) -> ChargePlan:
        """What to charge at `now` for a request admitted under `entry` (an answer that ends
        after its window rolled over is charged to the new period)."""
        if entry.valid_from <= now < entry.valid_until:
            return ChargePlan(entry.charges, entry.token_buckets, float(tokens), float(cost_cents), entry)
        windows = tuple(WindowCharge(r, start, end) for b in entry.budgets for r, start, end in b.refs(now))
        return ChargePlan(windows, entry.token_buckets, float(tokens), float(cost_cents))
