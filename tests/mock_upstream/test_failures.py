"""Failure injection through the control API: each scripted behaviour, filters, peer aborts."""

from __future__ import annotations

import json
import re
import socket
import time

import anthropic
import httpx
import openai
import pytest

from tests.mock_upstream.fixture import MockUpstreamError
from tests.mock_upstream.sdk_clients import (
    ANTHROPIC_MODEL,
    OPENAI_MODEL,
    anthropic_client,
    openai_client,
)

CHAT = {"model": OPENAI_MODEL, "messages": [{"role": "user", "content": "one two three four"}]}
AUTH = {"authorization": "Bearer sk-test"}


def _chat(client: openai.OpenAI, **kwargs):
    return client.chat.completions.create(model=OPENAI_MODEL, messages=[{"role": "user", "content": "hi"}], **kwargs)


def test_status_500_in_openai_shape(mock_upstream):
    mock_upstream.script([{"status": 500}])
    with pytest.raises(openai.InternalServerError) as info:
        _chat(openai_client(mock_upstream))
    assert info.value.status_code == 500
    assert info.value.body["type"] == "server_error"
    assert _chat(openai_client(mock_upstream)).choices[0].message.content == "echo: hi"  # consumed once
    assert [r["status"] for r in mock_upstream.requests()] == [500, 200]


def test_status_529_in_anthropic_shape(mock_upstream):
    mock_upstream.script([{"status": 529}])
    client = anthropic_client(mock_upstream)
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 529
    assert info.value.body["error"]["type"] == "overloaded_error"


def test_429_retry_after_header_and_sdk_retry(mock_upstream):
    mock_upstream.script([{"status": 429, "retry_after": 1}])
    with httpx.Client(trust_env=False) as http:
        resp = http.post(mock_upstream.url + "/v1/chat/completions", json=CHAT, headers=AUTH)
    assert resp.status_code == 429
    assert resp.headers["retry-after"] == "1"
    assert resp.json()["error"]["code"] == "rate_limit_exceeded"
    mock_upstream.script([{"status": 429, "retry_after": 0.05}])
    ok = _chat(openai_client(mock_upstream, max_retries=1))
    assert ok.choices[0].message.content == "echo: hi"
    retries = [r["header_map"].get("x-stainless-retry-count") for r in mock_upstream.requests()[1:]]
    assert retries == ["0", "1"]


def test_scripted_400_with_custom_fields(mock_upstream):
    mock_upstream.script(
        [
            {
                "status": 400,
                "message": "context too long",
                "code": "context_length_exceeded",
                "headers": {"x-extra": "yes"},
            }
        ]
    )
    with httpx.Client(trust_env=False) as http:
        resp = http.post(mock_upstream.url + "/v1/chat/completions", json=CHAT, headers=AUTH)
    assert resp.status_code == 400
    assert resp.headers["x-extra"] == "yes"
    assert resp.json() == {
        "error": {
            "message": "context too long",
            "type": "invalid_request_error",
            "param": None,
            "code": "context_length_exceeded",
        }
    }


def test_verbatim_body_and_text_override(mock_upstream):
    mock_upstream.script([{"status": 200, "body": {"weird": True}}, {"text": "scripted answer"}])
    with httpx.Client(trust_env=False) as http:
        first = http.post(mock_upstream.url + "/v1/chat/completions", json=CHAT, headers=AUTH)
    assert first.json() == {"weird": True}
    assert _chat(openai_client(mock_upstream)).choices[0].message.content == "scripted answer"


def test_reset_sends_tcp_rst(mock_upstream):
    mock_upstream.script([{"reset": True}])
    raw = json.dumps(CHAT).encode()
    with socket.create_connection(("127.0.0.1", mock_upstream.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw
        )
        with pytest.raises(ConnectionResetError):
            while sock.recv(4096):  # a FIN would end this loop with b""; an RST raises
                pass
    mock_upstream.script([{"reset": True}])
    with pytest.raises(openai.APIConnectionError):
        _chat(openai_client(mock_upstream))
    assert mock_upstream.stats()["resets_sent"] == 2


def test_hang_delays_answer(mock_upstream):
    mock_upstream.script([{"hang_ms": 300}])
    started = time.monotonic()
    _chat(openai_client(mock_upstream))
    assert time.monotonic() - started >= 0.3


def test_client_timeout_during_hang_is_seen_by_mock(mock_upstream):
    baseline = mock_upstream.stats()["open_connections"]  # idle pooled connections of earlier tests
    mock_upstream.script([{"hang_ms": 5000}])
    with pytest.raises(openai.APITimeoutError):
        _chat(openai_client(mock_upstream, timeout=0.3))
    stats = mock_upstream.wait_for_stat("hangs_aborted_by_peer", 1, timeout=3)
    assert stats["open_connections"] <= baseline
    assert mock_upstream.requests()[0]["outcome"] == "peer_closed_during_hang"


def test_stream_die_after_cuts_chunked_body(mock_upstream):
    mock_upstream.script([{"stream_die_after": 2}])
    received = []
    with pytest.raises(openai.APIConnectionError):
        for chunk in _chat(openai_client(mock_upstream), stream=True):
            received.append(chunk)
    assert len(received) == 2
    mock_upstream.script([{"stream_die_after": 3}])
    body = {
        "model": ANTHROPIC_MODEL,
        "max_tokens": 20,
        "stream": True,
        "messages": [{"role": "user", "content": "a"}],
    }
    headers = {"x-api-key": "k", "anthropic-version": "2023-06-01"}
    events = []
    with httpx.Client(trust_env=False) as http:
        with http.stream("POST", mock_upstream.url + "/v1/messages", json=body, headers=headers) as resp:
            with pytest.raises(httpx.RemoteProtocolError):
                for line in resp.iter_lines():
                    if line.startswith("event: "):
                        events.append(line[7:])
    assert events == ["message_start", "content_block_start", "ping"]
    assert mock_upstream.stats()["streams_died_by_script"] == 2


def test_stream_die_after_on_json_body_truncates(mock_upstream):
    mock_upstream.script([{"stream_die_after": 10}])
    with httpx.Client(trust_env=False) as http:
        with pytest.raises(httpx.RemoteProtocolError):
            http.post(mock_upstream.url + "/v1/chat/completions", json=CHAT, headers=AUTH)


def test_paced_stream(mock_upstream):
    mock_upstream.script([{"delay_between_events_ms": 60}])
    arrivals = []
    for _ in _chat(openai_client(mock_upstream), stream=True):
        arrivals.append(time.monotonic())
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert len(arrivals) == 4  # role, "echo:", " hi", finish
    assert min(gaps) >= 0.05


def test_client_disconnect_mid_stream_is_counted(mock_upstream):
    baseline = mock_upstream.stats()["open_connections"]  # idle pooled connections of earlier tests
    mock_upstream.script([{"delay_between_events_ms": 200}])
    body = dict(CHAT, stream=True)
    with httpx.Client(trust_env=False) as http:
        with http.stream("POST", mock_upstream.url + "/v1/chat/completions", json=body, headers=AUTH) as resp:
            first = next(resp.iter_raw())
            assert first.startswith(b"data: ")
        # leaving the block closes the response; the pool connection is dropped with it
    stats = mock_upstream.wait_for_stat("streams_aborted_by_peer", 1, timeout=3)
    assert stats["streams_completed"] == 0
    deadline = time.monotonic() + 3
    while mock_upstream.stats()["open_connections"] > baseline and time.monotonic() < deadline:
        time.sleep(0.02)
    assert mock_upstream.stats()["open_connections"] <= baseline
    assert mock_upstream.requests()[0]["outcome"] == "peer_closed_during_stream"


def test_filters_by_path_and_model(mock_upstream):
    mock_upstream.script([{"status": 503, "path": "/v1/messages"}, {"status": 500, "model": "gpt-4o-mini"}])
    assert _chat(openai_client(mock_upstream)).choices  # neither entry matches gpt-4o chat
    with pytest.raises(openai.InternalServerError):
        openai_client(mock_upstream).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    client = anthropic_client(mock_upstream)
    with pytest.raises(anthropic.APIStatusError) as info:
        client.messages.create(model=ANTHROPIC_MODEL, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert info.value.status_code == 503
    assert mock_upstream.pending_script() == []


def test_bad_script_is_refused(mock_upstream):
    with pytest.raises(MockUpstreamError, match="unknown behaviour field"):
        mock_upstream.script([{"stauts": 500}])
    with pytest.raises(MockUpstreamError, match="hang_ms"):
        mock_upstream.script([{"hang_ms": -1}])
    assert mock_upstream.pending_script() == []


def test_reset_clears_script_records_and_stats(mock_upstream):
    mock_upstream.script([{"status": 500}, {"status": 500}])
    with pytest.raises(openai.InternalServerError):
        _chat(openai_client(mock_upstream))
    mock_upstream.reset()
    assert mock_upstream.pending_script() == []
    assert mock_upstream.requests() == []
    assert mock_upstream.stats()["requests_total"] == 0
    assert _chat(openai_client(mock_upstream)).id == "chatcmpl-mock000001"


# ---------------------------------------------------------------- mid-stream failure shapes
STREAM = dict(CHAT, stream=True, stream_options={"include_usage": True})


def _raw_stream(mock, payload: dict) -> tuple[bytes, Exception | None]:
    """The bytes after the response head of one streamed answer on its own socket, and the
    error that ended the read (None for a clean close after `Connection: close`)."""
    raw = json.dumps(payload).encode()
    received = b""
    with socket.create_connection(("127.0.0.1", mock.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer k\r\nConnection: close\r\n"
            b"Content-Type: application/json\r\nContent-Length: " + str(len(raw)).encode() + b"\r\n\r\n" + raw
        )
        try:
            while data := sock.recv(65536):
                received += data
        except OSError as exc:
            return received.split(b"\r\n\r\n", 1)[1], exc
    return received.split(b"\r\n\r\n", 1)[1], None


def _chunks(body: bytes) -> tuple[list[bytes], bool]:
    """Chunk payloads of a chunked body, and whether the terminating zero chunk was there."""
    out = []
    while body:
        size_line, _, rest = body.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out, True
        out.append(rest[:size])
        body = rest[size + 2 :]
    return out, False


def _events(mock_upstream) -> list[bytes]:
    """The whole planned stream for STREAM, one event per chunk: a clean reference run,
    then a reset so that the run under test gets the same ids."""
    body, err = _raw_stream(mock_upstream, STREAM)
    chunks, finished = _chunks(body)
    assert err is None and finished
    mock_upstream.reset()
    return chunks


def _same_second(chunks: list[bytes]) -> list[bytes]:
    """`created` is the clock's second: the reference run may fall in the previous one."""
    return [re.sub(rb'"created": \d+', b'"created": 0', c) for c in chunks]


def test_stream_reset_after_sends_events_then_rst(mock_upstream):
    events = _events(mock_upstream)
    mock_upstream.script([{"stream_reset_after": 2}])
    body, err = _raw_stream(mock_upstream, STREAM)
    assert isinstance(err, ConnectionResetError)
    chunks, finished = _chunks(body)
    assert _same_second(chunks) == _same_second(events[:2]) and not finished
    assert mock_upstream.requests()[-1]["outcome"] == "reset"
    assert mock_upstream.requests()[-1]["response_body"].encode() == b"".join(chunks)
    assert mock_upstream.stats()["resets_sent"] == 1


def test_stream_end_after_ends_the_body_cleanly(mock_upstream):
    events = _events(mock_upstream)
    assert events[-1] == b"data: [DONE]\n\n"
    mock_upstream.script([{"stream_end_after": len(events) - 1}])
    body, err = _raw_stream(mock_upstream, STREAM)
    assert err is None
    chunks, finished = _chunks(body)
    assert _same_second(chunks) == _same_second(events[:-1])
    assert finished  # well framed: only the final marker is missing
    assert mock_upstream.requests()[-1]["outcome"] == "ended_by_script"
    assert mock_upstream.stats()["streams_ended_by_script"] == 1
    # the body was complete as HTTP, so the connection stays usable
    mock_upstream.script([{"stream_end_after": 1}])
    with httpx.Client(trust_env=False) as http:
        with http.stream("POST", mock_upstream.url + "/v1/chat/completions", json=STREAM, headers=AUTH) as r:
            assert list(r.iter_bytes()) != []
        assert http.post(mock_upstream.url + "/v1/chat/completions", json=CHAT, headers=AUTH).status_code == 200
    last_two = mock_upstream.requests()[-2:]
    assert last_two[0]["connection"] == last_two[1]["connection"]


def test_cuts_on_json_answers(mock_upstream):
    mock_upstream.script([{"stream_end_after": 10}])
    with httpx.Client(trust_env=False) as http:
        resp = http.post(mock_upstream.url + "/v1/chat/completions", json=CHAT, headers=AUTH)
    assert resp.headers["content-length"] == "10"
    assert resp.content == b'{"id": "ch'
    mock_upstream.script([{"stream_reset_after": 10}])
    with httpx.Client(trust_env=False) as http:
        with pytest.raises(httpx.ReadError):
            http.post(mock_upstream.url + "/v1/chat/completions", json=CHAT, headers=AUTH)
    assert [r["outcome"] for r in mock_upstream.requests()] == ["ended_by_script", "reset"]


def test_stream_stall_pauses_once_then_goes_on(mock_upstream):
    mock_upstream.script([{"stream_stall_after": 2, "stream_stall_ms": 300}])
    arrivals = []
    for _ in _chat(openai_client(mock_upstream), stream=True):
        arrivals.append(time.monotonic())
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:])]
    assert len(arrivals) == 4
    assert gaps[1] >= 0.29  # before the third event, and only there
    assert sum(gap >= 0.29 for gap in gaps) == 1, gaps
    # a client that gives up during the stall is seen at once
    mock_upstream.script([{"stream_stall_after": 1, "stream_stall_ms": 5000}])
    with httpx.Client(trust_env=False) as http:
        with http.stream("POST", mock_upstream.url + "/v1/chat/completions", json=STREAM, headers=AUTH) as r:
            assert next(r.iter_raw()).startswith(b"data: ")
    stats = mock_upstream.wait_for_stat("streams_aborted_by_peer", 1, timeout=2)
    assert stats["streams_completed"] == 1


def test_stream_inject_puts_raw_bytes_between_events(mock_upstream):
    events = _events(mock_upstream)
    mock_upstream.script([{"stream_inject_after": 3, "stream_inject": "not an event\x00\n\n"}])
    body, err = _raw_stream(mock_upstream, STREAM)
    assert err is None
    chunks, finished = _chunks(body)
    assert finished
    assert _same_second(chunks) == _same_second([*events[:3], b"not an event\x00\n\n", *events[3:]])
    # and it combines with a cut: the injected bytes are the last thing sent before the RST
    mock_upstream.reset()
    mock_upstream.script([{"stream_inject_after": 9, "stream_inject": "data: {", "stream_reset_after": 2}])
    body, err = _raw_stream(mock_upstream, STREAM)
    assert isinstance(err, ConnectionResetError)
    chunks, finished = _chunks(body)
    assert _same_second(chunks) == _same_second([*events[:2], b"data: {"]) and not finished


def test_stream_chunk_bytes_splits_across_events(mock_upstream):
    events = _events(mock_upstream)
    mock_upstream.script([{"stream_chunk_bytes": 7}])
    body, err = _raw_stream(mock_upstream, STREAM)
    chunks, finished = _chunks(body)
    assert err is None and finished
    assert _same_second([b"".join(chunks)]) == _same_second([b"".join(events)])
    assert {len(c) for c in chunks[:-1]} == {7} and 1 <= len(chunks[-1]) <= 7
    assert mock_upstream.requests()[-1]["response_body"].encode() == b"".join(chunks)
    # with a cut, only the cut events are re-chunked
    mock_upstream.reset()
    mock_upstream.script([{"stream_chunk_bytes": 1000, "stream_end_after": 3}])
    body, _ = _raw_stream(mock_upstream, STREAM)
    chunks, finished = _chunks(body)
    assert _same_second(chunks) == _same_second([b"".join(events[:3])]) and finished


def test_new_stream_fields_are_checked(mock_upstream):
    for bad, match in [
        ({"stream_die_after": 1, "stream_end_after": 2}, "only one way"),
        ({"stream_stall_after": 1}, "go together"),
        ({"stream_inject": "x"}, "go together"),
        ({"stream_inject_after": 1, "stream_inject": ""}, "non-empty"),
        ({"stream_chunk_bytes": 0}, "positive"),
        ({"stream_reset_after": -1}, "non-negative"),
    ]:
        with pytest.raises(MockUpstreamError, match=match):
            mock_upstream.script([bad])
    assert mock_upstream.pending_script() == []
