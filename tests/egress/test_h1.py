"""The fast HTTP/1.1 upstream client against real servers on loopback."""

from __future__ import annotations

import asyncio
import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lunaroute.egress.errors import TransportError, TransportTimeout
from lunaroute.egress.h1 import H1Pool
from tests.mock_upstream.fixture import mock_upstream  # noqa: F401

from .raw_server import raw_server


def _head(port: int, body: bytes, path: str = "/v1/chat/completions") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\ncontent-type: application/json\r\n"
        f"authorization: Bearer k\r\ncontent-length: {len(body)}\r\n\r\n"
    ).encode()


def _body(text: str = "hello", stream: bool = False) -> bytes:
    return json.dumps({"model": "gpt-4o", "stream": stream, "messages": [{"role": "user", "content": text}]}).encode()


def test_keep_alive_reuses_one_connection(mock_upstream):
    async def main():
        pool = H1Pool("127.0.0.1", mock_upstream.port)
        for i in range(5):
            body = _body(f"n{i}")
            r = await pool.request(_head(mock_upstream.port, body), body, 5)
            assert r.status == 200
            assert json.loads(await r.read())["choices"][0]["message"]["content"] == f"echo: n{i}"
        pool.close()

    asyncio.run(main())
    assert len({r["connection"] for r in mock_upstream.requests()}) == 1


def test_max_connections_bounds_concurrency(mock_upstream):
    mock_upstream.script([{"hang_ms": 150}] * 6)

    async def one(pool):
        body = _body()
        r = await pool.request(_head(mock_upstream.port, body), body, 5)
        await r.read()
        return r.status

    async def main():
        pool = H1Pool("127.0.0.1", mock_upstream.port, max_connections=2)
        codes = await asyncio.gather(*[one(pool) for _ in range(6)])
        pool.close()
        return codes

    assert asyncio.run(main()) == [200] * 6
    assert len({r["connection"] for r in mock_upstream.requests()}) <= 2


def test_chunked_stream_arrives_whole(mock_upstream):
    async def main():
        pool = H1Pool("127.0.0.1", mock_upstream.port)
        body = _body("a b c d e f", stream=True)
        r = await pool.request(_head(mock_upstream.port, body), body, 5)
        assert r.header("content-type").startswith("text/event-stream")
        data = b"".join([c async for c in r.iter_chunks(idle_timeout=5)])
        pool.close()
        return data

    data = asyncio.run(main())
    assert data.endswith(b"data: [DONE]\n\n")
    text = "".join(
        json.loads(line[6:])["choices"][0]["delta"].get("content") or ""
        for line in data.split(b"\n\n")
        if line.startswith(b"data: {") and json.loads(line[6:])["choices"]
    )
    assert text == "echo: a b c d e f"


def test_timeout_and_reset_raise(mock_upstream):
    mock_upstream.script([{"hang_ms": 2000}, {"reset": True}])

    async def main():
        pool = H1Pool("127.0.0.1", mock_upstream.port)
        body = _body()
        with pytest.raises(TransportTimeout):
            await pool.request(_head(mock_upstream.port, body), body, 0.3)
        with pytest.raises(TransportError):
            r = await pool.request(_head(mock_upstream.port, body), body, 5)
            await r.read()
        pool.close()

    asyncio.run(main())


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    payload=st.binary(min_size=0, max_size=3000),
    sizes=st.lists(st.integers(1, 700), min_size=1, max_size=8),
    cuts=st.lists(st.integers(1, 64), min_size=1, max_size=40),
    trailer=st.booleans(),
)
def test_chunked_decoding_survives_any_split(payload, sizes, cuts, trailer):
    """A raw server writes a chunked body cut at arbitrary points; the client gets every byte."""
    pieces, pos, i = [], 0, 0
    while pos < len(payload):
        n = sizes[i % len(sizes)]
        pieces.append(payload[pos : pos + n])
        pos += n
        i += 1
    wire = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in pieces)
    wire += b"0\r\n" + (b"x-trailer: 1\r\n" if trailer else b"") + b"\r\n"
    raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + wire

    async def main():
        async def handle(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            at, k = 0, 0
            while at < len(raw):
                n = cuts[k % len(cuts)]
                writer.write(raw[at : at + n])
                await writer.drain()
                at += n
                k += 1
            await reader.read()  # keep the connection open until the client is done

        async with raw_server(handle) as port:
            pool = H1Pool("127.0.0.1", port)
            r = await pool.request(_head(port, b"{}"), b"{}", 5)
            got = await r.read()
            pool.close()
        return got

    assert asyncio.run(main()) == payload


def _raw_server_run(raw: bytes, client):
    """Serve `raw` as the answer to every request on a real socket; run `client(pool)`."""

    async def main():
        accepted = []

        async def handle(reader, writer):
            accepted.append(writer)
            try:
                while True:
                    await reader.readuntil(b"\r\n\r\n")
                    writer.write(raw)
                    await writer.drain()
            except (asyncio.IncompleteReadError, ConnectionError):
                pass

        async with raw_server(handle) as port:
            pool = H1Pool("127.0.0.1", port)
            try:
                return await client(pool, port), len(accepted)
            finally:
                pool.close()

    return asyncio.run(main())


def test_bad_chunked_encoding_delivers_what_came_then_fails():
    """Chunks that arrived before the bad size line reach the reader; then the error."""

    async def main():
        async def handle(reader, writer):
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n")
            await writer.drain()
            await asyncio.sleep(0.05)
            writer.write(b"zz\r\nmore\r\n")
            await writer.drain()
            await reader.read()

        async with raw_server(handle) as port:
            pool = H1Pool("127.0.0.1", port)
            r = await pool.request(_head(port, b"{}"), b"{}", 5)
            got = []
            with pytest.raises(TransportError, match="bad chunk size"):
                async for c in r.iter_chunks(idle_timeout=5):
                    got.append(c)
            pool.close()
        return b"".join(got), pool.open_connections

    got, still_open = asyncio.run(main())
    assert got == b"hello"
    assert still_open == 0


def test_bytes_after_a_chunked_body_retire_the_connection():
    raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\nJUNK"

    async def client(pool, port):
        out = []
        for _ in range(2):
            r = await pool.request(_head(port, b"{}"), b"{}", 5)
            out.append(await r.read())
        return out

    got, connections = _raw_server_run(raw, client)
    assert got == [b"abc", b"abc"]
    assert connections == 2  # the first connection was not reused


def test_a_large_chunked_body_is_read_whole_by_a_slow_reader():
    payload = bytes(range(256)) * 8192  # 2 MiB: well past the pause threshold
    wire = b"".join(
        b"%x\r\n" % len(payload[i : i + 65536]) + payload[i : i + 65536] + b"\r\n"
        for i in range(0, len(payload), 65536)
    )
    raw = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + wire + b"0\r\n\r\n"

    async def client(pool, port):
        r = await pool.request(_head(port, b"{}"), b"{}", 5)
        got, paused_seen = [], False
        conn = r._conn
        async for c in r.iter_chunks(idle_timeout=5):
            paused_seen = paused_seen or conn.paused
            got.append(c)
            await asyncio.sleep(0.001)
        return b"".join(got), paused_seen

    (got, paused_seen), _ = _raw_server_run(raw, client)
    assert got == payload
    assert paused_seen  # reading was paused (and resumed, or the body would never finish)
