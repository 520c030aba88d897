"""ProviderConfig derived values: dialect, URLs, credentials, defaults by type."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.config import ProviderConfig, load_config

from .config_testkit import read_server, write_server


def _provider(base_url: str, kind: str = "openai") -> ProviderConfig:
    return ProviderConfig(name="p", type=kind, base_url=base_url)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("base", "path", "url"),
    [
        ("https://api.openai.com", "/v1/chat/completions", "https://api.openai.com/v1/chat/completions"),
        ("https://gw.example/v1", "/v1/chat/completions", "https://gw.example/v1/chat/completions"),
        ("http://127.0.0.1:18000/stream", "/v1/messages", "http://127.0.0.1:18000/stream/v1/messages"),
        ("http://h/openai/v1", "/v1/models", "http://h/openai/v1/models"),
        ("http://h/v1beta", "/v1/models", "http://h/v1beta/v1/models"),
        ("http://h", "v1/models", "http://h/v1/models"),
    ],
)
def test_url_appends_the_api_path_once(base: str, path: str, url: str) -> None:
    assert _provider(base).url(path) == url


def test_dialects_and_chat_urls() -> None:
    assert _provider("http://h", "openai_compatible").dialect == "openai"
    assert _provider("http://h", "anthropic").chat_url == "http://h/v1/messages"
    assert _provider("http://h/v1", "openai").chat_url == "http://h/v1/chat/completions"


def test_base_url_normalised_and_defaults_by_type(cfg_dir: Path) -> None:
    doc = read_server(cfg_dir)
    doc["providers"] = [
        {"name": "openai"},
        {"name": "claude", "type": "anthropic"},
        {
            "name": "local",
            "type": "openai_compatible",
            "base_url": "http://127.0.0.1:8000/v1/",
            "api_key_env": "LOCAL_KEY",
            "http2": False,
            "transport": "fast",
            "extra_headers": {"X-Org": "acme"},
            "health_check": {"enabled": True, "path": "/health"},
            "connection_pool": {"min_idle": 2, "max_idle": 4, "max_connections": 8},
            "warmup_connections": 2,
            "default_max_tokens": 1024,
            "anthropic_version": "2024-01-01",
        },
    ]
    write_server(cfg_dir, doc)
    (cfg_dir / "routes.json").write_text('{"rules": []}')
    cfg = load_config(cfg_dir, env={"LOCAL_KEY": "lk", "ANTHROPIC_API_KEY": "ak"})
    assert cfg.providers["openai"].base_url == "https://api.openai.com"
    claude = cfg.providers["claude"]
    assert claude.base_url == "https://api.anthropic.com" and claude.api_key == "ak"
    local = cfg.providers["local"]
    assert local.base_url == "http://127.0.0.1:8000/v1"
    assert local.url("/v1/chat/completions") == "http://127.0.0.1:8000/v1/chat/completions"
    assert (local.api_key, local.http2, local.transport) == ("lk", False, "fast")
    assert local.extra_headers == {"X-Org": "acme"}
    assert local.health_check.enabled and local.health_check.path == "/health"
    assert (local.pool_min_idle, local.pool_max_idle, local.pool_max_connections) == (2, 4, 8)
    assert (local.warmup_connections, local.default_max_tokens) == (2, 1024)
    assert local.anthropic_version == "2024-01-01"


def test_equal_configs_compare_equal(cfg_dir: Path) -> None:
    # The server keeps a provider's warm connections across reloads when its config is equal.
    first = load_config(cfg_dir, env={"OPENAI_API_KEY": "a"})
    second = load_config(cfg_dir, env={"OPENAI_API_KEY": "a"})
    third = load_config(cfg_dir, env={"OPENAI_API_KEY": "b"})
    assert first.providers == second.providers
    assert first.providers["openai"] != third.providers["openai"]
    assert hash(first.listeners[0]) == hash(second.listeners[0])


@settings(max_examples=150, deadline=None)
@given(
    host=st.from_regex(r"[a-z][a-z0-9-]{0,10}(\.[a-z]{2,5})?", fullmatch=True),
    prefix=st.from_regex(r"(/[a-z0-9]{1,6}){0,2}", fullmatch=True),
    v1=st.booleans(),
    path=st.sampled_from(["/v1/chat/completions", "/v1/messages", "/v1/models"]),
)
def test_url_never_doubles_v1(host: str, prefix: str, v1: bool, path: str) -> None:
    base = f"https://{host}{prefix}{'/v1' if v1 else ''}"
    url = _provider(base).url(path)
    assert url.startswith(base) and url.endswith(path[3:])
    assert "/v1/v1/" not in url
