"""OpenTelemetry traces of requests (`observability.tracing`), exported over OTLP/HTTP.

One span per client request (kind SERVER, a child of the client's W3C `traceparent` when it
sends one), with a child span per phase (`ingress`, `route`, `normalize`, `egress`) and, under
`egress`, one span per upstream attempt (kind CLIENT). Each attempt sends the provider a
`traceparent` naming its own span, so a provider that traces joins the same trace.

Attributes are names, numbers and outcomes: provider, model, status, tokens, attempt number,
why an attempt was a retry or a fallback. Never a prompt, an answer or a key.

Cost. Tracing off, the request path pays one `is None` check per request and per attempt.
On, spans go to a bounded in-memory queue that a background thread exports in batches
(BatchSpanProcessor): a slow or dead collector fills the queue and spans are dropped, a
request never waits for it. Phase spans are made when the request ends, with the times the
pipeline measured anyway (perf_counter, mapped to the wall clock once per request), so they
cost nothing while the request runs; unsampled requests make none.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from .. import __version__
from ..errors import UpstreamFailure

log = logging.getLogger("lunaroute.tracing")
T = TypeVar("T")

# Spans waiting for export. Beyond this the newest are dropped (a dead collector must cost a
# bounded amount of memory): at ~1 KB a span, a few MB.
MAX_QUEUE = 4096
MAX_BATCH = 512
EXPORT_DELAY_MS = 1000
EXPORT_TIMEOUT_S = 5.0
# The OTLP/gRPC port: an endpoint on it is almost surely a mistake for an HTTP exporter.
_GRPC_PORT = 4317
_PROPAGATOR = TraceContextTextMapPropagator()


def traces_url(endpoint: str) -> str:
    """The OTLP/HTTP traces URL of a collector endpoint: a bare origin gets `/v1/traces`,
    a URL with a path is used as written."""
    parts = urlsplit(endpoint)
    if parts.path in ("", "/"):
        parts = parts._replace(path="/v1/traces")
    return urlunsplit(parts)


class Tracing:
    """The process's tracer and exporter, made once per serving process (after the fork)."""

    def __init__(self, endpoint: str, sample_rate: float, *, export_delay_ms: int = EXPORT_DELAY_MS) -> None:
        self.endpoint = traces_url(endpoint)
        self.sample_rate = sample_rate
        resource = Resource.create(
            {
                "service.name": "lunaroute",
                "service.version": __version__,
                "service.instance.id": f"{socket.gethostname()}:{os.getpid()}",
            }
        )
        # A client's sampled (or unsampled) trace is followed; new traces are sampled at
        # `sample_rate`.
        self.provider = TracerProvider(resource=resource, sampler=ParentBased(TraceIdRatioBased(sample_rate)))
        exporter = OTLPSpanExporter(endpoint=self.endpoint, timeout=EXPORT_TIMEOUT_S)
        self.processor = BatchSpanProcessor(
            exporter,
            max_queue_size=MAX_QUEUE,
            schedule_delay_millis=export_delay_ms,
            max_export_batch_size=MAX_BATCH,
            export_timeout_millis=EXPORT_TIMEOUT_S * 1000,
        )
        self.provider.add_span_processor(self.processor)
        self.tracer = self.provider.get_tracer("lunaroute", __version__)

    @classmethod
    def from_config(cls, obs: Any) -> Tracing | None:
        """The tracing of `config.observability`, or None when it is off."""
        if not obs.tracing_enabled:
            return None
        if urlsplit(obs.tracing_endpoint).port == _GRPC_PORT:
            log.warning(
                "observability.tracing.endpoint %s: port %d is OTLP/gRPC; LunaRoute exports OTLP/HTTP "
                "(a collector listens for it on 4318)",
                obs.tracing_endpoint,
                _GRPC_PORT,
            )
        tracing = cls(obs.tracing_endpoint, obs.sample_rate)
        log.info(
            "tracing on",
            extra={"fields": {"endpoint": tracing.endpoint, "sample_rate": obs.sample_rate}},
        )
        return tracing

    def begin(
        self, method: str, path: str, listener: str, request_id: str, headers: Mapping[str, str], t0: float
    ) -> RequestTrace:
        """The trace of one request, its root span started at `t0` (perf_counter)."""
        return RequestTrace(self.tracer, method, path, listener, request_id, headers, t0)

    def flush(self, timeout_s: float = EXPORT_TIMEOUT_S) -> bool:
        return bool(self.processor.force_flush(int(timeout_s * 1000)))

    def shutdown(self) -> None:
        """Export what is queued (bounded by the export timeout) and stop the thread."""
        self.provider.shutdown()


class RequestTrace:
    """The spans of one request. Its methods are called from the request's own task."""

    __slots__ = (
        "tracer",
        "offset_ns",
        "root",
        "ctx",
        "egress",
        "egress_ctx",
        "attempts",
        "last_failure",
        "status",
        "error",
    )

    def __init__(
        self, tracer: Any, method: str, path: str, listener: str, request_id: str, headers: Mapping[str, str], t0: float
    ) -> None:
        self.tracer = tracer
        # perf_counter times of this request map to the wall clock through one offset.
        self.offset_ns = time.time_ns() - int(time.perf_counter() * 1e9)
        parent = _PROPAGATOR.extract(headers)
        self.root = tracer.start_span(
            f"{method} {path}",
            context=parent,
            kind=SpanKind.SERVER,
            start_time=self.ns(t0),
            attributes={
                "http.request.method": method,
                "url.path": path,
                "lunaroute.listener": listener,
                "lunaroute.request_id": request_id,
            },
        )
        self.ctx = trace.set_span_in_context(self.root)
        self.egress: Any = None
        self.egress_ctx: Any = None
        self.attempts = 0
        self.last_failure: str | None = None
        self.status = 200
        self.error: str | None = None

    def ns(self, perf_s: float) -> int:
        return int(perf_s * 1e9) + self.offset_ns

    # ---------------------------------------------------------------- attempts
    async def attempt(
        self,
        send: Callable[[str], Awaitable[T]],
        provider: str,
        model: str,
        n: int,
    ) -> T:
        """Run one upstream attempt under its own span; `send(traceparent)` makes it."""
        if self.egress is None:
            self.egress = self.tracer.start_span("egress", context=self.ctx)
            self.egress_ctx = trace.set_span_in_context(self.egress)
        attrs: dict[str, Any] = {"lunaroute.provider": provider, "gen_ai.request.model": model, "lunaroute.attempt": n}
        if self.attempts:
            attrs["lunaroute.retry_reason"] = self.last_failure or "unknown"
            attrs["lunaroute.fallback"] = n == 0
        self.attempts += 1
        span = self.tracer.start_span(f"upstream {provider}", context=self.egress_ctx, kind=SpanKind.CLIENT)
        span.set_attributes(attrs)
        sc = span.get_span_context()
        traceparent = f"00-{sc.trace_id:032x}-{sc.span_id:016x}-{int(sc.trace_flags) & 0xFF:02x}"
        try:
            result = await send(traceparent)
        except UpstreamFailure as failure:
            outcome = failure.outcome
            self.last_failure = outcome
            if failure.status:
                span.set_attribute("http.response.status_code", failure.status)
            span.set_attribute("lunaroute.outcome", outcome)
            span.set_status(Status(StatusCode.ERROR, outcome))
            span.end()
            raise
        except BaseException as exc:
            self.last_failure = "cancelled" if isinstance(exc, asyncio.CancelledError) else "error"
            span.set_attribute("lunaroute.outcome", self.last_failure)
            span.set_status(Status(StatusCode.ERROR, self.last_failure))
            span.end()
            raise
        response = getattr(result, "response", None)
        if response is not None:
            span.set_attribute("http.response.status_code", int(response.status))
        span.set_attribute("lunaroute.outcome", "ok")
        span.end()
        return result

    # ---------------------------------------------------------------- the end
    def served(self, ex: Any, t0: float, t_ingress: float, t_route: float, t_norm: float, t_end: float) -> None:
        """What a served request tells: its phases and its answer."""
        self.status = ex.status
        if ex.error is not None:
            self.error = "client_disconnected" if ex.status == 499 else "stream_failed"
        root = self.root
        if not root.is_recording():
            return
        for name, start, end in (
            ("ingress", t0, t_ingress),
            ("route", t_ingress, t_route),
            ("normalize", t_route, t_norm),
        ):
            span = self.tracer.start_span(name, context=self.ctx, start_time=self.ns(start))
            span.end(end_time=self.ns(end))
        if self.egress is not None:
            self.egress.end(end_time=self.ns(t_end))
            self.egress = None
        root.set_attributes(
            {
                "lunaroute.provider": ex.provider,
                "gen_ai.request.model": ex.request_model,
                "gen_ai.response.model": ex.model,
                "gen_ai.usage.input_tokens": ex.input_tokens,
                "gen_ai.usage.output_tokens": ex.output_tokens,
                "lunaroute.stream": ex.stream,
                "lunaroute.attempts": ex.attempts,
                "lunaroute.fallbacks_tried": ex.fallbacks_tried,
            }
        )
        if ex.ttft_s is not None:
            root.set_attribute("lunaroute.ttft_ms", round(ex.ttft_s * 1000, 3))

    def failed(self, status: int, error_kind: str) -> None:
        """The request ended in an error answer (or the client left: 499)."""
        self.status = status
        self.error = error_kind

    def end(self) -> None:
        """Close the request's spans; called once, whatever happened."""
        if self.egress is not None:
            self.egress.end()
            self.egress = None
        root = self.root
        if root.is_recording():
            root.set_attribute("http.response.status_code", self.status)
            if self.error is not None:
                root.set_attribute("error.type", self.error)
            # HTTP server spans: a 4xx is the client's error, not the server's.
            if self.status >= 500:
                root.set_status(Status(StatusCode.ERROR, self.error or str(self.status)))
        root.end()
