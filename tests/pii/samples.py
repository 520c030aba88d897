"""Text pieces for property tests: labelled values from the corpus, custom-detector values,
fragments that start like a value and stop, and filler."""

from __future__ import annotations

from hypothesis import strategies as st

from .corpus import load

VALUES = sorted({line.text[s:e] for line in load("positive.txt") for _, s, e in line.labels})
CUSTOM_VALUES = ["EMP-123456", "bluebird", "Blue Heron", "NIGHTJAR", "TCK-AB12345", "MRN-"]
# Beginnings of values, cut short, and look-alikes: the stream must hold them back and let
# them go exactly as the whole-text scan does.
FRAGMENTS = [
    "-----BEGIN RSA PRIVATE KEY-----",
    "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBg",
    "-----END RSA PRIVATE KEY-----",
    "sk-proj-",
    "sk-ant-api03-",
    "eyJhbGciOiJIUzI1NiJ9.",
    "AKIA",
    "password: ",
    "api_key=",
    "Bearer ",
    "+1 ",
    "(415) ",
    "2001:db8:",
    "::",
    "192.168.",
    "4111 1111 ",
    "123-45-",
    "john.doe@",
    "@example.com",
    "EMP-12",
    "blueb",
    "<EMAIL_",
    "\\",
]
FILLER_CHARS = "abcdefghijkXYZ 0123456789 .,;:-_@+()[]<>=/\\\"'#\n\té日\x00"


def pieces() -> st.SearchStrategy[list[str]]:
    filler = st.text(alphabet=FILLER_CHARS, max_size=12)
    value = st.sampled_from(VALUES + CUSTOM_VALUES + FRAGMENTS)
    return st.lists(st.one_of(filler, value, filler), min_size=1, max_size=14)


@st.composite
def chunked(draw: st.DrawFn) -> tuple[str, list[str]]:
    """A text and one way to cut it into pieces (some empty)."""
    text = "".join(draw(pieces()))
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=12)))
    bounds = [0, *cuts, len(text)]
    return text, [text[a:b] for a, b in zip(bounds, bounds[1:])]


def cut_every(text: str, size: int) -> list[str]:
    return [text[i : i + size] for i in range(0, len(text), size)]
