"""Bypass (CONTRACT §9): a listener's other paths go unparsed to the provider its default
rule names, streamed both ways, credentials handled like chat, metered; `bypass: false`
turns it off. Also `GET /v1/models`, which lists what the rules can serve."""

from __future__ import annotations

import base64
import os
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import anthropic
import httpx
import openai
import pytest
import yaml

from lunaroute import __version__
from lunaroute.config.loader import load_config
from lunaroute.errors import ConfigError
from tests.mock_upstream.fixture import session_mock_upstream
from tests.mock_upstream.openai_embeddings import embedding_vector

from .conftest import UPSTREAM_KEY
from .gateway import Gateway, free_port, provider, rule
from .test_auth import _create_key

MB = 1024 * 1024


class _Upstream(ThreadingHTTPServer):
    """A provider that streams: `GET /v1/slow` sends one event, waits until the test says so,
    then the second; `GET /v1/cut` promises 100 bytes and sends 10."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _UpstreamHandler)
        self.release = threading.Event()
        self.seen: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _UpstreamHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Upstream

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        self.server.seen.append(("GET", self.path, {k.lower(): v for k, v in self.headers.items()}))
        if self.path.startswith("/v1/cut"):
            self.send_response(200)
            self.send_header("content-length", "100")
            self.end_headers()
            self.wfile.write(b"0123456789")
            self.wfile.flush()
            self.close_connection = True
            return
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.send_header("set-cookie", "provider-session=1")
        self.end_headers()
        self._chunk(b"data: first\n\n")
        released = self.server.release.wait(10)
        self._chunk(b"data: second\n\n" if released else b"data: the gateway held the first event\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


@pytest.fixture(scope="module")
def streamer():
    srv = _Upstream()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


PORTS = {name: free_port() for name in ("stream", "closed", "both", "dead", "nodefault")}


@pytest.fixture(scope="module")
def gw(tmp_path_factory, streamer):
    mock = session_mock_upstream()
    providers = [
        provider("up-openai", "openai", mock.url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        provider("up-anthropic", "anthropic", mock.url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        provider("streamer", "openai", streamer.url, api_key_env="LR_TEST_UPSTREAM_KEY"),
        provider("dead", "openai", f"http://127.0.0.1:{free_port()}", api_key_env="LR_TEST_UPSTREAM_KEY"),
    ]
    # Rules name listeners by id; ids other than the types keep each rule on its listener.
    rules = [
        rule("oai-exact", "oai", "house-model", "up-openai", target_model="gpt-4o", priority=10),
        rule("oai-mini", "oai", "mini-*", "up-openai", target_model="gpt-4o-mini", priority=20),
        rule("oai-default", "oai", "*", "up-openai", priority=1000),
        rule("anth-default", "anth", "*", "up-anthropic", priority=1000),
        rule("stream-default", "stream", "*", "streamer", priority=1000),
        rule("closed-default", "closed", "*", "up-openai", priority=1000),
        rule("dead-default", "dead", "*", "dead", priority=1000),
        rule("nodefault-exact", "nodefault", "gpt-4o", "up-openai", priority=10),
        # A listener of type both: its OpenAI side bypasses to the target, its Anthropic
        # side to the first provider of its dialect, the fallback.
        rule("both-default", "both", "*", "up-openai", priority=1000, fallbacks=[{"provider": "up-anthropic"}]),
    ]
    g = Gateway(tmp_path_factory.mktemp("bypass"), providers, rules, env={"LR_TEST_UPSTREAM_KEY": UPSTREAM_KEY})
    g.server_yaml["listeners"] = [
        {"id": "oai", "type": "openai", "bind": f"127.0.0.1:{g.openai_port}"},
        {"id": "anth", "type": "anthropic", "bind": f"127.0.0.1:{g.anthropic_port}"},
        {"id": "stream", "type": "openai", "bind": f"127.0.0.1:{PORTS['stream']}"},
        {"id": "closed", "type": "openai", "bind": f"127.0.0.1:{PORTS['closed']}", "bypass": False},
        {"id": "both", "type": "both", "bind": f"127.0.0.1:{PORTS['both']}"},
        {"id": "dead", "type": "openai", "bind": f"127.0.0.1:{PORTS['dead']}"},
        {"id": "nodefault", "type": "anthropic", "bind": f"127.0.0.1:{PORTS['nodefault']}"},
    ]
    g.write("server.yaml", yaml.safe_dump(g.server_yaml))
    g.start()
    yield g
    assert g.stop() == 0, g.logs()


def _url(name: str) -> str:
    return f"http://127.0.0.1:{PORTS[name]}"


def _oai(gw, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.openai_url + "/v1", api_key="client-key", max_retries=0, **kw)


def _headers(record) -> dict[str, str]:
    return {k.lower(): v for k, v in record["headers"]}


# ----------------------------------------------------------------------------- SDKs
def test_embeddings_through_the_openai_sdk(gw, mock_upstream):
    raw = _oai(gw).embeddings.with_raw_response.create(model="text-embedding-3-small", input=["hello world", "bye"])
    out = raw.parse()
    assert [d.embedding for d in out.data] == [embedding_vector("hello world", 8), embedding_vector("bye", 8)]
    assert out.usage.prompt_tokens == 3
    assert raw.headers["x-lunaroute-provider"] == "up-openai"
    assert raw.headers["x-lunaroute-request-id"].startswith("req_")
    assert raw.headers["x-content-type-options"] == "nosniff"
    assert raw.headers["x-request-id"].startswith("req_mock")  # the provider's own headers come along
    up = mock_upstream.requests("/v1/embeddings")[-1]
    h = _headers(up)
    assert h["authorization"] == f"Bearer {UPSTREAM_KEY}"  # the provider key replaced the client's
    assert h["user-agent"].startswith("OpenAI/Python ") and h["user-agent"].endswith(f" lunaroute/{__version__}")
    assert h["x-stainless-lang"] == "python" and h["content-type"] == "application/json"
    assert "client-key" not in str(up["headers"])


def test_model_retrieve_goes_to_the_provider(gw, mock_upstream):
    client = _oai(gw)
    assert client.models.retrieve("gpt-4o-mini").owned_by == "system"  # the mock's answer, not ours
    with pytest.raises(openai.NotFoundError) as info:
        client.models.retrieve("no-such-model")
    assert info.value.body["code"] == "model_not_found"  # the provider's error, relayed as it came
    assert mock_upstream.requests("/v1/models/no-such-model")[-1]["method"] == "GET"


def test_anthropic_sdk_models_list_and_retrieve(gw, mock_upstream):
    client = anthropic.Anthropic(base_url=gw.anthropic_url, api_key="client-key", max_retries=0)
    listed = [m.id for m in client.models.list()]
    # the default `*` rule keeps the client's model: the price table's Anthropic models are listed
    assert "claude-sonnet-4-5" in listed and "claude-3-5-haiku" in listed
    assert not [m for m in listed if m.startswith("gpt-")]
    model = client.models.retrieve("claude-sonnet-4-6")
    assert model.display_name == "Claude Sonnet 4.6"  # the mock's catalogue: bypassed
    h = _headers(mock_upstream.requests("/v1/models/claude-sonnet-4-6")[-1])
    assert h["x-api-key"] == UPSTREAM_KEY and "authorization" not in h


def test_openai_models_list_names_what_the_rules_serve(gw):
    served = {m.id: m.owned_by for m in _oai(gw).models.list()}
    assert served["house-model"] == "up-openai"  # an exact match.model
    assert served["gpt-4o-mini"] == "up-openai"  # the target of a wildcard rule
    assert "gpt-5" in served and "o3-mini" in served  # the price table under the `*` rule
    assert not [m for m in served if m.startswith("claude-")]
    assert "mini-*" not in served


# ----------------------------------------------------------------------------- raw HTTP
def test_query_string_and_any_method_are_kept(gw, mock_upstream):
    r = httpx.get(gw.openai_url + "/v1/files", params={"purpose": "batch", "limit": "2"})
    assert r.status_code == 404  # the mock has no files API: its answer comes back as it is
    assert r.json()["error"]["message"] == "Invalid URL (GET /v1/files)"
    assert r.headers["x-lunaroute-provider"] == "up-openai"
    up = mock_upstream.requests("/v1/files")[-1]
    assert up["query"] == "purpose=batch&limit=2" and up["method"] == "GET"
    r = httpx.delete(gw.openai_url + "/v1/files/file-abc")
    assert r.status_code == 404 and mock_upstream.requests("/v1/files/file-abc")[-1]["method"] == "DELETE"


def _big_input(size: int) -> bytes:
    text = base64.b64encode(os.urandom(size * 3 // 4)).decode()
    return b'{"model": "text-embedding-3-small", "encoding_format": "float", "input": "' + text.encode() + b'"}'


def test_a_large_body_streams_up_intact(gw, mock_upstream):
    body = _big_input(5 * MB)

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(body), 256 * 1024):
            yield body[i : i + 256 * 1024]

    r = httpx.post(gw.openai_url + "/v1/embeddings", content=pieces(), headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    up = mock_upstream.requests("/v1/embeddings")[-1]
    assert up["body"].encode() == body
    assert "content-length" not in _headers(up)  # chunked from the client, chunked upstream
    # with a content-length the body goes up with the same length, not re-chunked
    r = httpx.post(gw.openai_url + "/v1/embeddings", content=body, headers={"content-type": "application/json"})
    assert r.status_code == 200
    up = mock_upstream.requests("/v1/embeddings")[-1]
    assert up["body"].encode() == body and _headers(up)["content-length"] == str(len(body))
    assert "transfer-encoding" not in _headers(up)


def test_a_body_over_the_limit_is_413_in_dialect(gw, mock_upstream):
    huge = b"x" * (11 * MB)
    r = httpx.post(gw.anthropic_url + "/v1/messages/batches", content=huge)
    assert r.status_code == 413 and r.json()["error"]["type"] == "request_too_large"

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(huge), MB):
            yield huge[i : i + MB]

    r = httpx.post(gw.openai_url + "/v1/files", content=pieces())
    assert r.status_code == 413 and r.json()["error"]["type"] == "invalid_request_error"


def test_a_streamed_answer_is_relayed_as_it_arrives(gw, streamer):
    streamer.release.clear()
    with httpx.stream("GET", _url("stream") + "/v1/slow", params={"a": "1"}, headers={"user-agent": "probe/1"}) as r:
        assert r.status_code == 200 and r.headers["content-type"] == "text/event-stream"
        assert r.headers["x-lunaroute-provider"] == "streamer"
        assert "set-cookie" not in r.headers
        chunks = r.iter_raw()
        # The provider sends its second event only once we have the first: a gateway that
        # buffered the answer would hand over nothing until the provider gave up waiting.
        assert next(chunks) == b"data: first\n\n"
        streamer.release.set()
        assert b"".join(chunks) == b"data: second\n\n"
    method, path, headers = streamer.seen[-1]
    assert (method, path) == ("GET", "/v1/slow?a=1")
    assert headers["user-agent"] == f"probe/1 lunaroute/{__version__}"
    assert headers["accept-encoding"] == r.request.headers["accept-encoding"]  # relayed raw: the client decodes


def test_an_answer_cut_short_reads_as_cut_short(gw, streamer):
    """The provider promises 100 bytes and sends 10: the client gets the same promise and
    the connection ends after the 10, so it sees the answer was cut."""
    with socket.create_connection(("127.0.0.1", PORTS["stream"]), timeout=10) as sock:
        sock.sendall(b"GET /v1/cut HTTP/1.1\r\nhost: x\r\n\r\n")
        got = b""
        while chunk := sock.recv(65536):
            got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200") and b"\r\ncontent-length: 100\r\n" in head.lower()
    assert body == b"0123456789"
    assert streamer.seen[-1][2]["accept-encoding"] == "identity"  # the client named no coding


def test_listener_of_both_dialects_picks_the_provider_by_path_and_header(gw, mock_upstream):
    r = httpx.post(_url("both") + "/v1/embeddings", json={"model": "m", "input": "a b"})
    assert r.status_code == 200 and r.headers["x-lunaroute-provider"] == "up-openai"
    r = httpx.get(_url("both") + "/v1/messages/batches", headers={"anthropic-version": "2023-06-01"})
    assert r.headers["x-lunaroute-provider"] == "up-anthropic"
    assert r.json()["type"] == "error"  # the mock's Anthropic-shaped 404
    r = httpx.get(_url("both") + "/v1/models/claude-haiku-4-5", headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 200 and r.json()["type"] == "model"
    assert r.headers["x-lunaroute-provider"] == "up-anthropic"
    r = httpx.get(_url("both") + "/v1/models/gpt-4o")
    assert r.status_code == 200 and r.json()["object"] == "model"
    assert r.headers["x-lunaroute-provider"] == "up-openai"
    assert "data" in httpx.get(_url("both") + "/v1/models", headers={"anthropic-version": "2023-06-01"}).json()
    assert "has_more" in httpx.get(_url("both") + "/v1/models", headers={"anthropic-version": "2023-06-01"}).json()


# ----------------------------------------------------------------------------- errors, off, metrics
def test_bypass_off_is_404_in_dialect(gw, mock_upstream):
    before = len(mock_upstream.requests())
    r = httpx.post(_url("closed") + "/v1/embeddings", json={"model": "m", "input": "x"})
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"
    assert len(mock_upstream.requests()) == before
    r = httpx.get(gw.openai_url + "/nope")  # outside the API root: never bypassed
    assert r.status_code == 404 and r.json()["error"]["type"] == "not_found_error"


def test_no_default_rule_is_404_and_unreachable_is_502(gw):
    r = httpx.get(_url("nodefault") + "/v1/models/claude-x", headers={"anthropic-version": "2023-06-01"})
    assert r.status_code == 404
    assert r.json()["type"] == "error" and r.json()["error"]["type"] == "not_found_error"
    assert "catch-all" in r.json()["error"]["message"]
    r = httpx.post(_url("dead") + "/v1/embeddings", json={"model": "m", "input": "x"})
    assert r.status_code == 502 and r.json()["error"]["type"] == "api_error"
    assert r.headers["x-lunaroute-request-id"].startswith("req_")


def test_bypassed_requests_are_counted(gw):
    assert httpx.post(gw.openai_url + "/v1/embeddings", json={"model": "m", "input": "x"}).status_code == 200
    text = gw.metrics()
    series = re.search(
        r'lunaroute_requests_total\{listener="oai",model="bypass",provider="up-openai",status="200"\} (\S+)', text
    )
    assert series is not None and float(series.group(1)) >= 1
    assert 'lunaroute_requests_total{listener="dead",model="bypass",provider="dead",status="502"}' in text
    assert 'lunaroute_requests_total{listener="stream",model="bypass",provider="streamer",status="200"}' in text


# ----------------------------------------------------------------------------- keys
def test_client_keys_guard_the_bypass(tmp_path, mock_upstream):
    g = Gateway(
        tmp_path,
        [provider("up-openai", "openai", mock_upstream.url, api_key_env="LR_TEST_UPSTREAM_KEY")],
        [rule("oai-default", "openai", "*", "up-openai", priority=1000)],
        env={"LR_TEST_UPSTREAM_KEY": UPSTREAM_KEY},
    )
    key = _create_key(g.config_dir, "oai", "openai_ingress")
    other = _create_key(g.config_dir, "anth-only", "anthropic_ingress")
    g.start()
    try:
        url = g.openai_url + "/v1/embeddings"
        r = httpx.post(url, json={"model": "m", "input": "x"})
        assert r.status_code == 401 and r.json()["error"]["type"] == "authentication_error"
        r = httpx.post(url, json={"model": "m", "input": "x"}, headers={"authorization": f"Bearer {other}"})
        assert r.status_code == 403 and r.json()["error"]["type"] == "permission_error"
        before = len(mock_upstream.requests())
        out = openai.OpenAI(base_url=g.openai_url + "/v1", api_key=key, max_retries=0).embeddings.create(
            model="m", input="hello"
        )
        assert out.data[0].embedding == embedding_vector("hello", 8)
        assert len(mock_upstream.requests()) == before + 1  # the refused ones never went up
        up = mock_upstream.requests("/v1/embeddings")[-1]
        assert _headers(up)["authorization"] == f"Bearer {UPSTREAM_KEY}" and key not in str(up["headers"])
    finally:
        assert g.stop() == 0, g.logs()


def test_without_a_provider_key_the_clients_own_goes_but_never_a_lunaroute_key(tmp_path, mock_upstream):
    g = Gateway(
        tmp_path,
        [provider("keyless", "openai", mock_upstream.url, api_key_env="LR_TEST_UNSET_KEY")],
        [rule("oai-default", "openai", "*", "keyless", priority=1000)],
    ).start()
    try:
        r = httpx.post(
            g.openai_url + "/v1/embeddings",
            json={"model": "m", "input": "x"},
            headers={"authorization": "Bearer sk-own"},
        )
        assert r.status_code == 200
        assert _headers(mock_upstream.requests("/v1/embeddings")[-1])["authorization"] == "Bearer sk-own"
        r = httpx.post(
            g.openai_url + "/v1/embeddings",
            json={"model": "m", "input": "x"},
            headers={"authorization": "Bearer lr-not-for-providers", "cookie": "a=b", "x-lunaroute-x": "1"},
        )
        assert r.status_code == 401  # the provider saw no key at all
        h = _headers(mock_upstream.requests("/v1/embeddings")[-1])
        assert "authorization" not in h and "cookie" not in h and "x-lunaroute-x" not in h
        assert "lr-not-for-providers" not in str(h)
    finally:
        assert g.stop() == 0, g.logs()


# ----------------------------------------------------------------------------- config
def test_bypass_config_top_level_and_per_listener(tmp_path):
    g = Gateway(tmp_path, [provider("p", "openai", "http://127.0.0.1:9")], [rule("r", None, "*", "p")])
    g.server_yaml["bypass"] = False
    g.server_yaml["listeners"][1]["bypass"] = True
    g.write("server.yaml", yaml.safe_dump(g.server_yaml))
    cfg = load_config(g.config_dir)
    assert cfg.bypass is False
    assert cfg.bypasses("openai") is False and cfg.bypasses("anthropic") is True
    g.server_yaml["bypass"] = "yes"
    g.write("server.yaml", yaml.safe_dump(g.server_yaml))
    with pytest.raises(ConfigError, match="bypass.*expected true or false"):
        load_config(g.config_dir)


def test_bypass_is_on_by_default(tmp_path):
    g = Gateway(tmp_path, [provider("p", "openai", "http://127.0.0.1:9")], [rule("r", None, "*", "p")])
    cfg = load_config(g.config_dir)
    assert cfg.bypass is True and all(cfg.bypasses(item.id) for item in cfg.listeners)
