"""Which credential reaches the provider (CONTRACT §3 `providers[].api_key_env`, §4 client
auth): a LunaRoute client key (`lr-…`) never does; a client's own provider key does, when
the provider has no key of its own."""

from __future__ import annotations

import subprocess
import sys

import anthropic
import openai
import pytest

from tests.mock_upstream.fixture import session_mock_upstream

from .gateway import Gateway, provider, rule

MODEL = {"openai": "gpt-4o", "anthropic": "claude-sonnet-4-6"}
OPENAI_CLIENT_KEY = "sk-client-openai-0123456789"
ANTHROPIC_CLIENT_KEY = "sk-ant-client-0123456789"
# Providers below set no api_key_env, so they read the default variables: empty means no key.
NO_PROVIDER_KEYS = {"OPENAI_API_KEY": "", "ANTHROPIC_API_KEY": ""}


def _gateway(root, *, with_client_key: bool) -> tuple[Gateway, str | None]:
    mock = session_mock_upstream()
    providers = [provider("bare-openai", "openai", mock.url), provider("bare-anthropic", "anthropic", mock.url)]
    rules = [rule("gpt", None, "gpt-*", "bare-openai"), rule("claude", None, "claude-*", "bare-anthropic")]
    gw = Gateway(root, providers, rules, env=NO_PROVIDER_KEYS)
    key = None
    if with_client_key:
        out = subprocess.run(
            [sys.executable, "-m", "lunaroute", "keys", "create", "client", "--config-dir", str(gw.config_dir)],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
        key = out[0]
        assert key.startswith("lr-")
    return gw.start(), key


@pytest.fixture(scope="module")
def keyed(tmp_path_factory):
    gw, key = _gateway(tmp_path_factory.mktemp("keyed"), with_client_key=True)
    yield gw, key
    assert gw.stop() == 0, gw.logs()


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    gw, _ = _gateway(tmp_path_factory.mktemp("local"), with_client_key=False)
    yield gw
    assert gw.stop() == 0, gw.logs()


@pytest.fixture(autouse=True)
def _no_sdk_keys_from_env(monkeypatch):
    # The SDKs fill a missing key from these; every credential a test sends must be its own.
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"):
        monkeypatch.delenv(name, raising=False)


def _client(gw: Gateway, listener: str, **creds):
    if listener == "openai":
        return openai.OpenAI(base_url=gw.openai_url + "/v1", max_retries=0, timeout=10, **creds)
    return anthropic.Anthropic(base_url=gw.anthropic_url, max_retries=0, timeout=10, **creds)


def _call(client, model: str, stream: bool) -> tuple[int, str]:
    """(status the client saw, answer text) for one request, the stream read to its end."""
    msgs = [{"role": "user", "content": "hi"}]
    try:
        if isinstance(client, openai.OpenAI):
            if not stream:
                return 200, client.chat.completions.create(model=model, messages=msgs).choices[0].message.content
            chunks = client.chat.completions.create(model=model, messages=msgs, stream=True)
            return 200, "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        if not stream:
            return 200, client.messages.create(model=model, max_tokens=20, messages=msgs).content[0].text
        events = client.messages.create(model=model, max_tokens=20, messages=msgs, stream=True)
        return 200, "".join(e.delta.text for e in events if e.type == "content_block_delta")
    except (openai.APIStatusError, anthropic.APIStatusError) as exc:
        return exc.status_code, ""


def _credentials_upstream(record: dict) -> list[str]:
    """The provider credentials a recorded upstream request carried."""
    out = []
    for name, value in record["headers"]:
        if name.lower() == "x-api-key":
            out.append(value)
        elif name.lower() == "authorization":
            out.append(value.split(" ", 1)[1] if value.lower().startswith("bearer ") else value)
    return out


def _assert_no_client_key_upstream(records: list[dict], key: str) -> None:
    for record in records:
        for name, value in record["headers"]:
            assert "lr-" not in value and key not in value, f"{name}: {value} went upstream"
        assert key not in record["body"] and key not in record["query"]


# (listener, how the client sends its lr- key): Bearer on both listeners, x-api-key on Anthropic's.
CLIENT_AUTH = [("openai", "bearer"), ("anthropic", "x-api-key"), ("anthropic", "bearer")]
TARGETS = {"same": lambda li: li, "translated": lambda li: "anthropic" if li == "openai" else "openai"}


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("target", list(TARGETS))
@pytest.mark.parametrize(("listener", "style"), CLIENT_AUTH, ids=[f"{li}-{st}" for li, st in CLIENT_AUTH])
def test_client_key_never_goes_upstream(keyed, mock_upstream, listener, style, target, stream):
    gw, key = keyed
    # the openai SDK sends api_key as a Bearer token; the anthropic SDK sends api_key as
    # x-api-key and auth_token as a Bearer token
    creds = {"auth_token": key} if (listener, style) == ("anthropic", "bearer") else {"api_key": key}
    status, _ = _call(_client(gw, listener, **creds), MODEL[TARGETS[target](listener)], stream)
    records = mock_upstream.requests()
    # With no provider key and the client's lr- key held back, the provider has nothing to
    # check: LunaRoute may answer without calling it, or pass on the provider's 401.
    assert len(records) <= 1
    assert status != 500
    _assert_no_client_key_upstream(records, key)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_provider_key_beside_the_client_key_goes_upstream_alone(keyed, mock_upstream, stream):
    """Authenticated to LunaRoute by `Authorization: Bearer lr-…`, a client also sends its own
    Anthropic key in `x-api-key`: that one reaches the provider, the lr- key does not."""
    gw, key = keyed
    # (this SDK takes api_key or auth_token, not both: the provider key goes in as a header)
    client = _client(gw, "anthropic", auth_token=key, default_headers={"x-api-key": ANTHROPIC_CLIENT_KEY})
    status, text = _call(client, MODEL["anthropic"], stream)
    assert (status, text) == (200, "echo: hi")
    (record,) = mock_upstream.requests()
    assert _credentials_upstream(record) == [ANTHROPIC_CLIENT_KEY]
    _assert_no_client_key_upstream([record], key)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
@pytest.mark.parametrize("listener", ["openai", "anthropic"])
def test_local_mode_passes_the_clients_provider_key_through(local, mock_upstream, listener, stream):
    own = OPENAI_CLIENT_KEY if listener == "openai" else ANTHROPIC_CLIENT_KEY
    status, text = _call(_client(local, listener, api_key=own), MODEL[listener], stream)
    assert (status, text) == (200, "echo: hi")
    (record,) = mock_upstream.requests()
    assert _credentials_upstream(record) == [own]
