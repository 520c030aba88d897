"""The labelled PII corpus (tests/fixtures/pii): lines with ⟦type:value⟧ markers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "pii"
_MARK = re.compile(r"⟦([a-z_]+):(.*?)⟧")


@dataclass(frozen=True)
class Line:
    text: str
    labels: tuple[tuple[str, int, int], ...]  # (type, start, end) in `text`
    where: str


def parse(raw: str, where: str) -> Line:
    out: list[str] = []
    labels: list[tuple[str, int, int]] = []
    pos = size = 0
    for m in _MARK.finditer(raw):
        out.append(raw[pos : m.start()])
        size += m.start() - pos
        labels.append((m.group(1), size, size + len(m.group(2))))
        out.append(m.group(2))
        size += len(m.group(2))
        pos = m.end()
    out.append(raw[pos:])
    return Line("".join(out), tuple(labels), where)


def load(name: str) -> list[Line]:
    lines = []
    for n, raw in enumerate((CORPUS / name).read_text(encoding="utf-8").splitlines(), 1):
        if raw.strip() and not raw.startswith("#"):
            lines.append(parse(raw, f"{name}:{n}"))
    return lines
