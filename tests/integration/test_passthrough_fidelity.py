"""Same-dialect routes keep the client's request: its query string, the headers its SDK and
its app send, its user-agent (with ours after it); credentials are replaced as configured
and a LunaRoute key never goes upstream. Translated routes carry none of the other
dialect's query or SDK headers (docs/BYPASS.md, "Headers")."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from lunaroute import __version__
from tests.mock_upstream.fixture import session_mock_upstream

from .conftest import UPSTREAM_KEY
from .gateway import Gateway, provider, rule

OURS = f"lunaroute/{__version__}"
CLAUDE_UA = "claude-cli/2.1.0 (external, sdk-cli)"


@pytest.fixture(scope="module")
def gw(tmp_path_factory):
    mock = session_mock_upstream()
    providers = [
        provider("up-openai", "openai", mock.url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        provider("up-anthropic", "anthropic", mock.url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        # no key configured: the client's own provider credential goes on (local mode)
        provider("keyless-anthropic", "anthropic", mock.url, api_key_env="LR_TEST_UNSET_KEY"),
        provider("keyless-openai", "openai", mock.url, api_key_env="LR_TEST_UNSET_KEY"),
    ]
    rules = [
        rule("oai-local-claude", "openai", "local-claude-*", "keyless-anthropic", priority=5),
        rule("anth-local", "anthropic", "local-*", "keyless-anthropic", priority=10),
        rule("oai-local", "openai", "local-*", "keyless-openai", priority=10),
        rule("anth-gpt", "anthropic", "gpt-*", "up-openai", priority=20),
        rule("oai-claude", "openai", "claude-*", "up-anthropic", priority=20),
        rule("anth-default", "anthropic", "*", "up-anthropic", priority=1000),
        rule("oai-default", "openai", "*", "up-openai", priority=1000),
    ]
    g = Gateway(tmp_path_factory.mktemp("fidelity"), providers, rules, env={"LR_TEST_UPSTREAM_KEY": UPSTREAM_KEY})
    g.start()
    yield g
    assert g.stop() == 0, g.logs()


def _claude_code(gw, **kw) -> anthropic.Anthropic:
    """An Anthropic client that sends what Claude Code sends besides the SDK's own headers."""
    kw.setdefault("api_key", "client-key")
    return anthropic.Anthropic(
        base_url=gw.anthropic_url,
        max_retries=0,
        default_headers={
            "user-agent": CLAUDE_UA,
            "x-app": "cli",
            "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14",
            "anthropic-dangerous-direct-browser-access": "true",
            "cookie": "session=abc",
            "x-lunaroute-debug": "1",
        },
        default_query={"beta": "true"},
        **kw,
    )


def _headers(record) -> dict[str, str]:
    return {k.lower(): v for k, v in record["headers"]}


def _create(client, model: str, stream: bool = False):
    msgs = [{"role": "user", "content": "hello there"}]
    if stream:
        with client.messages.stream(model=model, max_tokens=20, messages=msgs) as s:
            return s.get_final_message()
    return client.messages.create(model=model, max_tokens=20, messages=msgs)


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_passthrough_keeps_query_and_client_headers(gw, mock_upstream, stream):
    out = _create(_claude_code(gw), "claude-sonnet-4-6", stream)
    assert out.content[0].text == "echo: hello there"
    up = mock_upstream.requests("/v1/messages")[-1]
    assert up["path"] == "/v1/messages" and up["query"] == "beta=true"
    h = _headers(up)
    assert h["user-agent"] == f"{CLAUDE_UA} {OURS}"
    assert h["x-app"] == "cli"
    assert h["anthropic-beta"] == "claude-code-20250219,interleaved-thinking-2025-05-14"
    assert h["anthropic-dangerous-direct-browser-access"] == "true"
    assert h["anthropic-version"] == anthropic.Anthropic(api_key="k").default_headers["anthropic-version"]
    assert h["x-stainless-lang"] == "python" and "x-stainless-package-version" in h
    # credentials replaced as configured; what is LunaRoute's or the client's alone stays here
    assert h["x-api-key"] == UPSTREAM_KEY and "authorization" not in h
    assert "cookie" not in h and "x-lunaroute-debug" not in h
    assert "client-key" not in str(up["headers"])


def test_count_tokens_keeps_the_query(gw, mock_upstream):
    n = _claude_code(gw).messages.count_tokens(
        model="claude-sonnet-4-6", messages=[{"role": "user", "content": "one two three"}]
    )
    assert n.input_tokens == 3
    up = mock_upstream.requests("/v1/messages/count_tokens")[-1]
    assert up["query"] == "beta=true" and _headers(up)["x-app"] == "cli"


def test_openai_passthrough_keeps_sdk_headers_and_user_agent(gw, mock_upstream):
    client = openai.OpenAI(
        base_url=gw.openai_url + "/v1",
        api_key="client-key",
        max_retries=0,
        organization="org-1",
        default_headers={"x-session-id": "s1"},
        default_query={"trace": "1"},
    )
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "echo: hi"
    up = mock_upstream.requests("/v1/chat/completions")[-1]
    h = _headers(up)
    assert up["query"] == "trace=1"
    assert h["user-agent"].startswith("OpenAI/Python ") and h["user-agent"].endswith(" " + OURS)
    assert h["x-stainless-lang"] == "python" and h["openai-organization"] == "org-1"
    assert h["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert "x-session-id" not in h  # not on the allow list: LunaRoute's own, not the provider's


def test_translated_route_sends_no_query_or_other_dialect_headers(gw, mock_upstream):
    out = _create(_claude_code(gw), "gpt-4o")
    assert out.content[0].text == "echo: hello there"
    up = mock_upstream.requests("/v1/chat/completions")[-1]
    h = _headers(up)
    assert up["query"] == ""
    assert not [k for k in h if k.startswith(("x-stainless-", "anthropic-")) or k == "x-app"]
    assert h["user-agent"] == f"{CLAUDE_UA} {OURS}"  # who the client is holds on every route
    assert h["authorization"] == f"Bearer {UPSTREAM_KEY}"


def test_local_mode_passes_the_clients_own_credential_in_its_form(gw, mock_upstream):
    # a Bearer token (an OAuth token, say) stays a Bearer token; a key in x-api-key stays there
    _create(_claude_code(gw, api_key=None, auth_token="sk-ant-oat01-own"), "local-sonnet")
    h = _headers(mock_upstream.requests("/v1/messages")[-1])
    assert h["authorization"] == "Bearer sk-ant-oat01-own" and "x-api-key" not in h
    r = httpx.post(
        gw.anthropic_url + "/v1/messages",
        json={"model": "local-sonnet", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}]},
        headers={"x-api-key": "sk-ant-own", "anthropic-version": "2023-06-01"},
    )
    assert r.status_code == 200, r.text
    h = _headers(mock_upstream.requests("/v1/messages")[-1])
    assert h["x-api-key"] == "sk-ant-own" and "authorization" not in h
    # an OpenAI client's key reaches an Anthropic provider the way that provider takes keys
    r = httpx.post(
        gw.openai_url + "/v1/chat/completions",
        json={"model": "local-claude-x", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": "Bearer sk-ant-own"},
    )
    assert r.status_code == 200, r.text
    h = _headers(mock_upstream.requests("/v1/messages")[-1])
    assert h["x-api-key"] == "sk-ant-own" and "authorization" not in h


def test_a_lunaroute_key_never_goes_upstream(gw, mock_upstream):
    """Without client keys configured, a LunaRoute key a client sends anyway is not a
    provider credential: nothing is forwarded and the provider refuses."""
    r = httpx.post(
        gw.openai_url + "/v1/chat/completions",
        json={"model": "local-x", "messages": [{"role": "user", "content": "hi"}]},
        headers={"authorization": "Bearer lr-secret-client-key", "x-api-key": "lr-secret-client-key"},
    )
    assert r.status_code == 401
    up = mock_upstream.requests("/v1/chat/completions")[-1]
    assert "lr-secret" not in str(up["headers"])
