"""A human summary of LunaRoute's Prometheus metrics (what `lunaroute metrics` prints).

Counters are cumulative since the server started; `Snapshot.minus()` turns two scrapes into
the activity of the time between them (the `--window` option).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

STATE_NAMES = {0: "closed", 1: "open", 2: "half-open"}


@dataclass(slots=True)
class Histogram:
    """Cumulative bucket counts by upper bound (`+Inf` last), plus count and sum."""

    buckets: dict[float, float] = field(default_factory=dict)
    count: float = 0.0
    total: float = 0.0

    def minus(self, earlier: Histogram) -> Histogram:
        return Histogram(
            {le: max(0.0, v - earlier.buckets.get(le, 0.0)) for le, v in self.buckets.items()},
            max(0.0, self.count - earlier.count),
            max(0.0, self.total - earlier.total),
        )

    def quantile(self, q: float) -> float | None:
        """The q-quantile, interpolated linearly inside its bucket (Prometheus'
        `histogram_quantile` method). None without observations; inf when it falls in the
        open-ended last bucket."""
        if self.count <= 0 or not self.buckets:
            return None
        rank = q * self.count
        prev_le, prev_count = 0.0, 0.0
        for le in sorted(self.buckets):
            cum = self.buckets[le]
            if cum >= rank:
                if math.isinf(le):
                    return math.inf
                if cum == prev_count:
                    return le
                return prev_le + (le - prev_le) * (rank - prev_count) / (cum - prev_count)
            prev_le, prev_count = le, cum
        return math.inf


@dataclass(slots=True)
class Snapshot:
    requests: dict[tuple[str, str], float] = field(default_factory=dict)  # (provider, status)
    latency: Histogram = field(default_factory=Histogram)  # phase="total"
    ttft: Histogram = field(default_factory=Histogram)
    tokens: dict[str, float] = field(default_factory=dict)  # direction → count
    fallbacks: float = 0.0
    rate_limited: float = 0.0
    recording_errors: float = 0.0
    inflight: float = 0.0
    circuits: dict[str, int] = field(default_factory=dict)

    def minus(self, earlier: Snapshot) -> Snapshot:
        """The activity between `earlier` and this scrape (gauges keep this scrape's value)."""
        return Snapshot(
            requests={
                k: v - earlier.requests.get(k, 0.0)
                for k, v in self.requests.items()
                if v - earlier.requests.get(k, 0.0) > 0
            },
            latency=self.latency.minus(earlier.latency),
            ttft=self.ttft.minus(earlier.ttft),
            tokens={k: max(0.0, v - earlier.tokens.get(k, 0.0)) for k, v in self.tokens.items()},
            fallbacks=max(0.0, self.fallbacks - earlier.fallbacks),
            rate_limited=max(0.0, self.rate_limited - earlier.rate_limited),
            recording_errors=max(0.0, self.recording_errors - earlier.recording_errors),
            inflight=self.inflight,
            circuits=dict(self.circuits),
        )


def parse_metrics(text: str) -> Snapshot:
    """Read the `lunaroute_*` series out of a Prometheus text exposition."""
    snap = Snapshot()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, float(sample.value)
            if name == "lunaroute_requests_total":
                key = (labels.get("provider", ""), labels.get("status", ""))
                snap.requests[key] = snap.requests.get(key, 0.0) + value
            elif name.startswith("lunaroute_request_duration_seconds"):
                if labels.get("phase") == "total":
                    _histogram_sample(snap.latency, name, labels, value)
            elif name.startswith("lunaroute_ttft_seconds"):
                _histogram_sample(snap.ttft, name, labels, value)
            elif name == "lunaroute_tokens_total":
                direction = labels.get("direction", "")
                snap.tokens[direction] = snap.tokens.get(direction, 0.0) + value
            elif name == "lunaroute_fallbacks_total":
                snap.fallbacks += value
            elif name == "lunaroute_rate_limited_total":
                snap.rate_limited += value
            elif name == "lunaroute_recording_errors_total":
                snap.recording_errors += value
            elif name == "lunaroute_inflight_requests":
                snap.inflight += value
            elif name == "lunaroute_circuit_breaker_state":
                snap.circuits[labels.get("provider", "")] = int(value)
    return snap


def _histogram_sample(hist: Histogram, name: str, labels: dict[str, str], value: float) -> None:
    if name.endswith("_bucket"):
        le = float(labels.get("le", "+Inf"))
        hist.buckets[le] = hist.buckets.get(le, 0.0) + value
    elif name.endswith("_count"):
        hist.count += value
    elif name.endswith("_sum"):
        hist.total += value


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if math.isinf(seconds):
        return "over the largest bucket"
    if seconds < 0.001:
        return f"{seconds * 1e6:.0f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def _count(value: float) -> str:
    return f"{value:,.0f}"


def render(snap: Snapshot, *, provider: str | None = None, window_s: float | None = None) -> str:
    """The summary text. `provider` filters the per-provider parts; `window_s` adds rates."""
    lines: list[str] = []
    requests = {k: v for k, v in snap.requests.items() if provider is None or k[0] == provider}
    total = sum(requests.values())
    scope = f" for provider {provider}" if provider else ""
    span = f" in the last {window_s:g} s" if window_s else " since start"
    rate = f" ({total / window_s:.1f}/s)" if window_s else ""
    lines.append(f"requests{scope}{span}: {_count(total)}{rate}")
    if requests:
        width = max(len("provider"), *(len(p) for p, _ in requests))
        lines.append(f"  {'provider'.ljust(width)}  status  requests")
        for (prov, status), value in sorted(requests.items(), key=lambda kv: (kv[0][0], kv[0][1])):
            lines.append(f"  {(prov or '-').ljust(width)}  {status.ljust(6)}  {_count(value)}")
    hist = snap.latency
    lines.append(
        f"latency (all providers, end to end): p50 {_duration(hist.quantile(0.5))}, "
        f"p95 {_duration(hist.quantile(0.95))}, p99 {_duration(hist.quantile(0.99))}"
        + (f", mean {_duration(hist.total / hist.count)}" if hist.count else "")
    )
    if snap.ttft.count:
        lines.append(
            f"time to first token: p50 {_duration(snap.ttft.quantile(0.5))}, p95 {_duration(snap.ttft.quantile(0.95))}"
        )
    lines.append(
        f"tokens: input {_count(snap.tokens.get('input', 0.0))}, output {_count(snap.tokens.get('output', 0.0))}"
    )
    lines.append(
        f"fallbacks: {_count(snap.fallbacks)}, rate limited: {_count(snap.rate_limited)}, "
        f"recording errors: {_count(snap.recording_errors)}, in flight: {_count(snap.inflight)}"
    )
    circuits = {p: s for p, s in snap.circuits.items() if provider is None or p == provider}
    if circuits:
        states = ", ".join(f"{p} {STATE_NAMES.get(s, str(s))}" for p, s in sorted(circuits.items()))
        lines.append(f"circuit breakers: {states}")
    else:
        lines.append("circuit breakers: none reported")
    return "\n".join(lines)
