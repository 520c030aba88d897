"""parse_rules: the spec's example, each error with its field path, and fuzzing."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.errors import ConfigError
from lunaroute.routing import RuleOptions, Target, parse_rules

from .routing_testkit import PROVIDERS as TK_PROVIDERS
from .routing_testkit import rule_lists

PROVIDERS = {"openai", "anthropic"}

SPEC_EXAMPLE: dict[str, Any] = {
    "rules": [
        {
            "id": "rule_01",
            "priority": 100,
            "listener": "openai",
            "match": {"model": "gpt-4o", "headers": {"X-User-Tier": "paid"}},
            "target": {"provider": "anthropic", "model": "claude-3.5-sonnet"},
            "fallbacks": [{"provider": "openai", "model": "gpt-4o-mini"}],
            "options": {"strip_unsupported_tools": True, "timeout_ms": 20000},
        },
        {
            "id": "rule_02",
            "priority": 200,
            "listener": "anthropic",
            "match": {"model": "claude-3.5-haiku"},
            "target": {"provider": "openai", "model": "gpt-4o-mini"},
            "fallbacks": [],
        },
    ]
}


def parse(data: object) -> list:
    return parse_rules(data, file="routes.json", provider_names=PROVIDERS)


def test_spec_example_parses_into_the_documented_shape() -> None:
    first, second = parse(SPEC_EXAMPLE)
    assert (first.id, first.priority, first.listener, first.order) == ("rule_01", 100, "openai", 0)
    assert first.targets == (Target("anthropic", "claude-3.5-sonnet"),)
    assert first.fallbacks == [Target("openai", "gpt-4o-mini")]
    assert first.options == RuleOptions(timeout_ms=20000, strip_unsupported_tools=True)
    assert [(n, p.kind, p.source) for n, p in first.match.headers] == [("x-user-tier", "exact", "paid")]
    assert [(p.kind, p.source) for p in first.match.models] == [("exact", "gpt-4o")]
    assert second.order == 1 and second.fallbacks == []
    assert second.options == RuleOptions()


def test_pattern_forms_are_recognised() -> None:
    rules = parse(
        {
            "rules": [
                {
                    "id": "r",
                    "match": {
                        "model": [
                            "gpt-4o",
                            "claude-*",
                            "re:^o[13]",
                            {"regex": "mini$"},
                            {"glob": "x"},
                            {"exact": "a*b"},
                        ],
                        "headers": {"X-A": "re:^p", "X-B": "a*b"},
                        "key_id": ["k1", "k2"],
                        "tenant": "acme",
                        "has_tools": True,
                        "has_images": False,
                        "min_prompt_tokens": 1000,
                    },
                    "targets": [{"provider": "openai", "weight": 3}, {"provider": "anthropic", "model": "c"}],
                }
            ]
        }
    )
    match = rules[0].match
    assert [p.kind for p in match.models] == ["exact", "glob", "regex", "regex", "glob", "exact"]
    # headers: plain strings are exact (no glob: "*/*" is a real header value)
    assert [(n, p.kind) for n, p in match.headers] == [("x-a", "regex"), ("x-b", "exact")]
    assert match.key_ids == frozenset({"k1", "k2"}) and match.tenants == frozenset({"acme"})
    assert (match.has_tools, match.has_images, match.min_prompt_tokens) == (True, False, 1000)
    assert rules[0].targets == (Target("openai", None, 3), Target("anthropic", "c", 1))


def _with(path: str, value: Any, *, delete: bool = False) -> dict[str, Any]:
    """The spec example with one field (dotted path into rules[0]) replaced or deleted."""
    data = copy.deepcopy(SPEC_EXAMPLE)
    node: Any = data["rules"][0]
    *parents, last = path.split(".")
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    if delete:
        del node[last]
    elif isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return data


ERROR_CASES = [
    (_with("id", None, delete=True), "rules[0].id", "missing"),
    (_with("id", 7), "rules[0].id", "must be a string"),
    (_with("id", "  "), "rules[0].id", "must not be empty"),
    (_with("priority", "high"), "rules[0].priority", "must be an integer"),
    (_with("priority", True), "rules[0].priority", "must be an integer"),
    (_with("listener", 3), "rules[0].listener", "must be a string"),
    (_with("colour", "red"), "rules[0].colour", "unknown field"),
    (_with("target.provider", "mistral"), "rules[0].target.provider", "unknown provider 'mistral'"),
    (_with("target.provider", None, delete=True), "rules[0].target.provider", "missing"),
    (_with("target.model", ""), "rules[0].target.model", "must not be empty"),
    (_with("target.weight", 2), "rules[0].target.weight", "unknown field"),
    (_with("target", None, delete=True), "rules[0].target", "missing"),
    (_with("targets", [{"provider": "openai"}]), "rules[0].targets", "not both"),
    (_with("match.model", "re:("), "rules[0].match.model", "bad regex"),
    (_with("match.model", "re:"), "rules[0].match.model", "empty regex"),
    (_with("match.model", {"regex": "[a-"}), "rules[0].match.model.regex", "bad regex"),
    (_with("match.model", {"regex": 5}), "rules[0].match.model.regex", "must be a string"),
    (_with("match.model", {"glob": "a", "regex": "b"}), "rules[0].match.model", "exactly one"),
    (_with("match.model", {"fuzzy": "a"}), "rules[0].match.model.fuzzy", "unknown field"),
    (_with("match.model", []), "rules[0].match.model", "empty list"),
    (_with("match.model", ["ok", 4]), "rules[0].match.model[1]", "must be a string"),
    (_with("match.headers", ["x"]), "rules[0].match.headers", "header name to value"),
    (_with("match.headers", {"bad name": "v"}), "rules[0].match.headers.bad name", "not a valid header name"),
    (_with("match.headers", {"X-A": "1", "x-a": "2"}), "rules[0].match.headers.x-a", "duplicate header"),
    (_with("match.headers", {"X-A": "re:[z-a]"}), "rules[0].match.headers.X-A", "bad regex"),
    (_with("match.has_tools", "yes"), "rules[0].match.has_tools", "true or false"),
    (_with("match.min_prompt_tokens", -1), "rules[0].match.min_prompt_tokens", ">= 0"),
    (_with("match.tenant", []), "rules[0].match.tenant", "empty list"),
    (_with("match.speed", 1), "rules[0].match.speed", "unknown field"),
    (_with("fallbacks", {"provider": "openai"}), "rules[0].fallbacks", "must be a list"),
    (_with("fallbacks.0.provider", "nope"), "rules[0].fallbacks[0].provider", "unknown provider"),
    (_with("fallbacks.0", "openai"), "rules[0].fallbacks[0]", "must be an object"),
    (_with("options.timeout_ms", 0), "rules[0].options.timeout_ms", ">= 1"),
    (_with("options.max_retries", 1000), "rules[0].options.max_retries", "<= 100"),
    (_with("options.strip_unsupported_tools", 1), "rules[0].options.strip_unsupported_tools", "true or false"),
    (_with("options.retry", 1), "rules[0].options.retry", "unknown field"),
    (
        {"rules": [{"id": "a", "target": {"provider": "openai"}}, {"id": "a", "target": {"provider": "openai"}}]},
        "rules[1].id",
        "duplicate id 'a' (also rules[0])",
    ),
    ({"rules": [{"id": "w", "targets": []}]}, "rules[0].targets", "must not be empty"),
    ({"rules": [{"id": "w", "targets": {"provider": "openai"}}]}, "rules[0].targets", "must be a list"),
    ({"rules": [{"id": "w", "targets": [{"provider": "openai", "weight": 0}]}]}, "rules[0].targets", "weight above 0"),
    ({"rules": [{"id": "w", "targets": [{"provider": "openai", "weight": -2}]}]}, "rules[0].targets[0].weight", ">= 0"),
    (
        {"rules": [{"id": "w", "targets": [{"provider": "openai", "weight": 1.5}]}]},
        "rules[0].targets[0].weight",
        "must be an integer",
    ),
    ({}, "rules", "missing"),
    ({"rules": {}}, "rules", "must be a list"),
    ({"rules": [], "extra": 1}, "extra", "unknown field"),
    ([], "", "must be an object"),
    ({"rules": ["rule"]}, "rules[0]", "must be an object"),
]


@pytest.mark.parametrize(("data", "field", "reason"), ERROR_CASES)
def test_errors_name_the_field_and_the_reason(data: object, field: str, reason: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse(data)
    assert info.value.file == "routes.json"
    assert info.value.field == field
    assert reason in info.value.reason
    assert str(info.value).startswith("routes.json: ")


def test_unknown_provider_reason_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError) as info:
        parse(_with("target.provider", "mistral"))
    assert "known: anthropic, openai" in info.value.reason


def test_empty_rule_list_is_valid() -> None:
    assert parse({"rules": []}) == []


# --------------------------------------------------------------------------- fuzzing
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-5, 5)
    | st.floats(allow_nan=False)
    | st.sampled_from(["", "openai", "anthropic", "gpt-*", "re:(", "re:^a", "x", "X-A"]),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["provider", "model", "weight", "regex", "glob", "exact", "X-A", "x"]), children, max_size=3
        )
    ),
    max_leaves=8,
)
rule_fields = st.fixed_dictionaries(
    {},
    optional={
        "id": st.sampled_from(["a", "b", ""]) | json_values,
        "priority": st.integers(-3, 3) | json_values,
        "listener": st.sampled_from(["openai", None]) | json_values,
        "match": st.fixed_dictionaries(
            {},
            optional={
                "model": json_values,
                "headers": json_values,
                "key_id": json_values,
                "tenant": json_values,
                "has_tools": json_values,
                "has_images": json_values,
                "min_prompt_tokens": json_values,
            },
        )
        | json_values,
        "target": st.fixed_dictionaries(
            {"provider": st.sampled_from(["openai", "zz"])}, optional={"model": json_values}
        )
        | json_values,
        "targets": st.lists(json_values, max_size=3),
        "fallbacks": st.lists(json_values, max_size=2) | json_values,
        "options": st.fixed_dictionaries(
            {}, optional={"timeout_ms": json_values, "max_retries": json_values, "strip_unsupported_tools": json_values}
        )
        | json_values,
    },
)


@settings(max_examples=200, deadline=None)
@given(st.lists(rule_fields | json_values, max_size=3) | json_values)
def test_any_input_gives_rules_or_a_config_error(rules: object) -> None:
    for data in ({"rules": rules}, rules):
        try:
            parsed = parse(data)
        except ConfigError as exc:
            assert exc.file == "routes.json" and exc.reason
        else:
            assert isinstance(parsed, list)
            assert all(rule.targets and rule.id for rule in parsed)
            assert [r.order for r in parsed] == list(range(len(parsed)))


FIELD_PATHS = [
    "id",
    "priority",
    "listener",
    "match",
    "match.model",
    "match.headers",
    "match.key_id",
    "match.has_tools",
    "match.min_prompt_tokens",
    "target",
    "target.provider",
    "target.model",
    "fallbacks",
    "options",
    "targets",
]


@st.composite
def mutated_rule_files(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """A valid generated file, then (maybe) one field replaced by an arbitrary value."""
    rules = draw(rule_lists(max_size=4))
    mutated = bool(rules) and draw(st.booleans())
    if mutated:
        rule = draw(st.sampled_from(rules))
        path = draw(st.sampled_from(FIELD_PATHS)).split(".")
        node = rule
        for part in path[:-1]:
            node = node.setdefault(part, {}) if isinstance(node.get(part, {}), dict) else {}
        node[path[-1]] = draw(json_values)
    return {"rules": rules}, mutated


@settings(max_examples=150, deadline=None)
@given(mutated_rule_files())
def test_valid_files_parse_and_mutations_never_crash(case: tuple[dict[str, Any], bool]) -> None:
    data, mutated = case
    if not mutated:
        assert [r.id for r in parse_rules(data, file="f", provider_names=TK_PROVIDERS)] == [
            r["id"] for r in data["rules"]
        ]
        return
    try:
        parse_rules(data, file="f", provider_names=TK_PROVIDERS)
    except ConfigError as exc:
        assert exc.field.startswith("rules[") and exc.reason
