"""The typed, validated config: what every other part of LunaRoute reads.

Plain frozen dataclasses (no behaviour beyond derived values), built by `loader.py` from the
files of the config directory. Field names are an interface: the server, the egress
connectors and the CLI read exactly these names. The file shapes they come from are
documented in docs/CONFIG.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ..prompts import PromptPatches
from ..routing.breakers import BreakerSettings

ListenerType = Literal["openai", "anthropic", "both"]
ProviderType = Literal["openai", "anthropic", "openai_compatible"]
Dialect = Literal["openai", "anthropic"]


@dataclass(frozen=True, slots=True)
class ServerConfig:
    workers: int = 1
    max_connections: int = 10000
    keepalive_timeout_secs: int = 60
    hot_reload: bool = True
    drain_timeout_secs: float = 30.0


@dataclass(frozen=True, slots=True)
class TlsConfig:
    cert: Path
    key: Path


@dataclass(frozen=True, slots=True)
class ListenerConfig:
    id: str
    type: ListenerType
    host: str
    port: int
    tls: TlsConfig | None = None
    max_body_size_mb: float = 10
    max_body_bytes: int = 10 * 1024 * 1024
    bypass: bool | None = None  # None: the top-level `bypass`

    @property
    def bind(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class HealthCheckConfig:
    enabled: bool = False
    interval_ms: int = 10000
    path: str = "/v1/models"


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    name: str
    type: ProviderType
    base_url: str
    api_key_env: str | None = None
    api_key: str | None = field(default=None, repr=False)
    timeout_ms: int = 30000
    connect_timeout_ms: int = 5000
    max_retries: int = 2
    pool_min_idle: int = 0
    pool_max_idle: int = 100
    pool_max_connections: int = 1000
    http2: bool | None = None
    transport: Literal["auto", "fast", "httpx"] = "auto"
    circuit_breaker: BreakerSettings = field(default_factory=BreakerSettings)
    default_max_tokens: int = 4096
    anthropic_version: str = "2023-06-01"
    extra_headers: dict[str, str] = field(default_factory=dict)
    health_check: HealthCheckConfig = field(default_factory=HealthCheckConfig)
    warmup_connections: int = 0
    # Derived from `type`; a field rather than a property because every request reads it.
    dialect: Dialect = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "dialect", "anthropic" if self.type == "anthropic" else "openai")

    def url(self, path: str) -> str:
        """The upstream URL of an API path such as `/v1/chat/completions`.

        `base_url` is an origin (plus an optional prefix); a base that already ends in `/v1`
        does not get a second one.
        """
        if not path.startswith("/"):
            path = "/" + path
        if self.base_url.endswith("/v1") and (path == "/v1" or path.startswith("/v1/")):
            path = path[3:]
        return self.base_url + path

    @property
    def chat_url(self) -> str:
        """The URL requests of this provider's dialect are sent to."""
        return self.url("/v1/messages" if self.dialect == "anthropic" else "/v1/chat/completions")


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    key_hash: str = field(repr=False)
    tenant: str = "default"
    scopes: tuple[str, ...] = ("openai_ingress", "anthropic_ingress")
    rps: float | None = None
    burst: int | None = None
    budget_id: str | None = None
    created_at: str = ""
    expires_at: str | None = None
    tpm: int | None = None  # rate_limit.tokens_per_minute


@dataclass(frozen=True, slots=True)
class StorageConfig:
    sessions_enabled: bool = True
    compression: Literal["zstd", "lz4", "none"] = "zstd"
    encryption_enabled: bool = False
    key_file: Path = Path("keys/session.key")
    retention_days: int = 30
    # Recording (docs/RECORDING.md): zstd level, durability, the recorder's queue, disk cap.
    compression_level: int = 3
    fsync: Literal["always", "batch", "never"] = "batch"
    queue_size: int = 10000
    queue_full: Literal["drop", "spill"] = "spill"
    flush_interval_ms: int = 1000
    max_disk_mb: float | None = None


@dataclass(frozen=True, slots=True)
class PiiConfig:
    enabled: bool = False
    mode: Literal["mask", "remove", "partial", "tokenize"] = "mask"
    detectors: tuple[str, ...] = (
        "email",
        "phone",
        "ssn",
        "credit_card",
        "ip_address",
        "api_key",
    )
    custom: tuple[dict[str, Any], ...] = ()
    restore_in_response: bool = False
    # docs/PII.md: characters left visible by mask/partial (None: the mode's default), and the
    # confidence a finding needs to be redacted.
    reveal_chars: int | None = None
    min_confidence: float = 0.5


@dataclass(frozen=True, slots=True)
class StateConfig:
    backend: Literal["file", "redis"] = "file"
    redis_url: str | None = None
    on_redis_error: Literal["fail_open", "fail_closed"] = "fail_open"
    redis_timeout_ms: int = 250


@dataclass(frozen=True, slots=True)
class RateLimit:
    """One level of server.yaml `rate_limits` (keys.json keeps a key's own on `ApiKey`)."""

    requests_per_second: float | None = None
    burst: int | None = None
    tokens_per_minute: int | None = None


@dataclass(frozen=True, slots=True)
class RateLimitsConfig:
    global_limit: RateLimit | None = None  # `rate_limits.global`: every request together
    tenants: dict[str, RateLimit] = field(default_factory=dict)  # "*": each tenant not listed


@dataclass(frozen=True, slots=True)
class ObservabilityConfig:
    metrics_enabled: bool = True
    metrics_host: str = "127.0.0.1"
    metrics_port: int = 9090
    tracing_enabled: bool = False
    tracing_endpoint: str | None = None
    sample_rate: float = 0.1
    log_level: str = "info"
    log_format: Literal["auto", "json", "text"] = "auto"  # auto: text on a terminal, else JSON lines


@dataclass(frozen=True, slots=True)
class UiConfig:
    """The web UI (docs/UI.md): off unless enabled; its own listener."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: int = 8082
    session_hours: float = 12.0  # how long an admin login lasts


@dataclass(frozen=True, slots=True)
class PerformanceConfig:
    buffer_pool_size: int = 1000
    buffer_size_kb: int = 64
    stream_flush_interval_ms: int = 0
    arena_size_mb: int = 100
    state_persist_interval_secs: float = 10.0


@dataclass(frozen=True, slots=True)
class Config:
    config_dir: Path
    data_dir: Path
    sources: dict[str, Path]
    server: ServerConfig
    listeners: list[ListenerConfig]
    providers: dict[str, ProviderConfig]
    routes_raw: dict[str, Any]
    routes: list[Any]
    keys: list[ApiKey]
    budgets: list[dict[str, Any]]
    prompts: PromptPatches  # empty without prompts.json
    storage: StorageConfig
    pii: PiiConfig
    state: StateConfig
    observability: ObservabilityConfig
    performance: PerformanceConfig
    rate_limits: RateLimitsConfig = field(default_factory=RateLimitsConfig)
    # model (or provider/model) -> {input, output, cache_read, cache_write, cheaper}: USD per
    # million tokens, over the table shipped in lunaroute/limits/prices.json
    pricing: dict[str, dict[str, Any]] = field(default_factory=dict)
    # other paths of a listener's dialect go unparsed to its default rule's provider
    bypass: bool = True
    ui: UiConfig = field(default_factory=UiConfig)

    def listener(self, listener_id: str) -> ListenerConfig | None:
        for item in self.listeners:
            if item.id == listener_id:
                return item
        return None

    def bypasses(self, listener_id: str) -> bool:
        """Whether the listener proxies its dialect's other paths (`listeners[].bypass`,
        else the top-level `bypass`)."""
        item = self.listener(listener_id)
        own = item.bypass if item is not None else None
        return self.bypass if own is None else own
