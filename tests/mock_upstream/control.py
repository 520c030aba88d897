"""The control API under /_control/: script failures, read the request log and counters.

POST /_control/script    JSON list of behaviours (or one object); appended to the queue
GET  /_control/script    behaviours still queued
GET  /_control/requests  recorded API requests, oldest first
GET  /_control/stats     counters (open connections, aborted streams, ...)
POST /_control/reset     clear script, records, counters, ids and the prompt cache
GET  /_control/health    liveness
"""

from __future__ import annotations

import json
from typing import Any

from .behaviours import Behaviour, BehaviourError
from .http11 import HttpRequest
from .state import MockState

PREFIX = "/_control/"


def handle_control(state: MockState, request: HttpRequest) -> tuple[int, Any]:
    """(status, JSON body) for one control request."""
    name = request.path[len(PREFIX) :]
    route = (request.method, name)
    if route == ("POST", "script"):
        return _post_script(state, request.body)
    if route == ("GET", "script"):
        return 200, [b.to_json() for b in state.script.pending()]
    if route == ("GET", "requests"):
        return 200, [r.to_json() for r in state.records]
    if route == ("GET", "stats"):
        stats = state.stats.to_json()
        stats["open_connections"] -= 1  # not the connection asking for the stats
        return 200, stats
    if route == ("POST", "reset"):
        state.reset()
        return 200, {"ok": True}
    if route == ("GET", "health"):
        return 200, {"ok": True}
    return 404, {"error": f"no control endpoint {request.method} {request.path}"}


def _post_script(state: MockState, raw: bytes) -> tuple[int, Any]:
    try:
        payload = json.loads(raw or b"null")
    except ValueError as exc:
        return 400, {"error": f"script is not valid JSON: {exc}"}
    items = payload if isinstance(payload, list) else [payload]
    try:
        behaviours = [Behaviour.from_json(item) for item in items]
    except BehaviourError as exc:
        return 400, {"error": str(exc)}
    pending = state.script.extend(behaviours)
    return 200, {"queued": len(behaviours), "pending": pending}
