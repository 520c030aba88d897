"""Precision and recall of every built-in detector on the labelled corpus.

A label counts as found only when a finding of its type covers exactly its span; every
other finding is a false positive. The per-type table is printed (pytest -s shows it) and
is part of the failure message.
"""

from __future__ import annotations

from collections import Counter

import pytest

from lunaroute.pii import BUILTIN_TYPES, PiiEngine

from .corpus import load
from .engines import settings

MIN_RECALL = 0.98
MIN_PRECISION = 0.97


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> PiiEngine:
    root = tmp_path_factory.mktemp("pii")
    return PiiEngine.from_config(settings(), root / "keys", root / "data")


def test_corpus_size() -> None:
    positive, negative = load("positive.txt"), load("negative.txt")
    assert len(positive) >= 300 and all(line.labels for line in positive)
    assert len(negative) >= 300 and not any(line.labels for line in negative)
    per_type = Counter(label[0] for line in positive for label in line.labels)
    assert set(per_type) == set(BUILTIN_TYPES)
    assert min(per_type.values()) >= 50, per_type


def test_precision_and_recall_per_type(engine: PiiEngine) -> None:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    misses: list[str] = []
    for line in load("positive.txt") + load("negative.txt"):
        found = {(f.type, f.start, f.end) for f in engine.findings(line.text)}
        labels = set(line.labels)
        tp.update(kind for kind, _, _ in found & labels)
        for kind, start, end in labels - found:
            fn[kind] += 1
            misses.append(f"missed {kind} {line.text[start:end]!r} ({line.where})")
        for kind, start, end in found - labels:
            fp[kind] += 1
            misses.append(f"false {kind} {line.text[start:end]!r} ({line.where})")
    rows = ["type          labels  found  false  precision  recall"]
    bad = []
    for kind in BUILTIN_TYPES:
        labels = tp[kind] + fn[kind]
        precision = tp[kind] / (tp[kind] + fp[kind]) if tp[kind] + fp[kind] else 1.0
        recall = tp[kind] / labels if labels else 1.0
        rows.append(f"{kind:<12}  {labels:>6}  {tp[kind]:>5}  {fp[kind]:>5}  {precision:>9.3f}  {recall:>6.3f}")
        if precision < MIN_PRECISION or recall < MIN_RECALL:
            bad.append(kind)
    table = "\n".join(rows)
    print("\n" + table)
    assert not bad, f"{', '.join(bad)} below target\n{table}\n" + "\n".join(misses)
