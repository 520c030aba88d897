"""The regex analysis behind custom patterns and stream hold-back."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.pii import builtin
from lunaroute.pii.patterns import PatternProblem, check_custom, max_width, prefix_closure, sigma_class

PATTERNS = [
    builtin.EMAIL,
    builtin.IPV6,
    builtin.PEM,
    builtin.ASSIGN,
    builtin.AUTH_HEADER,
    "|".join(f"(?P<{g}>{src})" for g, src, _ in builtin.NUMERIC_ALTERNATIVES),
    "|".join(f"(?P<{n}>{src})" for n, src in builtin.SECRETS),
    r"EMP-[0-9]{6}",
    r"(?i)ab(?:c|de)+f{2,3}",
]
ALPHABET = "abcdefABCDEF0123456789 .:-_@+()=\"'\\\n/KEYkeypasword"


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=ALPHABET, max_size=60), which=st.integers(0, len(PATTERNS) - 1))
def test_every_prefix_of_every_match_is_viable(text: str, which: int) -> None:
    pattern = re.compile(PATTERNS[which])
    closure = prefix_closure(PATTERNS[which])
    barrier = sigma_class(PATTERNS[which])
    for m in pattern.finditer(text):
        for cut in range(m.start(), m.end() + 1):
            assert closure.fullmatch(text, m.start(), cut), (m.group(), cut)
        if barrier is not None:
            assert barrier.search(m.group()) is None  # no match holds a barrier character


def test_closure_rejects_what_cannot_grow_into_a_match() -> None:
    email = prefix_closure(builtin.EMAIL)
    assert email.fullmatch("john@") and email.fullmatch("john@x.c") and email.fullmatch("")
    assert not email.fullmatch("john doe") and not email.fullmatch("a@b@")
    pem = prefix_closure(builtin.PEM)
    assert pem.fullmatch("-----BEG") and pem.fullmatch("-----BEGIN RSA PRIVATE KEY-----\nMIIE")
    assert not pem.fullmatch("--x") and not pem.fullmatch("-----BEGIN CERTIFICATE-----")


def test_custom_patterns() -> None:
    spec = check_custom(r"\bEMP-\d{6}\b")
    assert (spec.core, spec.word_start, spec.word_end) == (r"EMP-\d{6}", True, True)
    assert check_custom(r"foo\\b").word_end is False  # an escaped backslash, then b
    for bad in ("x*", "(?<!a)b", "a$", r"\Bx", "(?>a)", "a++", r"(?P<n>a)(?P=n)"):
        with pytest.raises(PatternProblem):
            check_custom(bad)
    assert max_width(r"EMP-\d{6}") == 10 and max_width("a+") is None


def test_secret_rules_follow_the_alternatives() -> None:
    # secret_check names a match's rule by its prefix instead of re-matching: that holds
    # only while every alternative starts with its own literal.
    python = re.compile("|".join(f"(?P<{n}>{src})" for n, src in builtin.SECRETS))
    samples = [
        "sk-" + "a1" * 12,
        "ghp_" + "A1" * 18,
        "github_pat_" + "A1" * 25,
        "xoxb-1234567890-abc",
        "AIza" + "B" * 35,
        "glpat-" + "c" * 20,
        "hf_" + "d" * 30,
        "npm_" + "e" * 36,
        "sk_live_" + "f" * 24,
        "rk_test_" + "f" * 24,
        "lr-" + "g" * 40,
        "AKIA" + "H" * 16,
        "ASIA" + "H" * 16,
        "eyJabcdefgh.eyJabcdefgh.abcdefghijklmnop",
    ]
    for value in samples:
        m = python.fullmatch(value)
        assert m is not None and builtin.secret_rule(value) == m.lastgroup, value
