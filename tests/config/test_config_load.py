"""Loading whole config directories: the defaults, the shared bench config, the spec example."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from lunaroute.config import ConfigError, ConfigExistsError, load_config, write_default_config
from lunaroute.routing import BreakerSettings, RouteRequest, RouteTable

from .config_testkit import BENCH_CONFIG, read_server, write_json, write_server


def test_defaults_load_with_documented_values(cfg_dir: Path) -> None:
    cfg = load_config(cfg_dir, env={})
    assert cfg.config_dir == cfg_dir.resolve()
    assert cfg.data_dir == cfg_dir.resolve() / "data"
    assert set(cfg.sources) == {"server", "routes", "keys", "budgets"}
    assert cfg.server.workers == (os.cpu_count() or 1)
    assert cfg.server.hot_reload is True and cfg.server.drain_timeout_secs == 30.0
    assert [(lst.id, lst.type, lst.host, lst.port) for lst in cfg.listeners] == [
        ("openai", "openai", "127.0.0.1", 8080),
        ("anthropic", "anthropic", "127.0.0.1", 8081),
    ]
    assert cfg.listeners[0].max_body_bytes == 10 * 1024 * 1024
    openai, anthropic = cfg.providers["openai"], cfg.providers["anthropic"]
    assert openai.base_url == "https://api.openai.com" and openai.api_key is None
    assert openai.url("/v1/chat/completions") == "https://api.openai.com/v1/chat/completions"
    assert anthropic.dialect == "anthropic" and anthropic.api_key_env == "ANTHROPIC_API_KEY"
    assert openai.circuit_breaker == BreakerSettings(5, 30000, 3)
    # Sessions are recorded by default (CONTRACT §3), compressed with zstd, not encrypted.
    assert cfg.storage.sessions_enabled is True and cfg.storage.compression == "zstd"
    assert cfg.storage.encryption_enabled is False
    assert cfg.storage.key_file == cfg_dir.resolve() / "keys" / "session.key"
    assert (cfg.observability.metrics_host, cfg.observability.metrics_port) == ("127.0.0.1", 9090)
    assert cfg.keys == [] and cfg.budgets == [] and len(cfg.prompts) == 0
    assert len(cfg.routes) == 2


def test_default_routes_are_catch_all_per_dialect(cfg_dir: Path) -> None:
    table = RouteTable.compile(load_config(cfg_dir, env={}).routes)
    for listener, provider in (("openai", "openai"), ("anthropic", "anthropic")):
        decision = table.explain(RouteRequest(listener, listener, "any-model-at-all", {}))
        assert decision["primary"] == {"provider": provider, "model": "any-model-at-all"}


def test_provider_keys_come_from_the_environment(cfg_dir: Path) -> None:
    cfg = load_config(cfg_dir, env={"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": ""})
    assert cfg.providers["openai"].api_key == "sk-test"
    assert cfg.providers["anthropic"].api_key is None  # empty means "pass the client's key"
    assert "sk-test" not in repr(cfg.providers["openai"])


def test_init_files_and_session_key(tmp_path: Path) -> None:
    target = tmp_path / "new" / "cfg"
    written = write_default_config(target)
    assert {p.name for p in written} == {"server.yaml", "routes.json", "keys.json", "budgets.json", "session.key"}
    for folder in ("data", "certs", "keys"):
        assert (target / folder).is_dir()
    key = target / "keys" / "session.key"
    assert len(key.read_bytes()) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert "# " in (target / "server.yaml").read_text()  # commented


def test_init_refuses_then_force_keeps_session_key(cfg_dir: Path) -> None:
    key_before = (cfg_dir / "keys" / "session.key").read_bytes()
    with pytest.raises(ConfigExistsError) as info:
        write_default_config(cfg_dir)
    assert "already exist" in str(info.value)
    (cfg_dir / "routes.json").unlink()
    (cfg_dir / "routes.yaml").write_text("rules: []\n")
    write_default_config(cfg_dir, force=True)
    assert not (cfg_dir / "routes.yaml").exists()  # its twin would make the stem ambiguous
    assert (cfg_dir / "keys" / "session.key").read_bytes() == key_before
    load_config(cfg_dir, env={})


def test_shared_bench_config_loads() -> None:
    cfg = load_config(BENCH_CONFIG, env={"LUNAROUTE_BENCH_UPSTREAM_KEY": "k"})
    assert cfg.server.workers == 1 and cfg.server.hot_reload is False
    assert set(cfg.providers) == {"mock-openai", "mock-openai-stream", "mock-anthropic", "mock-anthropic-stream"}
    stream = cfg.providers["mock-anthropic-stream"]
    assert stream.url("/v1/messages") == "http://127.0.0.1:18000/stream/v1/messages"
    assert stream.api_key == "k" and stream.max_retries == 0
    assert cfg.storage.sessions_enabled is False
    assert cfg.observability.log_level == "error"
    assert len(cfg.routes) == 8


SPEC_SERVER = """
server:
  workers: auto  # Use CPU count
  max_connections: 10000
  keepalive_timeout_secs: 60

listeners:
  - id: openai_primary
    type: openai
    bind: 0.0.0.0:8080
    tls:
      cert: {certs}/server.crt
      key: {certs}/server.key
    max_body_size_mb: 10

  - id: anthropic_primary
    type: anthropic
    bind: 0.0.0.0:8081
    tls:
      cert: {certs}/server.crt
      key: {certs}/server.key
    max_body_size_mb: 10

providers:
  - name: openai
    base_url: https://api.openai.com
    timeout_ms: 30000
    max_retries: 2
    connection_pool:
      min_idle: 10
      max_idle: 100

  - name: anthropic
    base_url: https://api.anthropic.com
    timeout_ms: 30000
    max_retries: 2
    connection_pool:
      min_idle: 10
      max_idle: 100

storage:
  config_path: ~/.config/lunaroute
  data_path: {data}
  session_retention_days: 30
  compression: zstd
  encryption:
    enabled: false
    key_file: ~/.config/lunaroute/keys/session.key

observability:
  metrics:
    enabled: true
    bind: 0.0.0.0:9090

  tracing:
    enabled: true
    endpoint: http://localhost:4317
    sample_rate: 0.1

  logging:
    level: info
    format: json

performance:
  buffer_pool_size: 1000
  buffer_size_kb: 64
  arena_size_mb: 100
  stream_flush_interval_ms: 100
  state_persist_interval_secs: 10
"""

SPEC_ROUTES = {
    "rules": [
        {
            "id": "rule_01",
            "priority": 100,
            "listener": "openai",
            "match": {"model": "gpt-4o", "headers": {"X-User-Tier": "paid"}},
            "target": {"provider": "anthropic", "model": "claude-3.5-sonnet"},
            "fallbacks": [{"provider": "openai", "model": "gpt-4o-mini"}],
            "options": {"strip_unsupported_tools": True, "timeout_ms": 20000},
        },
        {
            "id": "rule_02",
            "priority": 200,
            "listener": "anthropic",
            "match": {"model": "claude-3.5-haiku"},
            "target": {"provider": "openai", "model": "gpt-4o-mini"},
            "fallbacks": [],
        },
    ]
}

SPEC_KEYS = {
    "api_keys": [
        {
            "id": "key_001",
            "key_hash": "$argon2id$v=19$m=65536,t=3,p=4$c29tZXNhbHRzb21lc2FsdA$"
            "3bDKw5Ie9fvUWfHrV0w7ik6A9KkQ0y1sXSMPbKZTYk0",
            "name": "Production API Key",
            "tenant": "default",
            "scopes": ["openai_ingress", "anthropic_ingress"],
            "rate_limit": {"requests_per_second": 100, "burst": 200},
            "budget_id": "budget_001",
            "created_at": "2025-10-01T00:00:00Z",
            "expires_at": None,
        }
    ]
}

SPEC_BUDGETS = {
    "budgets": [
        {
            "id": "budget_001",
            "scope": {"type": "key", "id": "key_001"},
            "windows": [
                {"type": "daily", "limits": {"tokens": 1000000, "requests": 10000, "cost_cents": 5000}},
                {"type": "monthly", "limits": {"tokens": 20000000, "requests": 200000, "cost_cents": 100000}},
            ],
            "enforcement": {"soft_limit_percent": 80, "actions": ["throttle", "reroute_to_cheaper"]},
        }
    ]
}


def test_spec_example_loads(tmp_path: Path) -> None:
    cfg_dir = tmp_path / "spec"
    certs = tmp_path / "certs"
    certs.mkdir(parents=True)
    cfg_dir.mkdir()
    for name in ("server.crt", "server.key"):
        (certs / name).write_text("placeholder PEM; only existence is checked at load\n")
    (cfg_dir / "server.yaml").write_text(SPEC_SERVER.format(certs=certs, data=tmp_path / "d"))
    write_json(cfg_dir / "routes.json", SPEC_ROUTES)
    write_json(cfg_dir / "keys.json", SPEC_KEYS)
    write_json(cfg_dir / "budgets.json", SPEC_BUDGETS)
    cfg = load_config(cfg_dir, env={})
    assert cfg.data_dir == tmp_path / "d"  # storage.data_path, as no --data-dir was given
    assert load_config(cfg_dir, tmp_path / "other", env={}).data_dir == tmp_path / "other"
    assert cfg.listeners[0].tls is not None and cfg.listeners[0].tls.cert == certs / "server.crt"
    assert cfg.listeners[1].bind == "0.0.0.0:8081"
    assert cfg.providers["openai"].pool_min_idle == 10
    assert cfg.providers["anthropic"].type == "anthropic"
    assert cfg.observability.tracing_enabled and cfg.observability.sample_rate == 0.1
    assert cfg.performance.stream_flush_interval_ms == 100
    assert cfg.performance.state_persist_interval_secs == 10.0
    key = cfg.keys[0]
    assert (key.rps, key.burst, key.budget_id, key.scopes) == (
        100.0,
        200,
        "budget_001",
        ("openai_ingress", "anthropic_ingress"),
    )
    assert key.created_at == "2025-10-01T00:00:00Z" and key.expires_at is None
    assert cfg.budgets[0]["windows"][1] == {
        "type": "monthly",
        "limits": {"tokens": 20000000, "requests": 200000, "cost_cents": 100000},
    }
    assert cfg.budgets[0]["enforcement"]["actions"] == ["throttle", "reroute_to_cheaper"]
    assert [r.id for r in cfg.routes] == ["rule_01", "rule_02"]


def test_missing_directory_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config directory not found"):
        load_config(tmp_path / "absent")
    (tmp_path / "server.yaml").write_text("")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path)
    assert info.value.file == "routes.json" and "missing" in info.value.reason


def test_optional_files_default_to_empty(cfg_dir: Path) -> None:
    (cfg_dir / "keys.json").unlink()
    (cfg_dir / "budgets.json").unlink()
    cfg = load_config(cfg_dir, env={})
    assert cfg.keys == [] and cfg.budgets == [] and set(cfg.sources) == {"server", "routes"}


def test_minimal_server_file_uses_every_default(cfg_dir: Path) -> None:
    (cfg_dir / "server.yaml").write_text("")
    cfg = load_config(cfg_dir, env={})
    assert [lst.port for lst in cfg.listeners] == [8080, 8081]
    assert set(cfg.providers) == {"openai", "anthropic"}


def test_prompts_file_is_optional_and_must_be_a_mapping(cfg_dir: Path) -> None:
    write_json(cfg_dir / "prompts.json", {"patches": []})
    assert len(load_config(cfg_dir, env={}).prompts) == 0
    write_json(cfg_dir / "prompts.json", {"patches": [{"id": "p", "append": "Be brief."}]})
    assert [p.id for p in load_config(cfg_dir, env={}).prompts] == ["p"]
    write_json(cfg_dir / "prompts.json", [1, 2])
    with pytest.raises(ConfigError, match="prompts.json"):
        load_config(cfg_dir, env={})


def test_hand_edited_yaml_keeps_working(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["listeners"].append({"id": "both", "type": "both", "bind": "[::1]:8090"})
    write_server(cfg_dir, doc)
    listener = load_config(cfg_dir, env={}).listener("both")
    assert listener is not None and (listener.host, listener.port) == ("::1", 8090)
    assert listener.bind == "[::1]:8090"
