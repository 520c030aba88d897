"""LimitsEngine: rate limits and budgets for the request pipeline.

    ticket = await engine.admit(key, model)    # before routing: may raise 429
    ...                                         # serve (ticket.reroute_model, if set, instead of model)
    await engine.settle(ticket, provider, model, input_tokens, output_tokens, ...)   # after the answer

`admit` takes one request token from every bucket that holds the key (key, tenant, global,
and a budget's throttle bucket past its soft limit), checks the tokens-per-minute buckets and
the budgets' windows, and counts the request, all in one atomic step of the state store (one
round trip with Redis). `settle` charges the answer's real tokens and cost. Budgets can be
overshot only by answers in flight: their usage is known when they end.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ..errors import BudgetExceededError, RateLimitedError
from ..state import open_store
from ..state.base import StateStore, StateUnavailableError
from ..state.plan import ADMITTED, OVER_BUDGET, AdmitResult
from .pricing import PriceTable
from .rules import Budget, Entry, LimitRules

log = logging.getLogger("lunaroute.limits")

FAIL_OPEN = "fail_open"
FAIL_CLOSED = "fail_closed"
# Retry-After for a refusal because the state store is unreachable (fail_closed).
UNAVAILABLE_RETRY_AFTER = 1.0

_SHIPPED: PriceTable | None = None


def shipped_prices() -> PriceTable:
    global _SHIPPED
    if _SHIPPED is None:
        _SHIPPED = PriceTable.shipped()
    return _SHIPPED


@dataclass(slots=True)
class Ticket:
    """One admitted request. `throttled`: a budget past its soft limit slowed it down;
    `reroute_model`: a budget past its soft limit asks for this cheaper model instead;
    `degraded`: admitted without checking (state store unreachable, `fail_open`)."""

    throttled: bool = False
    reroute_model: str | None = None
    degraded: bool = False
    soft_budgets: tuple[str, ...] = ()
    key_id: str | None = None
    entry: Entry | None = field(default=None, repr=False)
    settled: bool = field(default=False, repr=False)


def _state_settings(config: Any) -> tuple[Any, ...]:
    state = config.state
    return (
        state.backend,
        state.redis_url,
        getattr(state, "redis_timeout_ms", None),
        config.performance.state_persist_interval_secs,
    )


def retry_after_of(seconds: float) -> float:
    """Seconds to wait, rounded up to the millisecond with a microsecond to spare: a Unix
    timestamp in a double resolves only ~0.2 us, so a retry exactly at the computed instant
    could land a hair early."""
    return math.ceil((max(0.0, seconds) + 1e-6) * 1000.0) / 1000.0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _ratio(used: float, limit: int | None) -> float | None:
    if limit is None:
        return None
    if limit == 0:
        return 1.0 if used <= 0 else math.inf
    return used / limit


class LimitsEngine:
    def __init__(
        self,
        config: Any,
        store: StateStore,
        *,
        clock: Callable[[], float] = time.time,
        data_dir: Path | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.data_dir = data_dir
        self.rate_limited = 0  # lunaroute_rate_limited_total: rate limits and budgets
        self.budget_rejected = 0
        self._apply(config)
        self._soft_noted: set[tuple[str, float]] = set()
        self._refreshing: asyncio.Task[None] | None = None
        self._closing: list[asyncio.Task[None]] = []

    @classmethod
    def from_config(cls, config: Any, data_dir: Path, clock: Callable[[], float] = time.time) -> LimitsEngine:
        store = open_store(config, Path(data_dir))
        return cls(config, store, clock=clock, data_dir=Path(data_dir))

    def _apply(self, config: Any) -> None:
        self.config = config
        self.policy: str = getattr(config.state, "on_redis_error", FAIL_OPEN)
        if hasattr(self.store, "policy"):
            self.store.policy = self.policy  # named in the store's log lines
        self.rules = LimitRules(config)
        self.prices = shipped_prices().with_overrides(getattr(config, "pricing", None) or {})
        self._state_key = _state_settings(config)

    def apply_config(self, config: Any) -> None:
        """Hot reload: new keys, budgets, rates and prices apply to the next request. Usage
        and buckets stay (they live in the store); a changed `state` section opens a new store."""
        if _state_settings(config) != self._state_key and self.data_dir is not None:
            old = self.store
            self.store = open_store(config, self.data_dir)
            try:
                self._closing.append(asyncio.get_running_loop().create_task(old.aclose()))
            except RuntimeError:  # no loop (a CLI): nothing is in flight on the old store
                asyncio.run(old.aclose())
        self._apply(config)

    # ------------------------------------------------------------------ hot path
    async def admit(self, key: Any, model: str) -> Ticket:
        now = self.clock()
        entry = self.rules.entry(key, now)
        plan = entry.plan
        key_id = None if key is None else key.id
        if not plan.buckets and not plan.windows:
            return Ticket(key_id=key_id, entry=entry)
        try:
            result = await self.store.admit(plan, now)
        except StateUnavailableError as exc:
            if self.policy == FAIL_CLOSED:
                self.rate_limited += 1
                raise RateLimitedError(
                    "rate limits cannot be checked right now (state store unreachable); retry shortly",
                    retry_after=max(UNAVAILABLE_RETRY_AFTER, exc.retry_after),
                ) from None
            return Ticket(key_id=key_id, entry=entry, degraded=True)
        if result.status != ADMITTED:
            self._refuse(result, entry, now, key_id)
        if not any(result.soft):
            return Ticket(key_id=key_id, entry=entry)
        return self._soft_ticket(result, entry, model, key_id)

    def _refuse(self, result: AdmitResult, entry: Entry, now: float, key_id: str | None) -> None:
        self.rate_limited += 1
        retry_after = retry_after_of(result.retry_after)
        if result.status != OVER_BUDGET:
            who = f"key {key_id}" if key_id else "this gateway"
            raise RateLimitedError(
                f"rate limit reached for {who}; retry in {retry_after:.3g} s", retry_after=retry_after
            )
        self.budget_rejected += 1
        budget, window = self._window_at(entry, result.window, result.soft)
        resets = _iso(now + retry_after)
        if window is None:
            message = f"budget '{budget.id}' is past its soft limit and blocks requests until {resets}"
        else:
            message = f"budget '{budget.id}' is exhausted ({window} window) until {resets}"
        raise BudgetExceededError(message, retry_after=retry_after, budget_id=budget.id)

    @staticmethod
    def _window_at(entry: Entry, index: int, soft: tuple[bool, ...]) -> tuple[Budget, str | None]:
        if index >= 0:
            check = entry.plan.windows[index]
            budget = entry.budgets[check.budget]
            return budget, check.key.rsplit(":", 1)[1]
        for b, is_soft in enumerate(soft):
            if is_soft and entry.budgets[b].check.blocks:
                return entry.budgets[b], None
        return entry.budgets[0], None

    def _soft_ticket(self, result: AdmitResult, entry: Entry, model: str, key_id: str | None) -> Ticket:
        soft_budgets = [b for b, is_soft in zip(entry.budgets, result.soft) if is_soft]
        throttled = any(b.check.throttles for b in soft_budgets)
        reroute: str | None = None
        for b in soft_budgets:
            if "reroute_to_cheaper" in b.actions:
                reroute = b.reroute_target(model) or self.prices.cheaper(model)
                if reroute is not None:
                    break
        if reroute == model:
            reroute = None
        for b in soft_budgets:
            self._note_soft(b, entry)
        return Ticket(
            throttled=throttled,
            reroute_model=reroute,
            soft_budgets=tuple(b.id for b in soft_budgets),
            key_id=key_id,
            entry=entry,
        )

    def _note_soft(self, budget: Budget, entry: Entry) -> None:
        """One log line per budget and period when it passes its soft limit (a warning with
        the `alert` action)."""
        mark = (budget.id, entry.valid_from)
        if mark in self._soft_noted:
            return
        if len(self._soft_noted) > 10_000:
            self._soft_noted.clear()
        self._soft_noted.add(mark)
        log.log(
            logging.WARNING if "alert" in budget.actions else logging.INFO,
            "budget %s passed its soft limit (%g%%): %s",
            budget.id,
            budget.soft_percent,
            ", ".join(budget.actions) or "no action",
            extra={"fields": {"budget": budget.id, "actions": list(budget.actions)}},
        )

    async def settle(
        self,
        ticket: Ticket,
        provider: str,
        model: str,
        input_tokens: int,
        output_tokens: int,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> float:
        """Charge an answer's usage (`input_tokens` is the whole prompt, cached parts
        included, as in `model.response.Usage`); its cost in US cents. A ticket is charged once."""
        cost = self.prices.cost_cents(
            model, input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, provider=provider
        )
        entry = ticket.entry
        if ticket.settled or entry is None:
            return cost
        ticket.settled = True
        if not entry.budgets and not entry.token_buckets:
            return cost
        now = self.clock()
        await self.store.charge(self.rules.charge_plan(entry, now, input_tokens + output_tokens, cost), now)
        return cost

    # ------------------------------------------------------------------ budgets, for people
    def _refs(self, budget: Budget, now: float) -> list[tuple[str, float]]:
        return [(record, start) for record, start, _ in budget.refs(now)]

    async def refresh(self) -> None:
        """Read every budget's usage from the store (what `snapshot()` shows for `redis`)."""
        now = self.clock()
        refs = [ref for b in self.rules.budgets.values() for ref in self._refs(b, now)]
        await self.store.read_windows(refs)

    def snapshot(self) -> dict[str, Any]:
        """Every budget with its windows' bounds, limits, usage and usage ratio. With `redis`
        the usage is the last this process saw (a refresh is started in the background)."""
        now = self.clock()
        budgets = []
        stale = False
        for budget in self.rules.budgets.values():
            refs = budget.refs(now)
            usages = self.store.cached_windows([(record, start) for record, start, _ in refs])
            windows = []
            for (kind, limits, _), (_, start, end), used in zip(budget.windows, refs, usages):
                stale = stale or used is None
                usage = None
                ratio = None
                if used is not None:
                    usage = {
                        "tokens": int(round(used[0])),
                        "requests": int(round(used[1])),
                        "cost_cents": round(used[2], 6),
                    }
                    ratios = [
                        r
                        for r in (
                            _ratio(used[0], limits.get("tokens")),
                            _ratio(used[1], limits.get("requests")),
                            _ratio(used[2], limits.get("cost_cents")),
                        )
                        if r is not None
                    ]
                    ratio = max(ratios) if ratios else 0.0
                windows.append(
                    {
                        "type": kind,
                        "start": _iso(start),
                        "end": _iso(end),
                        "limits": dict(limits),
                        "usage": usage,
                        "ratio": ratio,
                    }
                )
            budgets.append(
                {
                    "id": budget.id,
                    "scope": dict(budget.scope),
                    "timezone": budget.timezone,
                    "soft_limit_percent": budget.soft_percent,
                    "actions": list(budget.actions),
                    "windows": windows,
                }
            )
        if stale:
            self._refresh_in_background()
        return {
            "backend": self.store.backend,
            "available": self.store.available,
            "rate_limited": self.rate_limited,
            "prices_date": self.prices.date,
            "budgets": budgets,
        }

    def budget_usage_ratios(self) -> dict[tuple[str, str], float]:
        """(budget, window) → usage ratio, for `lunaroute_budget_usage_ratio{budget,window}`."""
        out: dict[tuple[str, str], float] = {}
        for budget in self.snapshot()["budgets"]:
            for window in budget["windows"]:
                if window["ratio"] is not None:
                    out[(budget["id"], window["type"])] = window["ratio"]
        return out

    def _refresh_in_background(self) -> None:
        if self._refreshing is not None and not self._refreshing.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return

        async def refresh() -> None:
            try:
                await self.refresh()
            except StateUnavailableError:
                pass

        self._refreshing = loop.create_task(refresh())

    async def reset_budget(self, budget_id: str) -> bool:
        """Zero a budget's current windows; False when there is no such budget."""
        budget = self.rules.budgets.get(budget_id)
        if budget is None:
            return False
        await self.store.reset_windows(self._refs(budget, self.clock()))
        await self.store.flush()
        return True

    @property
    def store_available(self) -> bool:
        return self.store.available

    @property
    def store_errors(self) -> int:
        return self.store.errors

    async def aclose(self) -> None:
        for task in [self._refreshing, *self._closing]:
            if task is not None and not task.done():
                task.cancel()
        await self.store.aclose()


def limits_configured(config: Any) -> bool:
    """Whether the config sets any limit at all: a budget, a global or tenant rate, or a key
    with a rate, a tokens-per-minute cap or a budget of its own. Without one the server does
    not ask the engine per request."""
    if config.budgets:
        return True
    rates = getattr(config, "rate_limits", None)
    if rates is not None and (rates.global_limit is not None or rates.tenants):
        return True
    return any(
        key.rps is not None or getattr(key, "tpm", None) is not None or key.budget_id is not None for key in config.keys
    )
