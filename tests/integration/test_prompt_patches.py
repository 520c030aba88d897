"""prompts.json end to end: a real `lunaroute serve`, the strict mock provider, official
SDKs and raw HTTP. The provider sees the patched system prompt on same-dialect and
translated routes from both dialects, streams included; an unpatched request still goes
byte for byte; a request whose prompt cannot be patched is a 400 sent nowhere; edits to
prompts.json apply live."""

from __future__ import annotations

import json
import time

import anthropic
import httpx
import openai
import pytest

from tests.mock_upstream.fixture import session_mock_upstream

from .conftest import standard_gateway

PATCHES = {
    "patches": [
        {"id": "prefix", "match": {"model": ["gpt-4o", "claude-sonnet-4"]}, "prepend": "PATCH-PREPEND"},
        {"id": "suffix", "match": {"model": ["gpt-4o", "claude-sonnet-4"]}, "append": "PATCH-APPEND"},
        {
            "id": "locked",
            "priority": 5,
            "match": {"model": ["gpt-4o", "claude-sonnet-4"], "headers": {"x-prompt": "locked"}},
            "replace": "PATCH-REPLACED",
        },
    ]
}
CACHE = {"type": "ephemeral"}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    gw = standard_gateway(tmp_path_factory.mktemp("gw"), session_mock_upstream().url)
    gw.write("prompts.json", json.dumps(PATCHES))
    gw.start()
    yield gw
    assert gw.stop() == 0, gw.logs()


@pytest.fixture
def oai(gateway):
    return openai.OpenAI(base_url=gateway.openai_url + "/v1", api_key="client-key", max_retries=0)


@pytest.fixture
def anth(gateway):
    return anthropic.Anthropic(base_url=gateway.anthropic_url, api_key="client-key", max_retries=0)


def last(mock, path: str) -> dict:
    return mock.requests(path)[-1]["json"]


# ------------------------------------------------------------------ same dialect
def test_openai_to_openai_sees_the_patched_system_message(oai, mock_upstream) -> None:
    r = oai.chat.completions.create(
        model="gpt-4o",
        temperature=0.25,
        messages=[{"role": "system", "content": "You help."}, {"role": "user", "content": "hello there"}],
    )
    assert r.choices[0].message.content == "echo: hello there"
    up = last(mock_upstream, "/v1/chat/completions")
    assert up["messages"] == [
        {"role": "system", "content": "PATCH-PREPEND\n\nYou help.\n\nPATCH-APPEND"},
        {"role": "user", "content": "hello there"},
    ]
    assert up["temperature"] == 0.25 and up["model"] == "gpt-4o"


def test_openai_stream_to_openai_is_patched_and_still_asks_for_usage(oai, mock_upstream) -> None:
    chunks = list(
        oai.chat.completions.create(
            model="gpt-4o", stream=True, messages=[{"role": "user", "content": "stream it please"}]
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "echo: stream it please"
    assert all(c.choices for c in chunks)  # the usage-only chunk the client did not ask for stays out
    up = last(mock_upstream, "/v1/chat/completions")
    assert up["messages"][0] == {"role": "system", "content": "PATCH-PREPEND\n\nPATCH-APPEND"}
    assert up["stream_options"] == {"include_usage": True}


def test_anthropic_to_anthropic_keeps_the_blocks_and_their_cache_control(anth, mock_upstream) -> None:
    system = [{"type": "text", "text": "You are Claude Code.", "cache_control": CACHE}]
    r = anth.messages.create(
        model="claude-sonnet-4", max_tokens=50, system=system, messages=[{"role": "user", "content": "hi there"}]
    )
    assert r.content[0].text == "echo: hi there"
    assert last(mock_upstream, "/v1/messages")["system"] == [
        {"type": "text", "text": "PATCH-PREPEND"},
        {"type": "text", "text": "You are Claude Code.", "cache_control": CACHE},
        {"type": "text", "text": "PATCH-APPEND"},
    ]


def test_anthropic_stream_replace_by_header(anth, mock_upstream) -> None:
    with anth.messages.stream(
        model="claude-sonnet-4",
        max_tokens=50,
        system="Original.",
        messages=[{"role": "user", "content": "stream me"}],
        extra_headers={"x-prompt": "locked"},
    ) as s:
        final = s.get_final_message()
    assert final.content[0].text == "echo: stream me"
    # prefix and suffix come first (priority 0), the replace (priority 5) then discards them
    assert last(mock_upstream, "/v1/messages")["system"] == "PATCH-REPLACED"


# -------------------------------------------------------------------- translated
def test_openai_client_to_anthropic_provider_sees_the_patched_system(oai, mock_upstream) -> None:
    r = oai.chat.completions.create(
        model="claude-sonnet-4",
        messages=[{"role": "developer", "content": "Dev prompt."}, {"role": "user", "content": "translate me"}],
    )
    assert r.choices[0].message.content == "echo: translate me"
    up = last(mock_upstream, "/v1/messages")
    texts = up["system"] if isinstance(up["system"], str) else "\n\n".join(b["text"] for b in up["system"])
    assert texts == "PATCH-PREPEND\n\nDev prompt.\n\nPATCH-APPEND"
    assert up["messages"] == [{"role": "user", "content": "translate me"}]


def test_anthropic_client_to_openai_provider_stream_sees_the_patched_system(anth, mock_upstream) -> None:
    system = [{"type": "text", "text": "Block one."}, {"type": "text", "text": "Block two.", "cache_control": CACHE}]
    with anth.messages.stream(
        model="gpt-4o", max_tokens=50, system=system, messages=[{"role": "user", "content": "cross stream"}]
    ) as s:
        final = s.get_final_message()
    assert final.content[0].text == "echo: cross stream"
    up = last(mock_upstream, "/v1/chat/completions")
    system_texts = [m["content"] for m in up["messages"] if m["role"] in ("system", "developer")]
    joined = "\n\n".join(t if isinstance(t, str) else "\n\n".join(p["text"] for p in t) for t in system_texts)
    assert joined == "PATCH-PREPEND\n\nBlock one.\n\nBlock two.\n\nPATCH-APPEND"


# ------------------------------------------------------------------- untouched
@pytest.mark.parametrize(
    ("port", "path", "body"),
    [
        (
            "openai",
            "/v1/chat/completions",
            b'{ "model" : "gpt-4.1",\n "messages":[{"role":"system","content":"keep \\u00e9 as is"},'
            b'{"role":"user","content":"hi"}], "temperature": 1.50 }',
        ),
        (
            "anthropic",
            "/v1/messages",
            b'{"model":"claude-haiku-4","max_tokens":20,  "system":"keep \\u00e9",'
            b' "messages":[{"role":"user","content":"hi"}]}',
        ),
    ],
)
def test_a_request_no_patch_matches_goes_upstream_byte_for_byte(gateway, mock_upstream, port, path, body) -> None:
    url = gateway.openai_url if port == "openai" else gateway.anthropic_url
    r = httpx.post(url + path, content=body, headers={"content-type": "application/json", "x-api-key": "c"})
    assert r.status_code == 200, r.text
    assert mock_upstream.requests(path)[-1]["body"].encode() == body


@pytest.mark.parametrize(
    ("port", "path", "body", "param"),
    [
        (
            "openai",
            "/v1/chat/completions",
            {"model": "gpt-4o", "messages": [{"role": "system", "content": 7}, {"role": "user", "content": "x"}]},
            "messages[0].content",
        ),
        (
            "anthropic",
            "/v1/messages",
            {"model": "claude-sonnet-4", "max_tokens": 5, "system": 7, "messages": [{"role": "user", "content": "x"}]},
            "system",
        ),
    ],
)
def test_a_prompt_a_patch_cannot_edit_is_a_400_sent_nowhere(gateway, mock_upstream, port, path, body, param) -> None:
    url = gateway.openai_url if port == "openai" else gateway.anthropic_url
    r = httpx.post(url + path, json=body, headers={"x-api-key": "c"})
    assert r.status_code == 400, r.text
    err = r.json()["error"]
    assert err["type"] == "invalid_request_error" and param in err["message"]
    assert mock_upstream.requests() == []


# ------------------------------------------------------------------- hot reload
def test_prompts_json_edits_apply_within_two_seconds(tmp_path, mock_upstream) -> None:
    gw = standard_gateway(tmp_path, mock_upstream.url).start()
    try:
        client = openai.OpenAI(base_url=gw.openai_url + "/v1", api_key="k", max_retries=0)

        def upstream_system_after(edit: str | None, wanted: str | None) -> float:
            """Write prompts.json (None: delete it), then send until the provider sees
            `wanted` as the first system message (None: no system message); the delay."""
            if edit is None:
                (gw.config_dir / "prompts.json").unlink()
            else:
                gw.write("prompts.json", edit)
            start = time.monotonic()
            while True:
                client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "ping"}])
                first = last(mock_upstream, "/v1/chat/completions")["messages"][0]
                seen = first["content"] if first["role"] == "system" else None
                elapsed = time.monotonic() - start
                if seen == wanted:
                    return elapsed
                assert elapsed < 2.0, f"still {seen!r} after {elapsed:.2f}s\n{gw.logs()}"
                time.sleep(0.05)

        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "ping"}])
        assert last(mock_upstream, "/v1/chat/completions")["messages"][0]["role"] == "user"
        upstream_system_after(json.dumps({"patches": [{"id": "v1", "replace": "Version one."}]}), "Version one.")
        upstream_system_after(json.dumps({"patches": [{"id": "v2", "prepend": "Version two."}]}), "Version two.")
        # a broken edit is logged and the last good patches stay in force
        gw.write("prompts.json", json.dumps({"patches": [{"id": "bad"}]}))
        deadline = time.monotonic() + 5
        while "patches[0]: nothing to do" not in gw.logs():
            assert time.monotonic() < deadline, gw.logs()
            time.sleep(0.05)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "ping"}])
        assert last(mock_upstream, "/v1/chat/completions")["messages"][0]["content"] == "Version two."
        upstream_system_after(None, None)
    finally:
        assert gw.stop() == 0, gw.logs()
