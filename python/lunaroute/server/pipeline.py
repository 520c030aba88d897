"""The request pipeline: parse → authenticate → route → egress (with retries and fallbacks)
→ answer (relayed or translated) → metrics and observers.

Each stage is a call into its own module; this file only wires them. Same-dialect routes
never re-serialize: the raw body goes upstream with the model spliced, and the upstream
bytes come back untouched (streams chunk by chunk as they arrive).
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any

import orjson

from ..dialects import get_dialect
from ..dialects.base import TargetOptions
from ..egress.h1 import ConnectError, H1Error, H1Timeout
from ..errors import (
    NotFoundError,
    UpstreamError,
    UpstreamTimeoutError,
)
from ..kernels import SseFramer
from ..observability.logs import log_event
from ..routing import RouteRequest, UpstreamFailure, run_attempts
from .exchange import Exchange
from .passthrough import add_top_level_field, replace_model
from .request_body import parse_object, validate_light

log = logging.getLogger("lunaroute.pipeline")
perf = time.perf_counter

# Upstream response headers a client may rely on, relayed on every route: the provider's
# request id and its rate-limit state. Kept to these on purpose: every header is converted
# and written by granian on each response, and the rest (date, server, CDN and connection
# headers) are hop-by-hop noise or would contradict our own.
_RELAY_PREFIXES = ("x-ratelimit-", "anthropic-ratelimit-")
_RELAY_NAMES = frozenset(("request-id", "x-request-id", "retry-after"))


def _relay_headers(upstream: list[tuple[str, str]]) -> list[tuple[str, str]]:
    out = []
    for k, v in upstream:
        if k in _RELAY_NAMES or k.startswith(_RELAY_PREFIXES):
            out.append((k, v))
    return out


# An event worth parsing for usage carries a usage *object*: OpenAI streams with
# include_usage send `"usage": null` on every chunk but the last, and parsing each of them
# cost more than relaying the stream. The plain `in` test first keeps the common case cheap.
_USAGE_OBJECT = re.compile(r'"usage"\s*:\s*\{').search


def has_usage_object(data: str) -> bool:
    return '"usage"' in data and _USAGE_OBJECT(data) is not None


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


class _Served:
    """What one successful attempt produced."""

    __slots__ = ("target", "provider", "response", "body", "first_chunk", "up_model")

    def __init__(self, target, provider, response, body, first_chunk, up_model):
        self.target = target
        self.provider = provider
        self.response = response
        self.body = body
        self.first_chunk = first_chunk
        self.up_model = up_model


class ChatPipeline:
    """Runs one chat request for one listener. Stateless apart from the gateway state."""

    def __init__(self, state, listener, dialect_name: str):
        self.state = state
        self.listener = listener
        self.dialect = get_dialect(dialect_name)
        self.security_headers = state.security_headers(listener)

    async def run(self, proto, headers, body: bytes, request_id: str, t0: float) -> None:
        st = self.state
        dialect = self.dialect
        metrics = st.metrics
        # Who is asking comes first: an unknown client learns nothing about validation.
        key = await st.auth.authenticate(headers, dialect.name) if st.auth.required else None
        data = parse_object(body)
        model, stream = validate_light(dialect.name, data)
        t_ingress = perf()

        decision = st.routes.decide(
            RouteRequest(
                listener_id=self.listener.id,
                listener_type=dialect.name,
                model=model,
                headers=headers,
                key_id=key.id if key else None,
                tenant=key.tenant if key else None,
                body=data,
            )
        )
        if decision is None:
            raise NotFoundError(f"no route for model '{model}' on listener '{self.listener.id}'", param="model")
        t_route = perf()

        # Cross-dialect targets need the normalized request: parse (strictly) once, up front,
        # so a bad request is a 400 before any upstream is tried.
        normalized = None
        providers = st.providers
        for tgt in (decision.primary, *decision.fallbacks):
            prov = providers.get(tgt.provider)
            if prov is not None and prov.dialect != dialect.name:
                normalized = dialect.parse_request(data)
                break
        t_norm = perf()

        client_headers = headers
        connectors = st.connectors
        options = decision.options

        async def attempt(target, n: int) -> _Served:
            prov = providers[target.provider]
            conn = connectors[target.provider]
            up_model = target.model or model
            if prov.dialect == dialect.name:
                up_body = body if up_model == model else replace_model(body, up_model)
                if stream and prov.dialect == "openai" and "stream_options" not in data:
                    # Real usage for every stream (CONTRACT §5): ask the upstream for it.
                    up_body = add_top_level_field(up_body, "stream_options", {"include_usage": True})
            else:
                tdialect = get_dialect(prov.dialect)
                up_body = orjson.dumps(
                    tdialect.build_request(
                        normalized,
                        model=up_model,
                        stream=stream,
                        options=TargetOptions(
                            default_max_tokens=prov.default_max_tokens,
                            supports_thinking=prov.dialect == "anthropic",
                            provider_type=prov.type,
                        ),
                    )
                )
            timeout_s = (options.timeout_ms or prov.timeout_ms) / 1000
            resp = None
            try:
                resp = await conn.send(up_body, client_headers, stream=stream, timeout=timeout_s)
                if resp.status >= 400:
                    err_body = await resp.read()
                    err = get_dialect(prov.dialect).parse_upstream_error(resp.status, err_body)
                    raise UpstreamFailure(
                        "status",
                        status=resp.status,
                        retry_after_s=parse_retry_after(resp.header("retry-after")),
                        error=err,
                    )
                if stream:
                    # Wait for the first bytes inside the attempt: a stream that dies
                    # before anything reached the client can still be retried. After
                    # that, the provider timeout bounds each wait for the next chunk.
                    it = resp.iter_chunks(idle_timeout=timeout_s)
                    first = await it.__anext__()
                    return _Served(target, prov, resp, it, first, up_model)
                resp_body = await resp.read()
                return _Served(target, prov, resp, resp_body, None, up_model)
            except UpstreamFailure:
                raise
            except H1Timeout:
                raise UpstreamFailure("timeout") from None
            except StopAsyncIteration:
                raise UpstreamFailure("reset", message="upstream closed the stream before any event") from None
            except ConnectError:
                raise UpstreamFailure("connect") from None
            except H1Error:
                if resp is not None:
                    resp.close(abort=True)
                raise UpstreamFailure("reset") from None

        served, alog = await run_attempts(
            decision,
            attempt,
            breakers=st.breakers,
            max_retries_for=st.provider_max_retries,
            policy=st.retry_policy,
        )
        t_egress = perf()
        if alog.fallbacks_tried:
            metrics.fallbacks.inc(alog.fallbacks_tried)

        ex = Exchange(
            request_id=request_id,
            listener=self.listener.id,
            dialect=dialect.name,
            request_model=model,
            provider=served.target.provider,
            model=served.up_model,
            stream=stream,
            attempts=len(alog.attempts),
            fallbacks_tried=alog.fallbacks_tried,
            key_id=key.id if key else None,
            tenant=key.tenant if key else None,
        )
        resp_headers = [
            ("x-lunaroute-request-id", request_id),
            ("x-lunaroute-provider", served.target.provider),
            ("x-lunaroute-model", served.up_model),
            ("x-lunaroute-attempts", str(len(alog.attempts))),
            *self.security_headers,
        ]
        same = served.provider.dialect == dialect.name
        if stream:
            await self._stream(proto, served, same, normalized, resp_headers, ex, t0)
            t_end = perf()
            egress_s = t_end - t_egress
        else:
            self._answer(proto, served, same, normalized, resp_headers, ex)
            t_end = perf()
            egress_s = t_egress - t_norm
        ex.latency_s = t_end - t0
        metrics.served(
            self.listener.id,
            ex.provider,
            ex.model,
            ex.status,
            t_ingress - t0,
            t_route - t_ingress,
            t_norm - t_route,
            egress_s,
            ex.latency_s,
            ex.input_tokens,
            ex.output_tokens,
        )
        st.observe(ex, data)

    # ------------------------------------------------------------------ non-streaming
    def _answer(self, proto, served: _Served, same: bool, normalized, resp_headers, ex: Exchange) -> None:
        raw = served.body
        up_resp = served.response
        # Parsed even when relayed as is: it proves the body is a JSON object and gives the
        # usage (orjson on the whole body is faster here than scanning for the one key).
        try:
            up_data = orjson.loads(raw)
            if type(up_data) is not dict:
                raise ValueError("not an object")
        except ValueError:
            raise UpstreamError(
                f"provider '{served.target.provider}' returned a body that is not a JSON object"
            ) from None
        tdialect = get_dialect(served.provider.dialect)
        if same:
            ex.input_tokens, ex.output_tokens = tdialect.usage(up_data)
            out = raw
        else:
            norm_resp = tdialect.parse_response(up_data)
            ex.input_tokens, ex.output_tokens = norm_resp.usage.input_tokens, norm_resp.usage.output_tokens
            out = orjson.dumps(self.dialect.build_response(norm_resp, model=served.up_model, request=normalized))
        ex.status = 200
        ex.response_body = out
        hdrs = [("content-type", "application/json"), *resp_headers, *_relay_headers(up_resp.headers)]
        proto.response_bytes(200, hdrs, out)

    # ------------------------------------------------------------------ streaming
    async def _stream(
        self, proto, served: _Served, same: bool, normalized, resp_headers, ex: Exchange, t0: float
    ) -> None:
        st = self.state
        up = served.response
        chunks = served.body
        framer = SseFramer()
        hdrs = [
            ("content-type", "text/event-stream; charset=utf-8"),
            ("cache-control", "no-cache"),
            *resp_headers,
            *_relay_headers(up.headers),
        ]
        transport = proto.response_stream(200, hdrs)
        ex.status = 200
        usage = _UsageTap(served.provider.dialect)
        decoder = encoder = None
        if not same:
            decoder = get_dialect(served.provider.dialect).stream_decoder()
            encoder = self.dialect.stream_encoder(model=served.up_model, request=normalized)
        sent_any = False
        chunk = served.first_chunk
        try:
            while True:
                if same:
                    out = chunk
                    for ev in framer.feed(chunk):
                        if has_usage_object(ev[1]):
                            usage.see(ev)
                else:
                    events = []
                    for ev in framer.feed(chunk):
                        if has_usage_object(ev[1]):
                            usage.see(ev)
                        events.extend(decoder.feed(ev[0], ev[1]))
                    out = encoder.encode(events) if events else b""
                if out:
                    await _send(transport, out)
                    if not sent_any:
                        sent_any = True
                        ex.ttft_s = perf() - t0
                        st.metrics.ttft.observe(ex.ttft_s)
                try:
                    chunk = await chunks.__anext__()
                except StopAsyncIteration:
                    break
            if not same:
                tail = encoder.encode(decoder.finish()) + encoder.finish()
                if tail:
                    await _send(transport, tail)
        except _ClientGone:
            # The client left mid-stream: stop the upstream too; nothing more to say.
            up.close(abort=True)
            ex.status = 499
            ex.error = "client disconnected"
            log_event(log, logging.INFO, "client disconnected mid-stream", request_id=ex.request_id)
        except H1Error as exc:
            up.close(abort=True)
            err = (
                UpstreamTimeoutError("upstream stream stalled past the provider timeout")
                if isinstance(exc, H1Timeout)
                else UpstreamError("upstream stream broke off before it finished")
            )
            ex.status = err.status
            ex.error = err.message
            log_event(
                log,
                logging.WARNING,
                "stream failed after start",
                request_id=ex.request_id,
                provider=ex.provider,
                reason=str(exc),
            )
            # The client already has a 200 and events: end in-stream, in its dialect.
            tail = encoder.error(err) if encoder is not None else self.dialect.stream_error(err)
            try:
                await transport.send_bytes(tail)
            except Exception:
                pass
        except Exception:
            # A bug or a kernel refusal (e.g. an SSE line over the size cap) after the 200:
            # still end the stream properly, in the caller's dialect, and keep the traceback.
            up.close(abort=True)
            log.exception("stream failed after start (request %s)", ex.request_id)
            err = UpstreamError("the stream could not be relayed")
            ex.status = err.status
            ex.error = err.message
            try:
                await transport.send_bytes(self.dialect.stream_error(err))
            except Exception:
                pass
        except BaseException:
            up.close(abort=True)
            raise
        finally:
            # granian ends the client's stream when the transport object goes away; drop our
            # reference now, whatever tracebacks may still point at this frame.
            transport = None
        ex.input_tokens, ex.output_tokens = usage.input_tokens, usage.output_tokens


class _ClientGone(Exception):
    """Writing to the client failed: it disconnected."""


async def _send(transport, data: bytes) -> None:
    try:
        await transport.send_bytes(data)
    except Exception:
        raise _ClientGone() from None


class _UsageTap:
    """Reads usage from the upstream's own events (either dialect) without touching them."""

    __slots__ = ("dialect", "input_tokens", "output_tokens")

    def __init__(self, dialect: str):
        self.dialect = dialect
        self.input_tokens = 0
        self.output_tokens = 0

    def see(self, ev: tuple) -> None:
        """Called for events that carry a usage object (the caller filters with
        `has_usage_object`: a per-event cost)."""
        data = ev[1]
        try:
            obj: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            return
        if type(obj) is not dict:
            return
        try:
            self._read(obj)
        except (TypeError, ValueError, AttributeError):
            pass  # usage an upstream got wrong must not break the stream it rides on

    def _read(self, obj: dict) -> None:
        if self.dialect == "openai":
            u = obj.get("usage")
            if isinstance(u, dict):
                self.input_tokens = int(u.get("prompt_tokens") or 0)
                self.output_tokens = int(u.get("completion_tokens") or 0)
            return
        typ = obj.get("type")
        if typ == "message_start":
            u = (obj.get("message") or {}).get("usage") or {}
            self.input_tokens = int(u.get("input_tokens") or 0)
            self.output_tokens = int(u.get("output_tokens") or 0)
        elif typ == "message_delta":
            u = obj.get("usage") or {}
            if u.get("input_tokens"):
                self.input_tokens = int(u["input_tokens"])
            if "output_tokens" in u:
                self.output_tokens = int(u.get("output_tokens") or 0)
