"""A human summary of LunaRoute's Prometheus metrics (what `lunaroute metrics` prints), and
the same figures as JSON for scripts.

Counters are cumulative since the server started; `Snapshot.minus()` turns two scrapes into
the activity of the time between them (`--window`, and each refresh of `--watch`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, TypeVar

from prometheus_client.parser import text_string_to_metric_families

STATE_NAMES = {0: "closed", 1: "open", 2: "half-open"}
PHASES = ("ingress", "route", "normalize", "egress", "total")
_K = TypeVar("_K")


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

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None


def _minus_map(now: dict[_K, float], before: dict[_K, float]) -> dict[_K, float]:
    """Counter series: what grew, series that did not grow left out."""
    return {k: v - before.get(k, 0.0) for k, v in now.items() if v - before.get(k, 0.0) > 0}


@dataclass(slots=True)
class Snapshot:
    requests: dict[tuple[str, str], float] = field(default_factory=dict)  # (provider, status)
    phases: dict[str, Histogram] = field(default_factory=lambda: {p: Histogram() for p in PHASES})
    ttft: Histogram = field(default_factory=Histogram)
    tokens: dict[str, float] = field(default_factory=dict)  # direction → count
    cost: dict[tuple[str, str], float] = field(default_factory=dict)  # (provider, model) → USD
    attempts: dict[tuple[str, str], float] = field(default_factory=dict)  # (provider, outcome)
    pii: dict[str, float] = field(default_factory=dict)  # type → detections
    pii_redactions: float = 0.0
    fallbacks: float = 0.0
    rate_limited: float = 0.0
    recording_errors: float = 0.0
    inflight: float = 0.0
    circuits: dict[str, int] = field(default_factory=dict)
    budgets: dict[tuple[str, str], float] = field(default_factory=dict)  # (budget, window) → ratio

    @property
    def latency(self) -> Histogram:
        """End to end: the `total` phase."""
        return self.phases["total"]

    def minus(self, earlier: Snapshot) -> Snapshot:
        """The activity between `earlier` and this scrape (gauges keep this scrape's value)."""
        return Snapshot(
            requests=_minus_map(self.requests, earlier.requests),
            phases={p: h.minus(earlier.phases.get(p, Histogram())) for p, h in self.phases.items()},
            ttft=self.ttft.minus(earlier.ttft),
            tokens={k: max(0.0, v - earlier.tokens.get(k, 0.0)) for k, v in self.tokens.items()},
            cost=_minus_map(self.cost, earlier.cost),
            attempts=_minus_map(self.attempts, earlier.attempts),
            pii=_minus_map(self.pii, earlier.pii),
            pii_redactions=max(0.0, self.pii_redactions - earlier.pii_redactions),
            fallbacks=max(0.0, self.fallbacks - earlier.fallbacks),
            rate_limited=max(0.0, self.rate_limited - earlier.rate_limited),
            recording_errors=max(0.0, self.recording_errors - earlier.recording_errors),
            inflight=self.inflight,
            circuits=dict(self.circuits),
            budgets=dict(self.budgets),
        )


def _add(target: dict[Any, float], key: Any, value: float) -> None:
    target[key] = target.get(key, 0.0) + value


def parse_metrics(text: str) -> Snapshot:
    """Read the `lunaroute_*` series out of a Prometheus text exposition."""
    snap = Snapshot()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            name, labels, value = sample.name, sample.labels, float(sample.value)
            if name == "lunaroute_requests_total":
                _add(snap.requests, (labels.get("provider", ""), labels.get("status", "")), value)
            elif name.startswith("lunaroute_request_duration_seconds"):
                phase = labels.get("phase", "")
                hist = snap.phases.setdefault(phase, Histogram())
                _histogram_sample(hist, name, labels, value)
            elif name.startswith("lunaroute_ttft_seconds"):
                _histogram_sample(snap.ttft, name, labels, value)
            elif name == "lunaroute_tokens_total":
                _add(snap.tokens, labels.get("direction", ""), value)
            elif name == "lunaroute_cost_usd_total":
                _add(snap.cost, (labels.get("provider", ""), labels.get("model", "")), value)
            elif name == "lunaroute_upstream_attempts_total":
                _add(snap.attempts, (labels.get("provider", ""), labels.get("outcome", "")), value)
            elif name == "lunaroute_pii_detections_total":
                _add(snap.pii, labels.get("type", ""), value)
            elif name == "lunaroute_pii_redactions_total":
                snap.pii_redactions += value
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
            elif name == "lunaroute_budget_usage_ratio":
                snap.budgets[(labels.get("budget", ""), labels.get("window", ""))] = value
    return snap


def _histogram_sample(hist: Histogram, name: str, labels: dict[str, str], value: float) -> None:
    if name.endswith("_bucket"):
        le = float(labels.get("le", "+Inf"))
        hist.buckets[le] = hist.buckets.get(le, 0.0) + value
    elif name.endswith("_count"):
        hist.count += value
    elif name.endswith("_sum"):
        hist.total += value


# ---------------------------------------------------------------------- figures
@dataclass(frozen=True, slots=True)
class Scope:
    """What a summary covers: one provider or all, since start or over a window."""

    provider: str | None = None
    window_s: float | None = None

    def keeps(self, provider: str) -> bool:
        return self.provider is None or provider == self.provider


def error_counts(snap: Snapshot, scope: Scope) -> tuple[float, float, float]:
    """(all requests, 4xx answers, 5xx answers) of the scope."""
    total = client = server = 0.0
    for (prov, status), value in snap.requests.items():
        if not scope.keeps(prov):
            continue
        total += value
        if status.startswith("4"):
            client += value
        elif status.startswith("5"):
            server += value
    return total, client, server


def to_json(snap: Snapshot, scope: Scope, url: str) -> dict[str, Any]:
    """Every figure of the summary, for scripts (seconds, US dollars, ratios; null where
    there is nothing to measure)."""
    total, client, server = error_counts(snap, scope)

    def hist(h: Histogram) -> dict[str, Any]:
        return {
            "count": h.count,
            "mean": h.mean,
            **{f"p{round(q * 100)}": _finite(h.quantile(q)) for q in (0.5, 0.95, 0.99)},
        }

    return {
        "url": url,
        "provider": scope.provider,
        "window_s": scope.window_s,
        "requests": {
            "total": total,
            "per_second": total / scope.window_s if scope.window_s else None,
            "client_errors": client,
            "server_errors": server,
            "error_rate": (client + server) / total if total else None,
            "by_provider_status": [
                {"provider": p, "status": s, "count": v}
                for (p, s), v in sorted(snap.requests.items())
                if scope.keeps(p)
            ],
        },
        "latency_s": {phase: hist(h) for phase, h in snap.phases.items()},
        "ttft_s": hist(snap.ttft),
        "tokens": {"input": snap.tokens.get("input", 0.0), "output": snap.tokens.get("output", 0.0)},
        "cost_usd": {
            "total": sum(v for (p, _), v in snap.cost.items() if scope.keeps(p)),
            "by_model": [
                {"provider": p, "model": m, "usd": v} for (p, m), v in sorted(snap.cost.items()) if scope.keeps(p)
            ],
        },
        "upstream_attempts": [
            {"provider": p, "outcome": o, "count": v} for (p, o), v in sorted(snap.attempts.items()) if scope.keeps(p)
        ],
        "fallbacks": snap.fallbacks,
        "rate_limited": snap.rate_limited,
        "recording_errors": snap.recording_errors,
        "inflight": snap.inflight,
        "pii": {"detections": dict(sorted(snap.pii.items())), "redactions": snap.pii_redactions},
        "circuit_breakers": {p: STATE_NAMES.get(s, str(s)) for p, s in sorted(snap.circuits.items()) if scope.keeps(p)},
        "budgets": [{"budget": b, "window": w, "ratio": r} for (b, w), r in sorted(snap.budgets.items())],
    }


def _finite(x: float | None) -> float | None:
    return None if x is None or math.isinf(x) else x


# ---------------------------------------------------------------------- text
_RED, _YELLOW, _GREEN, _BOLD, _DIM, _RESET = "\x1b[31m", "\x1b[33m", "\x1b[32m", "\x1b[1m", "\x1b[2m", "\x1b[0m"
_STATE_COLOURS = {0: _GREEN, 1: _RED, 2: _YELLOW}


class _Paint:
    def __init__(self, on: bool) -> None:
        self.on = on

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{_RESET}" if self.on and code else text


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


def _usd(value: float) -> str:
    return f"${value:,.4f}" if value < 1 else f"${value:,.2f}"


def render(snap: Snapshot, *, provider: str | None = None, window_s: float | None = None, colour: bool = False) -> str:
    """The summary text. `provider` filters the per-provider parts; `window_s` adds rates;
    `colour` marks errors, open circuits and nearly spent budgets (for a terminal)."""
    scope = Scope(provider, window_s)
    paint = _Paint(colour)
    lines: list[str] = []
    requests = {k: v for k, v in snap.requests.items() if scope.keeps(k[0])}
    total, client, server = error_counts(snap, scope)
    where = f" for provider {provider}" if provider else ""
    span = f" in the last {window_s:g} s" if window_s else " since start"
    rate = f" ({total / window_s:.1f}/s)" if window_s else ""
    lines.append(paint(f"requests{where}{span}: {_count(total)}{rate}", _BOLD))
    if requests:
        width = max(len("provider"), *(len(p) for p, _ in requests))
        lines.append(f"  {'provider'.ljust(width)}  status  requests")
        for (prov, status), value in sorted(requests.items()):
            row = f"  {(prov or '-').ljust(width)}  {status.ljust(6)}  {_count(value)}"
            lines.append(paint(row, _RED if status.startswith("5") else _YELLOW if status.startswith("4") else ""))
    if total:
        share = (client + server) / total
        text = f"errors: {_count(client + server)} ({share:.1%}): 4xx {_count(client)}, 5xx {_count(server)}"
        lines.append(paint(text, _RED if server / total > 0.01 else _YELLOW if share else _GREEN))
    else:
        lines.append("errors: -")
    hist = snap.latency
    lines.append(
        f"latency (all providers, end to end): p50 {_duration(hist.quantile(0.5))}, "
        f"p95 {_duration(hist.quantile(0.95))}, p99 {_duration(hist.quantile(0.99))}"
        + (f", mean {_duration(hist.mean)}" if hist.count else "")
    )
    if hist.count:
        lines.append(f"  {'phase':<10} {'p50':>10} {'p95':>10} {'p99':>10}")
        for phase in PHASES:
            h = snap.phases.get(phase, Histogram())
            cells = [_duration(h.quantile(q)) for q in (0.5, 0.95, 0.99)]
            lines.append(f"  {phase:<10} " + " ".join(f"{c:>10}" for c in cells))
    if snap.ttft.count:
        lines.append(
            f"time to first token: p50 {_duration(snap.ttft.quantile(0.5))}, p95 {_duration(snap.ttft.quantile(0.95))}"
        )
    lines.append(
        f"tokens: input {_count(snap.tokens.get('input', 0.0))}, output {_count(snap.tokens.get('output', 0.0))}"
    )
    costs = {k: v for k, v in snap.cost.items() if scope.keeps(k[0])}
    if costs:
        parts = ", ".join(f"{p}/{m} {_usd(v)}" for (p, m), v in sorted(costs.items(), key=lambda kv: -kv[1])[:5])
        lines.append(f"cost: {_usd(sum(costs.values()))} ({parts})")
    else:
        lines.append("cost: $0")
    lines.append(
        f"fallbacks: {_count(snap.fallbacks)}, rate limited: {_count(snap.rate_limited)}, "
        f"recording errors: {_count(snap.recording_errors)}, in flight: {_count(snap.inflight)}"
    )
    failed = {k: v for k, v in snap.attempts.items() if k[1] != "ok" and scope.keeps(k[0])}
    if failed:
        text = ", ".join(f"{p} {o} {_count(v)}" for (p, o), v in sorted(failed.items()))
        lines.append(paint(f"failed upstream attempts: {text}", _YELLOW))
    if snap.pii or snap.pii_redactions:
        kinds = ", ".join(f"{t} {_count(v)}" for t, v in sorted(snap.pii.items()))
        lines.append(f"pii: {_count(snap.pii_redactions)} redactions ({kinds})")
    circuits = {p: s for p, s in snap.circuits.items() if scope.keeps(p)}
    if circuits:
        states = ", ".join(
            paint(f"{p} {STATE_NAMES.get(s, str(s))}", _STATE_COLOURS.get(s, "")) for p, s in sorted(circuits.items())
        )
        lines.append(f"circuit breakers: {states}")
    else:
        lines.append("circuit breakers: none reported")
    if snap.budgets:
        budget_parts: list[str] = []
        for (budget, window), ratio in sorted(snap.budgets.items()):
            budget_parts.append(
                paint(f"{budget} {window} {ratio:.0%}", _RED if ratio >= 0.9 else _YELLOW if ratio >= 0.75 else "")
            )
        lines.append("budgets: " + ", ".join(budget_parts))
    else:
        lines.append("budgets: none reported")
    return "\n".join(lines)
