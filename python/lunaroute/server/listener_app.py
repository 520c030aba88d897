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
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from ..dialects import LISTENER_DIALECTS, ClientDialect, Dialect, client_dialect, get_dialect, is_provider_dialect
from ..errors import GatewayError, InvalidRequestError, NotFoundError, RequestTooLargeError
from ..observability.logs import log_access, request_id_var
from .bypass import Bypass
from .disconnect import DisconnectWatcher
from .models_endpoint import count_tokens, list_models

if TYPE_CHECKING:
    from ..config.schema import ListenerConfig
    from ..rsgi import RsgiProtocol, RsgiScope
    from .exchange import Exchange
    from .run import GatewayServer
    from .state import GatewayState

log = logging.getLogger("lunaroute.ingress")
perf = time.perf_counter

_rid_prefix = "req_" + os.urandom(6).hex()
_rid_counter = itertools.count(1)


def new_request_id() -> str:
    return f"{_rid_prefix}{next(_rid_counter):010x}"


class ListenerApp:
    def __init__(self, server: GatewayServer, listener: ListenerConfig) -> None:
        self.server = server
        self.listener = listener
        names = LISTENER_DIALECTS[listener.type]
        # Every dialect its clients may speak (chat endpoints, errors)...
        self.dialects: tuple[ClientDialect, ...] = tuple(client_dialect(n) for n in names)
        # ...and those providers speak too: bypass, `/v1/models` and token counting are theirs.
        self.api_dialects: tuple[Dialect, ...] = tuple(get_dialect(n) for n in names if is_provider_dialect(n))
        self.default_dialect = self.dialects[0]
        # POST paths this listener serves, from what each of its dialects declares.
        self.chat_paths = {d.chat_path: d for d in self.dialects}
        self.count_paths = {d.token_count_path: d for d in self.api_dialects if d.token_count_path}
        self.max_body = listener.max_body_bytes
        self.disconnects = DisconnectWatcher()
        self.bypass = Bypass(listener, self.disconnects, self._error)

    def __rsgi_init__(self, loop: asyncio.AbstractEventLoop) -> None:  # granian calls it once per worker loop
        pass

    def _dialect_for(self, path: str) -> ClientDialect:
        """The dialect errors are answered in: the one whose endpoint (or path family) was
        called, else the listener's first."""
        if len(self.dialects) > 1:
            for d in self.dialects:
                if path.startswith(d.chat_path):
                    return d
        return self.default_dialect

    def _dialect_of(self, path: str, headers: Mapping[str, str]) -> Dialect:
        """The dialect a request other than chat belongs to (bypass, `/v1/models`): on a
        listener of type `both`, the one whose own endpoint it is, else the one whose
        clients send a header it carries, else the listener's first."""
        dialects = self.api_dialects
        if len(dialects) == 1:
            return dialects[0]
        for d in dialects:
            for root in d.own_paths:
                if path == root or path.startswith(root + "/"):
                    return d
        for d in dialects:
            if any(name in headers for name in d.marker_headers):
                return d
        return dialects[0]

    async def __call__(self, scope: RsgiScope, proto: RsgiProtocol) -> None:
        if scope.proto != "http":
            return
        t0 = perf()
        rid = new_request_id()
        rid_token = request_id_var.set(rid)  # every log line of this request names it
        path = scope.path
        dialect = self._dialect_for(path)
        server = self.server
        state = server.state
        metrics = state.metrics
        inflight = metrics.inflight  # the one count of requests in flight (drain waits on it)
        inflight.value += 1
        watch = 0
        tracing = state.tracing
        trace = None if tracing is None else tracing.begin(scope.method, path, self.listener.id, rid, scope.headers, t0)
        ex: Exchange | None = None
        status = 200
        error: str | None = None
        tried: Sequence[tuple[str, str | None, str]] = ()
        bypassed = False
        try:
            if scope.method == "POST" and path in self.chat_paths:
                body = await self._read_body(scope, proto)
                watch = self.disconnects.watch(proto, cast("asyncio.Task[Any]", asyncio.current_task()))
                ex = await state.pipeline(self.listener, dialect.name).run(
                    proto, scope.headers, body, rid, t0, scope.query_string, trace
                )
            elif scope.method == "GET" and path == "/v1/models":
                dialect = self._dialect_of(path, scope.headers)
                if state.auth.required:
                    await state.auth.authenticate(scope.headers, dialect)
                proto.response_bytes(200, self._json_headers(state, rid), list_models(state, self.listener, dialect))
            elif scope.method == "POST" and path in self.count_paths:
                body = await self._read_body(scope, proto)
                out = await count_tokens(
                    state, self.listener, self.count_paths[path], scope.headers, body, scope.query_string
                )
                proto.response_bytes(200, self._json_headers(state, rid), out)
            else:
                dialect = self._dialect_of(path, scope.headers)
                if not (path.startswith(dialect.api_root) and state.config.bypasses(self.listener.id)):
                    raise NotFoundError(f"unknown endpoint {scope.method} {path}")
                bypassed = True  # bypass.py answers its own errors and logs its own line
                await self.bypass.serve(state, scope, proto, dialect, rid, t0)
        except GatewayError as err:
            status, error, tried = err.status, err.kind, err.attempts
            self._error(proto, state, rid, dialect, err)
            metrics.request_done(self.listener.id, "", "", err.status)
        except asyncio.CancelledError:
            status, error = 499, "client_disconnected"
            metrics.request_done(self.listener.id, "", "", 499)
        except Exception:
            status, error = 500, "internal_error"
            log.exception("internal error serving %s", rid)
            self._error(proto, state, rid, dialect, GatewayError("internal gateway error"))
            metrics.request_done(self.listener.id, "", "", 500)
        finally:
            if watch:
                self.disconnects.done(watch)
            inflight.value -= 1
            if trace is not None:
                if error is not None:
                    trace.failed(status, error)
                trace.end()
            if not bypassed:
                self._access(scope.method, path, status, error, tried, ex, t0)
            request_id_var.reset(rid_token)

    def _access(
        self,
        method: str,
        path: str,
        status: int,
        error: str | None,
        tried: Sequence[tuple[str, str | None, str]],
        ex: Exchange | None,
        t0: float,
    ) -> None:
        if ex is None:
            sent = [a for a in tried if a[2] != "circuit_open"] or tried
            provider, model = (sent[-1][0], sent[-1][1] or "") if sent else ("", "")
            log_access(
                method,
                path,
                self.listener.id,
                status,
                perf() - t0,
                provider=provider,
                model=model,
                attempts=len(tried),
                error=error,
            )
            return
        log_access(
            method,
            path,
            self.listener.id,
            ex.status,
            ex.latency_s,
            provider=ex.provider,
            model=ex.model,
            attempts=ex.attempts,
            input_tokens=ex.input_tokens,
            output_tokens=ex.output_tokens,
            stream=ex.stream,
            error=None if ex.error is None else ("client_disconnected" if ex.status == 499 else "stream_failed"),
        )

    async def _read_body(self, scope: RsgiScope, proto: RsgiProtocol) -> bytes:
        limit = self.max_body
        cl = scope.headers.get("content-length")
        if cl is not None:
            try:
                if int(cl) > limit:
                    raise RequestTooLargeError(f"request body exceeds {limit} bytes")
            except ValueError:
                raise InvalidRequestError("bad content-length header") from None
            return await proto()
        parts: list[bytes] = []
        size = 0
        async for chunk in proto:
            size += len(chunk)
            if size > limit:
                raise RequestTooLargeError(f"request body exceeds {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def _json_headers(self, state: GatewayState, rid: str) -> list[tuple[str, str]]:
        return [
            ("content-type", "application/json"),
            ("x-lunaroute-request-id", rid),
            *state.security_headers(self.listener),
        ]

    def _error(
        self, proto: RsgiProtocol, state: GatewayState, rid: str, dialect: ClientDialect, err: GatewayError
    ) -> None:
        body = dialect.error_body(err)
        hdrs = self._json_headers(state, rid)
        if err.session_id is not None:
            hdrs.append(("x-lunaroute-session-id", err.session_id))
        if err.retry_after is not None:
            hdrs.append(("retry-after", str(max(1, int(err.retry_after + 0.999)))))
        try:
            proto.response_bytes(err.status, hdrs, body)
        except Exception:
            # The response had started (a stream): the pipeline already ended it in-stream.
            pass
