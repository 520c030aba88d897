"""The pre-encoded HTTP/1.1 request head says exactly what `request_headers` says."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from lunaroute.config.schema import ProviderConfig
from lunaroute.egress.connector import ProviderConnector

_VALUE = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), min_size=0, max_size=20
)
_CLIENT = st.dictionaries(
    st.sampled_from(
        [
            "authorization",
            "x-api-key",
            "anthropic-version",
            "anthropic-beta",
            "openai-organization",
            "openai-project",
            "openai-beta",
            "x-other",
            "user-agent",
            "x-app",
            "x-stainless-os",
            "x-stainless-retry-count",
            "anthropic-dangerous-direct-browser-access",
            "x-lunaroute-debug",
            "cookie",
        ]
    ),
    _VALUE,
    max_size=6,
).map(lambda d: {k: (f"Bearer {v}" if k == "authorization" and v[:1] != "x" else v) for k, v in d.items()})


def _general_head(
    conn: ProviderConnector, client: dict, cred: str | None, stream: bool, n: int, same: bool, query: str
) -> bytes:
    lines = [f"POST {conn.path}{'?' + query if query else ''} HTTP/1.1\r\n"]
    for k, v in conn.request_headers(client, cred, stream, same):
        lines.append(f"{k}: {v}\r\n")
    lines.append(f"content-length: {n}\r\n\r\n")
    return "".join(lines).encode("latin-1", "replace")


@settings(max_examples=200, deadline=None)
@given(
    ptype=st.sampled_from(["openai", "anthropic", "openai_compatible"]),
    key=st.sampled_from([None, "sk-config"]),
    extra=st.dictionaries(st.sampled_from(["X-Team", "x-env"]), st.sampled_from(["a", "b c"]), max_size=2),
    client=_CLIENT,
    cred=st.one_of(st.none(), _VALUE.filter(bool)),
    stream=st.booleans(),
    n=st.integers(0, 10**7),
    same=st.booleans(),
    query=st.sampled_from(["", "beta=true", "a=1&b=%20"]),
)
def test_fast_head_matches_the_general_one(ptype, key, extra, client, cred, stream, n, same, query):
    cfg = ProviderConfig(name="p", type=ptype, base_url="http://127.0.0.1:9/prefix", api_key=key, extra_headers=extra)
    conn = ProviderConnector(cfg)
    head = conn._h1_head(client, cred, stream, n, same, query)
    assert head == _general_head(conn, client, cred, stream, n, same, query)
    assert head.endswith(b"content-length: %d\r\n\r\n" % n)
    names = [line.split(b":")[0] for line in head.split(b"\r\n")[1:] if line]
    assert names.count(b"user-agent") == 1
    assert b"x-lunaroute-debug" not in names and b"cookie" not in names
    if not same:
        assert not any(name.startswith(b"x-stainless-") for name in names)


def test_passthrough_carries_the_sdk_headers_query_and_user_agent():
    client = {
        "user-agent": "claude-cli/2.1 (external, sdk-cli)",
        "x-app": "cli",
        "x-stainless-os": "Linux",
        "anthropic-beta": "oauth-2025-04-20",
        "x-lunaroute-debug": "1",
        "cookie": "a=b",
    }
    conn = ProviderConnector(ProviderConfig(name="p", type="anthropic", base_url="http://127.0.0.1:9"))
    head = conn._h1_head(client, None, True, 5, True, "beta=true")
    assert head.startswith(b"POST /v1/messages?beta=true HTTP/1.1\r\n")
    assert b"\r\nuser-agent: claude-cli/2.1 (external, sdk-cli) lunaroute/" in head
    assert b"\r\nx-app: cli\r\n" in head and b"\r\nx-stainless-os: Linux\r\n" in head
    assert b"\r\nanthropic-beta: oauth-2025-04-20\r\n" in head
    assert b"x-lunaroute-debug" not in head and b"cookie" not in head
    # translated: no query, no SDK telemetry; the target dialect's own headers still go
    head = conn._h1_head(client, None, True, 5, False, "")
    assert head.startswith(b"POST /v1/messages HTTP/1.1\r\n")
    assert b"x-stainless-os" not in head and b"\r\nanthropic-beta: oauth-2025-04-20\r\n" in head


def test_a_bearer_credential_keeps_its_form_on_passthrough():
    """A client's own Bearer token (an OAuth token, say) goes on as Bearer, not as x-api-key."""
    client = {"authorization": "Bearer sk-ant-oat-1"}
    conn = ProviderConnector(ProviderConfig(name="p", type="anthropic", base_url="http://127.0.0.1:9"))
    assert b"\r\nauthorization: Bearer sk-ant-oat-1\r\n" in conn._h1_head(client, "sk-ant-oat-1", False, 0, True)
    assert b"\r\nx-api-key: sk-ant-oat-1\r\n" in conn._h1_head(client, "sk-ant-oat-1", False, 0, False)
    assert b"\r\nx-api-key: sk-own\r\n" in conn._h1_head({"x-api-key": "sk-own"}, "sk-own", False, 0, True)


def test_client_credential_headers_never_go_upstream_on_their_own():
    """Only the credential the caller hands over is forwarded: the client's own
    authorization / x-api-key headers (a LunaRoute key, say) are never copied."""
    client = {"authorization": "Bearer lr-client-key", "x-api-key": "lr-client-key", "anthropic-beta": "b1"}
    for ptype in ("openai", "anthropic"):
        conn = ProviderConnector(ProviderConfig(name="p", type=ptype, base_url="http://127.0.0.1:9"))
        for stream in (False, True):
            assert b"lr-client-key" not in conn._h1_head(client, None, stream, 10)
            assert all("lr-client-key" not in v for _, v in conn.request_headers(client, None, stream))
            head = conn._h1_head(client, "sk-own", stream, 10)
            assert (b"x-api-key: sk-own" if ptype == "anthropic" else b"authorization: Bearer sk-own") in head
