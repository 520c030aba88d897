"""The Prometheus metrics of CONTRACT §7 (prefix `lunaroute_`).

Label children are cached per label tuple: `labels()` on prometheus_client costs a lock and a
dict lookup per call, which the hot path should pay once per (listener, provider, model, status).
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import CONTENT_TYPE_LATEST

# From 10 µs up: the gateway's own phases are sub-millisecond, upstream calls are seconds.
PHASE_BUCKETS = (
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)
PHASES = ("ingress", "normalize", "route", "egress", "total")


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, registry: CollectorRegistry | None = None):
        r = self.registry = registry or CollectorRegistry()
        self.requests = Counter(
            "lunaroute_requests_total", "Requests answered",
            ["listener", "provider", "model", "status"], registry=r,
        )
        self.duration = Histogram(
            "lunaroute_request_duration_seconds", "Time spent per request phase",
            ["phase"], buckets=PHASE_BUCKETS, registry=r,
        )
        self.ttft = Histogram(
            "lunaroute_ttft_seconds", "Time to the first byte of a streamed answer",
            buckets=PHASE_BUCKETS, registry=r,
        )
        self.fallbacks = Counter("lunaroute_fallbacks_total", "Fallback targets tried", registry=r)
        self.tokens = Counter("lunaroute_tokens_total", "Tokens by direction", ["direction"], registry=r)
        self.pii_detections = Counter(
            "lunaroute_pii_detections_total", "PII detections by type", ["type"], registry=r
        )
        self.pii_redactions = Counter("lunaroute_pii_redactions_total", "PII redactions", registry=r)
        self.breaker_state = Gauge(
            "lunaroute_circuit_breaker_state", "0 closed, 1 open, 2 half-open", ["provider"], registry=r
        )
        self.budget_ratio = Gauge(
            "lunaroute_budget_usage_ratio", "Budget used / limit", ["budget", "window"], registry=r
        )
        self.rate_limited = Counter("lunaroute_rate_limited_total", "Requests refused by rate limits", registry=r)
        self.recording_errors = Counter(
            "lunaroute_recording_errors_total", "Session recording failures", registry=r
        )
        self.inflight = Gauge("lunaroute_inflight_requests", "Requests in flight", registry=r)
        self.upstream_attempts = Counter(
            "lunaroute_upstream_attempts_total", "Upstream attempts by provider and outcome",
            ["provider", "outcome"], registry=r,
        )
        self._req_children: dict[tuple, object] = {}
        self._phase = {p: self.duration.labels(p) for p in PHASES}
        self._tok_in = self.tokens.labels("input")
        self._tok_out = self.tokens.labels("output")

    def request_done(self, listener: str, provider: str, model: str, status: int) -> None:
        key = (listener, provider, model, status)
        child = self._req_children.get(key)
        if child is None:
            if len(self._req_children) > 10000:  # unbounded model names must not leak memory
                self._req_children.clear()
            child = self._req_children[key] = self.requests.labels(listener, provider, model, str(status))
        child.inc()  # type: ignore[attr-defined]

    def phase(self, name: str, seconds: float) -> None:
        self._phase[name].observe(seconds)

    def add_tokens(self, input_tokens: int, output_tokens: int) -> None:
        if input_tokens:
            self._tok_in.inc(input_tokens)
        if output_tokens:
            self._tok_out.inc(output_tokens)

    def set_breaker_states(self, states: dict[str, int]) -> None:
        for provider, state in states.items():
            self.breaker_state.labels(provider).set(state)

    def render(self) -> bytes:
        return generate_latest(self.registry)
