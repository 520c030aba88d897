"""The compiled decision table: first matching rule by (priority, file order), cached.

`decide` is on every request's path, so the work per request with a warm cache is: build a
small key tuple from the properties some rule actually tests, one dict lookup, and (for
weighted targets only) one random pick. The cache stores the candidate set of the matched
rule, never a pick, so weighted splitting stays random per request.
"""

from __future__ import annotations

import bisect
import enum
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from .request import RouteRequest
from .rules import RouteRule, RuleOptions, Target

DEFAULT_CACHE_SIZE = 4096


@dataclass(slots=True)
class RouteDecision:
    """Where one request goes: the primary target, then the fallbacks in order."""

    rule_id: str
    primary: Target
    fallbacks: list[Target]
    options: RuleOptions


class _Candidates:
    """What a cache entry holds: a matched rule's targets, ready to pick from."""

    __slots__ = ("rule", "targets", "cumulative", "total")

    def __init__(self, rule: RouteRule) -> None:
        self.rule = rule
        # Zero-weight targets are kept in the rule (for explain) but never picked.
        self.targets = tuple(t for t in rule.targets if t.weight > 0)
        if not self.targets:
            raise ValueError(f"rule {rule.id!r} has no target with a weight above 0")
        self.cumulative = tuple(itertools.accumulate(t.weight for t in self.targets))
        self.total = self.cumulative[-1]

    def pick(self, rng: random.Random) -> Target:
        if len(self.targets) == 1:
            return self.targets[0]
        return self.targets[bisect.bisect_right(self.cumulative, rng.random() * self.total)]

    def decision(self, rng: random.Random) -> RouteDecision:
        rule = self.rule
        return RouteDecision(rule.id, self.pick(rng), list(rule.fallbacks), rule.options)


def _matches(rule: RouteRule, req: RouteRequest) -> bool:
    """Whether `rule` matches `req`: the cache-miss path of `decide`.

    Same conditions, same order as `_why_not` (which `explain` uses and which spells out
    the failed condition); the property tests check that the two always agree.
    """
    if not rule.applies_to_listener(req.listener_id, req.listener_type):
        return False
    m = rule.match
    if m.models:
        model = req.model
        for pattern in m.models:
            if pattern.matches(model):
                break
        else:
            return False
    if m.headers:
        headers = req.headers
        for name, pattern in m.headers:
            if not pattern.matches(headers.get(name)):
                return False
    if m.key_ids is not None and req.key_id not in m.key_ids:
        return False
    if m.tenants is not None and req.tenant not in m.tenants:
        return False
    if m.has_tools is not None and req.has_tools != m.has_tools:
        return False
    if m.has_images is not None and req.has_images != m.has_images:
        return False
    return m.min_prompt_tokens is None or req.prompt_tokens >= m.min_prompt_tokens


def _why_not(rule: RouteRule, req: RouteRequest) -> str | None:
    """None when `rule` matches `req`, else the first failed condition, in words."""
    if not rule.applies_to_listener(req.listener_id, req.listener_type):
        return (
            f"listener {rule.listener!r} is neither the listener id {req.listener_id!r} "
            f"nor its type {req.listener_type!r}"
        )
    m = rule.match
    if m.models and not any(p.matches(req.model) for p in m.models):
        wanted = " or ".join(p.describe() for p in m.models)
        return f"model {req.model!r} does not match {wanted}"
    for name, pattern in m.headers:
        value = req.headers.get(name)
        if value is None:
            return f"header {name} is missing (wanted {pattern.describe()})"
        if not pattern.matches(value):
            return f"header {name} {value!r} does not match {pattern.describe()}"
    if m.key_ids is not None and req.key_id not in m.key_ids:
        return f"key_id {req.key_id!r} is not one of {sorted(m.key_ids)}"
    if m.tenants is not None and req.tenant not in m.tenants:
        return f"tenant {req.tenant!r} is not one of {sorted(m.tenants)}"
    if m.has_tools is not None and req.has_tools != m.has_tools:
        return "request declares tools" if req.has_tools else "request declares no tools"
    if m.has_images is not None and req.has_images != m.has_images:
        return "request carries images" if req.has_images else "request carries no images"
    if m.min_prompt_tokens is not None and req.prompt_tokens < m.min_prompt_tokens:
        return f"estimated prompt tokens {req.prompt_tokens} < min_prompt_tokens {m.min_prompt_tokens}"
    return None


def _key_builder(rules: list[RouteRule]) -> Callable[[RouteRequest], tuple[Any, ...]]:
    """A function giving the cache key: exactly the request properties some rule tests.

    Token estimates enter the key as the number of distinct thresholds they reach, not as
    the raw count, so prompts of every length share a handful of entries.
    """
    header_names = tuple(sorted({name for r in rules for name, _ in r.match.headers}))
    uses_key = any(r.match.key_ids is not None for r in rules)
    uses_tenant = any(r.match.tenants is not None for r in rules)
    uses_tools = any(r.match.has_tools is not None for r in rules)
    uses_images = any(r.match.has_images is not None for r in rules)
    thresholds = sorted({r.match.min_prompt_tokens for r in rules if r.match.min_prompt_tokens is not None})

    if not (header_names or uses_key or uses_tenant or uses_tools or uses_images or thresholds):
        # The common case: listener and model only.
        return lambda req: (req.listener_id, req.listener_type, req.model)

    def key(req: RouteRequest) -> tuple[Any, ...]:
        headers = req.headers
        return (
            req.listener_id,
            req.listener_type,
            req.model,
            tuple(headers.get(n) for n in header_names),
            req.key_id if uses_key else None,
            req.tenant if uses_tenant else None,
            req.has_tools if uses_tools else None,
            req.has_images if uses_images else None,
            bisect.bisect_right(thresholds, req.prompt_tokens) if thresholds else None,
        )

    return key


class _Miss(enum.Enum):
    """The cache's "not looked up yet" marker (None is a cached "no rule matches")."""

    MISS = enum.auto()


_MISS: Final = _Miss.MISS


class RouteTable:
    """Rules sorted by (priority, file order), compiled once per config load."""

    __slots__ = ("rules", "_candidates", "_key", "_cache", "_cache_size", "_rng")

    def __init__(
        self, rules: list[RouteRule], *, cache_size: int = DEFAULT_CACHE_SIZE, rng: random.Random | None = None
    ) -> None:
        self.rules: tuple[RouteRule, ...] = tuple(sorted(rules, key=lambda r: (r.priority, r.order)))
        self._candidates = tuple(_Candidates(r) for r in self.rules)
        self._key = _key_builder(list(self.rules))
        self._cache: dict[tuple[Any, ...], _Candidates | None] = {}
        self._cache_size = max(0, cache_size)
        self._rng = rng if rng is not None else random.Random()

    @classmethod
    def compile(
        cls, rules: list[RouteRule], *, cache_size: int = DEFAULT_CACHE_SIZE, rng: random.Random | None = None
    ) -> RouteTable:
        """Build the table. `cache_size=0` disables the decision cache; `rng` seeds picks."""
        return cls(rules, cache_size=cache_size, rng=rng)

    def _first_match(self, req: RouteRequest) -> _Candidates | None:
        for candidates in self._candidates:
            if _matches(candidates.rule, req):
                return candidates
        return None

    def decide(self, req: RouteRequest) -> RouteDecision | None:
        """The decision for `req`, or None when no rule matches (the caller answers 404)."""
        if not self._cache_size:
            found = self._first_match(req)
            return None if found is None else found.decision(self._rng)
        key = self._key(req)
        cache = self._cache
        cached = cache.get(key, _MISS)
        if cached is _MISS:
            cached = self._first_match(req)
            if len(cache) >= self._cache_size:
                self._evict_oldest()
            cache[key] = cached
        return None if cached is None else cached.decision(self._rng)

    def _evict_oldest(self) -> None:
        """Bounded, oldest-first eviction (dicts keep insertion order): LRU-ish, and cheaper
        than reordering on every hit. A concurrent writer may win the race: that is fine."""
        try:
            self._cache.pop(next(iter(self._cache)), None)
        except (StopIteration, RuntimeError):
            pass

    def cache_len(self) -> int:
        return len(self._cache)

    def explain(self, req: RouteRequest) -> dict[str, Any]:
        """The decision with the reasons earlier rules were skipped (for `route --dry-run`).

        Never uses the cache. A target without a model shows the client's model. For a
        weighted rule `primary` is the heaviest target and `targets` lists them all.
        """
        skipped: list[dict[str, str]] = []
        for rule in self.rules:
            reason = _why_not(rule, req)
            if reason is not None:
                skipped.append({"rule_id": rule.id, "reason": reason})
                continue

            def show(t: Target) -> dict[str, Any]:
                return {"provider": t.provider, "model": t.model or req.model}

            primary = max(rule.targets, key=lambda t: t.weight)  # first among equals
            out: dict[str, Any] = {
                "rule_id": rule.id,
                "primary": show(primary),
                "fallbacks": [show(t) for t in rule.fallbacks],
                "skipped": skipped,
            }
            if len(rule.targets) > 1:
                out["targets"] = [{**show(t), "weight": t.weight} for t in rule.targets]
            return out
        return {"rule_id": None, "primary": None, "fallbacks": [], "skipped": skipped}
