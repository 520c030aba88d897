"""`load_config`: the whole config directory → one validated `Config`.

Loading is all-or-nothing: any problem raises one `ConfigError(file, field, reason)` and no
partial config escapes, which is what lets hot reload keep the last good config in force.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..prompts import parse_prompts
from ..routing.parse import parse_rules
from .budgets_file import parse_budgets
from .envsubst import substitute
from .files import DEFAULT_NAMES, REQUIRED_STEMS, discover, read_document
from .keys_file import parse_keys
from .limits_sections import parse_pricing, parse_rate_limits
from .listeners import parse_listeners
from .providers import parse_providers
from .reader import Obj
from .schema import Config
from .sections import (
    parse_observability,
    parse_performance,
    parse_pii,
    parse_server,
    parse_state,
    parse_storage,
)
from .ui_section import parse_ui
from .unbuilt import warn_unbuilt


def load_config(config_dir: Path, data_dir: Path | None = None, *, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate every file of `config_dir`.

    `data_dir` defaults to `storage.data_path` when the server file sets one, else to
    `<config_dir>/data`. `env` replaces `os.environ` for `${VAR}` substitution and provider
    keys (tests use it).
    """
    config_dir = Path(config_dir).expanduser()
    if not config_dir.is_dir():
        raise ConfigError(str(config_dir), "", "config directory not found (run `lunaroute init`)")
    config_dir = config_dir.resolve()
    sources = discover(config_dir)
    for stem in REQUIRED_STEMS:
        if stem not in sources:
            raise ConfigError(DEFAULT_NAMES[stem], "", f"missing from {config_dir} (run `lunaroute init`)")
    docs = {stem: _read(path, env) for stem, path in sources.items()}

    server_file = sources["server"].name
    doc = Obj(docs["server"], server_file)
    server = parse_server(doc)
    listeners = parse_listeners(doc, config_dir)
    providers = parse_providers(doc, env)
    storage, data_path = parse_storage(doc, config_dir)
    pii = parse_pii(doc)
    state = parse_state(doc)
    observability = parse_observability(doc)
    performance = parse_performance(doc)
    rate_limits = parse_rate_limits(doc)
    pricing = parse_pricing(doc)
    bypass = doc.bool("bypass", True)
    ui = parse_ui(doc)
    doc.finish()  # every section was read above; anything else is unknown
    _check_metrics_port(server_file, observability, listeners)
    _check_ui_port(server_file, ui, observability, listeners)

    keys_file = sources["keys"].name if "keys" in sources else DEFAULT_NAMES["keys"]
    keys = parse_keys(docs.get("keys", {}), keys_file)
    budgets_file = sources["budgets"].name if "budgets" in sources else DEFAULT_NAMES["budgets"]
    budgets = parse_budgets(docs.get("budgets", {}), budgets_file)
    budget_ids = {b["id"] for b in budgets}
    for i, key in enumerate(keys):
        if key.budget_id is not None and key.budget_id not in budget_ids:
            raise ConfigError(
                keys_file,
                f"api_keys[{i}].budget_id",
                f"no budget with id '{key.budget_id}' in {budgets_file}",
            )

    prompts_file = sources["prompts"].name if "prompts" in sources else DEFAULT_NAMES["prompts"]
    prompts = parse_prompts(docs.get("prompts"), file=prompts_file)

    routes_raw = docs["routes"]
    routes_file = sources["routes"].name
    if not isinstance(routes_raw, dict):
        raise ConfigError(routes_file, "", "expected a mapping with a 'rules' list at the top level")
    routes = parse_rules(routes_raw, file=routes_file, provider_names=set(providers))

    warn_unbuilt(docs, sources)

    if data_dir is not None:
        resolved_data = Path(data_dir).expanduser()
    else:
        resolved_data = data_path if data_path is not None else config_dir / "data"
    return Config(
        config_dir=config_dir,
        data_dir=resolved_data.absolute(),
        sources=dict(sources),
        server=server,
        listeners=listeners,
        providers=providers,
        routes_raw=routes_raw,
        routes=routes,
        keys=keys,
        budgets=budgets,
        prompts=prompts,
        storage=storage,
        pii=pii,
        state=state,
        observability=observability,
        performance=performance,
        rate_limits=rate_limits,
        pricing=pricing,
        bypass=bypass,
        ui=ui,
    )


def _read(path: Path, env: Mapping[str, str] | None) -> Any:
    return substitute(read_document(path), path.name, env if env is not None else os.environ)


def _check_metrics_port(file: str, observability: Any, listeners: list[Any]) -> None:
    if not observability.metrics_enabled:
        return
    for i, listener in enumerate(listeners):
        if listener.port == observability.metrics_port:
            raise ConfigError(
                file,
                "observability.metrics.bind",
                f"port {listener.port} is already used by listeners[{i}] ({listener.id})",
            )


def _check_ui_port(file: str, ui: Any, observability: Any, listeners: list[Any]) -> None:
    if not ui.enabled:
        return
    taken = [(li.port, f"listeners[{i}] ({li.id})") for i, li in enumerate(listeners)]
    if observability.metrics_enabled:
        taken.append((observability.metrics_port, "observability.metrics.bind"))
    for port, what in taken:
        if port == ui.port:
            raise ConfigError(file, "ui.bind", f"port {port} is already used by {what}")
