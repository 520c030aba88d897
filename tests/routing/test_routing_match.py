"""RouteTable: matching semantics against a brute-force reference, caching, explain."""

from __future__ import annotations

import collections
import fnmatch
import random
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.routing import RouteRequest, Target
from lunaroute.routing.features import estimate_prompt_tokens, has_images, has_tools

from .routing_testkit import request_args, rule_lists, table_of


# --------------------------------------------------------------------------- reference
def ref_value(pattern: Any, value: str | None, *, glob: bool) -> bool:
    """The documented semantics, written independently of the implementation."""
    if value is None:
        return False
    if isinstance(pattern, dict):
        ((kind, source),) = pattern.items()
    elif pattern.startswith("re:"):
        kind, source = "regex", pattern[3:]
    elif glob and ("*" in pattern or "?" in pattern):
        kind, source = "glob", pattern
    else:
        kind, source = "exact", pattern
    if kind == "exact":
        return value == source
    if kind == "glob":
        return fnmatch.fnmatchcase(value, source)
    return re.search(source, value) is not None


def ref_matches(rule: dict[str, Any], req: dict[str, Any]) -> bool:
    listener = rule.get("listener")
    if listener is not None and listener not in (req["listener_id"], req["listener_type"]):
        return False
    m = rule.get("match", {})
    if "model" in m:
        models = m["model"] if isinstance(m["model"], list) else [m["model"]]
        if not any(ref_value(p, req["model"], glob=True) for p in models):
            return False
    for name, pattern in m.get("headers", {}).items():
        if not ref_value(pattern, req["headers"].get(name.lower()), glob=False):
            return False
    for field, attr in (("key_id", "key_id"), ("tenant", "tenant")):
        if field in m:
            allowed = m[field] if isinstance(m[field], list) else [m[field]]
            if req[attr] not in allowed:
                return False
    body = req["body"]
    if "has_tools" in m and has_tools(body) != m["has_tools"]:
        return False
    if "has_images" in m and has_images(body) != m["has_images"]:
        return False
    if "min_prompt_tokens" in m and estimate_prompt_tokens(body) < m["min_prompt_tokens"]:
        return False
    return True


def ref_decide(rules: list[dict[str, Any]], req: dict[str, Any]) -> str | None:
    """Scan for the matching rule with the smallest (priority, file position)."""
    best: tuple[int, int] | None = None
    best_id = None
    for position, rule in enumerate(rules):
        if ref_matches(rule, req):
            rank = (rule.get("priority", 0), position)
            if best is None or rank < best:
                best, best_id = rank, rule["id"]
    return best_id


# --------------------------------------------------------------------------- properties
@settings(max_examples=150, deadline=None)
@given(rule_lists(), st.lists(request_args(), min_size=1, max_size=6))
def test_decide_agrees_with_the_brute_force_reference(
    rules: list[dict[str, Any]], requests: list[dict[str, Any]]
) -> None:
    table = table_of(rules)
    for args in requests:
        decision = table.decide(RouteRequest(**args))
        expected = ref_decide(rules, args)
        assert (decision.rule_id if decision else None) == expected


@settings(max_examples=100, deadline=None)
@given(rule_lists(), st.lists(request_args(), min_size=1, max_size=12), st.integers(1, 4))
def test_cache_never_changes_a_decision(rules: list[dict[str, Any]], requests: list[dict[str, Any]], size: int) -> None:
    cached = table_of(rules, cache_size=size)  # tiny: evictions happen too
    uncached = table_of(rules, cache_size=0)
    for args in requests + requests[::-1] + requests:
        a = cached.decide(RouteRequest(**args))
        b = uncached.decide(RouteRequest(**args))
        assert (a is None) == (b is None)
        if a is not None and b is not None:
            assert (a.rule_id, a.primary, a.fallbacks, a.options) == (b.rule_id, b.primary, b.fallbacks, b.options)
    assert cached.cache_len() <= size
    assert uncached.cache_len() == 0


@settings(max_examples=100, deadline=None)
@given(rule_lists(), request_args())
def test_explain_agrees_with_decide_and_lists_every_earlier_rule(
    rules: list[dict[str, Any]], args: dict[str, Any]
) -> None:
    table = table_of(rules)
    decision = table.decide(RouteRequest(**args))
    explained = table.explain(RouteRequest(**args))
    assert explained["rule_id"] == (decision.rule_id if decision else None)
    ordered = [r.id for r in table.rules]
    stop = ordered.index(decision.rule_id) if decision else len(ordered)
    assert [s["rule_id"] for s in explained["skipped"]] == ordered[:stop]
    assert all(s["reason"] for s in explained["skipped"])
    if decision:
        assert explained["primary"]["provider"] == decision.primary.provider
        assert explained["primary"]["model"] == (decision.primary.model or args["model"])


# --------------------------------------------------------------------------- examples
def req(
    model: str = "gpt-4o",
    headers: dict[str, str] | None = None,
    *,
    listener: tuple[str, str] = ("openai_primary", "openai"),
    **kw: Any,
) -> RouteRequest:
    return RouteRequest(listener[0], listener[1], model, headers or {}, **kw)


def test_priority_then_file_order() -> None:
    table = table_of(
        [
            {"id": "late", "priority": 5, "target": {"provider": "openai"}},
            {"id": "first", "priority": 1, "target": {"provider": "openai"}},
            {"id": "second", "priority": 1, "target": {"provider": "anthropic"}},
        ]
    )
    assert table.decide(req()).rule_id == "first"
    assert [r.id for r in table.rules] == ["first", "second", "late"]


def test_header_names_are_case_insensitive_and_values_exact() -> None:
    table = table_of(
        [
            {"id": "paid", "match": {"headers": {"X-User-Tier": "paid"}}, "target": {"provider": "anthropic"}},
            {"id": "rest", "priority": 9, "target": {"provider": "openai"}},
        ]
    )
    assert table.decide(req(headers={"x-user-tier": "paid"})).rule_id == "paid"
    assert table.decide(req(headers={"x-user-tier": "Paid"})).rule_id == "rest"
    assert table.decide(req()).rule_id == "rest"


def test_glob_regex_and_exact_models() -> None:
    table = table_of(
        [
            {"id": "exact", "match": {"model": "gpt-4o"}, "target": {"provider": "openai"}},
            {"id": "glob", "priority": 1, "match": {"model": "gpt-4?-*"}, "target": {"provider": "openai"}},
            {"id": "regex", "priority": 2, "match": {"model": "re:^claude-3\\.5"}, "target": {"provider": "anthropic"}},
        ]
    )
    assert table.decide(req("gpt-4o")).rule_id == "exact"
    assert table.decide(req("gpt-4o-mini")).rule_id == "glob"
    assert table.decide(req("GPT-4o-mini")) is None  # case-sensitive
    assert table.decide(req("claude-3.5-haiku")).rule_id == "regex"
    assert table.decide(req("claude-3x5")) is None  # the dot is escaped


def test_listener_matches_id_or_type() -> None:
    table = table_of([{"id": "a", "listener": "anthropic", "target": {"provider": "openai"}}])
    assert table.decide(req(listener=("edge", "anthropic"))).rule_id == "a"
    assert table.decide(req(listener=("anthropic", "openai"))).rule_id == "a"
    assert table.decide(req(listener=("edge", "openai"))) is None


def test_body_features_in_both_dialects() -> None:
    table = table_of(
        [
            {"id": "vision", "match": {"has_images": True}, "target": {"provider": "openai"}},
            {"id": "tools", "priority": 1, "match": {"has_tools": True}, "target": {"provider": "anthropic"}},
            {"id": "long", "priority": 2, "match": {"min_prompt_tokens": 100}, "target": {"provider": "azure"}},
            {"id": "short", "priority": 3, "target": {"provider": "local"}},
        ]
    )
    openai_image = {
        "messages": [
            {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,AA"}}]}
        ]
    }
    anthropic_tools = {"messages": [{"role": "user", "content": "q"}], "tools": [{"name": "f", "input_schema": {}}]}
    long_prompt = {"system": [{"type": "text", "text": "w" * 1000}], "messages": []}
    assert table.decide(req(body=openai_image)).rule_id == "vision"
    assert table.decide(req(body=anthropic_tools)).rule_id == "tools"
    assert table.decide(req(body=long_prompt)).rule_id == "long"
    assert table.decide(req(body={"messages": [{"role": "user", "content": "q"}]})).rule_id == "short"
    # the features were cached per distinct feature values, not per body
    assert table.cache_len() == 4


def test_features_are_not_computed_when_no_rule_tests_them() -> None:
    table = table_of([{"id": "m", "match": {"model": "gpt-*"}, "target": {"provider": "openai"}}])
    request = req(body={"messages": [{"role": "user", "content": "q"}], "tools": [{"x": 1}]})
    assert table.decide(request).rule_id == "m"
    assert (request._has_tools, request._has_images, request._prompt_tokens) == (None,) * 3


def test_no_match_is_cached_too_and_cache_is_bounded() -> None:
    table = table_of([{"id": "m", "match": {"model": "gpt-4o"}, "target": {"provider": "openai"}}], cache_size=16)
    for i in range(100):
        assert table.decide(req(f"unknown-{i}")) is None
    assert table.cache_len() == 16
    assert table.decide(req("gpt-4o")).rule_id == "m"


def test_decisions_are_fresh_objects() -> None:
    table = table_of([{"id": "m", "target": {"provider": "openai"}, "fallbacks": [{"provider": "anthropic"}]}])
    first = table.decide(req())
    first.fallbacks.clear()
    assert table.decide(req()).fallbacks == [Target("anthropic")]


def test_weighted_targets_are_picked_per_request_after_the_cache() -> None:
    table = table_of(
        [
            {
                "id": "split",
                "targets": [
                    {"provider": "openai", "model": "a", "weight": 3},
                    {"provider": "anthropic", "model": "b", "weight": 1},
                    {"provider": "local", "weight": 0},
                ],
            }
        ],
        rng=random.Random(7),
    )
    counts = collections.Counter(table.decide(req()).primary.provider for _ in range(4000))
    assert table.cache_len() == 1
    assert counts["local"] == 0
    assert 0.70 < counts["openai"] / 4000 < 0.80
    assert counts["openai"] + counts["anthropic"] == 4000


def test_explain_reasons_and_the_no_match_shape() -> None:
    table = table_of(
        [
            {"id": "h", "match": {"headers": {"X-Tier": "paid"}}, "target": {"provider": "openai"}},
            {"id": "m", "priority": 1, "match": {"model": ["claude-*", "re:^o1"]}, "target": {"provider": "openai"}},
            {"id": "l", "priority": 2, "listener": "anthropic", "target": {"provider": "openai"}},
            {
                "id": "t",
                "priority": 3,
                "match": {"has_tools": True, "tenant": "acme"},
                "target": {"provider": "openai"},
            },
        ]
    )
    out = table.explain(req("gpt-4o", {"x-tier": "free"}, tenant="acme"))
    assert out == {
        "rule_id": None,
        "primary": None,
        "fallbacks": [],
        "skipped": [
            {"rule_id": "h", "reason": "header x-tier 'free' does not match 'paid'"},
            {"rule_id": "m", "reason": "model 'gpt-4o' does not match glob 'claude-*' or regex '^o1'"},
            {
                "rule_id": "l",
                "reason": "listener 'anthropic' is neither the listener id 'openai_primary' nor its type 'openai'",
            },
            {"rule_id": "t", "reason": "request declares no tools"},
        ],
    }


def test_explain_of_a_weighted_rule_shows_all_targets() -> None:
    table = table_of(
        [
            {
                "id": "w",
                "targets": [
                    {"provider": "openai", "weight": 1},
                    {"provider": "anthropic", "model": "claude", "weight": 5},
                ],
                "fallbacks": [{"provider": "local", "model": "llama"}],
            }
        ]
    )
    out = table.explain(req("gpt-4o"))
    assert out["primary"] == {"provider": "anthropic", "model": "claude"}
    assert out["fallbacks"] == [{"provider": "local", "model": "llama"}]
    assert out["targets"] == [
        {"provider": "openai", "model": "gpt-4o", "weight": 1},
        {"provider": "anthropic", "model": "claude", "weight": 5},
    ]


@pytest.mark.parametrize("value", ["", "paid", "xpaid"])
def test_header_regex_is_a_search(value: str) -> None:
    table = table_of([{"id": "r", "match": {"headers": {"x-tier": "re:paid"}}, "target": {"provider": "openai"}}])
    decision = table.decide(req(headers={"x-tier": value}))
    assert (decision is not None) == ("paid" in value)
