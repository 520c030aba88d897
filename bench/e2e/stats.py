"""Percentiles the way the report states them (nearest rank, like wrk's histogram)."""

from __future__ import annotations

import math

DEFAULT_POINTS = (50.0, 90.0, 99.0, 99.9)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        raise ValueError("percentile of an empty list")
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def percentiles(values: list[float], points: tuple[float, ...] = DEFAULT_POINTS) -> dict[str, float]:
    """{"p50": .., "p90": .., "p99": .., "p999": .., "max": .., "mean": .., "n": ..}; values rounded to 0.1."""
    s = sorted(values)
    out = {f"p{str(p).rstrip('0').rstrip('.').replace('.', '')}": round(percentile(s, p), 1) for p in points}
    out["max"] = round(s[-1], 1)
    out["mean"] = round(sum(s) / len(s), 1)
    out["n"] = len(s)
    return out
