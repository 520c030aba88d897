"""Minimal, strict HTTP/1.1 over asyncio streams: request parsing and response framing.

Enough of RFC 9112 for API clients: Content-Length and chunked request bodies,
`Expect: 100-continue`, keep-alive by default (HTTP/1.0 and `Connection: close` end it),
Content-Length JSON responses and chunked streaming responses.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from http import HTTPStatus

MAX_HEADER_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024

_REASONS = {529: "Overloaded"}


class HttpProtocolError(Exception):
    """The peer sent something that is not valid HTTP/1.1; answered with `status`."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class HttpRequest:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    path: str = field(init=False)
    query: str = field(init=False)

    def __post_init__(self) -> None:
        self.path, _, self.query = self.target.partition("?")

    def header(self, name: str) -> str | None:
        lower = name.lower()
        for key, value in self.headers:
            if key.lower() == lower:
                return value
        return None

    @property
    def keep_alive(self) -> bool:
        connection = (self.header("connection") or "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


def reason_phrase(status: int) -> str:
    if status in _REASONS:
        return _REASONS[status]
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"


async def read_request(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> HttpRequest | None:
    """Next request on the connection, or None when the peer closed it between requests."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if not exc.partial.strip():
            return None
        raise HttpProtocolError(400, "connection closed inside the request head") from exc
    except asyncio.LimitOverrunError as exc:
        raise HttpProtocolError(431, "request head too large") from exc
    lines = head[:-4].decode("latin-1").split("\r\n")
    while lines and not lines[0]:  # tolerate stray CRLF between requests (RFC 9112 2.2)
        lines.pop(0)
    if not lines:
        return None
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpProtocolError(400, f"malformed request line: {lines[0][:100]!r}")
    method, target, version = parts
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpProtocolError(400, f"malformed header line: {line[:100]!r}")
        headers.append((name, value.strip()))
    request = HttpRequest(method, target, version, headers)
    if (request.header("expect") or "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    request.body = await _read_body(reader, request)
    return request


async def _read_body(reader: asyncio.StreamReader, request: HttpRequest) -> bytes:
    encoding = (request.header("transfer-encoding") or "").lower()
    if encoding:
        if encoding != "chunked":
            raise HttpProtocolError(501, f"unsupported transfer-encoding {encoding!r}")
        return await _read_chunked(reader)
    length = request.header("content-length")
    if length is None:
        return b""
    if not length.isdigit():
        raise HttpProtocolError(400, "invalid content-length")
    size = int(length)
    if size > MAX_BODY_BYTES:
        raise HttpProtocolError(413, "request body too large")
    try:
        return await reader.readexactly(size)
    except asyncio.IncompleteReadError as exc:
        raise HttpProtocolError(400, "connection closed inside the request body") from exc


async def _read_chunked(reader: asyncio.StreamReader) -> bytes:
    body = bytearray()
    try:
        while True:
            size_line = (await reader.readuntil(b"\r\n"))[:-2].split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError as exc:
                raise HttpProtocolError(400, "invalid chunk size") from exc
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return bytes(body)
            if len(body) + size > MAX_BODY_BYTES:
                raise HttpProtocolError(413, "request body too large")
            body += await reader.readexactly(size)
            if await reader.readexactly(2) != b"\r\n":
                raise HttpProtocolError(400, "chunk not terminated by CRLF")
    except asyncio.IncompleteReadError as exc:
        raise HttpProtocolError(400, "connection closed inside a chunked body") from exc


def response_head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason_phrase(status)}"]
    lines.extend(f"{name}: {value}" for name, value in headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (never empty: an empty chunk would end the body)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


LAST_CHUNK = b"0\r\n\r\n"
