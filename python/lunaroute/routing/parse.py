"""Strict validation of the decoded routes file into `RouteRule`s.

Every problem raises `lunaroute.errors.ConfigError(file, field, reason)`, where `field` is a
path into the file such as `rules[2].target.provider`; nothing else escapes, whatever the
input (the CLI prints the error on one line and exits 2).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, NoReturn

from ..bad_value import describe
from ..errors import ConfigError
from .rules import RouteRule, RuleMatch, RuleOptions, Target, ValueMatcher

RULE_KEYS = frozenset(
    {"id", "priority", "listener", "description", "match", "target", "targets", "fallbacks", "options"}
)
MATCH_KEYS = frozenset({"model", "headers", "key_id", "tenant", "has_tools", "has_images", "min_prompt_tokens"})
OPTION_KEYS = frozenset({"timeout_ms", "strip_unsupported_tools", "max_retries", "pii"})
TOP_KEYS = frozenset({"rules", "version", "$schema"})

REGEX_PREFIX = "re:"
MAX_RETRIES_LIMIT = 100
MAX_WEIGHT = 1_000_000
MAX_TIMEOUT_MS = 24 * 3600 * 1000
_HEADER_NAME = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an RFC 9110 token


class _Fields:
    """Raises `ConfigError`s for one file, with type names a user understands."""

    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, field: str, reason: str) -> NoReturn:
        raise ConfigError(self.file, field, reason)

    def obj(self, value: Any, field: str, allowed: Iterable[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(field, f"must be an object, got {describe(value)}")
        allowed = frozenset(allowed)
        for key in value:
            if not isinstance(key, str) or key not in allowed:
                where = f"{field}.{key}" if field else str(key)
                self.fail(where, f"unknown field (allowed: {', '.join(sorted(allowed))})")
        return value

    def string(self, value: Any, field: str) -> str:
        if not isinstance(value, str):
            self.fail(field, f"must be a string, got {describe(value)}")
        if not value.strip():
            self.fail(field, "must not be empty")
        return value

    def integer(self, value: Any, field: str, low: int | None = None, high: int | None = None) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, f"must be an integer, got {describe(value)}")
        if low is not None and value < low:
            self.fail(field, f"must be >= {low}, got {value}")
        if high is not None and value > high:
            self.fail(field, f"must be <= {high}, got {value}")
        return value

    def boolean(self, value: Any, field: str) -> bool:
        if not isinstance(value, bool):
            self.fail(field, f"must be true or false, got {describe(value)}")
        return value


def _regex(f: _Fields, pattern: str, field: str) -> ValueMatcher:
    if not pattern:
        f.fail(field, "empty regex")
    try:
        return ValueMatcher.regex_of(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as exc:
        f.fail(field, f"bad regex {pattern!r}: {exc}")


def _value_matcher(f: _Fields, value: Any, field: str, *, glob: bool) -> ValueMatcher:
    """A string (exact; glob when `glob` and it holds * or ?; regex when "re:..."), or an
    object with exactly one of "exact", "glob", "regex"."""
    if isinstance(value, dict):
        kinds = ("exact", "glob", "regex")
        f.obj(value, field, kinds)
        if len(value) != 1:
            f.fail(field, 'must hold exactly one of "exact", "glob", "regex"')
        ((kind, raw),) = value.items()
        if kind == "regex":
            if not isinstance(raw, str):
                f.fail(f"{field}.regex", f"must be a string, got {describe(raw)}")
            return _regex(f, raw, f"{field}.regex")
        text = f.string(raw, f"{field}.{kind}")
        return ValueMatcher.glob(text) if kind == "glob" else ValueMatcher.exact(text)
    text = f.string(value, field)
    if text.startswith(REGEX_PREFIX):
        return _regex(f, text[len(REGEX_PREFIX) :], field)
    if glob and ("*" in text or "?" in text):
        return ValueMatcher.glob(text)
    return ValueMatcher.exact(text)


def _models(f: _Fields, value: Any, field: str) -> tuple[ValueMatcher, ...]:
    if isinstance(value, list):
        if not value:
            f.fail(field, "must not be an empty list")
        return tuple(_value_matcher(f, item, f"{field}[{i}]", glob=True) for i, item in enumerate(value))
    return (_value_matcher(f, value, field, glob=True),)


def _headers(f: _Fields, value: Any, field: str) -> tuple[tuple[str, ValueMatcher], ...]:
    if not isinstance(value, dict):
        f.fail(field, f"must be an object of header name to value, got {describe(value)}")
    seen: dict[str, str] = {}
    out: list[tuple[str, ValueMatcher]] = []
    for name, expected in value.items():
        where = f"{field}.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            f.fail(where, "not a valid header name")
        lower = name.lower()
        if lower in seen:
            f.fail(where, f"duplicate header (header names are case-insensitive; also {seen[lower]!r})")
        seen[lower] = name
        out.append((lower, _value_matcher(f, expected, where, glob=False)))
    return tuple(out)


def _names(f: _Fields, value: Any, field: str) -> frozenset[str]:
    if isinstance(value, list):
        if not value:
            f.fail(field, "must not be an empty list")
        return frozenset(f.string(v, f"{field}[{i}]") for i, v in enumerate(value))
    return frozenset({f.string(value, field)})


def _match(f: _Fields, value: Any, field: str) -> RuleMatch:
    if value is None:
        return RuleMatch()
    m = f.obj(value, field, MATCH_KEYS)
    return RuleMatch(
        models=_models(f, m["model"], f"{field}.model") if "model" in m else (),
        headers=_headers(f, m["headers"], f"{field}.headers") if "headers" in m else (),
        key_ids=_names(f, m["key_id"], f"{field}.key_id") if "key_id" in m else None,
        tenants=_names(f, m["tenant"], f"{field}.tenant") if "tenant" in m else None,
        has_tools=f.boolean(m["has_tools"], f"{field}.has_tools") if "has_tools" in m else None,
        has_images=(f.boolean(m["has_images"], f"{field}.has_images") if "has_images" in m else None),
        min_prompt_tokens=(
            f.integer(m["min_prompt_tokens"], f"{field}.min_prompt_tokens", 0) if "min_prompt_tokens" in m else None
        ),
    )


def _target(f: _Fields, value: Any, field: str, providers: set[str], *, weighted: bool) -> Target:
    keys = ("provider", "model", "weight") if weighted else ("provider", "model")
    t = f.obj(value, field, keys)
    if "provider" not in t:
        f.fail(f"{field}.provider", "missing")
    provider = f.string(t["provider"], f"{field}.provider")
    if provider not in providers:
        known = ", ".join(sorted(providers)) or "none configured"
        f.fail(f"{field}.provider", f"unknown provider {provider!r} (known: {known})")
    model = t.get("model")
    if model is not None:
        model = f.string(model, f"{field}.model")
    weight = 1
    if weighted and "weight" in t:
        weight = f.integer(t["weight"], f"{field}.weight", 0, MAX_WEIGHT)
    return Target(provider, model, weight)


def _targets(f: _Fields, rule: dict[str, Any], field: str, providers: set[str]) -> tuple[Target, ...]:
    if "target" in rule and "targets" in rule:
        f.fail(f"{field}.targets", 'give either "target" or "targets", not both')
    if "target" in rule:
        return (_target(f, rule["target"], f"{field}.target", providers, weighted=False),)
    if "targets" not in rule:
        f.fail(f"{field}.target", 'missing (give "target" or a weighted "targets" list)')
    raw = rule["targets"]
    if not isinstance(raw, list):
        f.fail(f"{field}.targets", f"must be a list, got {describe(raw)}")
    if not raw:
        f.fail(f"{field}.targets", "must not be empty")
    targets = tuple(_target(f, t, f"{field}.targets[{i}]", providers, weighted=True) for i, t in enumerate(raw))
    if sum(t.weight for t in targets) == 0:
        f.fail(f"{field}.targets", "at least one target needs a weight above 0")
    return targets


def _fallbacks(f: _Fields, value: Any, field: str, providers: set[str]) -> list[Target]:
    if value is None:
        return []
    if not isinstance(value, list):
        f.fail(field, f"must be a list, got {describe(value)}")
    return [_target(f, t, f"{field}[{i}]", providers, weighted=False) for i, t in enumerate(value)]


def _options(f: _Fields, value: Any, field: str) -> RuleOptions:
    if value is None:
        return RuleOptions()
    o = f.obj(value, field, OPTION_KEYS)
    timeout = o.get("timeout_ms")
    retries = o.get("max_retries")
    pii = o.get("pii", True)
    if pii == "off":
        pii = False
    elif pii == "on":
        pii = True
    return RuleOptions(
        pii=f.boolean(pii, f"{field}.pii"),
        timeout_ms=(None if timeout is None else f.integer(timeout, f"{field}.timeout_ms", 1, MAX_TIMEOUT_MS)),
        strip_unsupported_tools=f.boolean(o.get("strip_unsupported_tools", False), f"{field}.strip_unsupported_tools"),
        max_retries=(None if retries is None else f.integer(retries, f"{field}.max_retries", 0, MAX_RETRIES_LIMIT)),
    )


def _rule(f: _Fields, value: Any, index: int, providers: set[str]) -> RouteRule:
    field = f"rules[{index}]"
    r = f.obj(value, field, RULE_KEYS)
    if "id" not in r:
        f.fail(f"{field}.id", "missing")
    rule_id = f.string(r["id"], f"{field}.id")
    if "description" in r and not isinstance(r["description"], str):
        f.fail(f"{field}.description", f"must be a string, got {describe(r['description'])}")
    listener = r.get("listener")
    if listener is not None:
        listener = f.string(listener, f"{field}.listener")
    return RouteRule(
        id=rule_id,
        priority=f.integer(r.get("priority", 0), f"{field}.priority"),
        listener=listener,
        match=_match(f, r.get("match"), f"{field}.match"),
        targets=_targets(f, r, field, providers),
        fallbacks=_fallbacks(f, r.get("fallbacks"), f"{field}.fallbacks", providers),
        options=_options(f, r.get("options"), f"{field}.options"),
        order=index,
    )


def parse_rules(data: object, *, file: str, provider_names: set[str]) -> list[RouteRule]:
    """Validate the decoded routes file (`{"rules": [...]}`) into rules, in file order.

    Raises `ConfigError` naming the file, the field path and the reason; never anything else.
    """
    f = _Fields(file)
    top = f.obj(data, "", TOP_KEYS)
    if "rules" not in top:
        f.fail("rules", "missing")
    raw = top["rules"]
    if not isinstance(raw, list):
        f.fail("rules", f"must be a list, got {describe(raw)}")
    providers = set(provider_names)
    rules: list[RouteRule] = []
    first_index: dict[str, int] = {}
    for index, item in enumerate(raw):
        rule = _rule(f, item, index, providers)
        if rule.id in first_index:
            f.fail(f"rules[{index}].id", f"duplicate id {rule.id!r} (also rules[{first_index[rule.id]}])")
        first_index[rule.id] = index
        rules.append(rule)
    return rules
