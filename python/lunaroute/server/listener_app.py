"""The RSGI application of one client listener (granian serves one per `listeners[]` entry).

RSGI rather than ASGI: granian hands us the body as bytes and takes the answer as bytes,
with no per-request dict building or message passing, the cheapest interface it offers.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time

from ..dialects import get_dialect
from ..errors import GatewayError, InvalidRequestError, NotFoundError, RequestTooLargeError
from ..observability.logs import log_event
from .disconnect import DisconnectWatcher
from .models_endpoint import count_tokens, list_models

log = logging.getLogger("lunaroute.ingress")
perf = time.perf_counter

_rid_prefix = "req_" + os.urandom(6).hex()
_rid_counter = itertools.count(1)

CHAT_PATHS = {"/v1/chat/completions": "openai", "/v1/messages": "anthropic"}


def new_request_id() -> str:
    return f"{_rid_prefix}{next(_rid_counter):010x}"


class ListenerApp:
    def __init__(self, server, listener) -> None:
        self.server = server
        self.listener = listener
        t = listener.type
        self.dialects = ("openai", "anthropic") if t == "both" else (t,)
        self.default_dialect = self.dialects[0]
        self.max_body = listener.max_body_bytes
        self.disconnects = DisconnectWatcher()

    def __rsgi_init__(self, loop) -> None:  # granian calls it once per worker loop
        pass

    def _dialect_for(self, path: str) -> str:
        if len(self.dialects) == 1:
            return self.default_dialect
        return "anthropic" if path.startswith("/v1/messages") else "openai"

    async def __call__(self, scope, proto) -> None:
        if scope.proto != "http":
            return
        t0 = perf()
        rid = new_request_id()
        path = scope.path
        dname = self._dialect_for(path)
        server = self.server
        state = server.state
        metrics = state.metrics
        inflight = metrics.inflight  # the one count of requests in flight (drain waits on it)
        inflight.value += 1
        watch = 0
        try:
            if scope.method == "POST" and CHAT_PATHS.get(path) in self.dialects:
                body = await self._read_body(scope, proto)
                watch = self.disconnects.watch(proto, asyncio.current_task())
                await state.pipeline(self.listener, dname).run(proto, scope.headers, body, rid, t0)
            elif scope.method == "GET" and path == "/v1/models":
                if state.auth.required:
                    await state.auth.authenticate(scope.headers, dname)
                proto.response_bytes(200, self._json_headers(state, rid), list_models(state, self.listener, dname))
            elif scope.method == "POST" and path == "/v1/messages/count_tokens" and "anthropic" in self.dialects:
                body = await self._read_body(scope, proto)
                out = await count_tokens(state, self.listener, scope.headers, body)
                proto.response_bytes(200, self._json_headers(state, rid), out)
            else:
                raise NotFoundError(f"unknown endpoint {scope.method} {path}")
        except GatewayError as err:
            self._error(proto, state, rid, dname, err)
            metrics.request_done(self.listener.id, "", "", err.status)
        except asyncio.CancelledError:
            log_event(log, logging.INFO, "client disconnected", request_id=rid)
            metrics.request_done(self.listener.id, "", "", 499)
        except Exception:
            log.exception("internal error serving %s", rid)
            self._error(proto, state, rid, dname, GatewayError("internal gateway error"))
            metrics.request_done(self.listener.id, "", "", 500)
        finally:
            if watch:
                self.disconnects.done(watch)
            inflight.value -= 1

    async def _read_body(self, scope, proto) -> bytes:
        limit = self.max_body
        cl = scope.headers.get("content-length")
        if cl is not None:
            try:
                if int(cl) > limit:
                    raise RequestTooLargeError(f"request body exceeds {limit} bytes")
            except ValueError:
                raise InvalidRequestError("bad content-length header") from None
            return await proto()
        parts = []
        size = 0
        async for chunk in proto:
            size += len(chunk)
            if size > limit:
                raise RequestTooLargeError(f"request body exceeds {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def _json_headers(self, state, rid: str) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/json"),
            ("x-lunaroute-request-id", rid),
            *state.security_headers(self.listener),
        ]

    def _error(self, proto, state, rid: str, dname: str, err: GatewayError) -> None:
        body = get_dialect(dname).error_body(err)
        hdrs = self._json_headers(state, rid)
        if err.retry_after is not None:
            hdrs.append(("retry-after", str(max(1, int(err.retry_after + 0.999)))))
        try:
            proto.response_bytes(err.status, hdrs, body)
        except Exception:
            # The response had started (a stream): the pipeline already ended it in-stream.
            pass
