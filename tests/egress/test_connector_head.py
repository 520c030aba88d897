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
        ]
    ),
    _VALUE,
    max_size=6,
).map(lambda d: {k: (f"Bearer {v}" if k == "authorization" and v[:1] != "x" else v) for k, v in d.items()})


def _general_head(conn: ProviderConnector, client: dict, cred: str | None, stream: bool, n: int) -> bytes:
    lines = [f"POST {conn.path} HTTP/1.1\r\n"]
    for k, v in conn.request_headers(client, cred, stream):
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
)
def test_fast_head_matches_the_general_one(ptype, key, extra, client, cred, stream, n):
    cfg = ProviderConfig(name="p", type=ptype, base_url="http://127.0.0.1:9/prefix", api_key=key, extra_headers=extra)
    conn = ProviderConnector(cfg)
    head = conn._h1_head(client, cred, stream, n)
    assert head == _general_head(conn, client, cred, stream, n)
    assert head.endswith(b"content-length: %d\r\n\r\n" % n)


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
