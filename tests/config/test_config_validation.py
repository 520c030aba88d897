"""Strict validation: every wrong value is one ConfigError naming file, field and reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from lunaroute.config import ConfigError, load_config

from .config_testkit import SAMPLE_HASH, read_server, write_json, write_server

Edit = Callable[[dict[str, Any]], None]


def _set(path: str, value: Any) -> Edit:
    """An edit that sets a dotted path (`listeners.1.bind`) in the server document."""

    def edit(doc: dict[str, Any]) -> None:
        parts = path.split(".")
        node: Any = doc
        for part in parts[:-1]:
            node = node[int(part)] if isinstance(node, list) else node.setdefault(part, {})
        last = parts[-1]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


SERVER_CASES = [
    ("listeners.1.bind", "abc", "server.yaml: listeners[1].bind: expected host:port, got 'abc'"),
    (
        "listeners.0.bind",
        "127.0.0.1:70000",
        "server.yaml: listeners[0].bind: port must be between 1 and 65535, got 70000",
    ),
    ("listeners.0.bind", 8080, "server.yaml: listeners[0].bind: expected host:port, got 8080"),
    ("listeners.0.bind", "1.2.3:80", "server.yaml: listeners[0].bind: expected host:port"),
    ("listeners.1.bind", "127.0.0.1:8080", "server.yaml: listeners[1].bind: port 8080 is already used by listeners[0]"),
    ("listeners.1.id", "openai", "server.yaml: listeners[1].id: duplicate listener id 'openai'"),
    ("listeners.0.type", "grpc", "server.yaml: listeners[0].type: expected one of openai, anthropic, both, got 'grpc'"),
    ("listeners.0.max_body_size_mb", 0, "server.yaml: listeners[0].max_body_size_mb: must be greater than 0"),
    ("listeners.0.max_body_size_mb", "10", "server.yaml: listeners[0].max_body_size_mb: expected a number"),
    ("listeners.0.bnid", "x", "server.yaml: listeners[0].bnid: unknown field (did you mean 'bind'?)"),
    (
        "listeners.0.tls",
        {"cert": "certs/nope.crt", "key": "certs/nope.key"},
        "server.yaml: listeners[0].tls.cert: file not found",
    ),
    ("listeners", [], "server.yaml: listeners: at least one listener is needed"),
    ("providers", [], "server.yaml: providers: at least one provider is needed"),
    ("server.workers", 0, "server.yaml: server.workers: must be at least 1, got 0"),
    ("server.workers", "many", "server.yaml: server.workers: expected a number or 'auto', got 'many'"),
    ("server.workers", True, "server.yaml: server.workers: expected an integer, got true"),
    ("server.hot_reload", "yes", "server.yaml: server.hot_reload: expected true or false, got 'yes'"),
    ("server.max_conections", 5, "server.yaml: server.max_conections: unknown field (did you mean 'max_connections'?)"),
    ("providers.0.base_url", "ftp://x", "server.yaml: providers[0].base_url: expected an http:// or https:// URL"),
    ("providers.0.base_url", "https://api.openai.com?x=1", "server.yaml: providers[0].base_url: must not have a query"),
    ("providers.0.base_url", "https://u:p@h", "server.yaml: providers[0].base_url: must not hold credentials"),
    ("providers.0.base_url", "http://h:99999", "server.yaml: providers[0].base_url: not a valid URL"),
    (
        "providers.0.type",
        "gemini",
        "server.yaml: providers[0].type: expected one of openai, anthropic, openai_compatible",
    ),
    ("providers.1.name", "openai", "server.yaml: providers[1].name: duplicate provider name 'openai'"),
    ("providers.0.name", "has space", "server.yaml: providers[0].name: must be 1-64 letters"),
    ("providers.0.timeout_ms", -1, "server.yaml: providers[0].timeout_ms: must be at least 1, got -1"),
    ("providers.0.max_retries", 1.5, "server.yaml: providers[0].max_retries: expected an integer, got 1.5"),
    (
        "providers.0.api_key_env",
        "NOT-A-NAME",
        "server.yaml: providers[0].api_key_env: not an environment variable name",
    ),
    (
        "providers.0.connection_pool.min_idle",
        500,
        "server.yaml: providers[0].connection_pool.min_idle: must not exceed max_idle (100), got 500",
    ),
    (
        "providers.0.connection_pool.max_idle",
        5000,
        "server.yaml: providers[0].connection_pool.max_idle: must not exceed max_connections (1000)",
    ),
    (
        "providers.0.circuit_breaker.failure_threshold",
        0,
        "server.yaml: providers[0].circuit_breaker.failure_threshold: must be between 1",
    ),
    (
        "providers.0.circuit_breaker.reset_timeout",
        5,
        "server.yaml: providers[0].circuit_breaker.reset_timeout: unknown field",
    ),
    ("providers.0.transport", "curl", "server.yaml: providers[0].transport: expected one of auto, fast, httpx"),
    ("providers.0.http2", "auto", "server.yaml: providers[0].http2: expected true, false or null (auto)"),
    (
        "providers.0.extra_headers",
        {"Host": "x"},
        "server.yaml: providers[0].extra_headers.Host: this header is set by LunaRoute itself",
    ),
    (
        "providers.0.extra_headers",
        {"X-A": "a\r\nb"},
        "server.yaml: providers[0].extra_headers.X-A: must not contain line breaks",
    ),
    ("providers.0.extra_headers", {"X-A": 1}, "server.yaml: providers[0].extra_headers.X-A: expected a string, got 1"),
    (
        "providers.0.health_check",
        {"path": "models"},
        "server.yaml: providers[0].health_check.path: expected a path starting with '/'",
    ),
    ("providers.0.warmup_connections", 5000, "server.yaml: providers[0].warmup_connections: must be at most 1000"),
    ("providers", {"openai": {}}, "server.yaml: providers: expected a list, got a mapping"),
    ("storage.compression", "gzip", "server.yaml: storage.compression: expected one of zstd, lz4, none, got 'gzip'"),
    (
        "storage.encryption",
        {"enabled": True, "key_file": "keys/absent.key"},
        "server.yaml: storage.encryption.key_file: file not found",
    ),
    ("storage.sessions", {"enabled": 1}, "server.yaml: storage.sessions.enabled: expected true or false, got 1"),
    ("storage.session_retention_days", 0, "server.yaml: storage.session_retention_days: must be at least 1"),
    ("pii.mode", "hash", "server.yaml: pii.mode: expected one of mask, remove, partial, tokenize, got 'hash'"),
    ("pii.detectors", ["email", "passport"], "server.yaml: pii.detectors[1]: expected one of email"),
    ("pii.detectors", ["email", "email"], "server.yaml: pii.detectors[1]: duplicate value 'email'"),
    ("pii.custom", [{"name": "emp", "pattern": "("}], "server.yaml: pii.custom[0].pattern: invalid regular expression"),
    (
        "pii.custom",
        [{"name": "emp", "pattern": "a*"}],
        "server.yaml: pii.custom[0].pattern: must not match the empty string",
    ),
    ("pii.custom", [{"name": "emp"}], "server.yaml: pii.custom[0].pattern: give exactly one of pattern or keywords"),
    (
        "pii.custom",
        [{"name": "email", "keywords": ["x"]}],
        "server.yaml: pii.custom[0].name: 'email' is a built-in detector name",
    ),
    ("state.backend", "redis", "server.yaml: state.redis_url: required when backend is redis"),
    ("state.redis_url", "http://x", "server.yaml: state.redis_url"),
    (
        "observability.metrics.bind",
        "127.0.0.1:8081",
        "server.yaml: observability.metrics.bind: port 8081 is already used by listeners[1]",
    ),
    ("observability.logging.level", "loud", "server.yaml: observability.logging.level: expected one of"),
    ("observability.tracing.sample_rate", 2, "server.yaml: observability.tracing.sample_rate: must be at most 1"),
    (
        "observability.tracing.sample_rate",
        float("nan"),
        "server.yaml: observability.tracing.sample_rate: expected a finite number",
    ),
    ("performance.buffer_size_kb", 0, "server.yaml: performance.buffer_size_kb: must be at least 1"),
    ("routing", {}, "server.yaml: routing: unknown field"),
]


@pytest.mark.parametrize(("path", "value", "expected"), SERVER_CASES, ids=[c[0] for c in SERVER_CASES])
def test_server_file_errors(cfg_dir: Path, path: str, value: Any, expected: str) -> None:
    doc = read_server(cfg_dir)
    _set(path, value)(doc)
    write_server(cfg_dir, doc)
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    message = str(info.value)
    assert message.startswith(expected), message
    assert "\n" not in message
    assert info.value.file == "server.yaml"


def test_listener_type_both_needs_a_bind(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["listeners"].append({"id": "mixed", "type": "both"})
    write_server(cfg_dir, doc)
    with pytest.raises(ConfigError, match=r"listeners\[2\]\.bind: required for a listener of type 'both'"):
        load_config(cfg_dir, env={})


def test_provider_type_required_for_other_names(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["providers"].append({"name": "local", "base_url": "http://127.0.0.1:11434"})
    write_server(cfg_dir, doc)
    with pytest.raises(ConfigError, match=r"providers\[2\]\.type: required unless the name is openai or anthropic"):
        load_config(cfg_dir, env={})
    doc["providers"][2]["type"] = "openai_compatible"
    write_server(cfg_dir, doc)
    local = load_config(cfg_dir, env={}).providers["local"]
    assert local.dialect == "openai" and local.api_key_env == "OPENAI_API_KEY"
    doc["providers"].append({"name": "vllm", "type": "openai_compatible"})
    write_server(cfg_dir, doc)
    with pytest.raises(ConfigError, match=r"providers\[3\]\.base_url: required for an openai_compatible provider"):
        load_config(cfg_dir, env={})


def test_route_errors_come_from_the_routes_file(cfg_dir: Path) -> None:
    write_json(
        cfg_dir / "routes.json", {"rules": [{"id": "r", "match": {"model": "*"}, "target": {"provider": "nobody"}}]}
    )
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    assert info.value.file == "routes.json" and "rules[0].target.provider" in str(info.value)


KEY = {"id": "k1", "name": "n", "key_hash": SAMPLE_HASH}
KEY_CASES = [
    ({**KEY, "key_hash": "plain-text-key"}, "keys.json: api_keys[0].key_hash: must be an argon2id hash"),
    ({**KEY, "key_hash": "$argon2id$garbage"}, "keys.json: api_keys[0].key_hash: not a well-formed argon2id hash"),
    (
        {**KEY, "scopes": ["superuser"]},
        "keys.json: api_keys[0].scopes[0]: expected one of openai_ingress, anthropic_ingress, admin",
    ),
    (
        {**KEY, "expires_at": "next week"},
        "keys.json: api_keys[0].expires_at: expected an ISO 8601 timestamp, got 'next week'",
    ),
    (
        {**KEY, "rate_limit": {"requests_per_second": 0}},
        "keys.json: api_keys[0].rate_limit.requests_per_second: must be greater than 0",
    ),
    ({**KEY, "rate_limit": {"burst": 0}}, "keys.json: api_keys[0].rate_limit.burst: must be at least 1"),
    ({**KEY, "budget_id": "nope"}, "keys.json: api_keys[0].budget_id: no budget with id 'nope' in budgets.json"),
    ({**KEY, "id": "bad id"}, "keys.json: api_keys[0].id: must be letters"),
    ({**KEY, "secret": "x"}, "keys.json: api_keys[0].secret: unknown field"),
    ({k: v for k, v in KEY.items() if k != "name"}, "keys.json: api_keys[0].name: required field is missing"),
]


@pytest.mark.parametrize(("entry", "expected"), KEY_CASES, ids=[c[1].split(": ")[1] for c in KEY_CASES])
def test_keys_file_errors(cfg_dir: Path, entry: dict[str, Any], expected: str) -> None:
    write_json(cfg_dir / "keys.json", {"api_keys": [entry]})
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    assert str(info.value).startswith(expected), str(info.value)


def test_duplicate_key_ids(cfg_dir: Path) -> None:
    write_json(cfg_dir / "keys.json", {"api_keys": [KEY, KEY]})
    with pytest.raises(ConfigError, match=r"api_keys\[1\]\.id: duplicate key id 'k1'"):
        load_config(cfg_dir, env={})


BUDGET = {
    "id": "b",
    "scope": {"type": "tenant", "id": "acme"},
    "windows": [{"type": "daily", "limits": {"tokens": 10}}],
}
BUDGET_CASES = [
    (
        {**BUDGET, "scope": {"type": "team", "id": "x"}},
        "budgets.json: budgets[0].scope.type: expected one of key, tenant, global",
    ),
    ({**BUDGET, "scope": {"type": "key"}}, "budgets.json: budgets[0].scope.id: required for a 'key' scope"),
    ({**BUDGET, "windows": []}, "budgets.json: budgets[0].windows: at least one window is needed"),
    (
        {**BUDGET, "windows": [{"type": "daily", "limits": {}}]},
        "budgets.json: budgets[0].windows[0].limits: set at least one of tokens, requests, cost_cents",
    ),
    (
        {**BUDGET, "windows": [{"type": "yearly", "limits": {"tokens": 1}}]},
        "budgets.json: budgets[0].windows[0].type: expected one of hourly, daily, weekly, monthly",
    ),
    (
        {**BUDGET, "windows": [{"type": "daily", "limits": {"tokens": -1}}]},
        "budgets.json: budgets[0].windows[0].limits.tokens: must be at least 0",
    ),
    (
        {**BUDGET, "enforcement": {"soft_limit_percent": 120}},
        "budgets.json: budgets[0].enforcement.soft_limit_percent: must be at most 100",
    ),
    (
        {**BUDGET, "enforcement": {"actions": ["explode"]}},
        "budgets.json: budgets[0].enforcement.actions[0]: expected one of",
    ),
]


@pytest.mark.parametrize(("entry", "expected"), BUDGET_CASES, ids=[c[1].split(": ")[1] for c in BUDGET_CASES])
def test_budget_file_errors(cfg_dir: Path, entry: dict[str, Any], expected: str) -> None:
    write_json(cfg_dir / "budgets.json", {"budgets": [entry]})
    with pytest.raises(ConfigError) as info:
        load_config(cfg_dir, env={})
    assert str(info.value).startswith(expected), str(info.value)


def test_budgets_are_normalised(cfg_dir: Path) -> None:
    write_json(
        cfg_dir / "budgets.json",
        {
            "budgets": [
                {"id": "g", "scope": {"type": "global"}, "windows": [{"type": "hourly", "limits": {"requests": 5}}]}
            ]
        },
    )
    assert load_config(cfg_dir, env={}).budgets == [
        {
            "id": "g",
            "scope": {"type": "global", "id": None},
            "windows": [{"type": "hourly", "limits": {"tokens": None, "requests": 5, "cost_cents": None}}],
            "enforcement": {"soft_limit_percent": 80.0, "actions": [], "throttle": None, "reroute_to": None},
            "timezone": "UTC",
        }
    ]


def test_nulls_mean_defaults(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["server"]["max_connections"] = None
    doc["pii"] = None
    doc["providers"][0]["timeout_ms"] = None
    write_server(cfg_dir, doc)
    cfg = load_config(cfg_dir, env={})
    assert cfg.server.max_connections == 10000
    assert cfg.pii.enabled is False and cfg.providers["openai"].timeout_ms == 30000


def test_api_key_env_null_disables_the_env_lookup(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["providers"][0]["api_key_env"] = None
    write_server(cfg_dir, doc)
    openai = load_config(cfg_dir, env={"OPENAI_API_KEY": "sk"}).providers["openai"]
    assert openai.api_key_env is None and openai.api_key is None


def test_pii_and_state_good_values(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["pii"] = {
        "enabled": True,
        "mode": "tokenize",
        "detectors": ["email"],
        "restore_in_response": True,
        "custom": [
            {"name": "emp_id", "pattern": "EMP-[0-9]{6}"},
            {"name": "codename", "keywords": ["bluebird", "falcon"]},
        ],
    }
    doc["state"] = {"backend": "redis", "redis_url": "redis://127.0.0.1:6379/0"}
    doc["observability"]["logging"]["level"] = "warn"
    write_server(cfg_dir, doc)
    cfg = load_config(cfg_dir, env={})
    assert cfg.pii.enabled and cfg.pii.mode == "tokenize" and cfg.pii.detectors == ("email",)
    assert cfg.pii.custom == (
        {"name": "emp_id", "pattern": "EMP-[0-9]{6}"},
        {"name": "codename", "keywords": ["bluebird", "falcon"]},
    )
    assert cfg.state.backend == "redis" and cfg.state.redis_url == "redis://127.0.0.1:6379/0"
    assert cfg.observability.log_level == "warning"


def test_encryption_key_file_checked_when_enabled(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["storage"]["encryption"] = {"enabled": True}
    write_server(cfg_dir, doc)
    assert load_config(cfg_dir, env={}).storage.encryption_enabled  # init's 32-byte key
    (cfg_dir / "keys" / "session.key").write_bytes(b"short")
    with pytest.raises(ConfigError, match="must hold exactly 32 raw bytes"):
        load_config(cfg_dir, env={})
