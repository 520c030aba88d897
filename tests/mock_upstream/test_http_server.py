"""HTTP/1.1 behaviour on raw sockets, routing, path prefix, key checks, process lifecycle."""

from __future__ import annotations

import json
import signal
import socket

import openai
import pytest

from tests.mock_upstream.fixture import MockUpstream
from tests.mock_upstream.sdk_clients import anthropic_client, openai_client

CHAT = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "raw"}]}).encode()


class RawHttp:
    """A tiny HTTP/1.1 client on one socket, to see exactly what goes over the wire."""

    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.buf = b""

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        data = self.sock.recv(65536)
        self.buf += data
        return bool(data)

    def read_response(self) -> tuple[int, dict[str, str], bytes]:
        while b"\r\n\r\n" not in self.buf:
            assert self._fill(), "connection closed before a response head"
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        if "content-length" in headers:
            size = int(headers["content-length"])
            while len(self.buf) < size:
                assert self._fill()
            body, self.buf = self.buf[:size], self.buf[size:]
            return status, headers, body
        assert headers.get("transfer-encoding") == "chunked"
        body = b""
        while True:
            while b"\r\n" not in self.buf:
                assert self._fill()
            size_line, self.buf = self.buf.split(b"\r\n", 1)
            size = int(size_line, 16)
            while len(self.buf) < size + 2:
                assert self._fill()
            body += self.buf[:size]
            self.buf = self.buf[size + 2 :]
            if size == 0:
                return status, headers, body

    def at_eof(self) -> bool:
        return not self.buf and not self._fill()


def _post(path: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\nContent-Type: "
        "application/json\r\n"
        f"Content-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


@pytest.fixture
def raw(mock_upstream):
    client = RawHttp(mock_upstream.port)
    yield client
    client.close()


def test_keep_alive_serves_several_requests_on_one_connection(raw, mock_upstream):
    raw.send(_post("/v1/chat/completions", CHAT))
    status, headers, body = raw.read_response()
    assert status == 200 and headers["content-type"] == "application/json"
    assert json.loads(body)["choices"][0]["message"]["content"] == "echo: raw"
    stream_body = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "s"}]})
    raw.send(_post("/v1/chat/completions", stream_body.encode()))
    status, headers, body = raw.read_response()
    assert status == 200 and "content-length" not in headers
    assert body.endswith(b"data: [DONE]\n\n")
    first, second = mock_upstream.requests()
    assert first["connection"] == second["connection"]


def test_chunked_request_body_and_expect_continue(raw):
    half = len(CHAT) // 2
    raw.send(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer k\r\n"
        b"Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    )
    while b"\r\n\r\n" not in raw.buf:
        raw._fill()
    assert raw.buf.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
    raw.buf = raw.buf[len(b"HTTP/1.1 100 Continue\r\n\r\n") :]
    raw.send(
        f"{half:x}\r\n".encode()
        + CHAT[:half]
        + b"\r\n"
        + f"{len(CHAT) - half:x}\r\n".encode()
        + CHAT[half:]
        + b"\r\n0\r\n\r\n"
    )
    status, _, body = raw.read_response()
    assert status == 200 and b"echo: raw" in body


def test_connection_close_is_honoured(raw):
    raw.send(_post("/v1/chat/completions", CHAT, "Connection: close\r\n"))
    status, headers, _ = raw.read_response()
    assert status == 200 and headers["connection"] == "close"
    assert raw.at_eof()


def test_malformed_request_line_gets_400_and_close(raw):
    raw.send(b"NONSENSE\r\n\r\n")
    status, _, body = raw.read_response()
    assert status == 400 and b"malformed request line" in body
    assert raw.at_eof()


def test_unknown_path_and_method_in_each_dialect(raw):
    raw.send(_post("/v1/completions/x", CHAT))
    status, _, body = raw.read_response()
    assert status == 404
    assert json.loads(body)["error"]["message"] == "Invalid URL (POST /v1/completions/x)"
    raw.send(_post("/v1/nothing", CHAT, "anthropic-version: 2023-06-01\r\n"))
    status, _, body = raw.read_response()
    assert status == 404 and json.loads(body)["error"]["type"] == "not_found_error"
    raw.send(b"GET /v1/chat/completions HTTP/1.1\r\nHost: t\r\n\r\n")
    status, _, body = raw.read_response()
    assert status == 405


def test_malformed_json_in_each_dialect(raw):
    raw.send(_post("/v1/chat/completions", b"{not json"))
    status, _, body = raw.read_response()
    assert status == 400 and json.loads(body)["error"]["message"].startswith("We could not parse the JSON body")
    raw.send(_post("/v1/messages", b"[1,", "x-api-key: k\r\nanthropic-version: 2023-06-01\r\n"))
    status, _, body = raw.read_response()
    parsed = json.loads(body)
    assert status == 400 and parsed["type"] == "error" and parsed["error"]["type"] == "invalid_request_error"


def test_records_keep_raw_body_and_headers(raw, mock_upstream):
    raw.send(_post("/v1/chat/completions", CHAT, "X-Trace: abc\r\n"))
    raw.read_response()
    (rec,) = mock_upstream.requests()
    assert rec["body"] == CHAT.decode()
    assert rec["json"]["model"] == "gpt-4o"
    assert ["X-Trace", "abc"] in rec["headers"]
    assert rec["method"] == "POST" and rec["status"] == 200 and rec["outcome"] == "sent"


def test_unknown_control_endpoint(mock_upstream):
    from tests.mock_upstream.fixture import MockUpstreamError

    with pytest.raises(MockUpstreamError, match="404"):
        mock_upstream._control("GET", "nope")
    assert mock_upstream._control("GET", "health") == {"ok": True}


@pytest.fixture(scope="module")
def strict_mock():
    with MockUpstream(path_prefix="/gateway", api_keys=["sk-good-key-123"]) as mock:
        yield mock


def test_prefix_and_plain_paths_both_served(strict_mock):
    for base in (strict_mock.url + "/gateway/v1", strict_mock.url + "/v1"):
        client = openai.OpenAI(base_url=base, api_key="sk-good-key-123", max_retries=0)
        assert (
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "p"}])
            .choices[0]
            .message.content
            == "echo: p"
        )
    doubled = openai.OpenAI(base_url=strict_mock.url + "/v1/v1", api_key="sk-good-key-123", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        doubled.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "p"}])
    paths = [r["path"] for r in strict_mock.requests()]
    assert paths[:2] == ["/gateway/v1/chat/completions", "/v1/chat/completions"]


def test_configured_keys_are_enforced(strict_mock):
    bad_openai = openai_client(strict_mock, api_key="sk-wrong-key-999")
    with pytest.raises(openai.AuthenticationError) as info:
        bad_openai.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "p"}])
    assert info.value.body["code"] == "invalid_api_key"
    assert "sk-*********-999" in info.value.body["message"]
    import anthropic

    with pytest.raises(anthropic.AuthenticationError) as ainfo:
        anthropic_client(strict_mock, api_key="wrong").messages.create(
            model="claude-sonnet-4-6", max_tokens=5, messages=[{"role": "user", "content": "p"}]
        )
    assert ainfo.value.body["error"] == {
        "type": "authentication_error",
        "message": "invalid x-api-key",
    }


def test_process_prints_port_and_exits_on_sigterm():
    mock = MockUpstream().start()
    proc = mock._proc
    assert proc is not None and mock.port and mock.running
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=10) == 0
    mock.stop()
