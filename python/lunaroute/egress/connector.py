"""Egress connector: one per provider. Knows the provider's URL, credentials and transport;
sends a ready upstream body and hands back the response (status + headers, body still to
read). What its dialect needs on the wire (chat path, how a key is sent, which client
headers go along) comes from the dialect object; translation happens before, never here."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Mapping
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

from .. import __version__
from ..dialects import get_dialect
from .h1 import H1Pool
from .httpx_transport import HttpxPool

if TYPE_CHECKING:
    from ..config.schema import ProviderConfig

USER_AGENT = f"lunaroute/{__version__}"


class UpstreamResponse(Protocol):
    status: int
    headers: list[tuple[str, str]]

    def header(self, name: str) -> str | None: ...
    async def read(self) -> bytes: ...
    def iter_chunks(self, idle_timeout: float | None = None) -> AsyncIterator[bytes]: ...
    def close(self, abort: bool = False) -> None: ...


class ProviderConnector:
    def __init__(self, cfg: ProviderConfig) -> None:
        self.cfg = cfg
        self.name: str = cfg.name
        self.dialect: str = cfg.dialect
        wire = self.wire = get_dialect(cfg.dialect)
        self.chat_path = wire.chat_path
        url = urlsplit(cfg.url(self.chat_path))
        self.scheme = url.scheme
        self.host = url.hostname or "127.0.0.1"
        self.port = url.port or (443 if url.scheme == "https" else 80)
        self.path = url.path
        self.origin_path = self.path[: -len(self.chat_path)] if self.path.endswith(self.chat_path) else ""
        host_header = self.host if url.port is None else f"{self.host}:{self.port}"
        transport = cfg.transport
        if transport == "auto":
            # httpx for HTTPS (HTTP/2 via ALPN), the fast HTTP/1.1 client for plain HTTP
            # (local model servers, sidecars) unless HTTP/2 was asked for explicitly.
            transport = "httpx" if (self.scheme == "https" or cfg.http2) else "fast"
        self.transport = transport
        connect_timeout = cfg.connect_timeout_ms / 1000
        self._h1: H1Pool | None
        self._hx: HttpxPool | None
        if transport == "fast":
            ctx = ssl.create_default_context() if self.scheme == "https" else None
            if ctx is not None:
                ctx.set_alpn_protocols(["http/1.1"])
            self._h1 = H1Pool(
                self.host,
                self.port,
                ssl=ctx,
                server_hostname=self.host,
                max_idle=cfg.pool_max_idle,
                max_connections=cfg.pool_max_connections,
                connect_timeout=connect_timeout,
            )
            self._hx = None
        else:
            self._h1 = None
            http2 = True if cfg.http2 is None else bool(cfg.http2)
            self._hx = HttpxPool(
                f"{self.scheme}://{host_header}",
                http2=http2,
                max_idle=cfg.pool_max_idle,
                max_connections=cfg.pool_max_connections,
                connect_timeout=connect_timeout,
            )
        # Static part of every request head, built once.
        static = [("host", host_header), ("user-agent", USER_AGENT), ("content-type", "application/json")]
        for k, v in cfg.extra_headers.items():
            static.append((k.lower(), v))
        self._static = static
        self._key = cfg.api_key
        self._pass = wire.pass_headers
        self._defaults = wire.default_headers(cfg)
        self._cred_prefix = wire.auth_header("")[1].encode()
        self._cred_name = wire.auth_header("")[0].encode() + b": "
        # The HTTP/1.1 request head up to the per-request lines, pre-encoded per `stream`:
        # request line, static headers, accept, and the configured key when there is one.
        self._head_prefix = (self._encode_prefix(False), self._encode_prefix(True))

    def _encode_prefix(self, stream: bool) -> bytes:
        lines = [f"POST {self.path} HTTP/1.1\r\n"]
        for k, v in self._static:
            lines.append(f"{k}: {v}\r\n")
        lines.append(f"accept: {'text/event-stream' if stream else 'application/json'}\r\n")
        if self._key:
            name, value = self.wire.auth_header(self._key)
            lines.append(f"{name}: {value}\r\n")
        return "".join(lines).encode("latin-1", "replace")

    def _h1_head(self, client_headers: Mapping[str, str], credential: str | None, stream: bool, body_len: int) -> bytes:
        """The same head `request_headers` describes, for the default path, built from the
        pre-encoded prefix: only the client-dependent lines are formatted per request."""
        lines = [self._head_prefix[stream]]
        if credential and not self._key:
            lines.append(self._cred_name + self._cred_prefix + credential.encode("latin-1", "replace") + b"\r\n")
        for name in self._pass:
            v = client_headers.get(name)
            if v:
                lines.append(name.encode() + b": " + v.encode("latin-1", "replace") + b"\r\n")
        for name, v in self._defaults:
            if not client_headers.get(name):
                lines.append(name.encode() + b": " + v.encode("latin-1", "replace") + b"\r\n")
        lines.append(b"content-length: %d\r\n\r\n" % body_len)
        return b"".join(lines)

    # ----------------------------------------------------------------- headers
    def request_headers(
        self, client_headers: Mapping[str, str], credential: str | None, stream: bool
    ) -> list[tuple[str, str]]:
        """Every header of an upstream request. `credential` is the client's own provider
        key (local mode), used only when the provider has no configured key; the caller
        decides what may be forwarded (never a LunaRoute client key)."""
        hdrs = list(self._static)
        hdrs.append(("accept", "text/event-stream" if stream else "application/json"))
        key = self._key or credential
        if key:
            hdrs.append(self.wire.auth_header(key))
        for name in self._pass:
            v = client_headers.get(name)
            if v:
                hdrs.append((name, v))
        for name, v in self._defaults:
            if not client_headers.get(name):
                hdrs.append((name, v))
        return hdrs

    # ----------------------------------------------------------------- sending
    async def send(
        self,
        body: bytes,
        client_headers: Mapping[str, str],
        *,
        credential: str | None = None,
        stream: bool,
        path: str | None = None,
        timeout: float | None = None,
    ) -> UpstreamResponse:
        """Send; returns at the response head. `timeout` bounds the head and the body read
        (streams re-arm it per chunk through `iter_chunks(idle_timeout=...)`)."""
        if self._h1 is not None and path is None:
            head = self._h1_head(client_headers, credential, stream, len(body))
            return await self._h1.request(head, body, timeout)
        headers = self.request_headers(client_headers, credential, stream)
        target = self.origin_path + path if path else self.path
        if self._h1 is not None:
            lines = [f"POST {target} HTTP/1.1\r\n"]
            for k, v in headers:
                lines.append(f"{k}: {v}\r\n")
            lines.append(f"content-length: {len(body)}\r\n\r\n")
            return await self._h1.request("".join(lines).encode("latin-1", "replace"), body, timeout)
        assert self._hx is not None
        return await self._hx.request(target, headers, body, timeout)

    async def probe(self, path: str) -> bool:
        """Active health check: any answer below 500 means the provider is reachable."""
        headers = self.request_headers({}, None, False)
        if self._hx is not None:
            return (await self._hx.get(self.origin_path + path, headers)) < 500
        head = [f"GET {self.origin_path + path} HTTP/1.1\r\n"]
        for k, v in headers:
            if k != "content-type":
                head.append(f"{k}: {v}\r\n")
        head.append("content-length: 0\r\n\r\n")
        if TYPE_CHECKING:
            assert self._h1 is not None  # one of the two transports always exists
        resp = await self._h1.request("".join(head).encode("latin-1", "replace"), b"")
        await resp.read()
        return resp.status < 500

    async def warmup(self, count: int) -> None:
        if self._h1 is not None and count > 0:
            await self._h1.warmup(count)

    async def aclose(self) -> None:
        if self._h1 is not None:
            self._h1.close()
        if self._hx is not None:
            await self._hx.aclose()
