"""A pooled HTTP/1.1 client on asyncio protocols: the fast upstream transport.

Why not httpx here: measured on one core, httpx's async client costs ~1.7 ms per proxied
request (anyio + httpcore's pool), which alone caps a gateway below 600 req/s; this protocol
client costs tens of microseconds. httpx stays the transport for HTTP/2 (see
`egress/httpx_transport.py`). This client speaks exactly what LLM providers need: POST with a
known-length body, responses framed by Content-Length, chunked encoding or connection close,
keep-alive reuse, TLS through asyncio's ssl support, and flow control for slow readers.
"""

from __future__ import annotations

import asyncio
import collections
import socket
import ssl as ssl_mod
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from ..errors import ChunkedEncodingError, HttpHeadError
from ..kernels import ChunkedDecoder, parse_response_head
from .deadlines import Deadlines
from .errors import ConnectFailed, ConnectTimedOut, TransportError, TransportTimeout

FLAG_CHUNKED = 1  # parse_response_head's flags (docs/KERNELS.md, kernel http1)
FLAG_KEEP_ALIVE = 2
_MAX_HEAD = 64 * 1024
_HIGH_WATER = 512 * 1024  # pause reading the upstream when this much is unread
_LOW_WATER = 64 * 1024


class H1Response:
    """Status and headers are ready; the body is read with `read()` or `iter_chunks()`."""

    __slots__ = ("status", "headers", "_conn", "_done")

    def __init__(self, status: int, headers: list[tuple[str, str]], conn: _Conn):
        self.status = status
        self.headers = headers  # lower-case names, in arrival order
        self._conn: _Conn | None = conn  # None once closed
        self._done = False

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k == name:
                return v
        return None

    async def read(self) -> bytes:
        """The whole body, within the deadline the request was sent with."""
        conn = self._conn
        if conn is not None and conn._state == 4:
            # Already all here (a small answer usually arrives with its head): no iterator.
            body = conn.take_buffered_body()
            if body is not None:
                self._done = True
                self.close()
                return body
        parts = []
        async for chunk in self.iter_chunks():
            parts.append(chunk)
        return b"".join(parts)

    async def iter_chunks(self, idle_timeout: float | None = None) -> AsyncIterator[bytes]:
        """Body chunks as they arrive; `idle_timeout` bounds each wait for the next one."""
        conn = self._conn
        if TYPE_CHECKING:
            assert conn is not None  # None only once closed, and a closed response is not read
        try:
            while True:
                if idle_timeout:
                    conn.arm(idle_timeout)
                chunk = await conn.next_body_chunk()
                if chunk is None:
                    break
                yield chunk
        except BaseException:
            self.close(abort=True)
            raise
        self._done = True
        self.close()

    def close(self, abort: bool = False) -> None:
        """Give the connection back to its pool, or drop it when the body was not finished."""
        conn = self._conn
        if conn is None:
            return
        self._conn = None
        if abort or not self._done or not conn.reusable:
            conn.abort()
        else:
            conn.release()


class _Conn(asyncio.Protocol):
    """One upstream connection. Parses one response at a time (no pipelining)."""

    def __init__(self, pool: H1Pool):
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.closed = False
        self.close_exc: TransportError | None = None
        self.reusable = True
        self.paused = False
        self._waiter: asyncio.Future[None] | None = None
        # response state
        self._state = 0  # 0 idle/head, 1 body (length), 2 body (chunked), 3 body (until close), 4 done
        self._remaining = 0
        self._chunks: collections.deque[bytes | None] = collections.deque()  # None: the body's end
        self._queued = 0
        self._got_bytes = False
        self._decoder: ChunkedDecoder | None = None  # while a chunked body is being read
        # kept by the pool's Deadlines (egress/deadlines.py)
        self.deadline = 0.0
        self.deadline_entry = 0.0

    # ------------------------------------------------------------- deadlines
    def arm(self, seconds: float) -> None:
        """(Re)start the deadline: when it passes, the connection is dropped and waiters fail."""
        self.pool.deadlines.arm(self, seconds)

    def disarm(self) -> None:
        self.deadline = 0.0

    def on_deadline(self) -> None:
        if self.closed:
            return
        self.close_exc = TransportTimeout("upstream timed out", before_response=not self._got_bytes)
        self.closed = True
        self.reusable = False
        if self.transport is not None:
            self.transport.abort()
        self._wake()

    # ------------------------------------------------------------- asyncio callbacks
    # asyncio's stream connections always hand a Protocol an `asyncio.Transport` (the base
    # signature's BaseTransport covers datagram and pipe transports too).
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            try:
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            except OSError:
                pass

    def data_received(self, data: bytes) -> None:
        self._got_bytes = True
        st = self._state
        if st == 1:
            # Content-Length body: the common case, kept short.
            n = len(data)
            if n <= self._remaining:
                self._remaining -= n
                self._push(data)
                if self._remaining == 0:
                    self._state = 4
                    self._push(None)
                return
            self._push(data[: self._remaining])
            self._remaining = 0
            self._state = 4
            self._push(None)
            self.reusable = False  # bytes after the body: the peer is confused
            return
        if st == 3:
            self._push(data)
            return
        if st == 2:
            self._feed_chunked(data)
            return
        if st == 4:
            self.reusable = False  # bytes nobody asked for: never reuse this connection
            return
        self.buf += data
        self._wake()

    def _feed_chunked(self, data: bytes) -> None:
        """Chunked body: decoded as it arrives (kernel http1), queued like any other body."""
        decoder = self._decoder
        if TYPE_CHECKING:
            # Set whenever the state is 2 (chunked body), the only state that feeds here.
            assert decoder is not None
        try:
            out = decoder.feed(data)
        except ChunkedEncodingError as exc:
            self.close_exc = TransportError(str(exc))
            self.closed = True
            self.reusable = False
            if self.transport is not None:
                self.transport.abort()
            self._wake()
            return
        if out:
            self._push(out)
        if decoder.done:
            self._state = 4
            self._decoder = None
            if decoder.trailing:
                self.reusable = False  # bytes after the body: the peer is confused
            self._push(None)

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.reusable = False
        if self._state == 3:
            self._state = 4
            self._push(None)
        elif self._state != 4 and self.close_exc is None:
            self.close_exc = TransportError(
                f"upstream connection lost ({exc or 'closed by peer'})",
                before_response=not self._got_bytes,
            )
        self.pool._forget(self)
        self._wake()

    # ------------------------------------------------------------- helpers
    def _wake(self) -> None:
        w = self._waiter
        if w is not None and not w.done():
            w.set_result(None)

    def _closed_error(self, default: str) -> TransportError:
        # A fresh exception each time: raising the stored one would tie its traceback (and
        # every frame on it, e.g. a client's response stream) to this connection object.
        exc = self.close_exc
        if exc is None:
            return TransportError(default)
        return type(exc)(str(exc), before_response=exc.before_response)

    async def _wait(self) -> None:
        if self.closed:
            raise self._closed_error("upstream connection closed")
        self._waiter = asyncio.get_running_loop().create_future()
        try:
            await self._waiter
        finally:
            self._waiter = None

    def _push(self, chunk: bytes | None) -> None:
        self._chunks.append(chunk)
        if chunk:
            self._queued += len(chunk)
            if self._queued > _HIGH_WATER and not self.paused and self.transport is not None:
                self.paused = True
                self.transport.pause_reading()
        self._wake()

    # ------------------------------------------------------------- request / response
    def send(self, head: bytes, body: bytes) -> None:
        self._state = 0
        self._got_bytes = False
        self.buf.clear()
        self._chunks.clear()
        self._queued = 0
        assert self.transport is not None
        if len(body) < 16384:
            self.transport.write(head + body)
        else:
            self.transport.writelines((head, body))

    async def read_head(self) -> H1Response:
        buf = self.buf
        while True:
            if buf:
                try:
                    parsed = parse_response_head(buf, _MAX_HEAD)
                except HttpHeadError as exc:
                    raise TransportError(str(exc)) from None
                if parsed is not None:
                    break
            await self._wait()
        head_len, status, headers, length, flags = parsed
        rest = bytes(buf[head_len:]) if len(buf) > head_len else b""
        buf.clear()
        chunked = flags & FLAG_CHUNKED
        self.reusable = bool(flags & FLAG_KEEP_ALIVE)
        if status in (204, 304) or 100 <= status < 200:
            length = 0
        if chunked:
            self._state = 2
            self._decoder = ChunkedDecoder()
            if rest:
                self._feed_chunked(rest)
        elif length >= 0:
            self._state = 1
            self._remaining = length
            if length == 0:
                self._state = 4
                self._push(None)
            elif rest:
                self.data_received(rest)
        else:
            self._state = 3
            self.reusable = False
            if rest:
                self._push(rest)
            if self.closed:
                self._state = 4
                self._push(None)
        return H1Response(status, headers, self)

    def take_buffered_body(self) -> bytes | None:
        """The whole body when it has fully arrived (state 4), else None; empties the queue."""
        chunks = self._chunks
        if not chunks or chunks[-1] is not None:
            return None
        chunks.pop()
        # The end marker, only ever last, is popped just above: what is left is bytes.
        body = b"".join(chunks)  # type: ignore[arg-type]
        chunks.clear()
        self._queued = 0
        if self.paused and self.transport is not None:
            self.paused = False
            self.transport.resume_reading()
        return body

    async def next_body_chunk(self) -> bytes | None:
        while True:
            if self._chunks:
                chunk = self._chunks.popleft()
                if chunk is None:
                    return None
                self._queued -= len(chunk)
                if self.paused and self._queued < _LOW_WATER and self.transport is not None:
                    self.paused = False
                    self.transport.resume_reading()
                return chunk
            if self.closed and not self._chunks:
                raise self._closed_error("upstream connection closed mid-body")
            await self._wait()

    def release(self) -> None:
        self.disarm()
        self._state = 0
        self.pool._release(self)

    def abort(self) -> None:
        self.disarm()
        self.reusable = False
        if self.transport is not None and not self.closed:
            self.transport.abort()
        self.pool._forget(self)


class H1Pool:
    """Keep-alive connections to one origin."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        ssl: ssl_mod.SSLContext | None = None,
        server_hostname: str | None = None,
        max_idle: int = 100,
        max_connections: int = 1000,
        connect_timeout: float = 5.0,
    ):
        self.host = host
        self.port = port
        self.ssl = ssl
        self.server_hostname = server_hostname
        self.max_idle = max_idle
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self._idle: list[_Conn] = []
        self._all: set[_Conn] = set()
        self.deadlines = Deadlines()
        # Requests waiting for a connection slot when max_connections are all busy.
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._connecting = 0  # connects under way count against max_connections too

    @property
    def open_connections(self) -> int:
        return len(self._all)

    async def _connect(self) -> _Conn:
        loop = asyncio.get_running_loop()
        self._connecting += 1
        try:
            _, conn = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _Conn(self),
                    self.host,
                    self.port,
                    ssl=self.ssl,
                    server_hostname=self.server_hostname if self.ssl else None,
                ),
                self.connect_timeout,
            )
        except TimeoutError:
            raise ConnectTimedOut(f"connect to {self.host}:{self.port} timed out") from None
        except OSError as exc:
            raise ConnectFailed(f"connect to {self.host}:{self.port} failed: {exc.strerror or exc}") from None
        finally:
            self._connecting -= 1
            self._wake_waiter()
        self._all.add(conn)
        return conn

    async def request(self, head: bytes, body: bytes, timeout: float | None = None) -> H1Response:
        """Send one request; returns once the response head arrived.

        `timeout` is the deadline for the head and, unless the caller re-arms it per chunk
        (`iter_chunks(idle_timeout=...)`), for the whole body too.
        """
        for attempt in (0, 1):
            conn = None
            while self._idle:
                c = self._idle.pop()
                if not c.closed:
                    conn = c
                    break
            fresh = conn is None
            if conn is None:
                while (
                    self.max_connections
                    and not self._idle
                    and len(self._all) + self._connecting >= self.max_connections
                ):
                    fut = asyncio.get_running_loop().create_future()
                    self._waiters.append(fut)
                    try:
                        await fut
                    finally:
                        if fut in self._waiters:
                            self._waiters.remove(fut)
                if self._idle:
                    conn = self._idle.pop()
                    fresh = False
                else:
                    conn = await self._connect()
            conn.send(head, body)
            if timeout:
                conn.arm(timeout)
            try:
                return await conn.read_head()
            except TransportError as exc:
                conn.abort()
                # A pooled connection the server had already closed: retry once, fresh.
                if not fresh and exc.before_response and attempt == 0:
                    continue
                raise
            except BaseException:
                conn.abort()
                raise
        raise TransportError("unreachable")  # pragma: no cover

    def _release(self, conn: _Conn) -> None:
        if conn.closed or len(self._idle) >= self.max_idle:
            conn.abort()
            return
        self._idle.append(conn)
        self._wake_waiter()

    def _forget(self, conn: _Conn) -> None:
        self._all.discard(conn)
        try:
            self._idle.remove(conn)
        except ValueError:
            pass
        self._wake_waiter()

    def _wake_waiter(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    async def warmup(self, count: int) -> None:
        for _ in range(count):
            conn = await self._connect()
            self._idle.append(conn)

    def close(self) -> None:
        for conn in list(self._all):
            conn.abort()
        self._idle.clear()
