"""Everything a request needs from the loaded config, built once per config load.

A request reads `server.state` once when it starts and keeps that object to the end, so a
hot reload swaps in a new state without disturbing requests in flight. Connectors whose
provider settings did not change are carried over (their warm connections with them), and
breaker state survives reloads (the registry keeps providers that still exist).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..egress.connector import ProviderConnector
from ..egress.upstream import Upstream
from ..errors import ConfigError
from ..limits import LimitsEngine, limits_configured, shipped_prices
from ..observability.metrics import Metrics
from ..pii import PiiEngine
from ..recording import Recorder
from ..routing import BreakerRegistry, RetryPolicy, RouteTable
from ..tenancy.auth import Authenticator
from .pipeline import ChatPipeline

if TYPE_CHECKING:
    from ..config.schema import Config, ListenerConfig
    from .exchange import Exchange

log = logging.getLogger("lunaroute.server")


def _pii_engine(config: Any, previous: GatewayState | None) -> PiiEngine | None:
    """The PII engine of this config (None when `pii.enabled` is off). Kept across a reload
    that leaves the `pii` section alone; a new one takes over the old one's counters, so the
    metrics never go down."""
    if not config.pii.enabled:
        return None
    old = previous.pii if previous is not None else None
    if old is not None and previous is not None and previous.config.pii == config.pii:
        return old
    try:
        engine = PiiEngine.from_config(config.pii, config.config_dir / "keys", config.data_dir)
    except ValueError as exc:  # a custom detector the matcher refuses, named in the message
        source = config.sources.get("server")
        raise ConfigError(source.name if source else "server.yaml", "pii", str(exc)) from None
    if old is not None:
        engine.detections = old.detections
        engine.redactions = old.redactions
    return engine


class GatewayState:
    def __init__(
        self,
        config: Config,
        metrics: Metrics,
        *,
        previous: GatewayState | None = None,
        breakers: BreakerRegistry | None = None,
        recorder: Recorder | None = None,
        limits: LimitsEngine | None = None,
        tracing: Any = None,
    ) -> None:
        self.config = config
        # observability/tracing.py's Tracing, or None: the request path checks only that.
        self.tracing = tracing
        self.metrics = metrics
        self.providers = config.providers
        self.routes = RouteTable.compile(config.routes)
        self.auth = Authenticator(config.keys)
        self.retry_policy = RetryPolicy()
        old = previous.connectors if previous else {}
        old_cfg = previous.providers if previous else {}
        self.connectors: dict[str, ProviderConnector] = {}
        for name, prov in self.providers.items():
            if name in old and old_cfg.get(name) == prov:
                self.connectors[name] = old[name]
            else:
                self.connectors[name] = ProviderConnector(prov)
        self.retired = [c for n, c in old.items() if self.connectors.get(n) is not c]
        self.upstream = Upstream(self.providers, self.connectors)
        self.breakers = breakers or BreakerRegistry(
            {n: p.circuit_breaker for n, p in self.providers.items()},
            shm_path=None,
        )
        # One recorder per process, kept across reloads (it owns a writer thread and files).
        self.recorder = recorder
        # Rate limits and budgets: the process's engine, asked only when the config sets a
        # limit (no key, rate or budget: no await on the request path).
        self.limits = limits if limits is not None and limits_configured(config) else None
        self.pii = _pii_engine(config, previous)
        self.prices = limits.prices if limits is not None else shipped_prices().with_overrides(config.pricing or {})
        self.observers: list[Callable[[Exchange, Any], None]] = [recorder] if recorder is not None else []
        self._pipelines: dict[tuple[str, str], ChatPipeline] = {}

    def pipeline(self, listener: ListenerConfig, dialect_name: str) -> ChatPipeline:
        """The chat pipeline of one listener and dialect, built once per config load."""
        key = (listener.id, dialect_name)
        pipe = self._pipelines.get(key)
        if pipe is None:
            pipe = self._pipelines[key] = ChatPipeline(self, listener, dialect_name)
        return pipe

    def provider_max_retries(self, provider: str) -> int:
        """A provider's own retry count (run_attempts applies a rule's override first)."""
        return self.providers[provider].max_retries

    def security_headers(self, listener: ListenerConfig) -> tuple[tuple[str, str], ...]:
        if listener.tls is not None:
            return (
                ("x-content-type-options", "nosniff"),
                ("strict-transport-security", "max-age=31536000; includeSubDomains"),
            )
        return (("x-content-type-options", "nosniff"),)

    def observe(self, exchange: Exchange, request_data: Any) -> None:
        """Hand a finished exchange to the observers (the access line is the listener's)."""
        for fn in self.observers:
            try:
                fn(exchange, request_data)
            except Exception:  # an observer must never break a served request
                log.exception("exchange observer failed")

    async def aclose_retired(self) -> None:
        for conn in self.retired:
            await conn.aclose()
        self.retired = []
