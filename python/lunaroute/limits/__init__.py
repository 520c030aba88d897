"""Rate limits, budgets and prices (CONTRACT §3, §9; docs/LIMITS.md)."""

from __future__ import annotations

from .engine import LimitsEngine, Ticket, limits_configured, shipped_prices
from .pricing import ModelPrice, PriceTable

__all__ = ["LimitsEngine", "ModelPrice", "PriceTable", "Ticket", "limits_configured", "shipped_prices"]
