"""The engine gives the same findings on every matcher backend (Rust, Cython, Python)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from lunaroute.pii import Finding, PiiEngine

from ..kernels.kernel_backends import assert_all_backends_built, available
from .corpus import load
from .engines import CUSTOM, engine
from .samples import chunked, cut_every


def test_all_matcher_backends_built_in_ci() -> None:
    assert_all_backends_built("matcher")


@pytest.fixture(scope="module")
def engines(tmp_path_factory: pytest.TempPathFactory) -> dict[str, PiiEngine]:
    root: Path = tmp_path_factory.mktemp("pii")
    found = {
        name: engine(root, matcher=mod.PatternMatcher, mode="tokenize", custom=CUSTOM)
        for name, mod in available("matcher").items()
    }
    if len(found) < 2:
        pytest.skip("only one matcher backend is built here")
    return found


def explained(eng: PiiEngine, text: str) -> list[Finding]:
    return eng.explain(text)  # every candidate a check accepted, redacted or not


def test_corpus_identical_on_every_backend(engines: dict[str, PiiEngine]) -> None:
    lines = load("positive.txt") + load("negative.txt")
    reference, *others = engines.items()
    for line in lines:
        want = explained(reference[1], line.text)
        for name, eng in others:
            assert explained(eng, line.text) == want, (name, line.where)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=chunked())
def test_random_text_identical_on_every_backend(engines: dict[str, PiiEngine], case: tuple[str, list[str]]) -> None:
    text, pieces = case
    reference, *others = engines.values()
    want = explained(reference, text)
    want_text = reference.redact_text(text)[0]
    for eng in others:
        assert explained(eng, text) == want
        redactor = eng.stream_redactor()
        assert "".join(redactor.feed(p) for p in pieces) + redactor.flush() == want_text


def test_unicode_and_case_folding_identical(engines: dict[str, PiiEngine]) -> None:
    # K (KELVIN SIGN) folds to k in both Rust and Python regexes; digits outside ASCII are
    # not digits to any detector; NUL and astral characters shift no offsets.
    text = "toKEN: Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA BLUEBIRD ١٢٣-٤٥-٦٧٨٩ 😀 a@b.co\x00 EMP-123456 𝟘"
    reference, *others = engines.values()
    want = explained(reference, text)
    assert [f.type for f in want if not f.note.startswith("not")] == ["api_key", "codename", "email", "employee_id"]
    for eng in others:
        assert explained(eng, text) == want
        redactor = eng.stream_redactor()
        assert "".join(map(redactor.feed, cut_every(text, 2))) + redactor.flush() == reference.redact_text(text)[0]
