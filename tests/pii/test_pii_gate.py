"""The gate (one kernel call with every regex scanner's pattern, before the per-scanner
passes) changes what a scan costs, never what it finds: on every matcher backend, over the
corpus, random text and request bodies, findings with the gate equal findings without."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from lunaroute.pii import PiiEngine
from lunaroute.pii.detect import GATE_MAX

from ..kernels.kernel_backends import available
from .corpus import load
from .engines import CUSTOM, engine
from .samples import chunked
from .test_pii_json import anthropic_body, openai_body


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[PiiEngine, PiiEngine]]:
    """Per backend: (gated, ungated) engines of the same settings."""
    root: Path = tmp_path_factory.mktemp("pii")
    out = {}
    for name, mod in available("matcher").items():
        gated = engine(root, matcher=mod.PatternMatcher, mode="remove", custom=CUSTOM)
        ungated = engine(root, matcher=mod.PatternMatcher, mode="remove", custom=CUSTOM)
        ungated.gate = None
        out[name] = (gated, ungated)
    return out


def test_a_text_without_pii_runs_only_the_keyword_scanners(engines) -> None:
    gated, _ = next(iter(engines.values()))
    assert gated.gate is not None
    rest = gated.gate.scanners(gated.scanners, "Which numbers should we watch first?")
    assert sorted(s.name for s in rest) == ["keywords", "keywords_ci"]
    assert gated.gate.scanners(gated.scanners, "mail jane@example.com") == gated.scanners
    assert gated.gate.scanners(gated.scanners, "x" * (GATE_MAX + 1)) == gated.scanners


def test_corpus_findings_unchanged(engines) -> None:
    lines = load("positive.txt") + load("negative.txt")
    for gated, ungated in engines.values():
        for line in lines:
            assert gated.findings(line.text) == ungated.findings(line.text), line.where


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=chunked())
def test_random_text_findings_unchanged(engines, case: tuple[str, list[str]]) -> None:
    text, _ = case
    for gated, ungated in engines.values():
        assert gated.findings(text) == ungated.findings(text)


@pytest.mark.parametrize("make", [openai_body, anthropic_body])
def test_request_bodies_redacted_alike(engines, make) -> None:
    for gated, ungated in engines.values():
        a, b = make(), make()
        assert gated.redact_json(a) == ungated.redact_json(b) > 0
        assert a == b and a != make()
        clean = copy.deepcopy(a)
        assert gated.redact_json(clean) == 0 and clean == a
