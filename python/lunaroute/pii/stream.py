"""Redaction and restoration of text that arrives in pieces (a streamed answer).

`StreamRedactor` emits text as soon as nothing later can change it. Per scanner it keeps
the point its chain of kernel matches resumes from (`q`), and a frontier (`f`): the first
position from which the text so far could still grow into a match (the scanner's
`viable`), found past the last character no match can contain (its `barrier`). A match
starting before the frontier is decided exactly as in the whole text, because no match of
that scanner can reach past the text already here; so the output of any chunking equals
`PiiEngine.redact_text` of the whole. Prose holds back a word or so; a value still
arriving (a key half-way through) holds back from its start. A tail that could still be a
match longer than MAX_HOLD characters is decided as it stands.

`StreamRestorer` holds back only a tail that could be the start of a token.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

from .checks import AFTER, CONTEXT
from .detect import merge
from .scanner import Raw

if TYPE_CHECKING:
    from .engine import PiiEngine

MAX_HOLD = 16_384

TOKEN = re.compile(r"<[A-Z][A-Z0-9_]{0,70}_[0-9a-f]{12}>")
_TOKEN_START = re.compile(r"<(?:[A-Z][A-Z0-9_]{0,70}[0-9a-f]{0,12})?")
_TOKEN_MAX = 86


class StreamRedactor:
    """feed(text) -> the text that is safe to emit now; flush() -> the rest (end of stream)."""

    def __init__(self, engine: PiiEngine) -> None:
        self._engine = engine
        self._scanners = engine.scanners
        self._reset()

    def _reset(self) -> None:
        n = len(self._scanners)
        self._buf = ""
        self._base = 0  # stream offset of _buf[0]
        self._emitted = 0  # stream offset up to which output was produced
        self._last_end = 0  # end of the last redacted finding
        self._q = [0] * n
        self._f = [0] * n
        self._barrier = [0] * n
        self._ready: list[Raw] = []

    @property
    def held(self) -> int:
        """Characters received but not emitted yet."""
        return self._base + len(self._buf) - self._emitted

    def feed(self, text: str) -> str:
        if not text:
            return ""
        new_from = self._base + len(self._buf)
        self._buf += text
        return self._advance(new_from, final=False)

    def flush(self) -> str:
        out = self._advance(self._base + len(self._buf), final=True)
        self._reset()
        return out

    def _advance(self, new_from: int, final: bool) -> str:
        buf, base = self._buf, self._base
        end = base + len(buf)
        force = end - MAX_HOLD
        min_conf = self._engine.min_confidence
        undecided = end
        for i, scanner in enumerate(self._scanners):
            q = self._q[i]
            if final:
                f = end
            else:
                found = scanner.barrier(buf, max(new_from, self._barrier[i]) - base, len(buf))
                if found >= 0:
                    self._barrier[i] = found + base
                barrier = self._barrier[i]
                f = max(self._f[i], q, barrier)
                while f < end:
                    f = scanner.next_start(buf, f - base, len(buf)) + base
                    if f >= end or scanner.viable(buf, f - base, len(buf)):
                        break
                    f += 1
                f = max(f, force)
                self._f[i] = f
            stop = None
            last = q
            if q < end:
                check = scanner.check
                for pid, start, stop_at in scanner.candidates(buf[q - base :]):
                    start += q
                    stop_at += q
                    if start >= f or (not final and stop_at + AFTER > end and start >= force):
                        stop = start
                        break
                    raw = check(buf, pid, start - base, stop_at - base, 0, len(buf))
                    if raw is not None and raw[3] >= min_conf:
                        self._ready.append((raw[0] + base, raw[1] + base, *raw[2:]))
                    last = stop_at
            if stop is not None and stop < f:
                self._q[i] = stop  # decided, waiting for the characters after it
                undecided = min(undecided, stop - scanner.reach)
            else:
                self._q[i] = max(last, f)
                undecided = min(undecided, f - scanner.reach)
        cut = end if final else max(self._emitted, undecided)
        out = self._emit(cut)
        keep_from = min(self._emitted, min(self._q, default=end) - CONTEXT)
        if keep_from > self._base:
            self._buf = self._buf[keep_from - self._base :]
            self._base = keep_from
        return out

    def _emit(self, cut: int) -> str:
        buf, base = self._buf, self._base
        engine = self._engine
        # Findings under what the last batch redacted lose, as in one merge of the whole text.
        now = [r for r in self._ready if self._last_end <= r[0] < cut]
        self._ready = [r for r in self._ready if r[0] >= cut]
        parts: list[str] = []
        pos = self._emitted
        for raw in merge(now, engine.priority):
            start, stop, kind = raw[0], raw[1], raw[2]
            parts.append(buf[pos - base : start - base])
            parts.append(engine.replace(kind, buf[start - base : stop - base]))
            engine.count(kind)
            pos = self._last_end = stop
        cut = max(cut, pos)
        if pos < cut:
            parts.append(buf[pos - base : cut - base])
        self._emitted = cut
        return "".join(parts)


class StreamRestorer:
    """Turns tokens back into the values they stand for, tokens split across pieces too."""

    def __init__(self, lookup: Callable[[str], str | None]) -> None:
        self._lookup = lookup
        self._buf = ""

    def feed(self, text: str) -> str:
        buf = self._buf + text
        i = buf.rfind("<")
        if i >= 0 and len(buf) - i <= _TOKEN_MAX and _TOKEN_START.fullmatch(buf, i):
            self._buf = buf[i:]
            buf = buf[:i]
        else:
            self._buf = ""
        return restore(buf, self._lookup)

    def flush(self) -> str:
        buf, self._buf = self._buf, ""
        return restore(buf, self._lookup)


def restore(text: str, lookup: Callable[[str], str | None]) -> str:
    if "<" not in text:
        return text
    return TOKEN.sub(lambda m: lookup(m.group()) or m.group(), text)
