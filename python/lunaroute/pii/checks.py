"""Post-filters run in Python on the few candidates the matcher kernel finds.

Every check reads only the candidate and at most CONTEXT characters before it and AFTER
characters after it, clamped to the bounds of the text it came from: the stream redactor
keeps exactly that much around a candidate, so a check gives the same answer on a stream
as on the whole text.
"""

from __future__ import annotations

import math
import re
from collections import Counter

CONTEXT = 48  # characters before a candidate a check may read
AFTER = 2  # characters after it


def before(text: str, start: int, lo: int, size: int = CONTEXT) -> str:
    return text[max(lo, start - size) : start]


def is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def bounded(text: str, start: int, end: int, lo: int, hi: int, joiners: str) -> bool:
    """No word character touches the value, and no `joiners` character followed (or
    preceded) by a digit continues it: `1.2.3.4.5` is not an IPv4 address."""
    if start > lo:
        ch = text[start - 1]
        if is_word(ch) or (ch in joiners and start - 2 >= lo and text[start - 2].isdigit()):
            return False
    if end < hi:
        ch = text[end]
        if is_word(ch) or (ch in joiners and end + 1 < hi and text[end + 1].isdigit()):
            return False
    return True


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_network(digits: str) -> str | None:
    """The card network an IIN and length belong to (None: no known network)."""
    n = len(digits)
    two = int(digits[:2])
    four = int(digits[:4])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "mastercard"
    if two in (34, 37) and n == 15:
        return "amex"
    if (digits.startswith("6011") or two == 65 or 644 <= int(digits[:3]) <= 649) and n in (16, 19):
        return "discover"
    if 3528 <= four <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= int(digits[:3]) <= 305 or two in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if two == 62 and 16 <= n <= 19:
        return "unionpay"
    if (two == 50 or 56 <= two <= 69) and 12 <= n <= 19:
        return "maestro"
    return None


_XLOGX = [0.0] + [c * math.log2(c) for c in range(1, 4097)]


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    size = len(value)
    if not size:
        return 0.0
    counts = Counter(value).values()
    if size > 4096:
        return math.log2(size) - sum(c * math.log2(c) for c in counts) / size
    return math.log2(size) - sum(map(_XLOGX.__getitem__, counts)) / size


_SAME_CASE_RUN = re.compile(r"[a-z]{7,}|[A-Z]{7,}")
_DIGIT = re.compile(r"[0-9]")
_ALPHA = re.compile(r"[A-Za-z]")


def looks_random(value: str, min_len: int = 12) -> bool:
    """A generated secret, not a word or an identifier: long enough, letters and digits,
    high entropy, and no long run of same-case letters (words have those; base62 noise
    rarely does)."""
    if len(value) < min_len or _DIGIT.search(value) is None or _ALPHA.search(value) is None:
        return False
    if entropy(value) < 3.0:
        return False
    return len(value) >= 32 or _SAME_CASE_RUN.search(value) is None


def generated(value: str, min_len: int) -> bool:
    """The body of a prefixed key (sk-..., ghp_...) is machine-made: letters and digits,
    many distinct characters, no word-like run. Cheaper than entropy, and enough once a
    provider prefix has matched."""
    if len(value) < min_len or _DIGIT.search(value) is None or _ALPHA.search(value) is None:
        return False
    if len(set(value)) < min(16, len(value) // 2):
        return False
    return len(value) >= 32 or _SAME_CASE_RUN.search(value) is None


_FILLER = re.compile(r"[*xX.#_-]+")
_PLACEHOLDER_WORDS = re.compile(r"example|your|placeholder|redacted|changeme|dummy|sample", re.IGNORECASE)
_PLACEHOLDER_VALUES = frozenset(
    {
        "none",
        "null",
        "nil",
        "true",
        "false",
        "undefined",
        "string",
        "required",
        "optional",
        "secret",
        "password",
        "token",
    }
)
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9]*_[A-Z0-9_]*")


def placeholder(value: str) -> bool:
    """`<redacted>`, `${TOKEN}`, `YOUR_API_KEY`, `xxxx`, `****`, `null`: not a secret."""
    return bool(
        value[0] in "$%{<"
        or value.lower() in _PLACEHOLDER_VALUES
        or _FILLER.fullmatch(value)
        or _PLACEHOLDER_WORDS.search(value)
        or _ENV_NAME.fullmatch(value)
    )


def nearest(pattern: re.Pattern[str], context: str) -> str | None:
    """The group name of the last (closest to the value) match of `pattern` in `context`."""
    last = None
    for m in pattern.finditer(context):
        last = m
    return last.lastgroup if last is not None else None
