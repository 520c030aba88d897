"""budgets.json → a validated, normalised list of budget dicts (spec §6.1).

Output shape (every key always present):
    {"id": str,
     "scope": {"type": "key" | "tenant" | "global", "id": str | None},
     "windows": [{"type": "hourly" | "daily" | "weekly" | "monthly",
                  "limits": {"tokens": int | None, "requests": int | None,
                             "cost_cents": int | None}}],
     "enforcement": {"soft_limit_percent": float, "actions": [str, ...]}}
"""

from __future__ import annotations

from typing import Any

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
    enforcement.finish()
    item.finish()
    return {
        "id": budget_id,
        "scope": {"type": scope_type, "id": scope_id},
        "windows": windows,
        "enforcement": {"soft_limit_percent": soft, "actions": list(actions)},
    }
