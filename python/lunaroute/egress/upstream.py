"""One upstream attempt, whatever the transport: build the body for the target provider,
send it, and either hand back what was served or raise an `UpstreamFailure` that says how
it failed. Routing's `run_attempts` calls `Upstream.exchange` once per attempt; the retry,
fallback and breaker decisions stay there."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from ..dialects import ClientDialect, get_dialect
from ..dialects.splice import replace_model
from ..errors import UpstreamFailure
from ..model import NormalizedRequest
from .connector import ProviderConnector, UpstreamResponse
from .errors import ConnectFailed, TransportError, TransportTimeout


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class UpstreamCall:
    """What every attempt of one client request shares: the request as the client sent it
    (raw and parsed), its dialect, and what may go upstream with it."""

    __slots__ = (
        "dialect",
        "body",
        "data",
        "model",
        "stream",
        "headers",
        "credential",
        "timeout_ms",
        "normalized",
        "query",
        "route_model",
        "trace",
    )

    def __init__(
        self,
        dialect: ClientDialect,
        body: bytes,
        data: dict[str, Any],
        model: str,
        stream: bool,
        headers: Mapping[str, str],
        credential: str | None,
        timeout_ms: int | None,
        normalized: NormalizedRequest | None,
        query: str = "",
    ) -> None:
        self.dialect = dialect
        self.body = body
        self.data = data
        self.model = model
        self.stream = stream
        self.headers = headers
        self.credential = credential  # the client's own provider key, never a LunaRoute key
        self.timeout_ms = timeout_ms  # a rule's override of the provider timeout
        self.normalized = normalized  # parsed once when some target speaks another dialect
        # The model a target without its own sends: the client's, or the cheaper one a
        # budget past its soft limit reroutes to.
        self.route_model = model
        self.query = query  # the client's query string (`beta=true`), for same-dialect targets
        self.trace: Any = None  # the request's tracing spans (observability/tracing.py), when on


class Served:
    """What one successful attempt produced: the response with its body (non-stream) or the
    chunk iterator and its first chunk (stream)."""

    __slots__ = ("target", "provider", "response", "body", "first_chunk", "up_model", "same", "strip_usage")

    def __init__(
        self,
        target: Any,
        provider: Any,
        response: UpstreamResponse,
        body: Any,
        first_chunk: bytes | None,
        up_model: str,
        same: bool,
        strip_usage: bool,
    ) -> None:
        self.target = target
        self.provider = provider
        self.response = response
        self.body = body  # bytes (non-stream) or the async chunk iterator (stream)
        self.first_chunk = first_chunk
        self.up_model = up_model
        self.same = same  # the provider speaks the client's dialect: bytes are relayed
        self.strip_usage = strip_usage


class Upstream:
    """The providers and connectors of one config load."""

    __slots__ = ("providers", "connectors")

    def __init__(self, providers: Mapping[str, Any], connectors: Mapping[str, ProviderConnector]) -> None:
        self.providers = providers
        self.connectors = connectors

    def body_for(self, call: UpstreamCall, prov: Any, up_model: str) -> tuple[bytes, bool]:
        """The request body for provider `prov`, and whether its stream drops usage-only
        events. Same dialect: the client's bytes with only the model spliced (and what the
        dialect adds for accounting). Otherwise: translated from the normalized request."""
        target = get_dialect(prov.dialect)
        if prov.dialect == call.dialect.name:  # the client speaks the provider's dialect
            body = call.body if up_model == call.model else replace_model(call.body, up_model)
            return target.passthrough_body(body, call.data, call.stream)
        assert call.normalized is not None  # parsed up front whenever a target needs it
        built = target.build_request(
            call.normalized, model=up_model, stream=call.stream, options=target.target_options(prov)
        )
        return orjson.dumps(built), False

    async def exchange(self, call: UpstreamCall, target: Any, n: int) -> Served:
        """One attempt at `target` (n counts attempts on it from 0)."""
        trace = call.trace
        if trace is None:
            return await self.attempt(call, target, n, None)
        served: Served = await trace.attempt(
            lambda traceparent: self.attempt(call, target, n, traceparent),
            target.provider,
            target.model or call.route_model,
            n,
        )
        return served

    async def attempt(self, call: UpstreamCall, target: Any, n: int, traceparent: str | None) -> Served:
        """The attempt itself; `traceparent` (W3C) goes to the provider when tracing is on."""
        prov = self.providers[target.provider]
        conn = self.connectors[target.provider]
        up_model = target.model or call.route_model
        up_body, strip_usage = self.body_for(call, prov, up_model)
        timeout_s = (call.timeout_ms or prov.timeout_ms) / 1000
        stream = call.stream
        same = prov.dialect == call.dialect.name
        resp: UpstreamResponse | None = None
        try:
            # A translated request is LunaRoute's own: the client's query string and its
            # SDK's header families belong to the other dialect's API.
            resp = await conn.send(
                up_body,
                call.headers,
                credential=call.credential,
                stream=stream,
                timeout=timeout_s,
                passthrough=same,
                query=call.query if same else "",
                traceparent=traceparent,
            )
            if resp.status >= 400:
                err_body = await resp.read()
                raise UpstreamFailure(
                    "status",
                    status=resp.status,
                    retry_after_s=parse_retry_after(resp.header("retry-after")),
                    error=conn.wire.parse_upstream_error(resp.status, err_body),
                )
            if stream:
                # Wait for the first bytes inside the attempt: a stream that dies before
                # anything reached the client can still be retried. After that, the provider
                # timeout bounds each wait for the next chunk.
                it: AsyncIterator[bytes] = resp.iter_chunks(idle_timeout=timeout_s)
                first = await it.__anext__()
                return Served(target, prov, resp, it, first, up_model, same, strip_usage)
            return Served(target, prov, resp, await resp.read(), None, up_model, same, False)
        except UpstreamFailure:
            raise
        except TransportTimeout:
            raise UpstreamFailure("timeout") from None
        except StopAsyncIteration:
            raise UpstreamFailure("reset", message="upstream closed the stream before any event") from None
        except ConnectFailed:
            raise UpstreamFailure("connect") from None
        except TransportError:
            if resp is not None:
                resp.close(abort=True)
            raise UpstreamFailure("reset") from None
