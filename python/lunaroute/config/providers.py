"""`providers:` of server.yaml → ProviderConfig by name."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from ..bad_value import describe
from ..errors import ConfigError
from ..routing.breakers import BreakerSettings
from .reader import Obj, element, join
from .schema import HealthCheckConfig, ProviderConfig

PROVIDER_TYPES = ("openai", "anthropic", "openai_compatible")
TRANSPORTS = ("auto", "fast", "httpx")
DEFAULT_BASE_URLS = {"openai": "https://api.openai.com", "anthropic": "https://api.anthropic.com"}
DEFAULT_KEY_ENVS = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY"}

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an RFC 9110 token
# Headers that frame or address the upstream request; LunaRoute sets these itself.
_RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "connection",
        "upgrade",
        "te",
        "trailer",
        "keep-alive",
        "proxy-connection",
    }
)


def default_providers(env: Mapping[str, str] | None = None) -> dict[str, ProviderConfig]:
    environ = os.environ if env is None else env
    return {
        name: ProviderConfig(
            name=name,
            type=name,
            base_url=DEFAULT_BASE_URLS[name],
            api_key_env=DEFAULT_KEY_ENVS[name],
            api_key=environ.get(DEFAULT_KEY_ENVS[name]) or None,
            circuit_breaker=BreakerSettings(),
        )
        for name in ("openai", "anthropic")
    }


def parse_providers(doc: Obj, env: Mapping[str, str] | None = None) -> dict[str, ProviderConfig]:
    if not doc.has("providers") or doc.data["providers"] is None:
        doc.ignore("providers")
        return default_providers(env)
    if not doc.list("providers"):
        raise doc.error("providers", "at least one provider is needed")
    out: dict[str, ProviderConfig] = {}
    for i, value in doc.items("providers"):
        item = element(value, doc.file, join(doc.field("providers"), i))
        provider = _parse_one(item, os.environ if env is None else env)
        if provider.name in out:
            raise item.error("name", f"duplicate provider name '{provider.name}'")
        out[provider.name] = provider
    return out


def _parse_one(item: Obj, environ: Mapping[str, str]) -> ProviderConfig:
    name = item.str("name")
    if not _NAME.fullmatch(name):
        raise item.error("name", f"must be 1-64 letters, digits, '_', '.' or '-', got {describe(name)}")
    if item.raw("type", None) is None and name not in ("openai", "anthropic"):
        raise item.error(
            "type",
            f"required unless the name is openai or anthropic (one of {', '.join(PROVIDER_TYPES)})",
        )
    kind = item.str("type", name, choices=PROVIDER_TYPES)
    dialect = "anthropic" if kind == "anthropic" else "openai"

    if kind == "openai_compatible" and item.raw("base_url", None) is None:
        raise item.error("base_url", "required for an openai_compatible provider")
    base_url = _base_url(item, item.str("base_url", DEFAULT_BASE_URLS.get(kind, "")))

    api_key_env, api_key = _credentials(item, dialect, environ)
    pool = item.obj("connection_pool")
    min_idle = pool.int("min_idle", 0, min=0, max=100_000)
    max_idle = pool.int("max_idle", 100, min=0, max=100_000)
    max_connections = pool.int("max_connections", 1000, min=1, max=100_000)
    if min_idle > max_idle:
        raise pool.error("min_idle", f"must not exceed max_idle ({max_idle}), got {min_idle}")
    if max_idle > max_connections:
        raise pool.error("max_idle", f"must not exceed max_connections ({max_connections}), got {max_idle}")
    pool.finish()

    # The routing package owns the breaker settings and their limits.
    circuit_breaker = BreakerSettings.from_config(
        item.raw("circuit_breaker", None), file=item.file, field=item.field("circuit_breaker")
    )

    http2 = item.raw("http2", None)
    if http2 is not None and not isinstance(http2, bool):
        raise item.error("http2", f"expected true, false or null (auto), got {describe(http2)}")

    provider = ProviderConfig(
        name=name,
        type=kind,
        base_url=base_url,
        api_key_env=api_key_env,
        api_key=api_key,
        timeout_ms=item.int("timeout_ms", 30000, min=1, max=86_400_000),
        connect_timeout_ms=item.int("connect_timeout_ms", 5000, min=1, max=3_600_000),
        max_retries=item.int("max_retries", 2, min=0, max=100),
        pool_min_idle=min_idle,
        pool_max_idle=max_idle,
        pool_max_connections=max_connections,
        http2=http2,
        transport=item.str("transport", "auto", choices=TRANSPORTS),
        circuit_breaker=circuit_breaker,
        default_max_tokens=item.int("default_max_tokens", 4096, min=1, max=100_000_000),
        anthropic_version=item.str("anthropic_version", "2023-06-01"),
        extra_headers=_extra_headers(item),
        health_check=_health_check(item),
        warmup_connections=item.int("warmup_connections", 0, min=0, max=max_connections),
    )
    item.finish()
    return provider


def _base_url(item: Obj, value: str) -> str:
    url = value.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise item.error("base_url", f"not a valid URL: {describe(value)}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise item.error("base_url", f"expected an http:// or https:// URL, got {describe(value)}")
    if parts.query or parts.fragment or "?" in url or "#" in url:
        raise item.error("base_url", f"must not have a query or fragment, got {describe(value)}")
    if parts.username is not None or parts.password is not None:
        raise item.error("base_url", "must not hold credentials (use api_key_env)")
    if port == 0:
        raise item.error("base_url", f"port must be between 1 and 65535, got {describe(value)}")
    if any(c.isspace() for c in url):
        raise item.error("base_url", f"must not contain whitespace, got {describe(value)}")
    return url


def _credentials(item: Obj, dialect: str, environ: Mapping[str, str]) -> tuple[str | None, str | None]:
    """(api_key_env, api_key). An explicit `api_key_env: null` turns the env lookup off."""
    if item.has("api_key_env") and item.data["api_key_env"] is None:
        item.ignore("api_key_env")
        api_key_env = None
    else:
        api_key_env = item.str("api_key_env", DEFAULT_KEY_ENVS[dialect])
        if not _ENV_NAME.fullmatch(api_key_env):
            raise item.error("api_key_env", f"not an environment variable name: {describe(api_key_env)}")
    explicit = item.str("api_key", None, allow_empty=True)
    if explicit:
        return api_key_env, explicit
    from_env = environ.get(api_key_env) if api_key_env else None
    return api_key_env, (from_env or None)


def _extra_headers(item: Obj) -> dict[str, str]:
    headers = item.str_map("extra_headers")
    for name, value in headers.items():
        field = f"{item.field('extra_headers')}.{name}"
        if not _HEADER_NAME.fullmatch(name):
            raise ConfigError(item.file, field, "not a valid header name")
        if name.lower() in _RESERVED_HEADERS:
            raise ConfigError(item.file, field, "this header is set by LunaRoute itself")
        if any(c in value for c in "\r\n\0"):
            raise ConfigError(item.file, field, "must not contain line breaks or NUL")
    return headers


def _health_check(item: Obj) -> HealthCheckConfig:
    check = item.obj("health_check")
    result = HealthCheckConfig(
        enabled=check.bool("enabled", False),
        interval_ms=check.int("interval_ms", 10000, min=100, max=86_400_000),
        path=check.str("path", "/v1/models"),
    )
    if not result.path.startswith("/") or any(c.isspace() for c in result.path):
        raise check.error("path", f"expected a path starting with '/', got {describe(result.path)}")
    check.finish()
    return result
