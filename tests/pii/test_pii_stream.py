"""Streams: the redacted stream equals the redaction of the whole text, for any text and any
chunking; tokens restore exactly, streamed too; the hold-back stays bounded."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.pii import MAX_HOLD, PiiEngine

from .corpus import load
from .engines import CUSTOM, engine
from .samples import chunked, cut_every

PROPERTY = settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def tokenizing(tmp_path_factory: pytest.TempPathFactory) -> PiiEngine:
    return engine(tmp_path_factory.mktemp("pii"), mode="tokenize", restore_in_response=True, custom=CUSTOM)


def streamed(eng: PiiEngine, pieces: list[str]) -> str:
    redactor = eng.stream_redactor()
    return "".join(redactor.feed(p) for p in pieces) + redactor.flush()


def restored(eng: PiiEngine, pieces: list[str]) -> str:
    restorer = eng.restorer()
    assert restorer is not None
    return "".join(restorer.feed(p) for p in pieces) + restorer.flush()


@PROPERTY
@given(case=chunked())
def test_stream_equals_whole_text(tokenizing: PiiEngine, case: tuple[str, list[str]]) -> None:
    text, pieces = case
    assert streamed(tokenizing, pieces) == tokenizing.redact_text(text)[0]


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, float], PiiEngine]:
    root = tmp_path_factory.mktemp("pii")
    return {
        (mode, floor): engine(root, mode=mode, custom=CUSTOM, min_confidence=floor)
        for mode in ("remove", "mask", "partial")
        for floor in (0.0, 0.5, 0.9)
    }


@PROPERTY
@given(case=chunked(), mode=st.sampled_from(["remove", "mask", "partial"]), floor=st.sampled_from([0.0, 0.5, 0.9]))
def test_stream_equals_whole_text_every_mode(
    variants: dict[tuple[str, float], PiiEngine], case: tuple[str, list[str]], mode: str, floor: float
) -> None:
    text, pieces = case
    eng = variants[mode, floor]
    assert streamed(eng, pieces) == eng.redact_text(text)[0]


@PROPERTY
@given(case=chunked(), data=st.data())
def test_tokenize_then_restore_round_trips(
    tokenizing: PiiEngine, case: tuple[str, list[str]], data: st.DataObject
) -> None:
    text, pieces = case
    redacted, findings = tokenizing.redact_text(text)
    assert tokenizing.restore_text(redacted) == text
    for f in findings:
        assert f.value not in redacted or f.value in redacted.replace(f.value, "", 0)  # never left in place
    cuts = sorted(data.draw(st.lists(st.integers(0, len(redacted)), max_size=10)))
    bounds = [0, *cuts, len(redacted)]
    assert restored(tokenizing, [redacted[a:b] for a, b in zip(bounds, bounds[1:])]) == text
    # And both streamed, back to back, as the gateway does it: answer redacted, then restored.
    assert restored(tokenizing, cut_every(streamed(tokenizing, pieces), 3)) == text


def test_every_labelled_value_is_gone_from_the_stream(tokenizing: PiiEngine) -> None:
    lines = load("positive.txt")
    text = "\n".join(line.text for line in lines)
    out = streamed(tokenizing, cut_every(text, 7))
    assert out == tokenizing.redact_text(text)[0]
    values = {line.text[s:e] for line in lines for _, s, e in line.labels}
    assert not [v for v in values if v in out]


def test_one_character_at_a_time(tokenizing: PiiEngine) -> None:
    text = "Mail jane.doe@example.com, card 4111 1111 1111 1111, key sk-proj-Nc3icPatpvNATkJEMh2whjcxJgjSBCjfJMAKih9YeVaMl3yG."
    assert streamed(tokenizing, list(text)) == tokenizing.redact_text(text)[0]
    assert "jane.doe" not in streamed(tokenizing, list(text))


def test_prose_is_held_back_only_a_little(tmp_path: Path) -> None:
    eng = engine(tmp_path)
    redactor = eng.stream_redactor()
    held = []
    for word in ("The gateway answers quickly, and every sentence streams out as it comes. " * 20).split(" "):
        redactor.feed(word + " ")
        held.append(redactor.held)
    assert max(held) <= 24, held


def test_a_value_being_streamed_is_held_until_it_is_decided(tmp_path: Path) -> None:
    eng = engine(tmp_path, mode="remove")
    redactor = eng.stream_redactor()
    out = redactor.feed("Reply to jane.doe@exam")
    assert "jane" not in out
    out += redactor.feed("ple.com today")
    out += redactor.flush()
    assert out == "Reply to [REDACTED_EMAIL] today"


def test_hold_back_is_bounded_on_an_endless_candidate(tmp_path: Path) -> None:
    eng = engine(tmp_path, mode="remove")
    redactor = eng.stream_redactor()
    out = [redactor.feed("-----BEGIN RSA PRIVATE KEY-----\n")]
    for _ in range(400):
        out.append(redactor.feed("QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2\n"))
        assert redactor.held <= MAX_HOLD + 128
    out.append(redactor.flush())
    text = "".join(out)
    assert text.startswith("[REDACTED_API_KEY]") and "BEGIN RSA" not in text


def test_restorer_leaves_unknown_tokens_alone(tokenizing: PiiEngine) -> None:
    text = "a <EMAIL_000000000000> and <NOT A TOKEN> and <"
    assert tokenizing.restore_text(text) == text
    assert restored(tokenizing, cut_every(text, 2)) == text
