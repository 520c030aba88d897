"""Egress connector: one per provider. Knows the provider's URL, credentials and transport;
sends a ready upstream body and hands back the response (status + headers, body still to
read). What its dialect needs on the wire (chat path, how a key is sent, which client
headers go along) comes from the dialect object; translation happens before, never here.
Bypassed requests (server/bypass.py) go through `forward`, on an httpx client of their own."""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from typing import TYPE_CHECKING, Protocol
from urllib.parse import urlsplit

import httpx

from .. import __version__
from ..dialects import get_dialect
from .client_headers import bypass_headers, user_agent
from .errors import ConnectFailed, ConnectTimedOut, TransportError, TransportTimeout
from .h1 import H1Pool
from .httpx_transport import HttpxPool, HttpxResponse

if TYPE_CHECKING:
    from ..config.schema import ProviderConfig

USER_AGENT = f"lunaroute/{__version__}"
_MAX_VERDICTS = 1024


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
        # Static part of every request head, built once. A configured header wins over the
        # client's header of the same name; a configured user-agent replaces ours. Chat
        # answers are read byte by byte (SSE framing, usage), so they come unencoded (httpx
        # would otherwise ask for gzip and its raw stream would hand us gzip).
        extra = {k.lower(): v for k, v in cfg.extra_headers.items()}
        self._ua = extra.pop("user-agent", USER_AGENT)
        self._static = [
            ("host", host_header),
            ("content-type", "application/json"),
            ("accept-encoding", "identity"),
            *extra.items(),
        ]
        self._extra = extra
        self._key = cfg.api_key
        self._pass = tuple(n for n in wire.pass_headers if n not in extra)
        self._pass_set = frozenset(self._pass)
        self._pass_prefixes = wire.pass_header_prefixes
        self._verdicts: dict[str, bool] = {}
        self._defaults = wire.default_headers(cfg)
        self._cred_prefix = wire.auth_header("")[1].encode()
        self._cred_name = wire.auth_header("")[0].encode() + b": "
        # The HTTP/1.1 request head up to the per-request lines, pre-encoded per `stream`:
        # static headers, accept, and the configured key when there is one. The request
        # line is pre-encoded too, with and without a query string to follow.
        self._head_prefix = (self._encode_prefix(False), self._encode_prefix(True))
        self._request_line = f"POST {self.path} HTTP/1.1\r\n".encode("latin-1", "replace")
        self._request_line_q = f"POST {self.path}?".encode("latin-1", "replace")
        self._ua_line = f"user-agent: {self._ua}\r\n".encode("latin-1", "replace")
        self._ua_tail = f" {self._ua}\r\n".encode("latin-1", "replace")
        self._bypass: httpx.AsyncClient | None = None

    def _encode_prefix(self, stream: bool) -> bytes:
        lines = []
        for k, v in self._static:
            lines.append(f"{k}: {v}\r\n")
        lines.append(f"accept: {'text/event-stream' if stream else 'application/json'}\r\n")
        if self._key:
            name, value = self.wire.auth_header(self._key)
            lines.append(f"{name}: {value}\r\n")
        return "".join(lines).encode("latin-1", "replace")

    def _h1_head(
        self,
        client_headers: Mapping[str, str],
        credential: str | None,
        stream: bool,
        body_len: int,
        passthrough: bool = False,
        query: str = "",
        traceparent: str | None = None,
    ) -> bytes:
        """The same head `request_headers` describes, for the default path, built from the
        pre-encoded prefix: only the client-dependent lines are formatted per request."""
        if query:
            lines = [self._request_line_q, query.encode("latin-1", "replace"), b" HTTP/1.1\r\n"]
        else:
            lines = [self._request_line]
        lines.append(self._head_prefix[stream])
        ua = client_headers.get("user-agent")
        lines.append(b"user-agent: " + ua.encode("latin-1", "replace") + self._ua_tail if ua else self._ua_line)
        if credential and not self._key:
            cred = credential.encode("latin-1", "replace")
            if passthrough and self._bearer_sent(client_headers, credential):
                lines.append(b"authorization: Bearer " + cred + b"\r\n")
            else:
                lines.append(self._cred_name + self._cred_prefix + cred + b"\r\n")
        if passthrough:
            # One pass over the client's header names (a prefix family cannot be looked up
            # by name), each name's verdict remembered; values only of the ones that go.
            verdicts = self._verdicts
            parts = []
            for name in client_headers.keys():
                ok = verdicts.get(name)
                if ok is None:
                    ok = self._forwarded(name)
                if ok:
                    v = client_headers.get(name)
                    if v:
                        parts.append(f"{name}: {v}\r\n")
            if parts:
                lines.append("".join(parts).encode("latin-1", "replace"))
        else:
            for name in self._pass:
                v = client_headers.get(name)
                if v:
                    lines.append(name.encode() + b": " + v.encode("latin-1", "replace") + b"\r\n")
        for name, v in self._defaults:
            if not client_headers.get(name):
                lines.append(name.encode() + b": " + v.encode("latin-1", "replace") + b"\r\n")
        if traceparent:
            lines.append(b"traceparent: " + traceparent.encode("ascii") + b"\r\n")
        lines.append(b"content-length: %d\r\n\r\n" % body_len)
        return b"".join(lines)

    def _forwarded(self, name: str) -> bool:
        """Whether a client header goes along on a same-dialect route (remembered for the
        first names seen: a client may send any number of names)."""
        ok = name in self._pass_set or (name.startswith(self._pass_prefixes) and name not in self._extra)
        if len(self._verdicts) < _MAX_VERDICTS:
            self._verdicts[name] = ok
        return ok

    @staticmethod
    def _bearer_sent(client_headers: Mapping[str, str], credential: str) -> bool:
        """Whether the client sent its own provider credential as a Bearer token. Passed
        through, it keeps that form (an OAuth token, say, is not an API key a provider
        takes in `x-api-key`)."""
        auth = client_headers.get("authorization")
        return auth is not None and auth[:7].lower() == "bearer " and auth[7:].strip() == credential

    # ----------------------------------------------------------------- headers
    def request_headers(
        self, client_headers: Mapping[str, str], credential: str | None, stream: bool, passthrough: bool = False
    ) -> list[tuple[str, str]]:
        """Every header of an upstream request. `credential` is the client's own provider
        key (local mode), used only when the provider has no configured key; the caller
        decides what may be forwarded (never a LunaRoute client key). `passthrough`: the
        client speaks the provider's dialect, so its SDK's header families go along too."""
        hdrs = list(self._static)
        hdrs.append(("accept", "text/event-stream" if stream else "application/json"))
        if self._key:
            hdrs.append(self.wire.auth_header(self._key))
        hdrs.append(("user-agent", user_agent(client_headers.get("user-agent"), self._ua)))
        if credential and not self._key:
            if passthrough and self._bearer_sent(client_headers, credential):
                hdrs.append(("authorization", f"Bearer {credential}"))
            else:
                hdrs.append(self.wire.auth_header(credential))
        if passthrough:
            for name in client_headers.keys():
                if self._forwarded(name):
                    v = client_headers.get(name)
                    if v:
                        hdrs.append((name, v))
        else:
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
        passthrough: bool = False,
        query: str = "",
        traceparent: str | None = None,
    ) -> UpstreamResponse:
        """Send; returns at the response head. `timeout` bounds the head and the body read
        (streams re-arm it per chunk through `iter_chunks(idle_timeout=...)`).
        `passthrough`: the client speaks this provider's dialect, so its SDK's headers and
        its `query` string go along (a translated request gets neither). `traceparent`: the
        W3C trace context of this attempt's span (tracing on), sent in place of the client's."""
        if self._h1 is not None and path is None:
            head = self._h1_head(client_headers, credential, stream, len(body), passthrough, query, traceparent)
            return await self._h1.request(head, body, timeout)
        headers = self.request_headers(client_headers, credential, stream, passthrough)
        if traceparent:
            headers.append(("traceparent", traceparent))
        target = self.origin_path + path if path else self.path
        if query:
            target = f"{target}?{query}"
        if self._h1 is not None:
            lines = [f"POST {target} HTTP/1.1\r\n"]
            for k, v in headers:
                lines.append(f"{k}: {v}\r\n")
            lines.append(f"content-length: {len(body)}\r\n\r\n")
            return await self._h1.request("".join(lines).encode("latin-1", "replace"), body, timeout)
        assert self._hx is not None
        return await self._hx.request(target, headers, body, timeout)

    # ----------------------------------------------------------------- bypass
    def forward_headers(self, client_headers: Mapping[str, str], credential: str | None) -> list[tuple[str, str]]:
        """The head of a bypassed request: the client's headers outside the deny list
        (egress/client_headers.py), ours combined with its user-agent, the provider key
        (else the client's own provider credential), the dialect's defaults and the
        configured extra headers."""
        client = client_headers.items()
        hdrs = [(k, v) for k, v in bypass_headers(client) if k not in self._extra]
        hdrs.append(("user-agent", user_agent(client_headers.get("user-agent"), self._ua)))
        key = self._key or credential
        if key:
            bearer = not self._key and self._bearer_sent(client_headers, key)
            hdrs.append(("authorization", f"Bearer {key}") if bearer else self.wire.auth_header(key))
        if not client_headers.get("accept-encoding"):
            # The body is relayed as it comes: a client that named no coding gets none.
            hdrs.append(("accept-encoding", "identity"))
        for name, v in self._defaults:
            if not client_headers.get(name):
                hdrs.append((name, v))
        hdrs.extend(self._extra.items())
        return hdrs

    async def forward(
        self,
        method: str,
        path: str,
        query: str,
        client_headers: Mapping[str, str],
        credential: str | None,
        body: AsyncIterable[bytes] | None,
        timeout: float,
    ) -> HttpxResponse:
        """A bypassed request, any method and API path, its body streamed upstream as it
        arrives; returns at the response head (the body is read raw, as the provider
        encoded it). `timeout` bounds connecting, each read and each write."""
        client = self._bypass
        if client is None:
            # Not the hot path: httpx, made on first use and closed with the connector.
            client = self._bypass = httpx.AsyncClient(
                http2=bool(self.cfg.http2),
                limits=httpx.Limits(
                    max_keepalive_connections=min(self.cfg.pool_max_idle, 20),
                    max_connections=self.cfg.pool_max_connections or None,
                ),
            )
        headers = self.forward_headers(client_headers, credential)
        length = client_headers.get("content-length")
        if body is not None and length is not None:
            headers.append(("content-length", length))  # the body streams as it came: no chunking
        url = self.cfg.url(path)
        if query:
            url = f"{url}?{query}"
        connect = self.cfg.connect_timeout_ms / 1000
        try:
            req = client.build_request(
                method, url, headers=headers, content=body, timeout=httpx.Timeout(timeout, connect=connect)
            )
            return HttpxResponse(await client.send(req, stream=True))
        except httpx.ConnectTimeout as exc:
            raise ConnectTimedOut(f"connect timed out: {exc}") from None
        except httpx.ConnectError as exc:
            raise ConnectFailed(f"connect failed: {exc}") from None
        except httpx.TimeoutException as exc:
            raise TransportTimeout(f"upstream timed out: {exc}", before_response=True) from None
        except (httpx.HTTPError, httpx.InvalidURL) as exc:
            raise TransportError(f"upstream request failed: {exc}", before_response=True) from None

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
        if self._bypass is not None:
            await self._bypass.aclose()
