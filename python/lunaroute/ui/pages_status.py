"""Pages about the server's own state: providers, budgets and keys, the loaded config."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from . import config_view
from .http import Request
from .rollup import Cell

if TYPE_CHECKING:
    from .app import UiApp

Page = tuple[int, str, dict[str, Any]]
BREAKER_NAMES = {0: "closed", 1: "open", 2: "half-open"}


def providers(ui: UiApp, req: Request) -> Page:
    server = ui.server
    config = server.config
    states = server.breaker_states()
    breakers = server.state.breakers
    health = getattr(server, "_health", None)
    probes = health.snapshot() if health is not None else {}
    metrics = ui.metrics()
    served: dict[str, dict[str, float]] = {}
    for (_listener, provider, _model, status), value in metrics["requests"].items():
        if not provider:
            continue
        entry = served.setdefault(provider, {"requests": 0.0, "errors": 0.0})
        entry["requests"] += value
        if not status.isdigit() or int(status) >= 400:
            entry["errors"] += value
    attempts: dict[str, dict[str, float]] = {}
    for (provider, outcome), value in metrics["attempts"].items():
        attempts.setdefault(provider, {})[outcome] = value
    cost: dict[str, float] = {}
    for (provider, _model), usd in metrics["cost_usd"].items():
        cost[provider] = cost.get(provider, 0.0) + usd * 100.0
    recent: dict[str, Cell] = {}
    building = False
    if ui.recordings.available():
        building = not ui.rollup.refresh(ui.recordings.reader().index.conn)
        recent = {} if building else ui.rollup.by("1h", 0)
    rows = []
    for name, prov in config.providers.items():
        activity = breakers.activity(name)
        since_start = served.get(name, {"requests": 0.0, "errors": 0.0})
        hour = recent.get(name)
        rows.append(
            {
                "name": name,
                "type": prov.type,
                "url": config_view.mask_url(prov.base_url),
                "state": BREAKER_NAMES.get(states.get(name, 0), str(states.get(name))),
                "settings": prov.circuit_breaker,
                "last_ok": activity.last_ok,
                "last_error": activity.last_error,
                "last_error_at": activity.last_error_at,
                "probe_ok": (probes.get(name) or {}).get("probe_ok"),
                "probing": prov.health_check.enabled,
                "requests": since_start["requests"],
                "errors": since_start["errors"],
                "error_rate": since_start["errors"] / since_start["requests"] if since_start["requests"] else None,
                "attempts": sorted(attempts.get(name, {}).items()),
                "cost_cents": cost.get(name, 0.0),
                "hour": hour,
                "p50": hour.percentile(0.5) if hour else None,
                "p95": hour.percentile(0.95) if hour else None,
            }
        )
    ctx = {"providers": rows, "ready": server.ready(states), "started_at": ui.started_at, "building": building}
    return 200, "providers.html", ctx


def budgets(ui: UiApp, req: Request, snapshot: dict[str, Any] | None, problem: str | None) -> Page:
    config = ui.server.config
    usage: dict[str, Cell] = {}
    building = False
    if ui.recordings.available():
        building = not ui.rollup.refresh(ui.recordings.reader().index.conn)
        usage = {} if building else ui.rollup.by("24h", 1)
    budget_rows = []
    for budget in (snapshot or {}).get("budgets", []):
        for window in budget["windows"]:
            meters = []
            used = window["usage"] or {}
            for field in ("requests", "tokens", "cost_cents"):
                limit = window["limits"].get(field)
                if limit is None:
                    continue
                value = used.get(field)
                meters.append(
                    {
                        "field": field,
                        "used": value,
                        "limit": limit,
                        "ratio": (value / limit) if isinstance(value, int | float) and limit else None,
                    }
                )
            budget_rows.append({"budget": budget, "window": window, "meters": meters})
    keys = []
    for key in config.keys:
        keys.append(
            {
                "key": key,
                "day": usage.get(key.id),
                "expired": key.expires_at is not None and _past(key.expires_at),
            }
        )
    rl = config.rate_limits
    rates = []
    if rl.global_limit is not None:
        rates.append(("global", rl.global_limit))
    for tenant, limit in sorted(rl.tenants.items()):
        rates.append((f"tenant {tenant}", limit))
    ctx = {
        "snapshot": snapshot,
        "problem": problem,
        "budget_rows": budget_rows,
        "keys": keys,
        "rates": rates,
        "unkeyed": usage.get(""),
        "building": building,
    }
    return 200, "budgets.html", ctx


def _past(iso: str) -> bool:
    from ..config.timestamps import parse_timestamp

    when = parse_timestamp(iso)
    return when is not None and when.timestamp() <= time.time()


def config(ui: UiApp, req: Request) -> Page:
    server = ui.server
    cfg = server.config
    ctx = {
        "sources": sorted((stem, str(path)) for stem, path in cfg.sources.items()),
        "config_dir": str(cfg.config_dir),
        "data_dir": str(cfg.data_dir),
        "loaded_at": getattr(server, "config_loaded_at", None),
        "reload_error": getattr(server, "last_reload_error", None),
        "hot_reload": cfg.server.hot_reload,
        "sections": config_view.sections(cfg),
    }
    return 200, "config.html", ctx
