"""One kernel pass over a text and the Python check of what it finds.

A regex scanner runs one regex (often an alternation of several rules) on the matcher
kernel, which reports non-overlapping leftmost-first matches; the same regex compiled by
Python's `re` re-matches each candidate to learn which named group (rule) matched and
where its sub-groups lie. A keyword scanner runs literals through the kernel's
Aho-Corasick automaton.

For streams a scanner also answers: could the text from `start` to the current end still
become (part of) a match if more text arrives? (`viable`), and where does the last
character that no match can contain sit? (`barrier`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from .patterns import first_class, prefix_closure, sigma_class

Raw = tuple[int, int, str, float, str, str]  # start, end, type, confidence, rule, note
RegexCheck = Callable[[str, re.Match[str], int, int, int, int], Raw | None]
LiteralCheck = Callable[[str, int, int, int, int, int], Raw | None]


class Matcher(Protocol):
    """A matcher kernel (kernels.PatternMatcher, whichever backend serves it)."""

    def __init__(self, literals: Sequence[str], regexes: Sequence[str], case_insensitive: bool = False) -> None: ...
    def find_all(self, text: str) -> list[tuple[int, int, int]]: ...


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class Scanner:
    __slots__ = (
        "name",
        "kernel",
        "source",
        "reach",
        "_python",
        "_check",
        "_prefix",
        "_first",
        "_barrier",
        "_prefixes",
        "_fold",
        "_longest",
        "_literal",
    )

    def __init__(self, name: str, kernel: Matcher, reach: int = 0) -> None:
        self.name = name
        self.kernel = kernel
        self.source: str | None = None  # a regex scanner's pattern
        # How far before its kernel match a finding may start (a check widening it left):
        # a stream holds that much more text before an undecided match.
        self.reach = reach
        self._python: re.Pattern[str] | None = None
        # A RegexCheck or a LiteralCheck (called with a match or a pattern id), set by the constructors.
        self._check: Any = None
        self._prefix: re.Pattern[str] | None = None
        self._first: re.Pattern[str] | None = None
        self._barrier: re.Pattern[str] | None = None
        self._prefixes: frozenset[str] = frozenset()
        self._fold = False
        self._longest = 0
        self._literal = False

    @classmethod
    def regex(
        cls, name: str, source: str, check: RegexCheck, matcher: type, reach: int = 0, groups: bool = True
    ) -> Scanner:
        """`groups=False`: the check reads only the span, so the Python re-match is skipped
        (it then gets None for the match)."""
        self = cls(name, matcher([], [source]), reach)
        self.source = source
        self._python = re.compile(source) if groups else None
        self._check = check
        self._prefix = prefix_closure(source)
        self._first = first_class(source)
        self._barrier = sigma_class(source)
        return self

    @classmethod
    def literals(
        cls, name: str, words: Sequence[str], check: LiteralCheck, matcher: type, case_insensitive: bool
    ) -> Scanner:
        self = cls(name, matcher(list(words), [], case_insensitive=case_insensitive))
        self._check = check
        self._literal = True
        self._fold = case_insensitive
        folded = [self._folded(w) for w in words]
        self._prefixes = frozenset(w[:i] for w in folded for i in range(1, len(w)))
        self._longest = max(len(w) for w in words)
        chars = {c for w in folded for c in w}
        if case_insensitive:  # the kernel folds ASCII letters only
            chars |= {c.upper() for c in chars if c.isascii()}
        self._barrier = re.compile("[^" + "".join(_class_char(c) for c in sorted(chars)) + "]")
        return self

    def _folded(self, text: str) -> str:
        return text.translate(_ASCII_LOWER) if self._fold else text

    def candidates(self, text: str) -> list[tuple[int, int, int]]:
        return self.kernel.find_all(text)

    def check(self, text: str, pid: int, start: int, end: int, lo: int, hi: int) -> Raw | None:
        """The finding a kernel match makes, or None. `lo`/`hi` bound the text it came from;
        the check reads at most checks.CONTEXT characters before it, checks.AFTER after."""
        python = self._python
        if python is None:
            raw: Raw | None = self._check(text, pid if self._literal else None, start, end, lo, hi)
            return raw
        m = python.match(text, start)
        if m is None or m.end() != end:
            m = python.fullmatch(text, start, end)
            if m is None:
                return None
        found: Raw | None = self._check(text, m, start, end, lo, hi)
        return found

    # ------------------------------------------------------------------ streams
    def next_start(self, text: str, start: int, end: int) -> int:
        """The first position in text[start:end] a match could begin at (`end` if none)."""
        if self._first is None:
            return start
        m = self._first.search(text, start, end)
        return end if m is None else m.start()

    def viable(self, text: str, start: int, end: int) -> bool:
        """Whether text[start:end] is a prefix of some match (so more text may decide it)."""
        if self._prefix is not None:
            return self._prefix.fullmatch(text, start, end) is not None
        if end - start >= self._longest:
            return False
        return self._folded(text[start:end]) in self._prefixes

    def barrier(self, text: str, start: int, end: int) -> int:
        """One past the last character in text[start:end] that no match can contain, -1
        when there is none."""
        last = -1
        if self._barrier is not None:
            for m in self._barrier.finditer(text, start, end):
                last = m.end()
        return last


def _class_char(ch: str) -> str:
    return ch if ch.isalnum() and ch.isascii() else f"\\u{ord(ch):04x}" if ord(ch) < 0x10000 else f"\\U{ord(ch):08x}"
