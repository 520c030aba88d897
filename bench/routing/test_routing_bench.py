"""RouteTable.decide speed: 100 rules, warm decision cache (target: p50 <= 5 us).

Run: python -m pytest bench/routing -q -p no:cacheprovider --benchmark-columns=min,median,ops
Each case runs for well under a second. The asserted bounds are loose on purpose (a shared
CI machine is noisy); they catch a lost cache (a 100-rule scan costs tens of µs), not drift.
"""

from __future__ import annotations

import random
from typing import Any

from lunaroute.routing import RouteRequest, RouteTable, parse_rules

PROVIDERS = {"openai", "anthropic", "local"}


def hundred_rules(*, with_headers: bool) -> list[dict[str, Any]]:
    """A realistic mix: exact, glob and regex models, some header and listener rules."""
    rules: list[dict[str, Any]] = []
    for i in range(99):
        kind = i % 3
        model = [f"model-{i}", f"family-{i}-*", f"re:^v{i}\\.[0-9]+$"][kind]
        rule: dict[str, Any] = {
            "id": f"r{i}",
            "priority": i,
            "match": {"model": model},
            "target": {"provider": "openai", "model": f"m{i}"},
        }
        if with_headers and i % 5 == 0:
            rule["match"]["headers"] = {"X-Tier": "re:^(paid|pro)$"}
        if i % 7 == 0:
            rule["listener"] = "anthropic"
        rules.append(rule)
    rules.append(
        {
            "id": "last",
            "priority": 1000,
            "match": {"model": "gpt-*"},
            "targets": [{"provider": "openai", "weight": 3}, {"provider": "anthropic", "model": "claude", "weight": 1}],
            "fallbacks": [{"provider": "local"}],
        }
    )
    return rules


def table(*, with_headers: bool, cache_size: int = 4096) -> RouteTable:
    rules = parse_rules({"rules": hundred_rules(with_headers=with_headers)}, file="bench", provider_names=PROVIDERS)
    return RouteTable.compile(rules, cache_size=cache_size, rng=random.Random(0))


REQUEST = RouteRequest(
    "openai_primary", "openai", "gpt-4o-mini", {"x-tier": "free", "content-type": "application/json"}
)


def measure(benchmark: Any, t: RouteTable, *, rounds: int, iterations: int) -> Any:
    """Fixed work (well under a second), after one warm-up call that fills the cache."""
    return benchmark.pedantic(t.decide, args=(REQUEST,), rounds=rounds, iterations=iterations, warmup_rounds=1)


def test_decide_warm_cache_model_rules(benchmark: Any) -> None:
    t = table(with_headers=False)
    decision = measure(benchmark, t, rounds=3000, iterations=10)
    assert decision is not None and decision.rule_id == "last"
    assert benchmark.stats.stats.median < 20e-6


def test_decide_warm_cache_with_header_rules(benchmark: Any) -> None:
    t = table(with_headers=True)
    decision = measure(benchmark, t, rounds=3000, iterations=10)
    assert decision is not None and decision.rule_id == "last"
    assert benchmark.stats.stats.median < 20e-6


def test_decide_without_cache_scans_100_rules(benchmark: Any) -> None:
    t = table(with_headers=True, cache_size=0)
    decision = measure(benchmark, t, rounds=200, iterations=1)
    assert decision is not None and decision.rule_id == "last"
