"""Budgets: scopes, hard limits on tokens / requests / cost, and the soft-limit actions."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from lunaroute.errors import BudgetExceededError, RateLimitedError
from lunaroute.limits import LimitsEngine

from .limits_testkit import Clock, budget_entry, key_entry, key_of, make_config


def _setup(tmp_path: Path, budgets: list, keys: list | None = None, server: dict | None = None, clock=None):
    config = make_config(tmp_path, keys=keys or [key_entry("k")], budgets=budgets, server=server)
    clock = clock or Clock()
    return config, clock, LimitsEngine.from_config(config, tmp_path / "data", clock=clock)


async def _count(engine: LimitsEngine, key, tries: int, model: str = "gpt-4o") -> int:
    admitted = 0
    for _ in range(tries):
        try:
            await engine.admit(key, model)
            admitted += 1
        except RateLimitedError:
            pass
    return admitted


def test_scopes_key_budget_id_tenant_and_global(tmp_path: Path) -> None:
    budgets = [
        budget_entry("per-key", {"type": "key", "id": "a"}, {"daily": {"requests": 3}}),
        budget_entry("named", {"type": "key", "id": "nobody"}, {"daily": {"requests": 5}}),
        budget_entry("team", {"type": "tenant", "id": "acme"}, {"daily": {"requests": 6}}),
        budget_entry("all", {"type": "global"}, {"daily": {"requests": 8}}),
    ]
    keys = [key_entry("a", tenant="acme"), key_entry("b", tenant="acme", budget="named"), key_entry("c", tenant="zed")]
    config, _, engine = _setup(tmp_path, budgets, keys)
    a, b, c = (key_of(config, k) for k in "abc")

    async def scenario() -> None:
        assert await _count(engine, a, 10) == 3  # its own budget
        assert await _count(engine, b, 10) == 3  # the tenant's 6, of which a used 3
        assert await _count(engine, c, 10) == 2  # only the global 8 is left to it
        assert await _count(engine, None, 10) == 0  # local mode: the global budget too
        usage = {b["id"]: b["windows"][0]["usage"]["requests"] for b in engine.snapshot()["budgets"]}
        assert usage == {"per-key": 3, "named": 3, "team": 6, "all": 8}
        assert engine.budget_rejected == engine.rate_limited == 7 + 7 + 8 + 10
        await engine.aclose()

    asyncio.run(scenario())


def test_token_and_cost_limits_are_charged_from_usage_and_the_price_table(tmp_path: Path) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"tokens": 10_000, "cost_cents": 3}})]
    config, _, engine = _setup(tmp_path, budgets)
    key = key_of(config, "k")

    async def scenario() -> None:
        ticket = await engine.admit(key, "claude-sonnet-4-5-20250929")
        # 1000 prompt tokens of which 600 read from cache and 100 written: 300 x $3 + 600 x
        # $0.30 + 100 x $3.75 + 200 output x $15, per million tokens.
        cost = await engine.settle(ticket, "anthropic", "claude-sonnet-4-5-20250929", 1000, 200, 600, 100)
        assert cost == pytest.approx((300 * 3 + 600 * 0.3 + 100 * 3.75 + 200 * 15) / 10_000)
        ticket = await engine.admit(key, "gpt-4o")
        await engine.settle(ticket, "openai", "gpt-4o", 2000, 2000)  # 2.5 cents: 2.9455 in all
        ticket = await engine.admit(key, "gpt-4o")
        await engine.settle(ticket, "openai", "gpt-4o", 400, 0)  # 0.1 more: over 3 cents
        with pytest.raises(BudgetExceededError):
            await engine.admit(key, "gpt-4o")
        window = engine.snapshot()["budgets"][0]["windows"][0]
        assert window["usage"]["tokens"] == 1200 + 4000 + 400
        assert window["usage"]["cost_cents"] == pytest.approx(0.4455 + 2.5 + 0.1)
        assert window["ratio"] == pytest.approx((0.4455 + 2.5 + 0.1) / 3)
        await engine.aclose()

    asyncio.run(scenario())


def test_pricing_in_config_extends_and_overrides_the_table(tmp_path: Path) -> None:
    server = {
        "pricing": {
            "gpt-4o": {"input": 5, "output": 20},
            "my-finetune": {"input": 1, "output": 2, "cheaper": "gpt-4o-mini"},
            "local/gpt-4o-mini": {"input": 0, "output": 0},
        }
    }
    config, _, engine = _setup(tmp_path, [], server=server)
    key = key_of(config, "k")

    async def scenario() -> None:
        ticket = await engine.admit(key, "gpt-4o")
        assert await engine.settle(ticket, "openai", "gpt-4o-2024-08-06", 1000, 1000) == pytest.approx(2.5)
        # An override keeps the shipped cache price; a new model's cache price is its input price.
        assert engine.prices.lookup("gpt-4o").cache_read == 1.25
        assert engine.prices.lookup("my-finetune").cache_write == 1
        assert await engine.settle(await engine.admit(key, "x"), "local", "gpt-4o-mini", 10**6, 10**6) == 0
        assert await engine.settle(await engine.admit(key, "x"), "openai", "gpt-4o-mini", 10**6, 0) == 15
        assert await engine.settle(await engine.admit(key, "x"), "acme", "unpriced-model", 10**6, 10**6) == 0
        assert engine.prices.cheaper("my-finetune") == "gpt-4o-mini"
        await engine.aclose()

    asyncio.run(scenario())


def test_soft_limit_throttle_lowers_the_rate(tmp_path: Path) -> None:
    budgets = [
        budget_entry(
            "b",
            {"type": "key", "id": "k"},
            {"daily": {"requests": 1000}},
            soft=1,
            actions=["throttle"],
            enforcement={"throttle": {"requests_per_second": 2, "burst": 2}},
        )
    ]
    keys = [key_entry("k", rate={"requests_per_second": 50, "burst": 50})]
    config, clock, engine = _setup(tmp_path, budgets, keys)
    key = key_of(config, "k")

    async def per_second() -> list[int]:
        counts = []
        for _ in range(3):
            counts.append(await _count(engine, key, 100))
            clock.advance(1.0)
        return counts

    async def scenario() -> None:
        # Below 1 % of 1000 requests the key's own 50/s holds; past it the budget's 2/s does.
        assert await _count(engine, key, 9) == 9
        ticket = await engine.admit(key, "gpt-4o")
        assert not ticket.throttled  # 9 of 1000 before it: under the soft limit
        clock.advance(1.0)
        ticket = await engine.admit(key, "gpt-4o")
        assert ticket.throttled and ticket.soft_budgets == ("b",) and ticket.reroute_model is None
        assert await per_second() == [1, 2, 2]
        await engine.aclose()

    asyncio.run(scenario())


def test_soft_limit_reroute_to_cheaper(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    budgets = [
        budget_entry(
            "table",
            {"type": "key", "id": "k"},
            {"daily": {"requests": 10}},
            soft=50,
            actions=["reroute_to_cheaper", "alert"],
        ),
        budget_entry(
            "named",
            {"type": "key", "id": "n"},
            {"daily": {"requests": 10}},
            soft=50,
            actions=["reroute_to_cheaper", "alert"],
            enforcement={"reroute_to": {"claude-opus-4-1": "claude-3-5-haiku", "*": "gpt-4.1-nano"}},
        ),
    ]
    config, _, engine = _setup(tmp_path, budgets, [key_entry("k"), key_entry("n")])
    k, n = key_of(config, "k"), key_of(config, "n")

    async def scenario() -> None:
        for _ in range(5):
            assert (await engine.admit(k, "gpt-4o")).reroute_model is None
            assert (await engine.admit(n, "gpt-4o")).reroute_model is None
        with caplog.at_level(logging.WARNING, logger="lunaroute.limits"):
            assert (await engine.admit(k, "gpt-4o-2024-08-06")).reroute_model == "gpt-4o-mini"
            assert (await engine.admit(k, "claude-opus-4-1")).reroute_model == "claude-sonnet-4-5"
            # No `cheaper` hint: the next cheaper model of the vendor; none below the cheapest.
            assert (await engine.admit(k, "gpt-4o-mini")).reroute_model == "gpt-4.1-nano"
            assert (await engine.admit(k, "gpt-5-nano")).reroute_model is None
            assert (await engine.admit(n, "claude-opus-4-1")).reroute_model == "claude-3-5-haiku"
            assert (await engine.admit(n, "gpt-4o")).reroute_model == "gpt-4.1-nano"
        soft_lines = [r for r in caplog.records if "soft limit" in r.getMessage()]
        assert [r.getMessage().split()[1] for r in soft_lines] == ["table", "named"]  # once each
        await engine.aclose()

    asyncio.run(scenario())


def test_block_at_the_soft_limit(tmp_path: Path) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 10}}, soft=30, actions=["block"])]
    config, _, engine = _setup(tmp_path, budgets)
    key = key_of(config, "k")

    async def scenario() -> None:
        assert await _count(engine, key, 10) == 3
        with pytest.raises(BudgetExceededError) as refused:
            await engine.admit(key, "m")
        assert "soft limit" in refused.value.message and refused.value.retry_after > 0
        await engine.aclose()

    asyncio.run(scenario())


def test_reset_zeroes_the_current_windows(tmp_path: Path) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 2}, "monthly": {"requests": 5}})]
    config, _, engine = _setup(tmp_path, budgets)
    key = key_of(config, "k")

    async def scenario() -> None:
        assert await _count(engine, key, 5) == 2
        assert await engine.reset_budget("b") is True
        assert await engine.reset_budget("nope") is False
        assert [w["usage"]["requests"] for w in engine.snapshot()["budgets"][0]["windows"]] == [0, 0]
        assert await _count(engine, key, 5) == 2
        await engine.aclose()

    asyncio.run(scenario())


def test_hot_reload_applies_new_limits_and_keeps_usage(tmp_path: Path) -> None:
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 2}})]
    config, _, engine = _setup(tmp_path, budgets)
    key = key_of(config, "k")

    async def scenario() -> None:
        assert await _count(engine, key, 5) == 2
        bigger = [budget_entry("b", {"type": "key", "id": "k"}, {"daily": {"requests": 3}})]
        engine.apply_config(make_config(tmp_path, keys=[key_entry("k")], budgets=bigger))
        assert await _count(engine, key, 5) == 1  # the two already counted stay counted
        await engine.aclose()

    asyncio.run(scenario())
