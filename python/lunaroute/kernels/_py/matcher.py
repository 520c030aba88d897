"""Pure-Python multi-pattern matcher: the reference semantics of kernel `matcher`
(docs/KERNELS.md §5).

Literals: every occurrence of every literal is found with `str.find`/`bytes.find` (C-speed
substring search, far faster than a `re` alternation, which tries each alternative at each
position), then the occurrences are sorted by (start, -length, id) and taken greedily
without overlap. That greedy pass is exactly Aho-Corasick leftmost-longest: the first
occurrence not overlapping the last one taken is the leftmost remaining start, and the
longest (then lowest id) literal there.

ASCII-only case folding: `bytes.lower()` folds only A-Z, so case-insensitive search runs
on the UTF-8 bytes (or on `str.lower()` when the text is pure ASCII, where it is the same
thing). A needle that is valid UTF-8 can only match a valid UTF-8 haystack at character
boundaries, so byte offsets convert to code-point offsets exactly.

Regexes run on the str with Python's `re`, each on its own, with empty matches skipped.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import AnyStr

from ...errors import InvalidArgumentError, InvalidPatternError

Match = tuple[int, int, int]


def _ascii_fold(s: str) -> str:
    return s.encode("utf-8").lower().decode("utf-8")


def _literal_spans(hay: AnyStr, needles: Sequence[tuple[AnyStr, int]]) -> list[Match]:
    """Leftmost-longest non-overlapping matches of `needles` (needle, id) in `hay`."""
    found: list[tuple[int, int, int]] = []
    add = found.append
    find = hay.find
    for needle, pid in needles:
        size = len(needle)
        i = find(needle)
        while i >= 0:
            add((i, -size, pid))
            i = find(needle, i + 1)
    found.sort()
    taken: list[Match] = []
    last_end = 0
    for start, neg_size, pid in found:
        if start >= last_end:
            last_end = start - neg_size
            taken.append((pid, start, last_end))
    return taken


def _regex_spans(pattern: re.Pattern[str], pid: int, text: str) -> list[Match]:
    # Explicit loop rather than finditer: after an empty match at p the search resumes at
    # p + 1 (as Rust's find_iter does), and empty matches themselves are never reported.
    out: list[Match] = []
    pos = 0
    size = len(text)
    search = pattern.search
    while pos <= size:
        m = search(text, pos)
        if m is None:
            break
        start, end = m.span()
        if start == end:
            pos = end + 1
            continue
        out.append((pid, start, end))
        pos = end
    return out


def _merge(sources: list[list[Match]]) -> list[Match]:
    """Greedy merge by (start, -length, id), skipping anything overlapping what was taken."""
    sources = [s for s in sources if s]
    if not sources:
        return []
    if len(sources) == 1:
        return sources[0]  # one source is already non-overlapping and ordered
    candidates = [m for s in sources for m in s]
    candidates.sort(key=lambda m: (m[1], m[1] - m[2], m[0]))
    taken: list[Match] = []
    last_end = 0
    for m in candidates:
        if m[1] >= last_end:
            taken.append(m)
            last_end = m[2]
    return taken


def _bytes_to_chars(raw: bytes, spans: list[Match]) -> list[Match]:
    """Byte offsets → code-point offsets; `spans` ordered and on character boundaries."""
    out: list[Match] = []
    byte_pos = char_pos = 0
    for pid, start, end in spans:
        char_pos += len(raw[byte_pos:start].decode("utf-8"))
        char_start = char_pos
        char_pos += len(raw[start:end].decode("utf-8"))
        byte_pos = end
        out.append((pid, char_start, char_pos))
    return out


def _chars_to_bytes(text: str, spans: list[Match]) -> list[Match]:
    """Code-point offsets → UTF-8 byte offsets; `spans` ordered."""
    out: list[Match] = []
    char_pos = byte_pos = 0
    for pid, start, end in spans:
        byte_pos += len(text[char_pos:start].encode("utf-8"))
        byte_start = byte_pos
        byte_pos += len(text[start:end].encode("utf-8"))
        char_pos = end
        out.append((pid, byte_start, byte_pos))
    return out


class PatternMatcher:
    """Finds non-overlapping matches of literals and regexes in a text."""

    __slots__ = ("_ci", "_str_needles", "_byte_needles", "_regexes", "_count")

    def __init__(
        self,
        literals: Sequence[str] = (),
        regexes: Sequence[str] = (),
        case_insensitive: bool = False,
    ) -> None:
        if isinstance(literals, (str, bytes)) or isinstance(regexes, (str, bytes)):
            raise TypeError("literals and regexes must be sequences of str, not a single string")
        literals = list(literals)
        regexes = list(regexes)
        for i, lit in enumerate(literals):
            if not isinstance(lit, str):
                raise TypeError(f"literal {i} must be a str, not {type(lit).__name__}")
            if not lit:
                raise InvalidPatternError(f"literal {i} is empty")
        for i, rx in enumerate(regexes):
            if not isinstance(rx, str):
                raise TypeError(f"regex {i} must be a str, not {type(rx).__name__}")
        self._ci = bool(case_insensitive)
        # One needle per distinct (folded) literal, keeping the lowest id: ties go to it.
        unique: dict[str, int] = {}
        for pid, lit in enumerate(literals):
            unique.setdefault(_ascii_fold(lit) if self._ci else lit, pid)
        self._str_needles = list(unique.items())
        self._byte_needles = [(n.encode("utf-8"), pid) for n, pid in self._str_needles]
        base = len(literals)
        self._regexes = [(self._compile(rx), base + i) for i, rx in enumerate(regexes)]
        self._count = len(literals) + len(regexes)

    @staticmethod
    def _compile(source: str) -> re.Pattern[str]:
        try:
            return re.compile(source)
        except (re.error, OverflowError, RecursionError) as exc:
            raise InvalidPatternError(f"invalid regex {source!r}: {exc}") from None

    @property
    def pattern_count(self) -> int:
        return self._count

    def _literals_in_text(self, text: str) -> list[Match]:
        if not self._str_needles:
            return []
        if not self._ci:
            return _literal_spans(text, self._str_needles)
        if text.isascii():
            return _literal_spans(text.lower(), self._str_needles)
        raw = text.encode("utf-8")
        return _bytes_to_chars(raw, _literal_spans(raw.lower(), self._byte_needles))

    def find_all(self, text: str) -> list[Match]:
        """(pattern_id, start, end) in code points, non-overlapping, sorted by start."""
        if not isinstance(text, str):
            raise TypeError(f"find_all() takes a str, not {type(text).__name__}")
        sources = [self._literals_in_text(text)]
        sources += [_regex_spans(p, pid, text) for p, pid in self._regexes]
        return _merge(sources)

    def find_all_bytes(self, data: bytes) -> list[Match]:
        """Like find_all, on UTF-8 bytes, with byte offsets."""
        if isinstance(data, str):
            raise TypeError("find_all_bytes() takes bytes, not str")
        raw = bytes(data)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidArgumentError(f"data is not valid UTF-8: {exc}") from None
        ascii_only = len(text) == len(raw)
        sources: list[list[Match]] = []
        if self._byte_needles:
            sources.append(_literal_spans(raw.lower() if self._ci else raw, self._byte_needles))
        for p, pid in self._regexes:
            spans = _regex_spans(p, pid, text)
            sources.append(spans if ascii_only else _chars_to_bytes(text, spans))
        return _merge(sources)
