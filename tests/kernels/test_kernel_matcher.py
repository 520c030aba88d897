"""Kernel `matcher`: every backend against brute force (literals), Python `re` (a fixed menu
of regexes in the common subset of Python `re` and Rust `regex`) and each other."""

from __future__ import annotations

import re
from types import ModuleType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.errors import InvalidArgumentError, InvalidPatternError

from .kernel_backends import BACKENDS, assert_all_backends_built, available, require

KERNEL = "matcher"


def test_all_backends_built_in_ci() -> None:
    assert_all_backends_built(KERNEL)


@pytest.fixture(params=BACKENDS)
def matcher(request: pytest.FixtureRequest) -> ModuleType:
    return require(KERNEL, request.param)


# ---------------------------------------------------------------------------- references
def _fold(s: str, ci: bool) -> str:
    return s.translate(_ASCII_LOWER) if ci else s


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def brute_literals(literals: list[str], text: str, ci: bool) -> list[tuple[int, int, int]]:
    """Leftmost-longest, non-overlapping; ties to the lowest id. Quadratic and obvious."""
    hay = _fold(text, ci)
    needles = [_fold(lit, ci) for lit in literals]
    out = []
    pos = 0
    while pos < len(text):
        best = None
        for pid, needle in enumerate(needles):
            if hay.startswith(needle, pos) and (best is None or len(needle) > len(needles[best])):
                best = pid
        if best is None:
            pos += 1
        else:
            out.append((best, pos, pos + len(needles[best])))
            pos += len(needles[best])
    return out


def reference(literals: list[str], regexes: list[str], text: str, ci: bool) -> list[tuple[int, int, int]]:
    candidates = brute_literals(literals, text, ci)
    for i, rx in enumerate(regexes):
        candidates += [(len(literals) + i, m.start(), m.end()) for m in re.finditer(rx, text) if m.end() > m.start()]
    candidates.sort(key=lambda m: (m[1], m[1] - m[2], m[0]))
    taken, last_end = [], 0
    for m in candidates:
        if m[1] >= last_end:
            taken.append(m)
            last_end = m[2]
    return taken


def to_bytes_offsets(text: str, matches: list[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    def b(i: int) -> int:
        return len(text[:i].encode("utf-8"))

    return [(pid, b(s), b(e)) for pid, s, e in matches]


# ---------------------------------------------------------------------------- unit cases
def test_ids_follow_literals_then_regexes(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher(["cat", "dog"], [r"[0-9]+"])
    assert m.pattern_count == 3
    assert m.find_all("dog 42 cat") == [(1, 0, 3), (2, 4, 6), (0, 7, 10)]


def test_literals_are_leftmost_longest(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher(["a", "ab", "abc", "bcd"])
    assert m.find_all("abcd") == [(2, 0, 3)]
    assert m.find_all("xabx") == [(1, 1, 3)]
    assert matcher.PatternMatcher(["ab", "bcd"]).find_all("abcd") == [(0, 0, 2)]


def test_ties_go_to_lowest_id(matcher: ModuleType) -> None:
    assert matcher.PatternMatcher(["key", "x", "key"]).find_all("key") == [(0, 0, 3)]
    ci = matcher.PatternMatcher(["TOKEN", "token"], case_insensitive=True)
    assert ci.find_all("ToKeN token") == [(0, 0, 5), (0, 6, 11)]


def test_case_insensitive_folds_ascii_only(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher(["café", "straße"], case_insensitive=True)
    assert m.find_all("CAFé CAFÉ STRAßE") == [(0, 0, 4), (1, 10, 16)]
    sensitive = matcher.PatternMatcher(["Secret"])
    assert sensitive.find_all("secret Secret") == [(0, 7, 13)]


def test_case_insensitive_does_not_touch_regexes(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher([], ["abc", "(?i)xyz"], case_insensitive=True)
    assert m.find_all("ABC abc XyZ") == [(0, 4, 7), (1, 8, 11)]


def test_merge_prefers_earliest_then_longest_then_lowest_id(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher(["abc", "bcdef"], [r"abcd", r"a", r"[a-z]+"])
    # at 0: "abc"(0), "abcd"(2), "a"(3), "abcdefg"(4) -> the longest, "[a-z]+", wins
    assert m.find_all("abcdefg") == [(4, 0, 7)]
    same = matcher.PatternMatcher(["abcd"], [r"abcd", r"ab"])
    assert same.find_all("abcd ab") == [(0, 0, 4), (2, 5, 7)]


def test_regex_matches_are_leftmost_first_and_non_overlapping(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher([], [r"a|ab", r"[0-9]{2}"])
    assert m.find_all("ab 12345") == [(0, 0, 1), (1, 3, 5), (1, 5, 7)]


def test_empty_regex_matches_are_skipped(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher([], [r"x*", r"|b"])
    assert m.find_all("axxb") == [(0, 1, 3)]


def test_unicode_offsets(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher(["🚀"], [r"[a-z]+@[a-z]+\.[a-z]{2,}"])
    text = "é🚀 mail bob@example.com 日本"
    chars = m.find_all(text)
    assert chars == [(0, 1, 2), (1, 8, 23)]
    assert m.find_all_bytes(text.encode()) == to_bytes_offsets(text, chars)


def test_empty_matcher_and_empty_text(matcher: ModuleType) -> None:
    assert matcher.PatternMatcher().find_all("anything") == []
    assert matcher.PatternMatcher().pattern_count == 0
    assert matcher.PatternMatcher(["a"], ["b"]).find_all("") == []
    assert matcher.PatternMatcher(["a"]).find_all_bytes(b"") == []


def test_empty_literal_is_rejected(matcher: ModuleType) -> None:
    with pytest.raises(InvalidPatternError):
        matcher.PatternMatcher(["ok", ""])


@pytest.mark.parametrize("bad", ["(", "[a-", "a{2,1}", "*a"])
def test_uncompilable_regex_is_rejected(matcher: ModuleType, bad: str) -> None:
    with pytest.raises(InvalidPatternError):
        matcher.PatternMatcher([], [bad])


@pytest.mark.parametrize("bad", [b"\xff", b"ok \xc3", b"\xed\xa0\x80", b"\xc0\xaf"])
def test_invalid_utf8_bytes_are_rejected(matcher: ModuleType, bad: bytes) -> None:
    with pytest.raises(InvalidArgumentError):
        matcher.PatternMatcher(["ok"]).find_all_bytes(bad)


def test_type_errors(matcher: ModuleType) -> None:
    m = matcher.PatternMatcher(["a"])
    with pytest.raises(TypeError):
        m.find_all(b"a")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        m.find_all_bytes("a")  # type: ignore[arg-type]


# ---------------------------------------------------------------------------- differential
# Characters on which Python `re` and Rust `regex` agree for \d, \w, \s, \b and (?i):
# ASCII, Latin-1 letters, CJK, an emoji, Nd digits of other scripts, NBSP.
ALPHABET = "abcxyzABCXYZ0129 _-.@+()\n\téÉüßж日本🚀٣３\u00a0"
REGEX_MENU = [
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",  # email
    r"\(?[0-9]{3}\)?[-. ]?[0-9]{3}[-. ]?[0-9]{4}",  # phone
    r"\d+",  # digit runs (Unicode Nd)
    r"[0-9]{2,}",
    r"\bab\w*\b",  # word-boundary words
    r"\b[A-Z][a-z]+\b",
    r"(?i)abc",  # (?i) forms
    r"(?i)[a-zé]+",
    r"(?i)api[_-]?key",
    r"\w+@\w+",
    r"\s+",
    r"x*",
    r"a|ab|abc",
    r"^\w+",
    r"[^ \n]+",
    r"(?s)a.c",
]


@settings(max_examples=250, deadline=None)
@given(
    literals=st.lists(st.text(ALPHABET, min_size=1, max_size=4), max_size=8),
    text=st.text(ALPHABET, max_size=120),
    ci=st.booleans(),
)
def test_literals_match_brute_force(literals: list[str], text: str, ci: bool) -> None:
    expected = brute_literals(literals, text, ci)
    for name, mod in available(KERNEL).items():
        m = mod.PatternMatcher(literals, case_insensitive=ci)
        assert m.find_all(text) == expected, name
        assert m.find_all_bytes(text.encode()) == to_bytes_offsets(text, expected), name


@settings(max_examples=250, deadline=None)
@given(
    literals=st.lists(st.text(ALPHABET, min_size=1, max_size=3), max_size=4),
    regexes=st.lists(st.sampled_from(REGEX_MENU), max_size=4),
    text=st.text(ALPHABET, max_size=120),
    ci=st.booleans(),
)
def test_literals_and_regexes_match_reference(literals: list[str], regexes: list[str], text: str, ci: bool) -> None:
    expected = reference(literals, regexes, text, ci)
    for name, mod in available(KERNEL).items():
        m = mod.PatternMatcher(literals, regexes, case_insensitive=ci)
        assert m.pattern_count == len(literals) + len(regexes)
        assert m.find_all(text) == expected, name
        assert m.find_all_bytes(text.encode()) == to_bytes_offsets(text, expected), name


def test_long_text_all_backends_agree() -> None:
    words = ["alpha", "Beta", "gamma@example.com", "555-123-4567", "日本語", "sk-abcdefgh12345", "🚀", "x"]
    text = " ".join(words[(i * 7) % len(words)] for i in range(5000))
    literals = ["alpha", "beta", "日本", "sk-"]
    regexes = [REGEX_MENU[0], REGEX_MENU[1], r"sk-[A-Za-z0-9]{8,}"]
    expected = reference(literals, regexes, text, True)
    assert len(expected) > 2000
    for name, mod in available(KERNEL).items():
        m = mod.PatternMatcher(literals, regexes, case_insensitive=True)
        assert m.find_all(text) == expected, name
        assert m.find_all_bytes(text.encode()) == to_bytes_offsets(text, expected), name
