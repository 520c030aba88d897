"""The dialect registry and the interface the server pipeline calls."""

from __future__ import annotations

import inspect

import pytest

from lunaroute.dialects import DIALECT_NAMES, Dialect, TargetOptions, get_dialect


def test_both_dialects_are_registered_with_their_paths() -> None:
    assert DIALECT_NAMES == ("openai", "anthropic")
    assert (get_dialect("openai").name, get_dialect("openai").chat_path) == ("openai", "/v1/chat/completions")
    assert (get_dialect("anthropic").name, get_dialect("anthropic").chat_path) == ("anthropic", "/v1/messages")
    assert get_dialect("openai") is get_dialect("openai")


def test_unknown_dialect_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'gemini'"):
        get_dialect("gemini")


@pytest.mark.parametrize("name", DIALECT_NAMES)
def test_every_dialect_implements_the_protocol(name: str) -> None:
    dialect = get_dialect(name)
    for member, spec in inspect.getmembers(Dialect, predicate=inspect.isfunction):
        if member.startswith("_"):
            continue
        impl = getattr(dialect, member)
        assert list(inspect.signature(impl).parameters) == list(inspect.signature(spec).parameters)[1:], member


def test_target_options_defaults() -> None:
    options = TargetOptions()
    assert (options.default_max_tokens, options.supports_thinking, options.provider_type) == (4096, True, "")
    with pytest.raises(AttributeError):
        options.other = 1  # type: ignore[attr-defined]  # slotted: a typo cannot pass silently
