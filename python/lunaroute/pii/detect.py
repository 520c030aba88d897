"""Findings over whole texts: every scanner's kernel pass, the checks, the merge.

Several texts (the strings of a request body) are scanned as one: joined with a NUL
between them, one kernel call per scanner covers them all. A kernel match that reaches
across a join could have shifted that scanner's chain of matches, so the texts it touches
are scanned again on their own for that scanner: the result is always exactly what
scanning each text alone gives.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from typing import cast

from .scanner import Raw, Scanner

JOIN = "\x00"
# Texts up to this many characters go through the gate first (below); a longer text that
# holds PII would pay for its kernel passes twice.
GATE_MAX = 16_384


class Gate:
    """Every regex scanner's pattern in one matcher: one kernel call tells whether any of
    them matches anywhere in a text (the matcher merges overlapping matches, but never
    drops all of them), so a text without PII costs one call instead of one per scanner."""

    __slots__ = ("matcher", "rest")

    def __init__(self, scanners: Sequence[Scanner]) -> None:
        gated = [s for s in scanners if s.source is not None]
        self.matcher = type(gated[0].kernel)([], [cast(str, s.source) for s in gated]) if len(gated) > 1 else None
        # Scanners the gate does not cover (keyword lists), or all of them without a gate.
        self.rest = tuple(s for s in scanners if self.matcher is None or s.source is None)

    def scanners(self, scanners: Sequence[Scanner], text: str) -> Sequence[Scanner]:
        """The scanners worth running over `text`."""
        if self.matcher is None or len(text) > GATE_MAX or self.matcher.find_all(text):
            return scanners
        return self.rest


def merge(raws: list[Raw], priority: dict[str, int]) -> list[Raw]:
    """Non-overlapping findings: by start, then longest, then the type's priority."""
    if len(raws) > 1:
        raws.sort(key=lambda r: (r[0], r[0] - r[1], priority.get(r[2], 99)))
    taken: list[Raw] = []
    last_end = -1
    for raw in raws:
        if raw[0] >= last_end:
            taken.append(raw)
            last_end = raw[1]
    return taken


def scan_one(scanners: Sequence[Scanner], text: str, min_conf: float, gate: Gate | None = None) -> list[Raw]:
    """Every finding at or above `min_conf` in `text`, unmerged. `gate` (built from these
    scanners) skips the kernel passes that cannot find anything."""
    out: list[Raw] = []
    hi = len(text)
    if gate is not None:
        scanners = gate.scanners(scanners, text)
    for scanner in scanners:
        cands = scanner.candidates(text)
        if not cands:
            continue
        check = scanner.check
        for pid, start, end in cands:
            raw = check(text, pid, start, end, 0, hi)
            if raw is not None and raw[3] >= min_conf:
                out.append(raw)
    return out


def scan_many(
    scanners: Sequence[Scanner], texts: Sequence[str], min_conf: float, gate: Gate | None = None
) -> list[list[Raw]]:
    """Unmerged findings per text (offsets within that text)."""
    if len(texts) == 1:
        return [scan_one(scanners, texts[0], min_conf, gate)]
    joined = JOIN.join(texts)
    if gate is not None:
        scanners = gate.scanners(scanners, joined)
    # Most requests hold no PII: every kernel pass first, the bookkeeping only if one found
    # a candidate.
    passes = [(scanner, cands) for scanner in scanners if (cands := scanner.candidates(joined))]
    per_text: list[list[Raw]] = [[] for _ in texts]
    if not passes:
        return per_text
    starts: list[int] = []
    pos = 0
    for text in texts:
        starts.append(pos)
        pos += len(text) + 1
    for scanner, cands in passes:
        found: list[tuple[int, Raw]] = []
        redo: set[int] = set()
        check = scanner.check
        for pid, start, end in cands:
            k = bisect_right(starts, start) - 1
            lo = starts[k]
            hi = lo + len(texts[k])
            if start >= hi or end > hi:
                # Across a join: the texts it touches get their own pass for this scanner.
                last = bisect_right(starts, end - 1) - 1
                redo.update(range(k + (start >= hi), last + 1))
                continue
            raw = check(joined, pid, start, end, lo, hi)
            if raw is not None and raw[3] >= min_conf:
                found.append((k, (raw[0] - lo, raw[1] - lo, *raw[2:])))
        for k, raw in found:
            if k not in redo:
                per_text[k].append(raw)
        for k in sorted(redo):
            per_text[k].extend(scan_one((scanner,), texts[k], min_conf))
    return per_text
