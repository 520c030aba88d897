"""Helpers shared by the routing tests."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

from hypothesis import strategies as st

from lunaroute.errors import FailureKind
from lunaroute.routing import (
    AttemptLog,
    BreakerRegistry,
    RetryPolicy,
    RouteDecision,
    RouteTable,
    Target,
    UpstreamFailure,
    parse_rules,
    run_attempts,
)

PROVIDERS = {"openai", "anthropic", "local", "azure"}


def table_of(rules: list[dict[str, Any]], **kwargs: Any) -> RouteTable:
    return RouteTable.compile(parse_rules({"rules": rules}, file="routes.json", provider_names=PROVIDERS), **kwargs)


class FakeSleep:
    """An injected `sleep` that records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)
        await asyncio.sleep(0)  # still a real suspension point


class Script:
    """An attempt callable answering from a per-provider script of outcomes.

    Each outcome is "ok", an exception, or a function making one; a provider whose script
    is used up keeps repeating its last outcome. Records every call as (provider, n).
    """

    def __init__(self, outcomes: dict[str, Iterable[object]]) -> None:
        self.outcomes = {p: list(o) for p, o in outcomes.items()}
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, target: Target, n: int) -> str:
        self.calls.append((target.provider, n))
        await asyncio.sleep(0)
        script = self.outcomes[target.provider]
        outcome = script.pop(0) if len(script) > 1 else script[0]
        if callable(outcome):
            outcome = outcome()
        if isinstance(outcome, BaseException):
            raise outcome
        return f"{outcome}:{target.provider}"

    def calls_to(self, provider: str) -> int:
        return sum(1 for p, _ in self.calls if p == provider)


def fail(kind: FailureKind = "status", status: int | None = 503, **kw: Any) -> UpstreamFailure:
    return UpstreamFailure(kind, status=status if kind == "status" else None, **kw)


def run(
    decision: RouteDecision,
    script: Script,
    breakers: BreakerRegistry,
    *,
    retries: int = 2,
    sleep: FakeSleep | None = None,
    log: AttemptLog | None = None,
) -> tuple[str, AttemptLog]:
    return asyncio.run(
        run_attempts(
            decision,
            script,
            breakers=breakers,
            max_retries_for=lambda _p: retries,
            policy=RetryPolicy(),
            sleep=sleep or FakeSleep(),
            log=log,
        )
    )


# --------------------------------------------------------------------------- strategies
MODELS = ["gpt-4o", "gpt-4o-mini", "claude-3", "claude-x", "o1", "o3", "gpt-*", "mini"]
MODEL_PATTERNS = [
    "gpt-4o",
    "gpt-4o-mini",
    "claude-3",
    "o1",  # exact
    "gpt-*",
    "*mini",
    "claude-?",
    "o?",
    "*",  # glob
    "re:^gpt",
    "re:mini$",
    "re:^(o1|claude)",
    "re:4",  # regex (search)
    {"regex": "^o\\d$"},
    {"glob": "claude*"},
    {"exact": "gpt-*"},
]
HEADER_NAMES = ["X-Tier", "x-tier", "X-TEAM", "x-team"]
HEADER_VALUES = ["paid", "free", "re:^p", "re:e$", "Paid"]
LISTENERS = [("lst1", "openai"), ("lst2", "anthropic"), ("openai", "openai"), ("anthropic", "openai")]
BODIES: list[dict[str, Any] | None] = [
    None,
    {"messages": [{"role": "user", "content": "hi"}]},
    {"messages": [{"role": "user", "content": "x" * 800}], "tools": [{"type": "function", "function": {"name": "f"}}]},
    {
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AA"}},
                ],
            }
        ]
    },
    {
        "system": "s" * 400,
        "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]}],
        "tools": [{"name": "t", "input_schema": {"type": "object"}}],
    },
]


@st.composite
def rule_dicts(draw: st.DrawFn, index: int) -> dict[str, Any]:
    match: dict[str, Any] = {}
    if draw(st.booleans()):
        patterns = draw(st.lists(st.sampled_from(MODEL_PATTERNS), min_size=1, max_size=2))
        match["model"] = patterns if len(patterns) > 1 or draw(st.booleans()) else patterns[0]
    if draw(st.integers(0, 3)) == 0:
        names = draw(st.lists(st.sampled_from(["X-Tier", "X-Team"]), min_size=1, max_size=2, unique=True))
        match["headers"] = {
            draw(st.sampled_from([n, n.lower(), n.upper()])): draw(st.sampled_from(HEADER_VALUES)) for n in names
        }
    if draw(st.integers(0, 4)) == 0:
        match["key_id"] = draw(st.sampled_from(["k1", ["k1", "k2"]]))
    if draw(st.integers(0, 4)) == 0:
        match["tenant"] = draw(st.sampled_from(["acme", ["acme", "beta"]]))
    for feature in ("has_tools", "has_images"):
        if draw(st.integers(0, 4)) == 0:
            match[feature] = draw(st.booleans())
    if draw(st.integers(0, 4)) == 0:
        match["min_prompt_tokens"] = draw(st.sampled_from([0, 10, 150, 250]))
    rule: dict[str, Any] = {
        "id": f"r{index}",
        "priority": draw(st.integers(0, 3)),
        "target": {"provider": draw(st.sampled_from(sorted(PROVIDERS)))},
    }
    if match:
        rule["match"] = match
    listener = draw(st.sampled_from([None, "openai", "anthropic", "lst1", "lst2"]))
    if listener is not None:
        rule["listener"] = listener
    return rule


@st.composite
def rule_lists(draw: st.DrawFn, max_size: int = 8) -> list[dict[str, Any]]:
    n = draw(st.integers(0, max_size))
    return [draw(rule_dicts(i)) for i in range(n)]


@st.composite
def request_args(draw: st.DrawFn) -> dict[str, Any]:
    listener_id, listener_type = draw(st.sampled_from(LISTENERS))
    headers = {}
    for name in ("x-tier", "x-team"):
        if draw(st.booleans()):
            headers[name] = draw(st.sampled_from(["paid", "free", "Paid", "pe", ""]))
    return {
        "listener_id": listener_id,
        "listener_type": listener_type,
        "model": draw(st.sampled_from(MODELS)),
        "headers": headers,
        "key_id": draw(st.sampled_from([None, "k1", "k2", "k3"])),
        "tenant": draw(st.sampled_from([None, "acme", "beta"])),
        "body": draw(st.sampled_from(BODIES)),
    }


# --------------------------------------------------------------------------- processes
def breaker_kernel(backend: str) -> Any:
    from lunaroute.kernels import module_for

    return module_for("breaker", backend)


def child_record_failures(
    path: str, backend: str, names: list[str], provider: str, count: int, threshold: int, start: Any, done: Any
) -> None:
    """In a child process: map the shared file and record `count` failures on `provider`,
    then report the states this process sees."""
    from lunaroute.routing import BreakerSettings

    settings = {n: BreakerSettings(failure_threshold=threshold, reset_timeout_ms=60_000) for n in names}
    registry = BreakerRegistry(settings, path, kernel=breaker_kernel(backend))
    try:
        if start is not None:
            start.wait(10)
        breaker = registry.get(provider)
        for _ in range(count):
            breaker.record_failure()
        done.put(registry.states())
    finally:
        registry.close()
