"""The metrics/health listener: `/metrics`, `/healthz`, `/readyz` (CONTRACT §4)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson

if TYPE_CHECKING:
    import asyncio

    from ..rsgi import RsgiProtocol, RsgiScope
    from .run import GatewayServer

log = logging.getLogger("lunaroute.server")

# Every response carries the security headers (CONTRACT §4). This listener has no TLS
# setting (it is always plain HTTP), so there is never an HSTS header to add.
_SECURITY = (("x-content-type-options", "nosniff"),)
_JSON = [("content-type", "application/json"), *_SECURITY]


class OpsApp:
    def __init__(self, server: GatewayServer) -> None:
        self.server = server

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:
        pass

    async def __call__(self, scope: RsgiScope, proto: RsgiProtocol) -> None:
        if scope.proto != "http":
            return
        try:
            status, headers, body = self._answer(scope.method, scope.path)
        except Exception:
            log.exception("metrics/health listener failed on %s", scope.path)
            status, headers, body = 500, _JSON, b'{"error":"internal error"}'
        proto.response_bytes(status, headers, body)

    def _answer(self, method: str, path: str) -> tuple[int, list[tuple[str, str]], bytes]:
        server = self.server
        if path == "/metrics" and method == "GET":
            return 200, [("content-type", server.state.metrics.content_type), *_SECURITY], server.render_metrics()
        if path == "/healthz":
            return 200, _JSON, b'{"status":"ok"}'
        if path == "/readyz":
            states = server.breaker_states()
            ready = server.ready(states)
            body = orjson.dumps(
                {
                    "status": "ready" if ready else "not_ready",
                    "config_loaded": server.state is not None,
                    "providers": {p: ("closed", "open", "half_open")[s] for p, s in states.items()},
                }
            )
            return (200 if ready else 503), _JSON, body
        return 404, _JSON, b'{"error":"not found"}'
