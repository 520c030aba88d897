"""Budget windows follow the calendar of their time zone and roll over on the injected clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from lunaroute.errors import BudgetExceededError
from lunaroute.limits import LimitsEngine
from lunaroute.limits.windows import period

from .limits_testkit import Clock, budget_entry, key_entry, key_of, make_config


def ts(text: str, tz: str = "UTC") -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC if tz == "UTC" else ZoneInfo(tz)).timestamp()


@pytest.mark.parametrize(
    ("window", "now", "tz", "start", "end"),
    [
        ("hourly", "2025-03-14T12:34:56", "UTC", "2025-03-14T12:00:00", "2025-03-14T13:00:00"),
        ("daily", "2025-03-14T23:59:59", "UTC", "2025-03-14T00:00:00", "2025-03-15T00:00:00"),
        ("weekly", "2025-03-16T10:00:00", "UTC", "2025-03-10T00:00:00", "2025-03-17T00:00:00"),
        ("monthly", "2025-12-31T23:00:00", "UTC", "2025-12-01T00:00:00", "2026-01-01T00:00:00"),
        ("monthly", "2024-02-29T12:00:00", "UTC", "2024-02-01T00:00:00", "2024-03-01T00:00:00"),
        ("daily", "2025-03-14T00:30:00", "Asia/Tokyo", "2025-03-14T00:00:00", "2025-03-15T00:00:00"),
        ("monthly", "2025-11-01T00:00:00", "America/New_York", "2025-11-01T00:00:00", "2025-12-01T00:00:00"),
    ],
)
def test_period_bounds(window: str, now: str, tz: str, start: str, end: str) -> None:
    zone = UTC if tz == "UTC" else ZoneInfo(tz)
    assert period(window, ts(now, tz), zone) == (ts(start, tz), ts(end, tz))


def test_daily_windows_across_dst_last_23_and_25_hours() -> None:
    paris = ZoneInfo("Europe/Paris")
    spring = period("daily", ts("2025-03-30T12:00:00", "Europe/Paris"), paris)
    autumn = period("daily", ts("2025-10-26T12:00:00", "Europe/Paris"), paris)
    assert spring[1] - spring[0] == 23 * 3600
    assert autumn[1] - autumn[0] == 25 * 3600
    assert spring[0] == ts("2025-03-29T23:00:00")  # local midnight, in UTC


def _engine(tmp_path: Path, clock: Clock, budgets: list, keys: list | None = None):
    config = make_config(tmp_path, keys=keys or [key_entry("k")], budgets=budgets)
    return config, LimitsEngine.from_config(config, tmp_path / "data", clock=clock)


def test_a_daily_window_rolls_over_at_local_midnight(tmp_path: Path) -> None:
    clock = Clock(ts("2025-03-14T23:59:00", "Asia/Tokyo"))
    budgets = [
        budget_entry("tokyo", {"type": "key", "id": "k"}, {"daily": {"requests": 2}}, timezone="Asia/Tokyo"),
        budget_entry("utc", {"type": "key", "id": "k"}, {"daily": {"requests": 100}}),
    ]
    config, engine = _engine(tmp_path, clock, budgets)
    key = key_of(config, "k")

    async def scenario() -> None:
        await engine.admit(key, "m")
        await engine.admit(key, "m")
        with pytest.raises(BudgetExceededError) as refused:
            await engine.admit(key, "m")
        assert refused.value.status == 429 and refused.value.code == "budget_exceeded"
        assert refused.value.budget_id == "tokyo"
        assert 60.0 < refused.value.retry_after <= 60.002  # until Tokyo's midnight
        assert "daily" in refused.value.message
        clock.advance(60.0)
        await engine.admit(key, "m")  # a new day in Tokyo, and the same day in UTC
        snap = {b["id"]: b for b in engine.snapshot()["budgets"]}
        tokyo, utc = snap["tokyo"]["windows"][0], snap["utc"]["windows"][0]
        assert tokyo["start"] == "2025-03-14T15:00:00Z" and tokyo["usage"]["requests"] == 1
        assert utc["start"] == "2025-03-14T00:00:00Z" and utc["usage"]["requests"] == 3
        await engine.aclose()

    asyncio.run(scenario())


def test_a_monthly_window_rolls_over_at_new_year(tmp_path: Path) -> None:
    clock = Clock(ts("2025-12-31T23:59:59"))
    budgets = [budget_entry("b", {"type": "key", "id": "k"}, {"monthly": {"tokens": 1000}, "daily": {"tokens": 5000}})]
    config, engine = _engine(tmp_path, clock, budgets)
    key = key_of(config, "k")

    async def scenario() -> None:
        ticket = await engine.admit(key, "gpt-4o")
        await engine.settle(ticket, "openai", "gpt-4o", 900, 100)
        with pytest.raises(BudgetExceededError) as refused:
            await engine.admit(key, "gpt-4o")
        assert 1.0 < refused.value.retry_after <= 1.002
        # A request admitted in the old period and answered in the new one is charged there.
        clock.advance(1.0)
        ticket = await engine.admit(key, "gpt-4o")
        clock.advance(1.0)
        await engine.settle(ticket, "openai", "gpt-4o", 10, 5)
        windows = {w["type"]: w for w in engine.snapshot()["budgets"][0]["windows"]}
        assert windows["monthly"]["start"] == "2026-01-01T00:00:00Z"
        assert windows["monthly"]["usage"] == {"tokens": 15, "requests": 1, "cost_cents": pytest.approx(0.0075)}
        assert windows["daily"]["usage"]["tokens"] == 15
        await engine.aclose()

    asyncio.run(scenario())
