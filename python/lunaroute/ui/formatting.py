"""How numbers and times read on the pages (Jinja filters)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any


def ms(value: Any) -> str:
    if not isinstance(value, int | float):
        return "–"
    if value == 0:
        return "0"
    if value >= 10_000:
        return f"{value / 1000:.1f} s"
    if value >= 1000:
        return f"{value / 1000:.2f} s"
    return f"{value:.0f} ms" if value >= 10 else f"{value:.1f} ms"


def cost(cents: Any) -> str:
    """US cents → dollars, with the precision small amounts need."""
    if not isinstance(cents, int | float):
        return "–"
    dollars = cents / 100.0
    if dollars == 0:
        return "$0"
    if abs(dollars) >= 100:
        return f"${dollars:,.0f}"
    if abs(dollars) >= 1:
        return f"${dollars:,.2f}"
    return f"${dollars:.4f}"


def count(value: Any) -> str:
    if not isinstance(value, int | float):
        return "–"
    value = float(value)
    for limit, unit, suffix in ((1e9, 1e9, "G"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if abs(value) >= limit:
            return f"{value / unit:.1f}{suffix}"
    return f"{value:,.0f}"


def percent(ratio: Any) -> str:
    if not isinstance(ratio, int | float):
        return "–"
    return f"{ratio * 100:.1f}%"


def when(ts: Any) -> str:
    if not isinstance(ts, int | float) or not ts:
        return "–"
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S")


def iso(ts: Any) -> str:
    if not isinstance(ts, int | float) or not ts:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(ts: Any, now: float | None = None) -> str:
    if not isinstance(ts, int | float) or not ts:
        return "never"
    seconds = (time.time() if now is None else now) - ts
    if seconds < 0:
        return "just now"
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} ago"
    return f"{seconds:.0f} s ago"


def status_class(status: Any) -> str:
    if not isinstance(status, int) or status == 0:
        return "bad"
    if status < 400:
        return "ok"
    if status < 500:
        return "warn"
    return "bad"


FILTERS = {
    "ms": ms,
    "cost": cost,
    "count": count,
    "percent": percent,
    "when": when,
    "iso": iso,
    "ago": ago,
    "status_class": status_class,
}
