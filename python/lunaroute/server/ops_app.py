"""The metrics/health listener: `/metrics`, `/healthz`, `/readyz` (CONTRACT §4)."""

from __future__ import annotations

import orjson


class OpsApp:
    def __init__(self, server) -> None:
        self.server = server

    def __rsgi_init__(self, loop) -> None:
        pass

    async def __call__(self, scope, proto) -> None:
        if scope.proto != "http":
            return
        path = scope.path
        state = self.server.state
        if path == "/metrics" and scope.method == "GET":
            proto.response_bytes(200, [("content-type", state.metrics.content_type)], self.server.render_metrics())
        elif path == "/healthz":
            proto.response_bytes(200, [("content-type", "application/json")], b'{"status":"ok"}')
        elif path == "/readyz":
            states = self.server.breaker_states()
            ready = self.server.ready(states)
            body = orjson.dumps(
                {
                    "status": "ready" if ready else "not_ready",
                    "config_loaded": self.server.state is not None,
                    "providers": {p: ("closed", "open", "half_open")[s] for p, s in states.items()},
                }
            )
            proto.response_bytes(200 if ready else 503, [("content-type", "application/json")], body)
        else:
            proto.response_bytes(404, [("content-type", "application/json")], b'{"error":"not found"}')
