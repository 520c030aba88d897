"""The dialect registry and the interfaces the server pipeline calls."""

from __future__ import annotations

import inspect

import pytest

from lunaroute.dialects import (
    DIALECT_NAMES,
    LISTENER_DIALECTS,
    PROVIDER_DIALECT_NAMES,
    ClientDialect,
    Dialect,
    ProviderDialect,
    TargetOptions,
    client_dialect,
    get_dialect,
    is_provider_dialect,
    listener_type_of,
)


def test_every_dialect_is_registered_with_its_path() -> None:
    assert DIALECT_NAMES == ("openai", "anthropic", "responses")
    assert PROVIDER_DIALECT_NAMES == ("openai", "anthropic")
    assert (get_dialect("openai").name, get_dialect("openai").chat_path) == ("openai", "/v1/chat/completions")
    assert (get_dialect("anthropic").name, get_dialect("anthropic").chat_path) == ("anthropic", "/v1/messages")
    assert (client_dialect("responses").name, client_dialect("responses").chat_path) == ("responses", "/v1/responses")
    assert get_dialect("openai") is get_dialect("openai") is client_dialect("openai")


def test_unknown_dialect_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown dialect 'gemini'"):
        get_dialect("gemini")
    with pytest.raises(ValueError, match="unknown dialect 'gemini'"):
        client_dialect("gemini")


def test_a_client_only_dialect_is_no_provider_dialect() -> None:
    with pytest.raises(ValueError, match="spoken by clients only"):
        get_dialect("responses")
    assert not is_provider_dialect("responses")
    assert all(is_provider_dialect(name) for name in PROVIDER_DIALECT_NAMES)


def test_listener_types_serve_their_dialects() -> None:
    assert LISTENER_DIALECTS["openai"] == ("openai", "responses")
    assert LISTENER_DIALECTS["anthropic"] == ("anthropic",)
    assert set(LISTENER_DIALECTS["both"]) == set(DIALECT_NAMES)
    # a Responses request is routed as the OpenAI listener type it is served on
    assert [listener_type_of(name) for name in DIALECT_NAMES] == ["openai", "anthropic", "openai"]


def _members(protocol: type) -> list[tuple[str, object]]:
    return [
        (m, spec) for m, spec in inspect.getmembers(protocol, predicate=inspect.isfunction) if not m.startswith("_")
    ]


def _implements(dialect: object, protocol: type) -> None:
    for member, spec in _members(protocol):
        impl = getattr(dialect, member)
        assert list(inspect.signature(impl).parameters) == list(inspect.signature(spec).parameters)[1:], member
    for attr in inspect.get_annotations(protocol):
        assert hasattr(dialect, attr), attr


@pytest.mark.parametrize("name", PROVIDER_DIALECT_NAMES)
def test_every_provider_dialect_implements_both_protocols(name: str) -> None:
    _implements(get_dialect(name), ClientDialect)
    _implements(get_dialect(name), ProviderDialect)
    assert {m for m, _ in _members(Dialect)} == {m for m, _ in _members(ClientDialect) + _members(ProviderDialect)}


def test_the_client_only_dialect_implements_the_client_protocol_and_nothing_else() -> None:
    dialect = client_dialect("responses")
    _implements(dialect, ClientDialect)
    provider_only = {m for m, _ in _members(ProviderDialect)} - {m for m, _ in _members(ClientDialect)}
    assert provider_only and not any(hasattr(dialect, m) for m in provider_only)


def test_target_options_defaults() -> None:
    options = TargetOptions()
    assert (options.default_max_tokens, options.supports_thinking, options.provider_type) == (4096, True, "")
    with pytest.raises(AttributeError):
        options.other = 1  # type: ignore[attr-defined]  # slotted: a typo cannot pass silently
