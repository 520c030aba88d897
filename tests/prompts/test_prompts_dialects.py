"""Each patch kind (prepend, append, replace, and their mixes) on each dialect's shapes of the
system prompt, through the dialect object, as the pipeline calls it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from lunaroute.dialects import get_dialect
from lunaroute.errors import InvalidRequestError

OPENAI = get_dialect("openai")
ANTHROPIC = get_dialect("anthropic")
CACHE = {"type": "ephemeral"}


def patched(dialect: Any, data: dict[str, Any], **edits: str) -> dict[str, Any]:
    """Patch a shallow copy, as the prompts stage does, and check the client's body was
    left exactly as it came."""
    before = copy.deepcopy(data)
    out = dict(data)
    dialect.patch_system(out, edits.get("prepend"), edits.get("append"), edits.get("replace"))
    assert data == before
    return out


def oai(*messages: dict[str, Any]) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [*messages, {"role": "user", "content": "hi"}]}


def anth(system: Any = None) -> dict[str, Any]:
    body: dict[str, Any] = {"model": "claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    if system is not None:
        body["system"] = system
    return body


# ------------------------------------------------------------------------------- OpenAI
@pytest.mark.parametrize(
    ("edits", "content"),
    [
        ({"prepend": "P"}, "P\n\nS"),
        ({"append": "A"}, "S\n\nA"),
        ({"replace": "R"}, "R"),
        ({"prepend": "P", "append": "A"}, "P\n\nS\n\nA"),
        ({"replace": "R", "append": "A"}, "R\n\nA"),
    ],
)
def test_openai_string_system_message(edits: dict[str, str], content: str) -> None:
    out = patched(OPENAI, oai({"role": "system", "content": "S"}), **edits)
    assert out["messages"] == [{"role": "system", "content": content}, {"role": "user", "content": "hi"}]


@pytest.mark.parametrize("edits", [{"prepend": "T"}, {"append": "T"}, {"replace": "T"}])
def test_openai_without_system_message_gets_one_first(edits: dict[str, str]) -> None:
    out = patched(OPENAI, oai(), **edits)
    assert out["messages"] == [{"role": "system", "content": "T"}, {"role": "user", "content": "hi"}]


def test_openai_prepend_and_append_without_system_make_one_message() -> None:
    out = patched(OPENAI, oai(), prepend="P", append="A")
    assert out["messages"][0] == {"role": "system", "content": "P\n\nA"}
    assert len(out["messages"]) == 2


def test_openai_prepend_edits_the_first_and_append_the_last_of_the_leading_run() -> None:
    body = oai({"role": "developer", "content": "D"}, {"role": "system", "content": "S"})
    out = patched(OPENAI, body, prepend="P", append="A")
    assert out["messages"][:2] == [{"role": "developer", "content": "P\n\nD"}, {"role": "system", "content": "S\n\nA"}]


def test_openai_replace_collapses_the_leading_run_keeping_the_first_role_and_name() -> None:
    body = oai({"role": "developer", "content": "D", "name": "ops"}, {"role": "system", "content": "S"})
    out = patched(OPENAI, body, replace="R")
    assert out["messages"] == [{"role": "developer", "content": "R", "name": "ops"}, {"role": "user", "content": "hi"}]


def test_openai_text_parts_get_a_part_of_their_own() -> None:
    parts = [{"type": "text", "text": "S1"}, {"type": "text", "text": "S2"}]
    out = patched(OPENAI, oai({"role": "system", "content": parts}), prepend="P", append="A")
    assert out["messages"][0]["content"] == [{"type": "text", "text": "P"}, *parts, {"type": "text", "text": "A"}]


def test_openai_empty_string_prompt_takes_the_text_without_a_separator() -> None:
    out = patched(OPENAI, oai({"role": "system", "content": ""}), append="A")
    assert out["messages"][0]["content"] == "A"


def test_openai_system_messages_later_in_the_conversation_are_turns_left_alone() -> None:
    body = {
        "model": "gpt-4o",
        "messages": [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "mid"},
            {"role": "user", "content": "again"},
        ],
    }
    out = patched(OPENAI, body, append="A")
    assert out["messages"] == [{"role": "system", "content": "A"}, *body["messages"]]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": "m", "messages": "nope"}, "messages"),
        (oai({"role": "system", "content": None}), "messages[0].content"),
        (oai({"role": "system", "content": 7}), "messages[0].content"),
    ],
)
def test_openai_prompt_a_patch_cannot_edit_is_a_400_naming_the_field(body: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequestError) as info:
        patched(OPENAI, body, prepend="P")
    assert info.value.param == param and info.value.status == 400


def test_openai_replace_needs_no_content_to_edit() -> None:
    """Replace writes the whole prompt, so even content it could not edit is simply replaced."""
    out = patched(OPENAI, oai({"role": "system", "content": None}), replace="R")
    assert out["messages"][0] == {"role": "system", "content": "R"}


# ---------------------------------------------------------------------------- Anthropic
@pytest.mark.parametrize(
    ("edits", "system"),
    [
        ({"prepend": "P"}, "P\n\nS"),
        ({"append": "A"}, "S\n\nA"),
        ({"replace": "R"}, "R"),
        ({"prepend": "P", "append": "A"}, "P\n\nS\n\nA"),
    ],
)
def test_anthropic_string_system(edits: dict[str, str], system: str) -> None:
    assert patched(ANTHROPIC, anth("S"), **edits)["system"] == system


@pytest.mark.parametrize("edits", [{"prepend": "T"}, {"append": "T"}, {"replace": "T"}])
def test_anthropic_without_system_the_text_becomes_it(edits: dict[str, str]) -> None:
    out = patched(ANTHROPIC, anth(), **edits)
    assert out["system"] == "T" and out["messages"] == anth()["messages"]


def test_anthropic_blocks_get_blocks_of_their_own_and_keep_cache_control() -> None:
    blocks = [{"type": "text", "text": "S1"}, {"type": "text", "text": "S2", "cache_control": CACHE}]
    out = patched(ANTHROPIC, anth(blocks), prepend="P", append="A")
    assert out["system"] == [{"type": "text", "text": "P"}, *blocks, {"type": "text", "text": "A"}]


def test_anthropic_replace_of_blocks_is_one_block_with_the_last_cache_control() -> None:
    later = {"type": "ephemeral", "ttl": "1h"}
    blocks = [
        {"type": "text", "text": "S1", "cache_control": CACHE},
        {"type": "text", "text": "S2", "cache_control": later},
        {"type": "text", "text": "S3"},
    ]
    assert patched(ANTHROPIC, anth(blocks), replace="R")["system"] == [
        {"type": "text", "text": "R", "cache_control": later}
    ]
    plain = [{"type": "text", "text": "S"}]
    assert patched(ANTHROPIC, anth(plain), replace="R")["system"] == [{"type": "text", "text": "R"}]


def test_anthropic_empty_block_list_takes_the_block() -> None:
    assert patched(ANTHROPIC, anth([]), prepend="P")["system"] == [{"type": "text", "text": "P"}]


def test_anthropic_system_turns_among_messages_are_left_alone() -> None:
    body = anth("S")
    body["messages"] = [{"role": "system", "content": "turn"}, {"role": "user", "content": "hi"}]
    out = patched(ANTHROPIC, body, replace="R")
    assert out["system"] == "R" and out["messages"] == body["messages"]


@pytest.mark.parametrize("system", [7, {"type": "text", "text": "S"}, True])
def test_anthropic_system_of_another_type_is_a_400(system: Any) -> None:
    with pytest.raises(InvalidRequestError) as info:
        patched(ANTHROPIC, anth(system), append="A")
    assert info.value.param == "system"


def test_anthropic_replace_needs_no_prompt_to_edit() -> None:
    assert patched(ANTHROPIC, anth(7), replace="R")["system"] == "R"


# ------------------------------------------------------------------- both, translated
@pytest.mark.parametrize("name", ["openai", "anthropic"])
def test_patched_body_parses_and_its_system_prompts_read_in_order(name: str) -> None:
    dialect = get_dialect(name)
    body = oai({"role": "system", "content": "S"}) if name == "openai" else anth([{"type": "text", "text": "S"}])
    out = patched(dialect, body, prepend="P", append="A")
    assert dialect.parse_request(out).system_text() == "P\n\nS\n\nA"
