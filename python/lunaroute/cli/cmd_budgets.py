"""`lunaroute budgets [--json]` and `lunaroute budgets reset ID` (CONTRACT §9).

Both read the state store the config names, so they see (and reset) what a running server
counts: the `file` backend's shared table under the data directory, or Redis.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING, Any, cast

import orjson

from .common import config_dir_of, data_dir_of, print_error

if TYPE_CHECKING:
    from ..limits import LimitsEngine


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser], parents: list[argparse.ArgumentParser]) -> None:
    budgets = sub.add_parser(
        "budgets",
        parents=parents,
        help="budgets with their usage; reset one",
        description="Each budget of budgets.json with its windows' usage and limits (`reset ID` zeroes "
        "a budget's current windows).",
    )
    budgets.add_argument("--json", action="store_true", help="JSON output")
    budgets.set_defaults(run=run_list)
    actions = budgets.add_subparsers(dest="budgets_action", metavar="ACTION", parser_class=type(budgets))
    listing = actions.add_parser("list", parents=parents, help="list budgets (the default)")
    listing.add_argument("--json", action="store_true", help="JSON output")
    listing.set_defaults(run=run_list)
    reset = actions.add_parser("reset", parents=parents, help="zero a budget's current windows")
    reset.add_argument("budget_id", metavar="ID")
    reset.set_defaults(run=run_reset)


def _engine(args: argparse.Namespace) -> LimitsEngine:
    from ..config import load_config
    from ..limits import LimitsEngine

    config = load_config(config_dir_of(args), data_dir_of(args))
    return LimitsEngine.from_config(config, config.data_dir)


def run_list(args: argparse.Namespace) -> int:
    from ..state import StateUnavailableError

    async def read() -> dict[str, Any] | None:
        engine = _engine(args)
        try:
            await engine.refresh()
            return engine.snapshot()
        except StateUnavailableError as exc:
            print_error(f"cannot read budget usage: {exc}")
            return None
        finally:
            await engine.aclose()

    snap = asyncio.run(read())
    if snap is None:
        return 1
    if args.json:
        sys.stdout.write(orjson.dumps(snap, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0
    if not snap["budgets"]:
        print("no budgets (budgets.json defines none)")
        return 0
    columns = ("budget", "scope", "window", "tokens", "requests", "cost_cents", "used", "resets")
    rows = [[_cell(budget, window, c) for c in columns] for budget in snap["budgets"] for window in budget["windows"]]
    widths = [max(len(c), *(len(r[i]) for r in rows)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip())
    for r in rows:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
    return 0


def _cell(budget: dict[str, Any], window: dict[str, Any], column: str) -> str:
    if column == "budget":
        return cast(str, budget["id"])
    if column == "scope":
        scope = budget["scope"]
        return cast(str, scope["type"]) if scope["id"] is None else f"{scope['type']}:{scope['id']}"
    if column == "window":
        return cast(str, window["type"])
    if column == "resets":
        return cast(str, window["end"])
    if column == "used":
        return "-" if window["ratio"] is None else f"{window['ratio'] * 100:.1f}%"
    used = "?" if window["usage"] is None else _number(window["usage"][column])
    limit = window["limits"].get(column)
    return used if limit is None else f"{used}/{_number(limit)}"


def _number(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) and not value.is_integer() else str(int(value))


def run_reset(args: argparse.Namespace) -> int:
    from ..state import StateUnavailableError

    async def reset() -> int:
        engine = _engine(args)
        try:
            if not await engine.reset_budget(args.budget_id):
                print_error(f"no budget with id '{args.budget_id}' in budgets.json")
                return 1
        except StateUnavailableError as exc:
            print_error(f"cannot reset budget '{args.budget_id}': {exc}")
            return 1
        finally:
            await engine.aclose()
        print(f"reset {args.budget_id}: its current windows are at zero")
        return 0

    return asyncio.run(reset())
