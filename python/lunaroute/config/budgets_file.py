"""budgets.json → a validated, normalised list of budget dicts (spec §6.1).

Output shape (every key always present):
    {"id": str,
     "scope": {"type": "key" | "tenant" | "global", "id": str | None},
     "windows": [{"type": "hourly" | "daily" | "weekly" | "monthly",
                  "limits": {"tokens": int | None, "requests": int | None,
                             "cost_cents": int | None}}],
     "enforcement": {"soft_limit_percent": float, "actions": [str, ...],
                     "throttle": {"requests_per_second": float, "burst": int} | None,
                     "reroute_to": str | {model: str} | None},
     "timezone": str}   # IANA name of the windows' calendar, "UTC" by default
"""

from __future__ import annotations

from typing import Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..bad_value import describe
from .reader import Obj, element, join
from .vocabulary import BUDGET_ID

SCOPE_TYPES = ("key", "tenant", "global")
WINDOW_TYPES = ("hourly", "daily", "weekly", "monthly")
LIMITS = ("tokens", "requests", "cost_cents")
ACTIONS = ("alert", "throttle", "reroute_to_cheaper", "block")


def parse_budgets(doc: Any, file: str) -> list[dict[str, Any]]:
    root = Obj(doc, file)
    out: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for i, value in root.items("budgets"):
        item = element(value, file, join("budgets", i))
        budget = _parse_one(item)
        if budget["id"] in seen:
            first = seen[budget["id"]]
            raise item.error("id", f"duplicate budget id '{budget['id']}' (also budgets[{first}])")
        seen[budget["id"]] = i
        out.append(budget)
    root.finish()
    return out


def _parse_one(item: Obj) -> dict[str, Any]:
    budget_id = item.str("id")
    if not BUDGET_ID.fullmatch(budget_id):
        raise item.error("id", f"must be letters, digits, '_', '.' or '-', got {describe(budget_id)}")

    scope = item.obj("scope", required=True)
    scope_type = scope.str("type", choices=SCOPE_TYPES)
    scope_id = scope.str("id", None)
    if scope_type != "global" and scope_id is None:
        raise scope.error("id", f"required for a '{scope_type}' scope")
    scope.finish()

    windows: list[dict[str, Any]] = []
    types_seen: set[str] = set()
    entries = item.list("windows")
    if not entries:
        raise item.error("windows", "at least one window is needed")
    for i, value in enumerate(entries):
        window = element(value, item.file, join(item.field("windows"), i))
        window_type = window.str("type", choices=WINDOW_TYPES)
        if window_type in types_seen:
            raise window.error("type", f"a '{window_type}' window is already defined")
        types_seen.add(window_type)
        limits_obj = window.obj("limits", required=True)
        limits = {name: limits_obj.int(name, None, min=0, max=10**15) for name in LIMITS}
        if all(v is None for v in limits.values()):
            raise window.error("limits", f"set at least one of {', '.join(LIMITS)}")
        limits_obj.finish()
        window.finish()
        windows.append({"type": window_type, "limits": limits})

    enforcement = item.obj("enforcement")
    soft = enforcement.num("soft_limit_percent", 80.0, min=0.0, max=100.0)
    actions = enforcement.str_list("actions", [], choices=ACTIONS)
    throttle_obj = enforcement.obj("throttle")
    throttle = None
    if throttle_obj.data:
        throttle = {
            "requests_per_second": throttle_obj.num("requests_per_second", 1.0, min=0.0, max=1e6, min_exclusive=True),
            "burst": throttle_obj.int("burst", 1, min=1, max=100_000_000),
        }
    throttle_obj.finish()
    reroute_to = _reroute_to(enforcement)
    enforcement.finish()
    timezone = item.str("timezone", "UTC")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise item.error("timezone", f"not an IANA time zone name: {describe(timezone)}") from None
    item.finish()
    return {
        "id": budget_id,
        "scope": {"type": scope_type, "id": scope_id},
        "windows": windows,
        "enforcement": {
            "soft_limit_percent": soft,
            "actions": list(actions),
            "throttle": throttle,
            "reroute_to": reroute_to,
        },
        "timezone": timezone,
    }


def _reroute_to(enforcement: Obj) -> str | dict[str, str] | None:
    """A model name, or a mapping from requested model ("*": any other) to model."""
    value = enforcement.raw("reroute_to", None)
    if value is None or isinstance(value, str):
        return cast("str | None", enforcement.str("reroute_to", None))
    if isinstance(value, dict):
        mapping = enforcement.str_map("reroute_to")
        for model, target in mapping.items():
            if not target.strip():
                raise enforcement.error("reroute_to", f"empty target model for {describe(model)}")
        return mapping
    raise enforcement.error(
        "reroute_to", f"expected a model name or a mapping of model to model, got {describe(value)}"
    )
