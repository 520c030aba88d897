"""The routing rule model: what `routes.json` says once it has been validated.

These are plain values. `parse.py` builds them from the decoded file (strictly), `table.py`
compiles them into a decision table. Nothing here touches a request.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Literal

MatchKind = Literal["exact", "glob", "regex"]


@dataclass(frozen=True, slots=True)
class Target:
    """One place a request can go. `model=None` keeps the model the client asked for."""

    provider: str
    model: str | None = None
    weight: int = 1


@dataclass(frozen=True, slots=True)
class RuleOptions:
    """Per-rule overrides of provider settings for the requests the rule routes."""

    timeout_ms: int | None = None
    strip_unsupported_tools: bool = False
    max_retries: int | None = None
    # `pii: off` (or false): requests this rule routes skip PII redaction (trusted traffic).
    pii: bool = True


@dataclass(frozen=True, slots=True)
class ValueMatcher:
    """One compiled string test: exact, glob (fnmatch, case-sensitive) or regex (re.search).

    The regex is compiled once here; globs are translated to a regex once
    (`fnmatch.translate`), so matching never re-parses a pattern.
    """

    kind: MatchKind
    source: str
    regex: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def exact(cls, value: str) -> ValueMatcher:
        return cls("exact", value)

    @classmethod
    def glob(cls, pattern: str) -> ValueMatcher:
        return cls("glob", pattern, re.compile(fnmatch.translate(pattern)))

    @classmethod
    def regex_of(cls, pattern: str) -> ValueMatcher:
        """Raises `re.error` (or OverflowError/RecursionError) for a bad pattern."""
        return cls("regex", pattern, re.compile(pattern))

    def matches(self, value: str | None) -> bool:
        if value is None:
            return False
        if self.regex is None:
            return value == self.source
        if self.kind == "glob":
            return self.regex.match(value) is not None
        return self.regex.search(value) is not None

    def describe(self) -> str:
        """How the pattern reads in an explanation: `'gpt-4o'`, `glob 'gpt-*'`, `regex '^o1'`."""
        if self.kind == "exact":
            return repr(self.source)
        return f"{self.kind} {self.source!r}"


@dataclass(frozen=True, slots=True)
class RuleMatch:
    """The conditions of one rule; every condition set must hold (logical AND).

    `models` holds alternatives (any may match). `None` or empty means "any value".
    """

    models: tuple[ValueMatcher, ...] = ()
    headers: tuple[tuple[str, ValueMatcher], ...] = ()  # (lower-case name, test)
    key_ids: frozenset[str] | None = None
    tenants: frozenset[str] | None = None
    has_tools: bool | None = None
    has_images: bool | None = None
    min_prompt_tokens: int | None = None

    @property
    def uses_body(self) -> bool:
        return self.has_tools is not None or self.has_images is not None or self.min_prompt_tokens is not None


@dataclass(slots=True)
class RouteRule:
    """One validated rule. `targets` has one entry for `target`, several for `targets`."""

    id: str
    priority: int
    listener: str | None
    match: RuleMatch
    targets: tuple[Target, ...]
    fallbacks: list[Target]
    options: RuleOptions
    order: int

    def applies_to_listener(self, listener_id: str, listener_type: str) -> bool:
        """A rule's `listener` names a listener by its id or by its type (dialect)."""
        return self.listener is None or self.listener == listener_id or self.listener == listener_type
