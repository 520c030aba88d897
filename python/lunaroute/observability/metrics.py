"""The Prometheus metrics of CONTRACT §7 (prefix `lunaroute_`).

Why not prometheus_client's metric objects on the hot path: measured here, its Histogram
costs ~8 µs per observe (a lock and a linear bucket scan) and a labelled Counter ~1.6 µs per
inc; a request records ~6 observations and a dozen counts, ~60 µs in all — more than the
rest of the gateway's Python work on a passthrough. These accumulators are plain lists and
dicts (one `bisect` per observation, no lock: each process runs one event loop), and
prometheus_client still does what it is good at: the exposition format at scrape time, via a
custom collector.

With several worker processes, each worker writes a snapshot of its accumulators to a file
every second (`MetricsSnapshotWriter`) and the supervisor's metrics listener merges the
snapshots of live workers at scrape time (`merge_snapshots`).

Label values are bounded, so series never have to be dropped (a counter that vanishes or
falls back to zero breaks every rate() over it): `model` is a name the config knows, or one
a configured provider actually served (at most MAX_SERVED_MODEL_NAMES of those per process),
else `other`. Listeners and providers come from the config; statuses are HTTP statuses.
"""

from __future__ import annotations

import asyncio
import logging
import os
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily

if TYPE_CHECKING:
    from prometheus_client.metrics_core import Metric

    from ..routing.rules import RouteRule

# A snapshot is plain JSON data (workers hand theirs to the supervisor as a file).
Snapshot = dict[str, Any]
# A histogram's state: [bucket counts, sum].
HistState = list[Any]

# From 10 µs up: the gateway's own phases are sub-millisecond, upstream calls are seconds.
PHASE_BUCKETS = (
    0.00001,
    0.000025,
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
    60.0,
)
PHASES = ("ingress", "normalize", "route", "egress", "total")
OTHER_MODEL = "other"
# The model label of bypassed requests (server/bypass.py): their bodies are never parsed.
BYPASS_MODEL = "bypass"
# Glob and regex rules pass the client's model name on; an upstream that answers for any
# name (some local model servers do) must not turn that into unbounded series.
MAX_SERVED_MODEL_NAMES = 256

log = logging.getLogger("lunaroute.metrics")


def config_model_names(routes: Iterable[RouteRule]) -> frozenset[str]:
    """Every model name the routing rules spell out: exact `match.model` names and the
    models their targets and fallbacks name."""
    names: set[str] = set()
    for rule in routes:
        for matcher in rule.match.models:
            if matcher.kind == "exact":
                names.add(matcher.source)
        for target in (*rule.targets, *rule.fallbacks):
            if target.model is not None:
                names.add(target.model)
    return frozenset(names)


class Counter:
    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        self.value += amount


class Gauge(Counter):
    __slots__ = ()

    def dec(self, amount: float = 1.0) -> None:
        self.value -= amount

    def set(self, value: float) -> None:
        self.value = value


class Histogram:
    __slots__ = ("bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...] = PHASE_BUCKETS) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last slot is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.bounds, value)] += 1
        self.sum += value

    def state(self) -> HistState:
        return [self.counts, self.sum]


class Metrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.requests: dict[tuple[str, str, str, str], float] = {}
        self.phases = {p: Histogram() for p in PHASES}
        self.ttft = Histogram()
        self.fallbacks = Counter()
        self.tokens_in = Counter()
        self.tokens_out = Counter()
        self.pii_detections: dict[str, float] = {}
        self.pii_redactions = Counter()
        self.breaker_states: dict[str, float] = {}
        self.budget_ratio: dict[tuple[str, str], float] = {}
        self.rate_limited = Counter()
        self.recording_errors = Counter()
        self.inflight = Gauge()
        self.attempts: dict[tuple[str, str], float] = {}
        self.cost_usd: dict[tuple[str, str], float] = {}
        # Read before every snapshot: values that parts running off the request path (the
        # session recorder's thread, the limits engine) keep in their own counters.
        self.pullers: list[Callable[[Metrics], None]] = []
        # The model label values: config names plus names learned from served requests.
        self.model_labels: set[str] = {BYPASS_MODEL}
        self._served_models: set[str] = set()
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(_Collector(lambda: [self.snapshot()]))

    # ---------------------------------------------------------------- labels
    def use_config_models(self, names: Iterable[str]) -> None:
        """The model names of the loaded config (again on every reload). Series of names a
        reload dropped stay: counters never go away."""
        self.model_labels = {*names, *self._served_models, BYPASS_MODEL}

    def _served_model_label(self, model: str, status: int) -> str:
        """A name a provider answered for is a real model: it gets its own series, within
        the bound."""
        if not 200 <= status < 300 or not model:
            return OTHER_MODEL
        served = self._served_models
        if len(served) >= MAX_SERVED_MODEL_NAMES:
            return OTHER_MODEL
        served.add(model)
        self.model_labels.add(model)
        if len(served) == MAX_SERVED_MODEL_NAMES:
            log.warning("%d served model names counted; further ones count as 'other'", MAX_SERVED_MODEL_NAMES)
        return model

    # ---------------------------------------------------------------- recording
    def request_done(self, listener: str, provider: str, model: str, status: int) -> None:
        if model not in self.model_labels:
            model = OTHER_MODEL
        key = (listener, provider, model, str(status))
        req = self.requests
        req[key] = req.get(key, 0.0) + 1.0

    def served(
        self,
        listener: str,
        provider: str,
        model: str,
        status: int,
        ingress_s: float,
        route_s: float,
        normalize_s: float,
        egress_s: float,
        total_s: float,
        input_tokens: int,
        output_tokens: int,
    ) -> None:
        """Everything one served request records, in one call (this runs per request)."""
        if model not in self.model_labels:
            model = self._served_model_label(model, status)
        key = (listener, provider, model, str(status))
        req = self.requests
        req[key] = req.get(key, 0.0) + 1.0
        ph = self.phases
        ph["ingress"].observe(ingress_s)
        ph["route"].observe(route_s)
        ph["normalize"].observe(normalize_s)
        ph["egress"].observe(egress_s)
        ph["total"].observe(total_s)
        self.tokens_in.value += input_tokens
        self.tokens_out.value += output_tokens

    def attempt(self, provider: str, outcome: str) -> None:
        key = (provider, outcome)
        self.attempts[key] = self.attempts.get(key, 0.0) + 1.0

    def cost(self, provider: str, model: str, cents: float) -> None:
        """What one answer cost, from the price table (US cents in, dollars counted)."""
        if not cents:
            return
        if model not in self.model_labels:
            model = OTHER_MODEL
        key = (provider, model)
        self.cost_usd[key] = self.cost_usd.get(key, 0.0) + cents / 100.0

    def set_breaker_states(self, states: dict[str, int]) -> None:
        self.breaker_states = {p: float(s) for p, s in states.items()}

    # ---------------------------------------------------------------- exposition
    def snapshot(self) -> Snapshot:
        """Every value as plain JSON-able data (also what a worker hands its supervisor)."""
        for pull in self.pullers:
            pull(self)
        return {
            "requests": [[*k, v] for k, v in self.requests.items()],
            "phases": {p: h.state() for p, h in self.phases.items()},
            "ttft": self.ttft.state(),
            "fallbacks": self.fallbacks.value,
            "tokens": [self.tokens_in.value, self.tokens_out.value],
            "pii_detections": self.pii_detections,
            "pii_redactions": self.pii_redactions.value,
            "breaker_states": self.breaker_states,
            "budget_ratio": [[*k, v] for k, v in self.budget_ratio.items()],
            "rate_limited": self.rate_limited.value,
            "recording_errors": self.recording_errors.value,
            "inflight": self.inflight.value,
            "attempts": [[*k, v] for k, v in self.attempts.items()],
            "cost_usd": [[*k, v] for k, v in self.cost_usd.items()],
        }

    def render(
        self, extra_snapshots: list[Snapshot] | None = None, breaker_states: dict[str, int] | None = None
    ) -> bytes:
        if extra_snapshots is None:
            return generate_latest(self.registry)
        snaps = extra_snapshots
        if breaker_states is not None:
            snaps = [*snaps, {"breaker_states": {p: float(s) for p, s in breaker_states.items()}}]
        reg = CollectorRegistry(auto_describe=False)
        reg.register(_Collector(lambda: snaps))
        return generate_latest(reg)


def merge_snapshots(snaps: list[Snapshot]) -> Snapshot:
    """Sum counters and histograms over processes; breaker states come from one source."""
    out: Snapshot = {
        "requests": {},
        "phases": {},
        "ttft": None,
        "fallbacks": 0.0,
        "tokens": [0.0, 0.0],
        "pii_detections": {},
        "pii_redactions": 0.0,
        "breaker_states": {},
        "budget_ratio": {},
        "rate_limited": 0.0,
        "recording_errors": 0.0,
        "inflight": 0.0,
        "attempts": {},
        "cost_usd": {},
    }

    def add_hist(cur: HistState | None, new: HistState) -> HistState:
        if cur is None:
            return [list(new[0]), new[1]]
        return [[a + b for a, b in zip(cur[0], new[0])], cur[1] + new[1]]

    for s in snaps:
        for *k, v in s.get("requests", ()):
            out["requests"][tuple(k)] = out["requests"].get(tuple(k), 0.0) + v
        for p, h in s.get("phases", {}).items():
            out["phases"][p] = add_hist(out["phases"].get(p), h)
        if "ttft" in s:
            out["ttft"] = add_hist(out["ttft"], s["ttft"])
        for name in ("fallbacks", "pii_redactions", "rate_limited", "recording_errors", "inflight"):
            out[name] += s.get(name, 0.0)
        if "tokens" in s:
            out["tokens"] = [out["tokens"][0] + s["tokens"][0], out["tokens"][1] + s["tokens"][1]]
        for t, v in s.get("pii_detections", {}).items():
            out["pii_detections"][t] = out["pii_detections"].get(t, 0.0) + v
        out["breaker_states"].update(s.get("breaker_states", {}))
        for *k, v in s.get("budget_ratio", ()):
            out["budget_ratio"][tuple(k)] = v
        for *k, v in s.get("attempts", ()):
            out["attempts"][tuple(k)] = out["attempts"].get(tuple(k), 0.0) + v
        for *k, v in s.get("cost_usd", ()):
            out["cost_usd"][tuple(k)] = out["cost_usd"].get(tuple(k), 0.0) + v
    return out


def _hist_family(
    name: str,
    doc: str,
    state: HistState | None,
    labels: list[str] | None = None,
    label_values: list[str] | None = None,
) -> HistogramMetricFamily:
    fam = HistogramMetricFamily(name, doc, labels=labels)
    if state is None:
        state = [[0] * (len(PHASE_BUCKETS) + 1), 0.0]
    counts, total = state
    buckets, acc = [], 0
    for bound, n in zip((*map(_fmt, PHASE_BUCKETS), "+Inf"), counts):
        acc += n
        buckets.append((bound, acc))
    fam.add_metric(label_values or [], buckets, total)
    return fam


def _fmt(x: float) -> str:
    return repr(float(x))


class _Collector:
    def __init__(self, source: Callable[[], list[Snapshot]]) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        m = merge_snapshots(self.source())
        fam = CounterMetricFamily(
            "lunaroute_requests", "Requests answered", labels=["listener", "provider", "model", "status"]
        )
        for k, v in m["requests"].items():
            fam.add_metric(list(k), v)
        yield fam
        hist = HistogramMetricFamily(
            "lunaroute_request_duration_seconds", "Time spent per request phase", labels=["phase"]
        )
        for p in PHASES:
            counts, total = m["phases"].get(p) or [[0] * (len(PHASE_BUCKETS) + 1), 0.0]
            acc, buckets = 0, []
            for bound, n in zip((*map(_fmt, PHASE_BUCKETS), "+Inf"), counts):
                acc += n
                buckets.append((bound, acc))
            hist.add_metric([p], buckets, total)
        yield hist
        yield _hist_family("lunaroute_ttft_seconds", "Time to the first byte of a streamed answer", m["ttft"])
        yield CounterMetricFamily("lunaroute_fallbacks", "Fallback targets tried", value=m["fallbacks"])
        tok = CounterMetricFamily("lunaroute_tokens", "Tokens by direction", labels=["direction"])
        tok.add_metric(["input"], m["tokens"][0])
        tok.add_metric(["output"], m["tokens"][1])
        yield tok
        pii = CounterMetricFamily("lunaroute_pii_detections", "PII detections by type", labels=["type"])
        for t, v in m["pii_detections"].items():
            pii.add_metric([t], v)
        yield pii
        yield CounterMetricFamily("lunaroute_pii_redactions", "PII redactions", value=m["pii_redactions"])
        cb = GaugeMetricFamily("lunaroute_circuit_breaker_state", "0 closed, 1 open, 2 half-open", labels=["provider"])
        for p, v in sorted(m["breaker_states"].items()):
            cb.add_metric([p], v)
        yield cb
        br = GaugeMetricFamily("lunaroute_budget_usage_ratio", "Budget used / limit", labels=["budget", "window"])
        for k, v in m["budget_ratio"].items():
            br.add_metric(list(k), v)
        yield br
        yield CounterMetricFamily("lunaroute_rate_limited", "Requests refused by rate limits", value=m["rate_limited"])
        yield CounterMetricFamily(
            "lunaroute_recording_errors", "Session recording failures", value=m["recording_errors"]
        )
        yield GaugeMetricFamily("lunaroute_inflight_requests", "Requests in flight", value=m["inflight"])
        att = CounterMetricFamily(
            "lunaroute_upstream_attempts", "Upstream attempts by provider and outcome", labels=["provider", "outcome"]
        )
        for k, v in m["attempts"].items():
            att.add_metric(list(k), v)
        yield att
        cost = CounterMetricFamily(
            "lunaroute_cost_usd", "Cost of answers from the price table, US dollars", labels=["provider", "model"]
        )
        for k, v in m["cost_usd"].items():
            cost.add_metric(list(k), v)
        yield cost


class MetricsSnapshotWriter:
    """A worker's side of multi-process metrics: its snapshot on disk, once a second."""

    def __init__(self, metrics: Metrics, directory: str, interval_s: float = 1.0) -> None:
        self.metrics = metrics
        self.path = Path(directory) / f"worker-{os.getpid()}.json"
        self.interval_s = interval_s
        self._task: asyncio.Task[None] | None = None

    def write(self) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_bytes(orjson.dumps(self.metrics.snapshot()))
        os.replace(tmp, self.path)

    async def _loop(self) -> None:
        while True:
            self.write()
            await asyncio.sleep(self.interval_s)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop())

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self.write()


def read_worker_snapshots(directory: str) -> list[Snapshot]:
    """Every worker's last snapshot. A worker that died keeps its counters (a restarted
    worker starts from zero, and totals must never go down) but not its gauges: its
    requests in flight ended with it, and the budget ratios it saw are stale."""
    snaps = []
    for p in Path(directory).glob("worker-*.json"):
        try:
            snap = orjson.loads(p.read_bytes())
        except (OSError, orjson.JSONDecodeError):
            continue
        if not _alive(p.stem.removeprefix("worker-")):
            snap["inflight"] = 0.0
            snap["budget_ratio"] = []
        snaps.append(snap)
    return snaps


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True
