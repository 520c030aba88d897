"""Which patches apply to a request (routes.json's conditions), in what order, and the
result of several applied one after the other."""

from __future__ import annotations

import orjson
import pytest

from lunaroute.errors import InvalidRequestError

from .prompts_testkit import anthropic_body, apply, openai_body, patches_of, request, system_of


def test_no_patch_matching_leaves_the_request_alone() -> None:
    patches = patches_of({"id": "claude", "match": {"model": "claude-*"}, "append": "A"})
    assert apply(patches, openai_body()) is None


def test_no_patches_at_all_is_falsy_so_the_pipeline_skips_the_stage() -> None:
    assert not patches_of()
    assert not patches_of({"id": "off", "enabled": False, "append": "A"})
    assert patches_of({"id": "on", "append": "A"})


def test_the_patched_body_is_the_patched_data_serialized() -> None:
    done = apply(patches_of({"id": "p", "prepend": "P"}), openai_body())
    assert done is not None and done.ids == ("p",)
    assert orjson.loads(done.body) == done.data
    assert done.data["messages"][0] == {"role": "system", "content": "P\n\nS"}


@pytest.mark.parametrize(
    ("model", "applies"),
    [("gpt-4o", True), ("gpt-4o-mini", False), ("o3", False)],
)
def test_model_exact(model: str, applies: bool) -> None:
    patches = patches_of({"id": "exact", "match": {"model": "gpt-4o"}, "append": "A"})
    assert (apply(patches, openai_body(model)) is not None) is applies


@pytest.mark.parametrize(
    ("model", "ids"),
    [
        ("gpt-4o", ("all", "gpt", "gpt4")),
        ("gpt-4o-mini", ("all", "gpt", "gpt4")),
        ("gpt-3.5-turbo", ("all", "gpt")),
        ("o3-mini", ("all", "reasoning")),
        ("claude-x", ("all",)),
    ],
)
def test_model_specific_patches_by_glob_regex_and_lists(model: str, ids: tuple[str, ...]) -> None:
    patches = patches_of(
        {"id": "all", "append": "0"},
        {"id": "gpt", "match": {"model": "gpt-*"}, "append": "1"},
        {"id": "gpt4", "match": {"model": ["gpt-4", "re:^gpt-4o"]}, "append": "2"},
        {"id": "reasoning", "match": {"model": {"regex": "^o[13]"}}, "append": "3"},
    )
    done = apply(patches, openai_body(model))
    assert done is not None and done.ids == ids


def test_listener_by_id_or_type() -> None:
    patches = patches_of(
        {"id": "by-type", "listener": "anthropic", "append": "T"},
        {"id": "by-id", "listener": "claude-code", "append": "I"},
    )
    on_other = apply(patches, anthropic_body(), dialect="anthropic", listener="other")
    assert on_other is not None and on_other.ids == ("by-type",)
    on_named = apply(patches, anthropic_body(), dialect="anthropic", listener="claude-code")
    assert on_named is not None and on_named.ids == ("by-type", "by-id")
    assert apply(patches, openai_body(), dialect="openai") is None


def test_key_tenant_and_header_conditions() -> None:
    patches = patches_of(
        {"id": "key", "match": {"key_id": ["key_a", "key_b"]}, "append": "K"},
        {"id": "tenant", "match": {"tenant": "acme"}, "append": "T"},
        {"id": "header", "match": {"headers": {"X-Team": "re:^(red|blue)$"}}, "append": "H"},
    )
    assert apply(patches, openai_body()) is None
    done = apply(patches, openai_body(), key_id="key_b", tenant="acme", headers={"x-team": "blue"})
    assert done is not None and done.ids == ("key", "tenant", "header")
    done = apply(patches, openai_body(), key_id="key_c", tenant="acme", headers={"x-team": "green"})
    assert done is not None and done.ids == ("tenant",)


def test_body_conditions_read_the_request_as_sent() -> None:
    patches = patches_of(
        {"id": "tools", "match": {"has_tools": True}, "append": "T"},
        {"id": "long", "match": {"min_prompt_tokens": 1000}, "append": "L"},
    )
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}
    done = apply(patches, openai_body(tools=[tool]))
    assert done is not None and done.ids == ("tools",)
    assert apply(patches, openai_body(system="word " * 5000)) is not None


def test_several_patches_apply_by_priority_then_file_order_each_on_the_last_result() -> None:
    patches = patches_of(
        {"id": "late", "priority": 10, "prepend": "late"},
        {"id": "first", "priority": -1, "prepend": "first"},
        {"id": "same-1", "append": "one"},
        {"id": "same-2", "append": "two"},
    )
    done = apply(patches, openai_body())
    assert done is not None and done.ids == ("first", "same-1", "same-2", "late")
    assert system_of("openai", done.data) == "late\n\nfirst\n\nS\n\none\n\ntwo"


def test_a_later_replace_discards_what_earlier_patches_did() -> None:
    patches = patches_of(
        {"id": "brand", "prepend": "Brand."},
        {"id": "policy", "priority": 5, "match": {"tenant": "locked"}, "replace": "Locked prompt."},
        {"id": "sign", "priority": 9, "append": "Signed."},
    )
    done = apply(patches, anthropic_body(), dialect="anthropic", tenant="locked")
    assert done is not None and done.ids == ("brand", "policy", "sign")
    assert done.data["system"] == "Locked prompt.\n\nSigned."


def test_disabled_patches_never_apply() -> None:
    patches = patches_of({"id": "off", "enabled": False, "replace": "X"}, {"id": "on", "append": "A"})
    done = apply(patches, openai_body())
    assert done is not None and done.ids == ("on",)


def test_a_prompt_a_matching_patch_cannot_edit_is_refused() -> None:
    patches = patches_of({"id": "p", "append": "A"})
    with pytest.raises(InvalidRequestError, match="system"):
        apply(patches, anthropic_body(system=42), dialect="anthropic")


def test_explain_names_the_applied_and_why_the_others_were_skipped() -> None:
    patches = patches_of(
        {"id": "gpt", "match": {"model": "gpt-*"}, "append": "A"},
        {"id": "claude", "match": {"model": "claude-*"}, "append": "B"},
        {"id": "acme", "match": {"tenant": "acme"}, "append": "C"},
        {"id": "off", "enabled": False, "append": "D"},
    )
    assert patches.explain(request(openai_body(), tenant="other")) == {
        "applied": ["gpt"],
        "skipped": [
            {"patch_id": "claude", "reason": "model 'gpt-4o' does not match glob 'claude-*'"},
            {"patch_id": "acme", "reason": "tenant 'other' is not one of ['acme']"},
            {"patch_id": "off", "reason": "disabled"},
        ],
    }


@pytest.mark.parametrize("tenant", ["acme", "other", None])
@pytest.mark.parametrize("model", ["gpt-4o", "claude-x", "o3"])
def test_explain_agrees_with_what_applies(model: str, tenant: str | None) -> None:
    patches = patches_of(
        {"id": "gpt", "match": {"model": "gpt-*"}, "append": "A"},
        {"id": "acme", "match": {"tenant": "acme", "model": ["gpt-4o", "o3"]}, "append": "B"},
        {"id": "all", "append": "C"},
    )
    done = apply(patches, openai_body(model), tenant=tenant)
    assert patches.explain(request(openai_body(model), tenant=tenant))["applied"] == list(done.ids if done else ())
