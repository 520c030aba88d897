"""What the web UI reads of the process that serves it (server/run.py's GatewayServer).

A Protocol rather than the class itself: the server package imports the UI, so the UI names
only the members it uses.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from ..config.schema import Config
    from ..limits import LimitsEngine
    from ..observability.metrics import Metrics
    from ..routing import BreakerRegistry


class HostState(Protocol):
    @property
    def breakers(self) -> BreakerRegistry: ...


class GatewayHost(Protocol):
    @property
    def config(self) -> Config: ...
    @property
    def serve_clients(self) -> bool: ...
    @property
    def metrics(self) -> Metrics: ...
    @property
    def limits(self) -> LimitsEngine | None: ...
    @property
    def state(self) -> HostState: ...
    def breaker_states(self) -> dict[str, int]: ...
    def ready(self, states: dict[str, int]) -> bool: ...
