"""Bypass: the other endpoints of a listener's dialect (`/v1/embeddings`, `/v1/files`,
`/v1/models/{id}`, `/v1/messages/batches`, anything unknown under `/v1/`), proxied to the
provider the listener's default rule names, unparsed and streamed both ways.

Not the chat path: no retries, fallbacks or circuit breakers, no translation (the provider
speaks the client's dialect), and the answer is the provider's, whatever its status. What
it shares with chat: client keys with the listener's scope, the provider key in place of
the client's credential (never a LunaRoute key), the request id and provider headers, the
metrics and the log line. docs/BYPASS.md is the user's side of it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

from ..dialects import Dialect
from ..egress.client_headers import HOP_BY_HOP
from ..egress.errors import ConnectFailed, TransportError, TransportTimeout
from ..errors import (
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    RequestTooLargeError,
    UpstreamError,
    UpstreamTimeoutError,
)
from ..observability.logs import log_event
from ..observability.metrics import BYPASS_MODEL
from ..routing.rules import RouteRule, ValueMatcher

log = logging.getLogger("lunaroute.bypass")
perf = time.perf_counter

# Upstream response headers a client must not get from us: connection framing granian
# writes itself, cookies for the provider's domain, and the headers LunaRoute sets.
_DROPPED = HOP_BY_HOP | frozenset(("set-cookie", "x-content-type-options", "strict-transport-security"))
_DROPPED_PREFIXES = ("x-lunaroute-",)
_BODY_METHODS = frozenset(("POST", "PUT", "PATCH"))


class _ClientGone(Exception):
    """Writing to the client failed: it went away mid-answer."""


def _any_model(m: ValueMatcher) -> bool:
    """Whether a model pattern takes every name: a glob of only `*`, or a regex that
    matches even the empty name (`.*`)."""
    if m.kind == "glob":
        return set(m.source) == {"*"}
    return m.kind == "regex" and m.matches("")


def _catch_all_for(rule: RouteRule, headers: Mapping[str, str], key: Any) -> bool:
    """A rule that routes any model for this caller: no model condition (or `*`), no body
    condition (there is no body to look at), and its header and key conditions hold."""
    m = rule.match
    if m.models and not any(_any_model(p) for p in m.models):
        return False
    if m.uses_body:
        return False
    if any(not p.matches(headers.get(name)) for name, p in m.headers):
        return False
    if m.key_ids is not None and (key is None or key.id not in m.key_ids):
        return False
    return m.tenants is None or (key is not None and key.tenant in m.tenants)


def default_provider(
    state: Any, listener_id: str, dialect: Dialect, headers: Mapping[str, str], key: Any
) -> str | None:
    """The provider a listener's default rule names: the first catch-all rule in routing
    order, its first target (then fallback) that speaks `dialect`."""
    for rule in state.routes.rules:
        if not rule.applies_to_listener(listener_id, dialect.name) or not _catch_all_for(rule, headers, key):
            continue
        for target in (*(t for t in rule.targets if t.weight > 0), *rule.fallbacks):
            prov = state.providers.get(target.provider)
            if prov is not None and prov.dialect == dialect.name:
                return str(target.provider)
    return None


def _request_body(method: str, headers: Mapping[str, str], proto: Any, limit: int) -> AsyncIterator[bytes] | None:
    """The client's body as it arrives, within the listener's size limit; None when the
    request has none."""
    length = headers.get("content-length")
    if length is not None:
        try:
            size = int(length)
        except ValueError:
            raise InvalidRequestError("bad content-length header") from None
        if size > limit:
            raise RequestTooLargeError(f"request body exceeds {limit} bytes")
        if size == 0:
            return None
    elif "transfer-encoding" not in headers and method not in _BODY_METHODS:
        # HTTP/2 frames a body without either header: a POST may have one all the same.
        return None

    async def chunks() -> AsyncIterator[bytes]:
        seen = 0
        async for chunk in proto:
            seen += len(chunk)
            if seen > limit:
                raise RequestTooLargeError(f"request body exceeds {limit} bytes")
            yield chunk

    return chunks()


def response_headers(upstream: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The provider's response headers a client gets, `content-length` included (granian
    frames by it, so a body cut short reads as cut short)."""
    return [(k, v) for k, v in upstream if k not in _DROPPED and not k.startswith(_DROPPED_PREFIXES)]


class Bypass:
    """The bypass of one client listener."""

    def __init__(self, listener: Any, disconnects: Any, answer_error: Any) -> None:
        self.listener = listener
        self.disconnects = disconnects
        self.answer_error = answer_error  # (proto, state, request id, dialect, error): the listener's error answer

    async def serve(self, state: Any, scope: Any, proto: Any, dialect: Dialect, rid: str, t0: float) -> None:
        """Answer one bypassed request, errors included, and count it."""
        provider = ""
        status = 0
        try:
            key = await state.auth.authenticate(scope.headers, dialect) if state.auth.required else None
            provider = self._provider(state, scope, dialect, key)
            status = await self._proxy(state, scope, proto, dialect, rid, key, provider)
        except GatewayError as err:
            status = err.status
            self.answer_error(proto, state, rid, dialect, err)
        except asyncio.CancelledError:
            status = 499
        except Exception:
            log.exception("internal error serving bypassed request %s", rid)
            status = 500
            self.answer_error(proto, state, rid, dialect, GatewayError("internal gateway error"))
        state.metrics.request_done(self.listener.id, provider, BYPASS_MODEL, status)
        log_event(
            log,
            logging.INFO,
            "bypass served",
            request_id=rid,
            listener=self.listener.id,
            provider=provider,
            method=scope.method,
            path=scope.path,
            status=status,
            latency_ms=round((perf() - t0) * 1000, 3),
        )

    def _provider(self, state: Any, scope: Any, dialect: Dialect, key: Any) -> str:
        name = default_provider(state, self.listener.id, dialect, scope.headers, key)
        if name is None:
            raise NotFoundError(
                f"unknown endpoint {scope.method} {scope.path}: no catch-all rule of listener "
                f"'{self.listener.id}' names a provider of its API to pass it to"
            )
        return name

    async def _proxy(self, state: Any, scope: Any, proto: Any, dialect: Dialect, rid: str, key: Any, name: str) -> int:
        """Forward the request to provider `name` and relay its answer; the status to count."""
        headers = scope.headers
        prov = state.providers[name]
        body = _request_body(scope.method, headers, proto, self.listener.max_body_bytes)
        credential = state.auth.upstream_credential(headers, dialect, key)
        timeout = prov.timeout_ms / 1000
        watch = 0 if body is not None else self.disconnects.watch(proto, asyncio.current_task())
        try:
            try:
                resp = await state.connectors[name].forward(
                    scope.method, scope.path, scope.query_string, headers, credential, body, timeout
                )
            except ConnectFailed:
                raise UpstreamError(f"provider '{name}' could not be reached") from None
            except TransportTimeout:
                raise UpstreamTimeoutError(f"provider '{name}' did not answer in time") from None
            except TransportError as exc:
                raise UpstreamError(f"provider '{name}' failed: {exc}") from None
            if not watch:
                # The body has gone up: from here a client that leaves stops the upstream.
                watch = self.disconnects.watch(proto, asyncio.current_task())
            hdrs = [
                *response_headers(resp.headers),
                ("x-lunaroute-request-id", rid),
                ("x-lunaroute-provider", name),
                *state.security_headers(self.listener),
            ]
            return await _relay(proto, resp, hdrs, rid, name)
        finally:
            if watch:
                self.disconnects.done(watch)


async def _relay(proto: Any, resp: Any, headers: list[tuple[str, str]], rid: str, provider: str) -> int:
    """Stream the provider's answer to the client as it arrives; the status to count."""
    transport = proto.response_stream(resp.status, headers)
    try:
        async for chunk in resp.iter_chunks():
            try:
                await transport.send_bytes(chunk)
            except Exception:
                raise _ClientGone() from None
    except _ClientGone:
        resp.close(abort=True)
        return 499
    except TransportError as exc:
        # The status has gone out: a body cut short (shorter than its content-length, or
        # its chunked encoding ended early) is all that can tell the client.
        resp.close(abort=True)
        log_event(log, logging.WARNING, "bypassed answer broke off", request_id=rid, provider=provider, reason=str(exc))
        return UpstreamTimeoutError.status if isinstance(exc, TransportTimeout) else UpstreamError.status
    except BaseException:
        resp.close(abort=True)
        raise
    return int(resp.status)
