"""Two minimal RSGI apps for the `granian` CLI: what granian itself costs, without LunaRoute.

    granian --interface rsgi --working-dir bench/e2e/levers rsgi_floor_app:empty
    LEVERS_UPSTREAM_PORT=18000 granian --interface rsgi --working-dir bench/e2e/levers rsgi_floor_app:proxy

`empty` reads the request body (as every LunaRoute request does) and answers the mock's
OpenAI chat.completion from memory: the floor granian imposes on one request. `proxy` sends
the body on to the nginx mock with LunaRoute's own pooled HTTP/1.1 client (egress/h1.py) and
relays the answer: the floor of a Python proxy on granian, before any gateway logic.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

FIXTURE = Path(__file__).resolve().parents[1] / "nginx" / "fixtures" / "openai_chat.json"
ANSWER = FIXTURE.read_bytes().strip()
JSON_HEADERS = [("content-type", "application/json")]
UPSTREAM_PATH = "/v1/chat/completions"


async def empty(scope: Any, proto: Any) -> None:
    await proto()
    proto.response_bytes(200, JSON_HEADERS, ANSWER)


class Proxy:
    """Forwards every request's body to the mock's chat completions path."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.pool: Any = None
        self.head_start = (
            f"POST {UPSTREAM_PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/json\r\nAuthorization: Bearer sk-bench-dummy\r\nContent-Length: "
        ).encode()

    def __rsgi_init__(self, loop: Any) -> None:
        from lunaroute.egress.h1 import H1Pool

        self.pool = H1Pool("127.0.0.1", self.port, max_idle=100)

    def __rsgi_del__(self, loop: Any) -> None:
        if self.pool is not None:
            self.pool.close()

    async def __rsgi__(self, scope: Any, proto: Any) -> None:
        body = await proto()
        head = self.head_start + str(len(body)).encode() + b"\r\n\r\n"
        resp = await self.pool.request(head, body, timeout=30.0)
        data = await resp.read()
        proto.response_bytes(resp.status, JSON_HEADERS, data)


proxy = Proxy(int(os.environ.get("LEVERS_UPSTREAM_PORT", "18000")))
