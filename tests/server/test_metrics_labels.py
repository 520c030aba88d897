"""lunaroute_requests_total: bounded label values, no series ever dropped, exact sums across
worker snapshots (real snapshot files, real Prometheus exposition)."""

from __future__ import annotations

import os

from prometheus_client.parser import text_string_to_metric_families

from lunaroute.observability.metrics import (
    MAX_SERVED_MODEL_NAMES,
    OTHER_MODEL,
    Metrics,
    MetricsSnapshotWriter,
    config_model_names,
    read_worker_snapshots,
)
from lunaroute.routing import parse_rules


def _served(m: Metrics, model: str, status: int = 200, provider: str = "up") -> None:
    m.served("openai", provider, model, status, 0.001, 0.001, 0.001, 0.01, 0.02, 3, 5)


def _series(text: bytes) -> dict[tuple, float]:
    out = {}
    for fam in text_string_to_metric_families(text.decode()):
        for s in fam.samples:
            if s.name == "lunaroute_requests_total":
                lb = s.labels
                out[(lb["listener"], lb["provider"], lb["model"], lb["status"])] = s.value
    return out


def test_config_model_names_are_exact_matches_and_named_targets():
    rules = parse_rules(
        {
            "rules": [
                {"id": "a", "match": {"model": "gpt-4o"}, "target": {"provider": "p"}},
                {
                    "id": "b",
                    "match": {"model": "claude-*"},
                    "target": {"provider": "p", "model": "claude-3-5-sonnet"},
                    "fallbacks": [{"provider": "q", "model": "gpt-4o-mini"}, {"provider": "q"}],
                },
            ]
        },
        file="routes.json",
        provider_names={"p", "q"},
    )
    assert config_model_names(rules) == {"gpt-4o", "claude-3-5-sonnet", "gpt-4o-mini"}


def test_unknown_names_never_grow_the_series_and_nothing_is_dropped():
    m = Metrics()
    m.use_config_models({"gpt-4o"})
    n = 3 * MAX_SERVED_MODEL_NAMES + 10_500  # past the old 10k-series reset as well
    for i in range(n):
        _served(m, f"model-{i}")
        m.request_done("openai", "", f"missing-{i}", 404)
    _served(m, "gpt-4o")
    series = _series(m.render())
    assert len(series) == MAX_SERVED_MODEL_NAMES + 3  # learned names, other/200, other/404, gpt-4o
    assert series[("openai", "", OTHER_MODEL, "404")] == n
    assert series[("openai", "up", OTHER_MODEL, "200")] == n - MAX_SERVED_MODEL_NAMES
    assert series[("openai", "up", "model-0", "200")] == 1
    assert series[("openai", "up", "gpt-4o", "200")] == 1  # config names stay labels past the cap
    assert sum(series.values()) == 2 * n + 1


def test_only_a_served_answer_makes_a_name_a_label():
    m = Metrics()
    _served(m, "gpt-x", status=304)
    m.request_done("openai", "up", "gpt-y", 502)
    _served(m, "gpt-z")
    assert _series(m.render()) == {
        ("openai", "up", OTHER_MODEL, "304"): 1,
        ("openai", "up", OTHER_MODEL, "502"): 1,
        ("openai", "up", "gpt-z", "200"): 1,
    }


def test_a_reload_keeps_existing_series_and_learned_names():
    m = Metrics()
    m.use_config_models({"old"})
    _served(m, "old")
    _served(m, "learned")
    m.use_config_models({"new"})  # what a hot reload does
    m.request_done("openai", "", "old", 404)
    m.request_done("openai", "", "learned", 404)
    m.request_done("openai", "", "new", 404)
    assert _series(m.render()) == {
        ("openai", "up", "old", "200"): 1,  # the series of a name the reload dropped stays
        ("openai", "up", "learned", "200"): 1,
        ("openai", "", OTHER_MODEL, "404"): 1,
        ("openai", "", "learned", "404"): 1,
        ("openai", "", "new", "404"): 1,
    }


def test_worker_snapshots_merge_to_exact_sums(tmp_path):
    for w in range(3):
        m = Metrics()
        m.use_config_models({"gpt-4o"})
        for i in range(40):
            _served(m, "gpt-4o")
            m.request_done("openai", "", f"unknown-{w}-{i}", 404)
        writer = MetricsSnapshotWriter(m, str(tmp_path))
        writer.path = tmp_path / f"worker-{os.getpid()}-{w}.json"  # three workers of this one process
        writer.write()
    supervisor = Metrics()
    merged = _series(supervisor.render(read_worker_snapshots(str(tmp_path)), breaker_states={}))
    assert merged == {
        ("openai", "up", "gpt-4o", "200"): 120,
        ("openai", "", OTHER_MODEL, "404"): 120,
    }
