"""Fields that are accepted but not built yet warn when a file turns them on, and only then."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lunaroute.config import load_config
from lunaroute.config.unbuilt import UNBUILT

from .config_testkit import BENCH_CONFIG, SAMPLE_HASH, read_server, write_json, write_server

KEY = {"id": "k1", "name": "n", "key_hash": SAMPLE_HASH}
BUDGET = {"id": "b1", "scope": {"type": "global"}, "windows": [{"type": "daily", "limits": {"tokens": 10}}]}


def _server(**sections: Any) -> Callable[[Path], None]:
    """Merge nested `sections` into the server file (dicts merge, anything else replaces)."""

    def edit(cfg_dir: Path) -> None:
        doc = read_server(cfg_dir)
        _merge(doc, sections)
        write_server(cfg_dir, doc)

    return edit


def _merge(into: dict[str, Any], update: dict[str, Any]) -> None:
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = value


def _min_idle(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["providers"][1]["connection_pool"]["min_idle"] = 5
    write_server(cfg_dir, doc)


def _strip_tools(cfg_dir: Path) -> None:
    routes = {"rules": [{"id": "r0", "target": {"provider": "openai"}}]}
    routes["rules"].append({"id": "r1", "target": {"provider": "openai"}, "options": {"strip_unsupported_tools": True}})
    write_json(cfg_dir / "routes.json", routes)


def _keys(**fields: Any) -> Callable[[Path], None]:
    def edit(cfg_dir: Path) -> None:
        write_json(cfg_dir / "budgets.json", {"budgets": [BUDGET]})
        write_json(cfg_dir / "keys.json", {"api_keys": [{**KEY, **fields}]})

    return edit


# The table's field → (an edit turning it on, the file and field the warning must name).
TURN_ON: dict[str, tuple[Callable[[Path], None], str]] = {
    "performance.buffer_pool_size": (
        _server(performance={"buffer_pool_size": 2000}),
        "server.yaml: performance.buffer_pool_size",
    ),
    "performance.buffer_size_kb": (
        _server(performance={"buffer_size_kb": 128}),
        "server.yaml: performance.buffer_size_kb",
    ),
    "performance.stream_flush_interval_ms": (
        _server(performance={"stream_flush_interval_ms": 5}),
        "server.yaml: performance.stream_flush_interval_ms",
    ),
    "performance.arena_size_mb": (
        _server(performance={"arena_size_mb": 50}),
        "server.yaml: performance.arena_size_mb",
    ),
    "providers[].connection_pool.min_idle": (_min_idle, "server.yaml: providers[1].connection_pool.min_idle"),
    "rules[].options.strip_unsupported_tools": (
        _strip_tools,
        "routes.json: rules[1].options.strip_unsupported_tools",
    ),
}


def _warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "lunaroute.config" and r.levelno == logging.WARNING]


def test_every_unbuilt_field_has_a_case_here() -> None:
    assert sorted(row.field for row in UNBUILT) == sorted(TURN_ON)


@pytest.mark.parametrize("field", sorted(TURN_ON), ids=lambda f: f or "prompts.json")
def test_turning_an_unbuilt_field_on_warns_once_naming_file_and_field(
    cfg_dir: Path, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    edit, where = TURN_ON[field]
    edit(cfg_dir)
    with caplog.at_level(logging.WARNING, logger="lunaroute.config"):
        load_config(cfg_dir, env={})
    mine = [m for m in _warnings(caplog) if m.startswith(f"{where}: ")]
    assert len(mine) == 1, _warnings(caplog)
    assert "not implemented yet" in mine[0] and "has no effect" in mine[0]


def test_each_place_that_turns_a_field_on_is_named(cfg_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    doc = read_server(cfg_dir)
    for provider in doc["providers"]:
        provider["connection_pool"]["min_idle"] = 1
    write_server(cfg_dir, doc)
    with caplog.at_level(logging.WARNING, logger="lunaroute.config"):
        load_config(cfg_dir, env={})
    assert [m.split(": not implemented")[0] for m in _warnings(caplog)] == [
        "server.yaml: providers[0].connection_pool.min_idle",
        "server.yaml: providers[1].connection_pool.min_idle",
    ]


def test_the_default_config_warns_about_nothing(cfg_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lunaroute.config"):
        cfg = load_config(cfg_dir, env={})
    assert _warnings(caplog) == []
    assert cfg.storage.sessions_enabled is True and cfg.pii.enabled is False
    assert cfg.state.backend == "file" and cfg.observability.tracing_enabled is False


def test_contract_default_of_recording_is_on_but_only_a_written_true_warns(
    cfg_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (cfg_dir / "server.yaml").write_text("")
    with caplog.at_level(logging.WARNING, logger="lunaroute.config"):
        cfg = load_config(cfg_dir, env={})
    assert cfg.storage.sessions_enabled is True  # CONTRACT §3: storage.sessions.enabled default true
    assert _warnings(caplog) == []


def test_fields_written_at_their_inert_values_are_silent(cfg_dir: Path, caplog: pytest.LogCaptureFixture) -> None:
    _server(
        storage={"sessions": {"enabled": False}, "compression": "zstd", "session_retention_days": 30},
        pii={"enabled": False, "mode": "mask", "custom": [], "restore_in_response": False},
        state={"backend": "file", "redis_url": None},
        observability={"tracing": {"enabled": False, "sample_rate": 0.1}},
        performance={
            "buffer_pool_size": 1000,
            "buffer_size_kb": 64,
            "stream_flush_interval_ms": 0,
            "arena_size_mb": 100,
            "state_persist_interval_secs": 10,
        },
    )(cfg_dir)
    write_json(cfg_dir / "keys.json", {"api_keys": [KEY]})
    with caplog.at_level(logging.WARNING, logger="lunaroute.config"):
        load_config(cfg_dir, env={})
    assert _warnings(caplog) == []


def test_the_bench_config_warns_about_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="lunaroute.config"):
        load_config(BENCH_CONFIG, env={"LUNAROUTE_BENCH_UPSTREAM_KEY": "k"})
    assert _warnings(caplog) == []
