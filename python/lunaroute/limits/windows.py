"""Budget windows: the calendar period (hour, day, ISO week, month) that holds an instant.

Periods follow the wall clock of the budget's time zone (UTC unless configured), so a daily
window starts at local midnight and lasts 23 or 25 hours across a DST change. Bounds are
Unix timestamps: the state stores compare a stored period start with the current one, and a
different start means the window rolled over.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

WINDOW_TYPES = ("hourly", "daily", "weekly", "monthly")


def zone(name: str | None) -> tzinfo:
    if name is None or name == "UTC":
        return UTC
    return ZoneInfo(name)


def _local(naive: datetime, tz: tzinfo) -> float:
    """The instant a local wall-clock time names (the first, where DST repeats it)."""
    return naive.replace(tzinfo=tz, fold=0).timestamp()


def period(window: str, now: float, tz: tzinfo) -> tuple[float, float]:
    """(start, end) of the `window` period holding `now`, as Unix timestamps."""
    local = datetime.fromtimestamp(now, tz).replace(tzinfo=None)
    if window == "hourly":
        # Whole UTC hours: local hours are the same except in zones offset by a fraction of
        # an hour, where an "hour" would otherwise straddle two UTC hours for no benefit.
        start = now - now % 3600.0
        return start, start + 3600.0
    if window == "daily":
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        return _local(day, tz), _local(day + timedelta(days=1), tz)
    if window == "weekly":
        day = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=local.weekday())
        return _local(day, tz), _local(day + timedelta(days=7), tz)
    if window == "monthly":
        first = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        following = (
            first.replace(year=first.year + 1, month=1) if first.month == 12 else first.replace(month=first.month + 1)
        )
        return _local(first, tz), _local(following, tz)
    raise ValueError(f"unknown window type {window!r}")


class PeriodCache:
    """`period()` for one window and zone, recomputed only when `now` leaves the last one."""

    __slots__ = ("window", "tz", "start", "end")

    def __init__(self, window: str, tz: tzinfo) -> None:
        if window not in WINDOW_TYPES:
            raise ValueError(f"unknown window type {window!r}")
        self.window = window
        self.tz = tz
        self.start = 0.0
        self.end = 0.0

    def at(self, now: float) -> tuple[float, float]:
        if not self.start <= now < self.end:
            self.start, self.end = period(self.window, now, self.tz)
        return self.start, self.end
